package dtmf

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
)

// Talk-off: the Asterisk core prompts (all of them, sub-directories such as
// digits/ and letters/ included) (Debian asterisk-core-sounds-en-wav,
// real recorded speech, 8 kHz 16-bit mono WAV) contain no DTMF, so every key
// the detector finds in them is a false detection.

const soundsPkg = "asterisk-core-sounds-en-wav"

// soundsDir returns the prompts directory: /usr/share/asterisk/sounds/en
// when the asterisk-core-sounds-en package made that link, else the voice
// directory the -wav package installs.
func soundsDir(tb testing.TB) string {
	tb.Helper()
	for _, d := range []string{"/usr/share/asterisk/sounds/en", "/usr/share/asterisk/sounds/en_US_f_Allison"} {
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return testutil.RequireFile(tb, "/usr/share/asterisk/sounds/en", soundsPkg)
}

// readPCM16WAV returns the samples of a 16-bit PCM mono WAV file and its
// rate. It reads only what the prompts use.
func readPCM16WAV(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	rate := 0
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size > len(body) {
			size = len(body)
		}
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 ||
				binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, errors.New("not 16-bit PCM mono")
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if rate == 0 {
				return nil, 0, errors.New("data before fmt")
			}
			s := make([]int16, size/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return s, rate, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// talkOff runs every prompt through a detector and returns the false keys
// and the length of speech analysed.
func talkOff(tb testing.TB) (falses []string, speech time.Duration) {
	tb.Helper()
	var files []string
	root, err := filepath.EvalSymlinks(soundsDir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(path, ".wav") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		tb.Fatalf("no prompts: %v", err)
	}
	d, err := NewDetector(DetectorConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []Tone
	for _, f := range files {
		pcm, rate, err := readPCM16WAV(f)
		if err != nil || rate != 8000 {
			continue
		}
		d.Reset()
		out = out[:0]
		for i := 0; i < len(pcm); i += 160 {
			out = d.Write(out, pcm[i:min(i+160, len(pcm))])
		}
		out = d.Flush(out)
		for _, t := range out {
			falses = append(falses, filepath.Base(f)+": "+t.String())
		}
		speech += time.Duration(len(pcm)) * time.Second / 8000
	}
	return falses, speech
}

// TestTalkOff counts false keys in the recorded prompts and requires fewer
// than 2 per hour of speech.
func TestTalkOff(t *testing.T) {
	if testing.Short() {
		t.Skip("talk-off corpus skipped in -short mode")
	}
	falses, speech := talkOff(t)
	perHour := float64(len(falses)) / speech.Hours()
	t.Logf("talk-off: %d false keys in %v of prompts = %.2f per hour of speech", len(falses), speech.Round(time.Second), perHour)
	for _, f := range falses {
		t.Log("  false key:", f)
	}
	if speech < 10*time.Minute {
		t.Fatalf("only %v of prompts", speech)
	}
	if perHour >= 2 {
		t.Errorf("talk-off %.2f false keys per hour, want < 2", perHour)
	}
}

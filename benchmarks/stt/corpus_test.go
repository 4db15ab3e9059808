package stt

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
)

const (
	soundsDir   = "/usr/share/asterisk/sounds/en"
	transcripts = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
)

// prompt is one Asterisk core prompt with its transcript.
type prompt struct {
	name  string
	text  string   // transcript as published
	words []string // normalized reference words
	audio []int16  // 8 kHz
}

// loadPrompts reads the transcripts and the 8 kHz WAV of every prompt that
// has both, skipping "[...]" non-speech entries, sorted by name.
func loadPrompts(tb testing.TB) []prompt {
	tb.Helper()
	testutil.RequireFile(tb, transcripts, "asterisk-core-sounds-en")
	testutil.RequireFile(tb, soundsDir+"/agent-pass.wav", "asterisk-core-sounds-en-wav")
	f, err := os.Open(transcripts)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []prompt
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ";") {
			continue
		}
		name, text, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " /") {
			continue
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.Contains(text, "[") {
			continue
		}
		path := filepath.Join(soundsDir, name+".wav")
		wf, err := os.Open(path)
		if err != nil {
			continue
		}
		samples, rate, err := wav.ReadAll(wf)
		wf.Close()
		if err != nil || rate != media.Rate8k {
			tb.Fatalf("%s: rate %d: %v", path, rate, err)
		}
		out = append(out, prompt{name: name, text: text, words: sphinx.Normalize(text), audio: samples})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// wordErrors aligns hyp to ref with a word-level Levenshtein distance and
// returns the substitutions, deletions and insertions of the best alignment.
func wordErrors(ref, hyp []string) (sub, del, ins int) {
	type cell struct{ cost, sub, del, ins int }
	prev := make([]cell, len(hyp)+1)
	cur := make([]cell, len(hyp)+1)
	for j := range prev {
		prev[j] = cell{cost: j, ins: j}
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = cell{cost: i, del: i}
		for j := 1; j <= len(hyp); j++ {
			best := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				best.cost++
				best.sub++
			}
			if d := prev[j]; d.cost+1 < best.cost {
				best = d
				best.cost++
				best.del++
			}
			if n := cur[j-1]; n.cost+1 < best.cost {
				best = n
				best.cost++
				best.ins++
			}
			cur[j] = best
		}
		prev, cur = cur, prev
	}
	c := prev[len(hyp)]
	return c.sub, c.del, c.ins
}

// run is one recognition of one utterance.
type run struct {
	finals  []stt.Result
	audio   time.Duration // audio written
	engine  time.Duration // time spent in Write and CloseSend
	toFinal time.Duration // from CloseSend to the last final result
	interim int
}

// text joins the texts of the final results that were not rejected.
func (r run) text() []string {
	var w []string
	for _, f := range r.finals {
		if !f.Rejected {
			w = append(w, strings.Fields(f.Text)...)
		}
	}
	return w
}

// pad is the silence around each utterance, as a caller would leave it.
const pad = 500 * time.Millisecond

// recognize streams samples (at rate) in 20 ms frames, with pad of silence
// before and after, and collects the results.
func recognize(tb testing.TB, r stt.Recognizer, cfg stt.Config, samples []int16, rate int) run {
	tb.Helper()
	cfg.SampleRate = rate
	if cfg.Language == "" {
		cfg.Language = "en-US"
	}
	s, err := r.Stream(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	n := media.SamplesPerFrame(rate)
	silence := int(pad) / int(time.Second/time.Duration(rate))
	audio := make([]int16, 0, len(samples)+2*silence+n)
	audio = append(audio, make([]int16, silence)...)
	audio = append(audio, samples...)
	audio = append(audio, make([]int16, silence+(n-len(samples)%n)%n)...)
	var out run
	f := media.NewFrame(rate)
	start := time.Now()
	for off := 0; off+n <= len(audio); off += n {
		copy(f.Samples, audio[off:off+n])
		if err := s.Write(f); err != nil {
			if cfg.SingleUtterance && err != nil {
				break // the stream ended after its first final result
			}
			tb.Fatal(err)
		}
	}
	out.audio = time.Duration(len(audio)) * time.Second / time.Duration(rate)
	closeAt := time.Now()
	if err := s.CloseSend(); err != nil && !cfg.SingleUtterance {
		tb.Fatal(err)
	}
	out.engine = time.Since(start)
	for {
		res, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if res.Final {
			out.finals = append(out.finals, res)
			out.toFinal = time.Since(closeAt)
		} else {
			out.interim++
		}
	}
	return out
}

// speak synthesizes text with espeak-ng and returns it at 8 kHz (sox).
func speak(tb testing.TB, dir, voice string, rate int, text string) []int16 {
	tb.Helper()
	return speakAt(tb, dir, voice, rate, text, media.Rate8k)
}

// speakAt synthesizes text with espeak-ng and returns it at sampleRate (sox).
func speakAt(tb testing.TB, dir, voice string, rate int, text string, sampleRate int) []int16 {
	tb.Helper()
	espeak := testutil.RequireTool(tb, "espeak-ng", "espeak-ng")
	sox := testutil.RequireTool(tb, "sox", "sox")
	raw := filepath.Join(dir, "e.wav")
	out := filepath.Join(dir, "e8.wav")
	if c := os.Getenv("PAROLE_STT_CACHE"); c != "" {
		// a cache of the 8 kHz renderings, for repeated tuning runs
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%s\x00%d", voice, rate, text, sampleRate)))
		out = filepath.Join(c, hex.EncodeToString(sum[:12])+".wav")
		if err := os.MkdirAll(c, 0o755); err != nil {
			tb.Fatal(err)
		}
		if _, err := os.Stat(out); err == nil {
			return readWAV(tb, out, sampleRate)
		}
	}
	if b, err := exec.Command(espeak, "-v", voice, "-s", fmt.Sprint(rate), "-w", raw, text).CombinedOutput(); err != nil {
		tb.Fatalf("espeak-ng: %v: %s", err, b)
	}
	if b, err := exec.Command(sox, raw, "-r", fmt.Sprint(sampleRate), out).CombinedOutput(); err != nil {
		tb.Fatalf("sox: %v: %s", err, b)
	}
	return readWAV(tb, out, sampleRate)
}

func readWAV(tb testing.TB, out string, sampleRate int) []int16 {
	tb.Helper()
	f, err := os.Open(out)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	s, r, err := wav.ReadAll(f)
	if err != nil || r != sampleRate {
		tb.Fatalf("%s: %d Hz: %v", out, r, err)
	}
	return s
}

func TestWordErrors(t *testing.T) {
	for _, c := range []struct {
		ref, hyp      string
		sub, del, ins int
	}{
		{"a b c", "a b c", 0, 0, 0},
		{"a b c", "a x c", 1, 0, 0},
		{"a b c", "a c", 0, 1, 0},
		{"a b c", "a b c d", 0, 0, 1},
		{"a b c", "", 0, 3, 0},
		{"", "a b", 0, 0, 2},
		{"please enter your password", "please and your pass word", 2, 0, 1},
	} {
		s, d, i := wordErrors(strings.Fields(c.ref), strings.Fields(c.hyp))
		if s+d+i != c.sub+c.del+c.ins || s != c.sub || d != c.del || i != c.ins {
			t.Errorf("%q vs %q: sub %d del %d ins %d, want %d %d %d", c.ref, c.hyp, s, d, i, c.sub, c.del, c.ins)
		}
	}
}

func requireModel(t *testing.T) {
	testutil.RequireFile(t, sphinx.DefaultModelDir+"/mdef", "pocketsphinx-en-us")
}

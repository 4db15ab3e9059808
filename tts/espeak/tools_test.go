package espeak

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

// soxStat runs `sox f -n stat` and returns its figures by name.
func soxStat(t *testing.T, sox, file string) map[string]float64 {
	t.Helper()
	out, err := exec.Command(sox, file, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Fatalf("sox stat %s: %v\n%s", file, err, out)
	}
	stats := map[string]float64{}
	re := regexp.MustCompile(`(?m)^([A-Za-z ()]+?):\s+(-?[0-9.e+-]+)\s*$`)
	for _, m := range re.FindAllSubmatch(out, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err == nil {
			stats[string(m[1])] = v
		}
	}
	for _, k := range []string{"Length (seconds)", "RMS     amplitude", "Maximum amplitude"} {
		if _, ok := stats[k]; !ok {
			t.Fatalf("sox stat output has no %q:\n%s", k, out)
		}
	}
	return stats
}

// TestAgainstCLI synthesizes prompts of the demo flow, writes them as WAV
// and checks them with sox, and compares their duration with the espeak-ng
// program's rendering of the same text.
func TestAgainstCLI(t *testing.T) {
	sox := testutil.RequireTool(t, "sox", "sox")
	cli := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	s := newSynth(t)
	dir := t.TempDir()
	for i, tc := range []struct {
		voice, lang, text string
		rate              int
	}{
		{"en-us", "en-US", threeSentences, 8000},
		{"en-gb", "en-GB", "Sorry, I didn't hear you. I still can't hear you.", 16000},
		{"fr-fr", "fr-FR", "Vous pouvez demander nos horaires, prendre rendez-vous, ou parler à un conseiller. Que souhaitez-vous ?", 48000},
	} {
		pcm, _ := say(t, s, tts.Request{Text: tc.text, Language: tc.lang, SampleRate: tc.rate})
		ours := filepath.Join(dir, "ours"+strconv.Itoa(i)+".wav")
		var buf bytes.Buffer
		if err := wav.Encode(&buf, wav.PCM, tc.rate, pcm); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ours, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		ref := filepath.Join(dir, "cli"+strconv.Itoa(i)+".wav")
		if out, err := exec.Command(cli, "-v", tc.voice, "-w", ref, tc.text).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v\n%s", err, out)
		}
		a, b := soxStat(t, sox, ours), soxStat(t, sox, ref)
		la, lb := a["Length (seconds)"], b["Length (seconds)"]
		t.Logf("%s: ours %.3f s RMS %.3f, espeak-ng -w %.3f s RMS %.3f", tc.lang, la, a["RMS     amplitude"], lb, b["RMS     amplitude"])
		if la < 0.9*lb || la > 1.1*lb {
			t.Errorf("%s: %.3f s, espeak-ng -w %.3f s (want ±10%%)", tc.lang, la, lb)
		}
		// speech-like: loud enough, not clipped, and sounding on and off
		if r := a["RMS     amplitude"]; r < 0.03 || r > 0.5 {
			t.Errorf("%s: RMS amplitude %.3f", tc.lang, r)
		}
		if r, rb := a["RMS     amplitude"], b["RMS     amplitude"]; r < 0.7*rb || r > 1.3*rb {
			t.Errorf("%s: RMS amplitude %.3f, espeak-ng -w %.3f", tc.lang, r, rb)
		}
		if m := a["Maximum amplitude"]; m >= 0.999 {
			t.Errorf("%s: clipped (maximum %.3f)", tc.lang, m)
		}
	}
}

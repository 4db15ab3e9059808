package dtmf

import (
	"testing"
	"time"
)

// detectAll runs pcm through a new detector in 20 ms frames and returns the
// keys found, flushed at the end.
func detectAll(t testing.TB, cfg DetectorConfig, pcm []int16) []Tone {
	t.Helper()
	d, err := NewDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	frame := d.Rate() / 50
	var out []Tone
	for len(pcm) > 0 {
		n := min(frame, len(pcm))
		out = d.Write(out, pcm[:n])
		pcm = pcm[n:]
	}
	return d.Flush(out)
}

func keys(ts []Tone) string {
	b := make([]byte, 0, len(ts))
	for _, t := range ts {
		c, ok := t.Event.Digit()
		if !ok {
			c = '?'
		}
		b = append(b, c)
	}
	return string(b)
}

func TestGeneratorDetectorAllDigits(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		g, err := NewGenerator(ToneConfig{Rate: rate, Duration: 40 * time.Millisecond, Pause: 40 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for e := Event0; e <= EventD; e++ {
			pcm := g.AppendSilence(nil, 30*time.Millisecond)
			pcm, err = g.AppendTone(pcm, e, 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			pcm = g.AppendSilence(pcm, 100*time.Millisecond)
			got := detectAll(t, DetectorConfig{Rate: rate}, pcm)
			if len(got) != 1 || got[0].Event != e {
				t.Errorf("%d Hz: key %s: detected %v", rate, e, got)
				continue
			}
			if d := got[0].Start - 30*time.Millisecond; d < -10*time.Millisecond || d > 10*time.Millisecond {
				t.Errorf("%d Hz: key %s: start %v, want 30ms", rate, e, got[0].Start)
			}
			if d := got[0].Duration - 100*time.Millisecond; d < -15*time.Millisecond || d > 15*time.Millisecond {
				t.Errorf("%d Hz: key %s: duration %v, want 100ms", rate, e, got[0].Duration)
			}
		}
		const str = "0123456789*#ABCD5551212"
		pcm, err := g.AppendDigits(nil, str)
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(detectAll(t, DetectorConfig{Rate: rate}, pcm)); got != str {
			t.Errorf("%d Hz: 40 ms tones with 40 ms gaps: got %q, want %q", rate, got, str)
		}
	}
}

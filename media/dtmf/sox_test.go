package dtmf

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
)

// The tests in this file check the detector against the ITU-T Q.24 / ETSI
// receiver limits on tones made by sox, an independent generator: sox
// synthesises the two sines, applies level and twist (remix with
// per-channel volume), pads with silence and mixes in white noise (sox -m).

// soxTone describes one sox-made test signal.
type soxTone struct {
	rate            int
	key             Event
	lowDev, highDev float64 // relative frequency deviation of each tone
	lowDBm0         float64 // level of the low tone
	highDBm0        float64 // level of the high tone
	dur             time.Duration
	pre, post       time.Duration // silence before and after
	snr             float64       // dB of tone power over noise; 0: no noise
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

// amp converts dBm0 to a sox volume factor (1 is 16-bit full scale).
func amp(dBm0 float64) string {
	return strconv.FormatFloat(ZeroDBm0/32768*math.Pow(10, dBm0/20), 'f', 6, 64)
}

// make writes the signal with sox in dir and returns its samples.
func (s soxTone) make(t testing.TB, sox, dir string) []int16 {
	t.Helper()
	if s.rate == 0 {
		s.rate = 8000
	}
	lo, hi, err := Freqs(s.key)
	if err != nil {
		t.Fatal(err)
	}
	lo *= 1 + s.lowDev
	hi *= 1 + s.highDev
	rate := strconv.Itoa(s.rate)
	raw := []string{"-t", "raw", "-r", rate, "-e", "signed", "-b", "16", "-c", "1"}
	tone := filepath.Join(dir, "tone.raw")
	args := []string{"-R", "-c", "2", "-r", rate, "-n"}
	args = append(args, raw...)
	args = append(args, tone, "synth", secs(s.dur),
		"sine", strconv.FormatFloat(lo, 'f', 3, 64), "sine", strconv.FormatFloat(hi, 'f', 3, 64),
		"remix", "1v"+amp(s.lowDBm0)+",2v"+amp(s.highDBm0),
		"pad", secs(s.pre), secs(s.post))
	testutil.Run(t, sox, args...)
	if s.snr == 0 {
		return testutil.ReadS16(t, tone)
	}
	// Noise power is set from the tone's nominal power: two sines of
	// amplitude a_i carry a_i²/2 each.
	pl := math.Pow(ZeroDBm0*math.Pow(10, s.lowDBm0/20), 2) / 2
	ph := math.Pow(ZeroDBm0*math.Pow(10, s.highDBm0/20), 2) / 2
	noise := filepath.Join(dir, "noise.raw")
	args = []string{"-R", "-r", rate, "-n"}
	args = append(args, raw...)
	args = append(args, noise, "synth", secs(s.pre+s.dur+s.post), "whitenoise", "vol", "0.5")
	testutil.Run(t, sox, args...)
	n := testutil.ReadS16(t, noise)
	var pn float64
	for _, v := range n {
		pn += float64(v) * float64(v)
	}
	pn /= float64(len(n))
	gain := math.Sqrt((pl + ph) / math.Pow(10, s.snr/10) / pn)
	out := filepath.Join(dir, "mix.raw")
	args = []string{"-R", "-m", "-v", "1"}
	args = append(args, raw...)
	args = append(args, tone, "-v", strconv.FormatFloat(gain, 'f', 6, 64))
	args = append(args, raw...)
	args = append(args, noise)
	args = append(args, raw...)
	args = append(args, out)
	testutil.Run(t, sox, args...)
	return testutil.ReadS16(t, out)
}

func needSox(t *testing.T) string {
	t.Helper()
	return testutil.RequireTool(t, "sox", "sox")
}

// checkCount runs the signal through the detector and checks that it finds
// the key exactly once (accept) or finds nothing (reject).
func checkCount(t *testing.T, name string, pcm []int16, rate int, key Event, accept bool) {
	t.Helper()
	got := detectAll(t, DetectorConfig{Rate: rate}, pcm)
	switch {
	case accept && (len(got) != 1 || got[0].Event != key):
		t.Errorf("%s: want %s once, detected %v", name, key, got)
	case !accept && len(got) != 0:
		t.Errorf("%s: want nothing, detected %v", name, got)
	}
}

// TestSoxDuration: tones of 40 ms and more are accepted, tones of 23 ms and
// less rejected, at several alignments with the 20 ms frames.
func TestSoxDuration(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	cases := []struct {
		dur    time.Duration
		accept bool
	}{
		{10 * time.Millisecond, false},
		{15 * time.Millisecond, false},
		{20 * time.Millisecond, false},
		{23 * time.Millisecond, false},
		{40 * time.Millisecond, true},
		{45 * time.Millisecond, true},
		{60 * time.Millisecond, true},
		{200 * time.Millisecond, true},
	}
	for _, rate := range []int{8000, 16000} {
		for _, c := range cases {
			for _, key := range []Event{Event1, Event5, Event9, EventD, Event0, EventPound} {
				for _, pre := range []time.Duration{0, 3 * time.Millisecond, 7 * time.Millisecond, 11 * time.Millisecond, 17 * time.Millisecond} {
					s := soxTone{rate: rate, key: key, lowDBm0: -10, highDBm0: -10, dur: c.dur, pre: 40*time.Millisecond + pre, post: 80 * time.Millisecond}
					name := fmt.Sprintf("%d Hz key %s %v after %v", rate, key, c.dur, s.pre)
					checkCount(t, name, s.make(t, sox, dir), rate, key, c.accept)
				}
			}
		}
		if testing.Short() {
			break
		}
	}
}

// TestSoxTwist: the high tone up to 8 dB weaker (normal twist) or up to 4 dB
// stronger (reverse twist) than the low one is accepted; 11 dB normal or
// 7 dB reverse twist is rejected (3 dB grey zone, see DetectorConfig).
func TestSoxTwist(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	cases := []struct {
		twist  float64 // high minus low, dB
		accept bool
	}{
		{-12, false}, {-11, false}, {-8, true}, {-6, true}, {-4, true}, {0, true},
		{2, true}, {4, true}, {7, false}, {8, false},
	}
	for _, c := range cases {
		for key := Event0; key <= EventD; key++ {
			s := soxTone{key: key, lowDBm0: -10, highDBm0: -10 + c.twist, dur: 60 * time.Millisecond, pre: 30 * time.Millisecond, post: 80 * time.Millisecond}
			if c.twist > 0 { // keep the stronger tone at -6 dBm0
				s.lowDBm0, s.highDBm0 = -6-c.twist, -6
			}
			checkCount(t, fmt.Sprintf("key %s twist %+g dB", key, c.twist), s.make(t, sox, dir), 8000, key, c.accept)
		}
	}
}

// TestSoxFrequency: tones off by ±1.5 % are accepted, a tone off by ±3.5 %
// (low or high) is rejected.
func TestSoxFrequency(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	cases := []struct {
		low, high float64
		accept    bool
	}{
		{0.015, 0.015, true}, {-0.015, -0.015, true}, {0.015, -0.015, true}, {-0.015, 0.015, true},
		{0.035, 0, false}, {-0.035, 0, false}, {0, 0.035, false}, {0, -0.035, false},
		{0.035, 0.035, false}, {-0.035, -0.035, false},
	}
	for _, rate := range []int{8000, 16000} {
		for _, c := range cases {
			for key := Event0; key <= EventD; key++ {
				s := soxTone{rate: rate, key: key, lowDev: c.low, highDev: c.high, lowDBm0: -8, highDBm0: -8, dur: 80 * time.Millisecond, pre: 30 * time.Millisecond, post: 80 * time.Millisecond}
				name := fmt.Sprintf("%d Hz key %s low %+.1f%% high %+.1f%%", rate, key, 100*c.low, 100*c.high)
				checkCount(t, name, s.make(t, sox, dir), rate, key, c.accept)
			}
		}
		if testing.Short() {
			break
		}
	}
}

// TestSoxLevel: tones from -3 down to -25 dBm0 per tone are accepted, below
// -35 dBm0 rejected (MinLevel is -30).
func TestSoxLevel(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	cases := []struct {
		level  float64
		accept bool
	}{{-4, true}, {-15, true}, {-25, true}, {-35, false}, {-45, false}}
	for _, c := range cases {
		for key := Event0; key <= EventD; key++ {
			s := soxTone{key: key, lowDBm0: c.level, highDBm0: c.level, dur: 60 * time.Millisecond, pre: 30 * time.Millisecond, post: 80 * time.Millisecond}
			checkCount(t, fmt.Sprintf("key %s at %g dBm0", key, c.level), s.make(t, sox, dir), 8000, key, c.accept)
		}
	}
}

// TestSoxNoise: 50 ms tones at -10 dBm0 per tone in white noise are all
// detected, once, at 15 dB signal-to-noise ratio and above; lower ratios are
// logged.
func TestSoxNoise(t *testing.T) {
	sox := needSox(t)
	dir := t.TempDir()
	for _, snr := range []float64{30, 20, 15, 12, 10} {
		found, extra := 0, 0
		for key := Event0; key <= EventD; key++ {
			s := soxTone{key: key, lowDBm0: -10, highDBm0: -10, dur: 50 * time.Millisecond, pre: 60 * time.Millisecond, post: 100 * time.Millisecond, snr: snr}
			got := detectAll(t, DetectorConfig{}, s.make(t, sox, dir))
			for _, g := range got {
				if g.Event == key {
					found++
				} else {
					extra++
				}
			}
		}
		t.Logf("SNR %2g dB: %d/16 detected, %d wrong", snr, found, extra)
		if snr >= 15 && (found != 16 || extra != 0) {
			t.Errorf("SNR %g dB: %d/16 detected, %d wrong keys", snr, found, extra)
		}
	}
}

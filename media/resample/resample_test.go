package resample

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parole-voice/parole/media"
)

func noise(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(rng.IntN(65536) - 32768)
	}
	return s
}

// TestStreamingMatchesOneShot feeds the same input in random-size pieces and
// in one call: the outputs must be identical, and their length exact.
func TestStreamingMatchesOneShot(t *testing.T) {
	for _, q := range []Quality{Low, Medium, High} {
		for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {24000, 16000}, {16000, 24000}, {48000, 32000}, {44100, 16000}, {22050, 8000}, {44100, 48000}} {
			in, out := pair[0], pair[1]
			x := noise(5000, uint64(in+out))
			r1, err := New(in, out, q)
			if err != nil {
				t.Fatal(err)
			}
			whole := r1.Process(nil, x)
			if want := OutputLen(in, out, len(x)); len(whole) != want {
				t.Errorf("%s %d→%d: %d samples out, want %d", q, in, out, len(whole), want)
			}
			r2, _ := New(in, out, q)
			rng := rand.New(rand.NewPCG(3, 4))
			var parts []int16
			for rest := x; len(rest) > 0; {
				n := min(len(rest), rng.IntN(1500))
				parts = r2.Process(parts, rest[:n])
				rest = rest[n:]
			}
			if !slices.Equal(whole, parts) {
				t.Errorf("%s %d→%d: streamed output differs from one-shot output", q, in, out)
			}
			r2.Reset()
			if again := r2.Process(nil, x); !slices.Equal(whole, again) {
				t.Errorf("%s %d→%d: output after Reset differs", q, in, out)
			}
		}
	}
}

// TestExtremeRatio runs a ratio at the limits New accepts (384 kHz to
// 2625 Hz: 7/1024) in uneven pieces: the output has exactly OutputLen
// samples and equals the one-shot output.
func TestExtremeRatio(t *testing.T) {
	r, err := New(384000, 2625, Medium)
	if err != nil {
		t.Fatal(err)
	}
	x := noise(60000, 8)
	whole := r.Process(nil, x)
	if want := OutputLen(384000, 2625, len(x)); len(whole) != want {
		t.Fatalf("%d samples out, want %d", len(whole), want)
	}
	r.Reset()
	var parts []int16
	for i, rest := 0, x; len(rest) > 0; i++ {
		n := min(len(rest), 1+i*997%5000)
		parts = r.Process(parts, rest[:n])
		rest = rest[n:]
	}
	if !slices.Equal(whole, parts) {
		t.Error("output in pieces differs from the one-shot output")
	}
}

// TestFramesExact checks that every 20 ms frame in gives exactly 20 ms out
// for every pair of the native rates.
func TestFramesExact(t *testing.T) {
	rates := []int{media.Rate8k, media.Rate16k, media.Rate24k, media.Rate48k}
	for _, in := range rates {
		for _, out := range rates {
			r, err := New(in, out, Medium)
			if err != nil {
				t.Fatal(err)
			}
			src, dst := media.NewFrame(in), media.NewFrame(out)
			copy(src.Samples, noise(len(src.Samples), 1))
			for i := range 7 {
				if err := r.ProcessFrame(dst, src); err != nil {
					t.Fatal(err)
				}
				if len(dst.Samples) != media.SamplesPerFrame(out) || dst.Rate != out {
					t.Fatalf("%d→%d frame %d: %d samples at %d Hz, want %d at %d", in, out, i, len(dst.Samples), dst.Rate, media.SamplesPerFrame(out), out)
				}
			}
		}
	}
}

// TestFlush checks the tail length and that output minus the delay lines up
// with the input: an impulse comes out Delay() samples late.
func TestFlush(t *testing.T) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {24000, 16000}, {16000, 24000}} {
		in, out := pair[0], pair[1]
		for _, q := range []Quality{Low, Medium, High} {
			r, _ := New(in, out, q)
			x := make([]int16, 3*in/100)
			// a band-limited bump (sum of a few low-frequency cosines) centred at t0.
			t0 := len(x) / 2
			for i := range x {
				d := float64(i - t0)
				x[i] = int16(20000 * bump(d/float64(in)))
			}
			y := r.Process(nil, x)
			y = r.Flush(y)
			if want := OutputLen(in, out, len(x)) + r.Delay(); len(y) != want {
				t.Fatalf("%s %d→%d: %d samples with flush, want %d", q, in, out, len(y), want)
			}
			peak := 0
			for i := range y {
				if y[i] > y[peak] {
					peak = i
				}
			}
			wantPeak := t0*out/in + r.Delay()
			if peak < wantPeak-1 || peak > wantPeak+1 {
				t.Errorf("%s %d→%d: peak at %d, want %d (delay %d)", q, in, out, peak, wantPeak, r.Delay())
			}
			// after Flush the resampler starts afresh
			if y2 := r.Flush(r.Process(nil, x)); !slices.Equal(y, y2) {
				t.Errorf("%s %d→%d: second stream after Flush differs", q, in, out)
			}
		}
	}
}

// bump is a smooth pulse band-limited well below 4 kHz (Hann-windowed), peak 1
// at t = 0 (seconds).
func bump(t float64) float64 {
	const w = 0.002 // 2 ms half width
	if t <= -w || t >= w {
		return 0
	}
	c := 0.5 + 0.5*cosPi(t/w)
	return c * c
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		in, out int
		q       Quality
		want    error
	}{
		{0, 8000, Medium, ErrRate},
		{8000, -1, Medium, ErrRate},
		{8000, 1_000_000, Medium, ErrRate},
		{8000, 7999, Medium, ErrRate}, // 7999/8000: factors too large
		{8000, 16000, Quality(7), ErrQuality},
		{8000, 16000, Quality(-1), ErrQuality},
	} {
		_, err := New(c.in, c.out, c.q)
		if !errors.Is(err, c.want) {
			t.Errorf("New(%d, %d, %d) = %v, want %v", c.in, c.out, c.q, err, c.want)
		}
	}
	r, _ := New(8000, 16000, Medium)
	err := r.ProcessFrame(media.NewFrame(16000), media.NewFrame(16000))
	if !errors.Is(err, ErrFrameRate) {
		t.Errorf("ProcessFrame with a 16 kHz frame: %v, want ErrFrameRate", err)
	}
	if OutputLen(0, 8000, 10) != 0 || OutputLen(8000, 16000, -1) != 0 {
		t.Error("OutputLen of invalid arguments should be 0")
	}
	if r.InRate() != 8000 || r.OutRate() != 16000 || r.Quality() != Medium {
		t.Error("accessors")
	}
	if Quality(9).String() != "Quality(9)" || High.String() != "high" {
		t.Error("Quality.String")
	}
}

// TestZeroAlloc checks the steady state allocates nothing.
func TestZeroAlloc(t *testing.T) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 16000}, {24000, 16000}} {
		in, out := pair[0], pair[1]
		r, _ := New(in, out, Medium)
		src, dst := media.NewFrame(in), media.NewFrame(out)
		buf := make([]int16, 0, 4096)
		allocs := testing.AllocsPerRun(100, func() {
			if err := r.ProcessFrame(dst, src); err != nil {
				t.Fatal(err)
			}
			buf = r.Process(buf[:0], src.Samples)
			buf = r.Flush(buf[:0])
		})
		if allocs != 0 {
			t.Errorf("%d→%d: %v allocs per frame", in, out, allocs)
		}
	}
}

// TestSaturation drives full-scale square waves, whose filtered overshoot
// exceeds 16 bits: the output must clip, not wrap.
func TestSaturation(t *testing.T) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {24000, 16000}} {
		r, _ := New(pair[0], pair[1], High)
		x := make([]int16, 4000)
		for i := range x {
			x[i] = 32767
			if (i/7)%2 == 1 {
				x[i] = -32768
			}
		}
		y := r.Process(nil, x)
		for i := r.Delay() + 20; i < len(y)-1; i++ {
			// a wrapped sample would jump by more than 40000 against both neighbours
			if d1, d2 := int(y[i])-int(y[i-1]), int(y[i])-int(y[i+1]); abs(d1) > 40000 && abs(d2) > 40000 {
				t.Fatalf("%v: sample %d = %d wraps (neighbours %d, %d)", pair, i, y[i], y[i-1], y[i+1])
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestBankShared(t *testing.T) {
	a, _ := New(8000, 16000, High)
	b, _ := New(8000, 16000, High)
	if a.b != b.b {
		t.Error("resamplers of one pair and quality should share their filter bank")
	}
}

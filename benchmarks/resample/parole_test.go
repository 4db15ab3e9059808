package resample

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/parole-voice/parole/media/resample"
)

// Pairs are the rate pairs compared.
var Pairs = [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {24000, 16000}}

// speechLike is one second of two tones and a noise-like part.
func speechLike(rate int) []int16 {
	pcm := make([]int16, rate)
	for i := range pcm {
		x := float64(i) / float64(rate)
		pcm[i] = int16(9000*math.Sin(2*math.Pi*300*x) + 4000*math.Sin(2*math.Pi*3100*x) + float64((i*7919)%2001-1000))
	}
	return pcm
}

// benchEngine resamples 20 ms frames with e and reports ns/frame and
// x-realtime.
func benchEngine(b *testing.B, e Engine, in int) {
	pcm := speechLike(in)
	n := in / 50
	out := make([]int16, 0, 16*n)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % 50) * n
		out = e.Process(out[:0], pcm[off:off+n])
		frames++
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(frames)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
}

// BenchmarkParole measures parole's resampler at each quality and pair.
func BenchmarkParole(b *testing.B) {
	for _, q := range []resample.Quality{resample.Low, resample.Medium, resample.High} {
		for _, p := range Pairs {
			b.Run(fmt.Sprintf("%s/%dto%d", q, p[0]/1000, p[1]/1000), func(b *testing.B) {
				e, err := NewParole(p[0], p[1], q)
				if err != nil {
					b.Fatal(err)
				}
				benchEngine(b, e, p[0])
			})
		}
	}
}

// TestParole checks the harness on parole's engine alone (no cgo): the SNR
// measured through it and the delay it finds match the resampler's own.
func TestParole(t *testing.T) {
	for _, p := range Pairs {
		e, _ := NewParole(p[0], p[1], resample.Medium)
		snr, delay := SNR(e, p[0], p[1])
		t.Logf("%d→%d medium: SNR %.1f dB, delay %.2f samples (Delay() %d)", p[0], p[1], snr, delay, e.R.Delay())
		if snr < 75 {
			t.Errorf("%d→%d: SNR %.1f dB < 75 dB", p[0], p[1], snr)
		}
		if math.Abs(delay-float64(e.R.Delay())) > 0.01 {
			t.Errorf("%d→%d: measured delay %.3f, Delay() %d", p[0], p[1], delay, e.R.Delay())
		}
		rej := Rejection(func() Engine { e, _ := NewParole(p[0], p[1], resample.Medium); return e }, p[0], p[1], 1.1, 9)
		t.Logf("%d→%d medium: rejection beyond 1.1×Nyquist %.1f dB", p[0], p[1], rej)
		if rej < 85 {
			t.Errorf("%d→%d: rejection %.1f dB < 85 dB", p[0], p[1], rej)
		}
	}
}

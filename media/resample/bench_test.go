package resample

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// benchPairs are the rate pairs benchmarked.
var benchPairs = [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {24000, 16000}, {48000, 8000}}

// speechLike returns one second of a two-tone signal with a noise-like part.
func speechLike(rate int) []int16 {
	pcm := make([]int16, rate)
	for i := range pcm {
		x := float64(i) / float64(rate)
		pcm[i] = int16(9000*math.Sin(2*math.Pi*300*x) + 4000*math.Sin(2*math.Pi*3100*x) + float64((i*7919)%2001-1000))
	}
	return pcm
}

// BenchmarkProcess resamples a stream of 20 ms frames per rate pair and
// quality and reports the time per frame and the speed against real time.
func BenchmarkProcess(b *testing.B) {
	for _, q := range []Quality{Low, Medium, High} {
		for _, p := range benchPairs {
			in, out := p[0], p[1]
			b.Run(fmt.Sprintf("%s/%dto%d", q, in/1000, out/1000), func(b *testing.B) {
				r, err := New(in, out, q)
				if err != nil {
					b.Fatal(err)
				}
				pcm := speechLike(in)
				n := in / 50
				buf := make([]int16, 0, OutputLen(in, out, n))
				frames := 0
				b.ReportAllocs()
				for b.Loop() {
					off := (frames % 50) * n
					buf = r.Process(buf[:0], pcm[off:off+n])
					frames++
				}
				perFrame := float64(b.Elapsed().Nanoseconds()) / float64(frames)
				b.ReportMetric(perFrame, "ns/frame")
				b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
			})
		}
	}
}

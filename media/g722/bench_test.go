package g722

import (
	"math"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

// benchPCM is one second of a two-tone signal with noise-like harmonics.
func benchPCM() []int16 {
	pcm := make([]int16, SampleRate)
	for i := range pcm {
		x := float64(i) / SampleRate
		pcm[i] = int16(9000*math.Sin(2*math.Pi*300*x) + 4000*math.Sin(2*math.Pi*3100*x) + float64((i*7919)%2001-1000))
	}
	return pcm
}

// BenchmarkEncode encodes 20 ms frames (320 samples → 160 bytes).
func BenchmarkEncode(b *testing.B) {
	pcm := benchPCM()
	e := NewEncoder()
	buf := make([]byte, 0, BytesPerFrame)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % (len(pcm) / SamplesPerFrame)) * SamplesPerFrame
		buf = e.Encode(buf[:0], pcm[off:off+SamplesPerFrame])
		frames++
	}
	testutil.ReportFrames(b, frames)
}

// BenchmarkDecode decodes 20 ms frames (160 bytes → 320 samples).
func BenchmarkDecode(b *testing.B) {
	code := NewEncoder().Encode(nil, benchPCM())
	d := NewDecoder()
	out := make([]int16, 0, SamplesPerFrame)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % (len(code) / BytesPerFrame)) * BytesPerFrame
		out = d.Decode(out[:0], code[off:off+BytesPerFrame])
		frames++
	}
	testutil.ReportFrames(b, frames)
}

package g711

import (
	"math"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

// benchPCM is one second of 8 kHz audio: two tones and noise-like harmonics.
func benchPCM() []int16 {
	pcm := make([]int16, SampleRate)
	for i := range pcm {
		x := float64(i) / SampleRate
		pcm[i] = int16(9000*math.Sin(2*math.Pi*300*x) + 4000*math.Sin(2*math.Pi*3100*x) + float64((i*7919)%2001-1000))
	}
	return pcm
}

func benchEncode(b *testing.B, enc func([]byte, []int16) []byte) {
	pcm := benchPCM()
	buf := make([]byte, 0, BytesPerFrame)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % (len(pcm) / SamplesPerFrame)) * SamplesPerFrame
		buf = enc(buf[:0], pcm[off:off+SamplesPerFrame])
		frames++
	}
	testutil.ReportFrames(b, frames)
}

func benchDecode(b *testing.B, enc func([]byte, []int16) []byte, dec func([]int16, []byte) []int16) {
	code := enc(nil, benchPCM())
	out := make([]int16, 0, SamplesPerFrame)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % (len(code) / BytesPerFrame)) * BytesPerFrame
		out = dec(out[:0], code[off:off+BytesPerFrame])
		frames++
	}
	testutil.ReportFrames(b, frames)
}

// BenchmarkEncodeUlaw encodes 20 ms frames (160 samples → 160 bytes).
func BenchmarkEncodeUlaw(b *testing.B) { benchEncode(b, EncodeUlaw) }

// BenchmarkDecodeUlaw decodes 20 ms frames (160 bytes → 160 samples).
func BenchmarkDecodeUlaw(b *testing.B) { benchDecode(b, EncodeUlaw, DecodeUlaw) }

// BenchmarkEncodeAlaw encodes 20 ms frames (160 samples → 160 bytes).
func BenchmarkEncodeAlaw(b *testing.B) { benchEncode(b, EncodeAlaw) }

// BenchmarkDecodeAlaw decodes 20 ms frames (160 bytes → 160 samples).
func BenchmarkDecodeAlaw(b *testing.B) { benchDecode(b, EncodeAlaw, DecodeAlaw) }

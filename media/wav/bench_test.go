package wav

import (
	"bytes"
	"io"
	"math"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
)

// benchFile is 10 s of 8 kHz audio (two tones and noise-like harmonics) as
// a WAV file in format f.
func benchFile(b *testing.B, f Format) []byte {
	pcm := make([]int16, 10*8000)
	for i := range pcm {
		x := float64(i) / 8000
		pcm[i] = int16(9000*math.Sin(2*math.Pi*300*x) + 4000*math.Sin(2*math.Pi*3100*x) + float64((i*7919)%2001-1000))
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f, 8000, pcm); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchRead decodes the file into 20 ms frames, starting over at the end,
// and reports ns/frame and x-realtime; frames are reused, so steady state
// allocates nothing (the Reader of each pass over the file is amortised).
func benchRead(b *testing.B, f Format) {
	file := benchFile(b, f)
	src := bytes.NewReader(file)
	r, err := NewReader(src)
	if err != nil {
		b.Fatal(err)
	}
	fr := media.NewFrame(8000)
	frames := 0
	b.SetBytes(int64(len(file)) / 500) // bytes per 20 ms frame, roughly
	b.ReportAllocs()
	for b.Loop() {
		if err := r.ReadFrame(fr); err == io.EOF {
			src.Reset(file)
			if err := r.reset(src); err != nil {
				b.Fatal(err)
			}
			continue
		} else if err != nil {
			b.Fatal(err)
		}
		frames++
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(frames)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
}

// reset restarts r on a new stream without allocating (benchmarks only).
func (r *Reader) reset(src io.Reader) error {
	*r = Reader{src: src}
	return r.readHeader()
}

// BenchmarkReadFramePCM16 decodes a 16-bit PCM WAV into 20 ms frames.
func BenchmarkReadFramePCM16(b *testing.B) { benchRead(b, PCM) }

// BenchmarkReadFrameULaw decodes a μ-law WAV into 20 ms frames.
func BenchmarkReadFrameULaw(b *testing.B) { benchRead(b, ULaw) }

// BenchmarkReadFrameALaw decodes an A-law WAV into 20 ms frames.
func BenchmarkReadFrameALaw(b *testing.B) { benchRead(b, ALaw) }

// BenchmarkWriteFrameULaw encodes 20 ms frames into a streamed μ-law WAV.
func BenchmarkWriteFrameULaw(b *testing.B) {
	w, err := NewWriter(discard{}, ULaw, 8000)
	if err != nil {
		b.Fatal(err)
	}
	fr := media.NewFrame(8000)
	for i := range fr.Samples {
		fr.Samples[i] = int16(i * 331)
	}
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		if err := w.WriteFrame(fr); err != nil {
			b.Fatal(err)
		}
		frames++
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(frames)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
}

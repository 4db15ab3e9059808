package google

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

// benchAudio is 2 s of low noise (no speech: the fake stays quiet) as
// 8 kHz frames.
func benchAudio() *audio { return tones(8000, 2*time.Second) }

// BenchmarkWrite: the cost of Write per 20 ms frame of 8 kHz audio (μ-law
// encoding and queueing; the network is on the stream's goroutine),
// against the fake service, unpaced.
func BenchmarkWrite(b *testing.B) {
	a := benchAudio()
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(b, f, Config{MaxBacklog: time.Hour, RotateAfter: 4 * time.Minute})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fr := media.NewFrame(8000)
	frames, off := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		if off+160 > len(a.pcm) {
			off = 0
		}
		copy(fr.Samples, a.pcm[off:off+160])
		off += 160
		if err := s.Write(fr); err != nil {
			b.Fatal(err)
		}
		frames++
	}
	testutil.ReportFrames(b, frames)
}

// BenchmarkWireLatency: how long a frame's bytes wait in parole between
// Write and their arrival at the (local) service: the fake stamps each
// chunk on arrival; the figure for a frame is the arrival of the chunk
// carrying its last byte minus the time Write was called. Frames are
// written every 5 ms (4× real time) so the queue is not artificially
// full. chunk=20ms sends every frame on its own (parole's pure overhead:
// queueing, goroutine hand-off, proto and gRPC over loopback);
// chunk=100ms is the default batching, which adds up to 80 ms of waiting
// by design.
func BenchmarkWireLatency(b *testing.B) {
	for _, chunk := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		b.Run("chunk="+chunk.String(), func(b *testing.B) {
			a := benchAudio()
			f := &fakeSpeech{original: a.sent, answer: a.answer}
			r := serve(b, f, Config{ChunkDuration: chunk})
			s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fr := media.NewFrame(8000)
			var wrote []time.Time
			off := 0
			b.ReportAllocs()
			next := time.Now()
			for b.Loop() {
				if off+160 > len(a.pcm) {
					off = 0
				}
				copy(fr.Samples, a.pcm[off:off+160])
				off += 160
				time.Sleep(time.Until(next))
				next = next.Add(5 * time.Millisecond)
				wrote = append(wrote, time.Now())
				if err := s.Write(fr); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s.CloseSend()
			for {
				if _, err := s.Recv(); err != nil {
					break
				}
			}
			c := f.call(0)
			f.mu.Lock()
			var lat []float64
			got := 0
			for i, n := range c.chunks {
				got += n
				// Frames whose last byte is in chunk i.
				for len(lat) < len(wrote) && (len(lat)+1)*160 <= got {
					lat = append(lat, float64(c.recvAt[i].Sub(wrote[len(lat)]))/float64(time.Microsecond))
				}
			}
			f.mu.Unlock()
			if len(lat) != len(wrote) {
				b.Fatalf("%d of %d frames arrived", len(lat), len(wrote))
			}
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-µs")
			b.ReportMetric(lat[len(lat)*99/100], "p99-µs")
		})
	}
}

// BenchmarkWriteOnly: Write alone per 20 ms frame (μ-law at 8 kHz,
// LINEAR16 at 16 kHz), on a stream without its goroutine, the queue
// emptied every 50 frames: the cost on the audio goroutine and its
// allocations, without the sender's and the fake's, which BenchmarkWrite's
// process-wide B/op and allocs/op include.
func BenchmarkWriteOnly(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "mulaw-8k", 16000: "linear16-16k"}[rate], func(b *testing.B) {
			s := &stream{cfg: stt.Config{SampleRate: rate}, mulaw: rate == 8000, align: 2, bps: int64(rate) * 2,
				maxBacklog: 1 << 20, wake: make(chan struct{}, 1)}
			if s.mulaw {
				s.align, s.bps = 1, int64(rate)
			}
			fr := media.NewFrame(rate)
			for i := range fr.Samples {
				fr.Samples[i] = int16(i * 97)
			}
			frames := 0
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(fr); err != nil {
					b.Fatal(err)
				}
				if frames++; frames%50 == 0 {
					s.pending = s.pending[:0]
				}
			}
			testutil.ReportFrames(b, frames)
		})
	}
}

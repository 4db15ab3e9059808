package espeak

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/tts"
)

// BenchmarkSynthesize8k synthesizes the three-sentence demo prompt at 8 kHz
// and reports the time per 20 ms frame of audio, the speed against real
// time, the time to the first chunk and what share of the whole synthesis
// it is, and the allocations per frame.
func BenchmarkSynthesize8k(b *testing.B) {
	for _, rate := range []int{media.Rate8k, media.Rate16k, media.Rate48k} {
		b.Run(map[int]string{8000: "8k", 16000: "16k", 48000: "48k"}[rate], func(b *testing.B) {
			s := newSynth(b)
			req := tts.Request{Text: threeSentences, Language: "en-US", SampleRate: rate}
			var samples int
			var first, total time.Duration
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for b.Loop() {
				start := time.Now()
				st, err := s.Synthesize(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; ; n++ {
					c, err := st.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						first += time.Since(start)
					}
					samples += len(c.Samples)
				}
				total += time.Since(start)
				st.Close()
			}
			runtime.ReadMemStats(&ms1)
			frames := float64(samples) / float64(media.SamplesPerFrame(rate))
			perFrame := float64(b.Elapsed().Nanoseconds()) / frames
			b.ReportMetric(perFrame, "ns/frame")
			b.ReportMetric(float64(media.FrameDuration)/perFrame, "x-realtime")
			b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms-first-chunk")
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-total")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/frames, "allocs/frame")
		})
	}
}

// BenchmarkParallel8k synthesizes the demo prompt at 8 kHz from several
// goroutines at once: the engine serializes them, so the aggregate speed
// stays that of one core.
func BenchmarkParallel8k(b *testing.B) {
	s := newSynth(b)
	req := tts.Request{Text: threeSentences, Language: "en-US", SampleRate: media.Rate8k}
	var mu sync.Mutex
	samples := 0
	b.SetParallelism(4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			st, err := s.Synthesize(context.Background(), req)
			if err != nil {
				b.Error(err)
				return
			}
			for {
				c, err := st.Recv()
				if err != nil {
					break
				}
				n += len(c.Samples)
			}
			st.Close()
		}
		mu.Lock()
		samples += n
		mu.Unlock()
	})
	perFrame := float64(b.Elapsed().Nanoseconds()) / (float64(samples) / float64(media.SamplesPerFrame(media.Rate8k)))
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(media.FrameDuration)/perFrame, "x-realtime")
}

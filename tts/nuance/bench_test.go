package nuance

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/tts"
)

// BenchmarkFirstChunk synthesizes one second of espeak-ng speech per op
// from the in-process fake over loopback gRPC (bearer token included):
// first-chunk-p50-us and -p99-us are the times from the fake sending its
// first audio buffer to Recv returning the first chunk; x-realtime is
// audio seconds delivered per second of wall time.
func BenchmarkFirstChunk(b *testing.B) {
	_, pcm := spokenPCM(b, "Thank you for calling.")
	pcm = pcm[:min(len(pcm), 16000)] // 1 s at 8 kHz
	fake := &fakeTTS{audio: pcm, bufBytes: 1600}
	s := newTest(b, fake, Config{})
	ctx := context.Background()
	req := tts.Request{Text: "Thank you for calling.", SampleRate: 8000}
	firstAt := make([]time.Time, 0, b.N)
	samples := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := s.Synthesize(ctx, req)
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
				firstAt = append(firstAt, time.Now())
			}
			samples += len(c.Samples)
		}
		st.Close()
	}
	b.StopTimer()
	fake.mu.Lock()
	sent := fake.firstAt
	fake.mu.Unlock()
	lat := make([]time.Duration, len(firstAt))
	for i := range firstAt {
		lat[i] = firstAt[i].Sub(sent[i])
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "first-chunk-p50-us")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "first-chunk-p99-us")
	}
	b.ReportMetric(float64(samples)/8000/b.Elapsed().Seconds(), "x-realtime")
}

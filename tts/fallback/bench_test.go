package fallback

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parole-voice/parole/tts"
)

// BenchmarkRecv measures what the wrapper adds per chunk on a healthy
// primary (a fake that makes 20 ms chunks).
func BenchmarkRecv(b *testing.B) {
	words := make([]byte, 0, 2*b.N)
	for range b.N {
		words = append(words, 'a', ' ')
	}
	p, s := &fakeSynth{id: 1}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{})
	st, err := fb.Synthesize(context.Background(), tts.Request{Text: string(words), SampleRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := st.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSwitch measures the time from the primary's mid-stream failure
// to the secondary's first chunk (fakes on both sides: the wrapper's own
// cost, not an engine's).
func BenchmarkSwitch(b *testing.B) {
	p, s := &fakeSynth{id: 1, failAfter: 1, resumer: true}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{FailureThreshold: 1 << 30}, WithLogger(slog.New(slog.DiscardHandler)))
	var total time.Duration
	b.ReportAllocs()
	for range b.N {
		st, err := fb.Synthesize(context.Background(), tts.Request{Text: "one two three", SampleRate: 8000})
		if err != nil {
			b.Fatal(err)
		}
		st.Recv()
		t0 := time.Now()
		if c, err := st.Recv(); err != nil || c.Samples[0] != 2 {
			b.Fatal(err)
		}
		total += time.Since(t0)
		for {
			if _, err := st.Recv(); err == io.EOF {
				break
			}
		}
		st.Close()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/1e3, "µs-failure-to-secondary-chunk")
}

package fallback

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

// discard is a recognizer whose streams take frames and do nothing.
type discard struct{}

func (discard) Stream(context.Context, stt.Config) (stt.Stream, error) { return discardStream{}, nil }

type discardStream struct{}

func (discardStream) Write(*media.Frame) error  { return nil }
func (discardStream) CloseSend() error          { return nil }
func (discardStream) Recv() (stt.Result, error) { return stt.Result{}, io.EOF }
func (discardStream) Close() error              { return nil }

// BenchmarkWrite measures what the wrapper adds per 20 ms frame on a
// healthy primary: keeping the frame for a replay (15 s bound) and passing
// it on.
func BenchmarkWrite(b *testing.B) {
	r, _ := New(discard{}, discard{}, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	f := media.NewFrame(8000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := st.Write(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSwitch measures a mid-utterance switch: the primary fails
// after 2 s of audio, the secondary is opened and the 2 s replayed (fakes
// on both sides: the wrapper's own cost). It reports the time from the
// failure to the replay done.
func BenchmarkSwitch(b *testing.B) {
	fs := frames(100)
	var total time.Duration
	b.ReportAllocs()
	for range b.N {
		p := &fakeRec{name: "p", failAfter: 100, writeErr: true}
		r, _ := New(p, discard{}, Config{FailureThreshold: 1 << 30}, WithLogger(slog.New(slog.DiscardHandler)))
		st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		for _, f := range fs {
			st.Write(f)
		}
		t0 := time.Now()
		st.Write(fs[0]) // fails on the primary: switch and replay
		total += time.Since(t0)
		st.Close()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/1e3, "µs-switch-with-2s-replay")
}

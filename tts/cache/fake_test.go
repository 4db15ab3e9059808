package cache

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/tts"
)

var errBoom = errors.New("fake: engine failure")

// fake is a Synthesizer whose audio is a function of the request: chunks
// of 37 ms (not a multiple of 20 ms), the sample value encoding its index,
// one mark per chunk. It counts its syntheses and can fail or stall.
type fake struct {
	calls   atomic.Int64
	chunks  int           // chunks per utterance
	failAt  int           // > 0: Recv of that chunk fails
	stall   chan struct{} // non-nil: every Recv waits for a receive on it (or ctx)
	open    atomic.Int64  // streams not closed
	refuses bool          // Synthesize itself fails
}

func (f *fake) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	f.calls.Add(1)
	if f.refuses {
		return nil, tts.ErrUnsupported
	}
	f.open.Add(1)
	return &fakeStream{f: f, ctx: ctx, rate: req.SampleRate, seed: len(req.Text)}, nil
}

type fakeStream struct {
	f         *fake
	ctx       context.Context
	rate, i   int
	seed      int
	closeOnce sync.Once
}

func (s *fakeStream) Recv() (tts.Chunk, error) {
	if s.f.stall != nil {
		select {
		case <-s.f.stall:
		case <-s.ctx.Done():
			return tts.Chunk{}, s.ctx.Err()
		}
	}
	if err := s.ctx.Err(); err != nil {
		return tts.Chunk{}, err
	}
	if s.i == s.f.chunks {
		return tts.Chunk{}, io.EOF
	}
	s.i++
	if s.i == s.f.failAt {
		return tts.Chunk{}, errBoom
	}
	n := s.rate * 37 / 1000
	c := tts.Chunk{Samples: make([]int16, n), Rate: s.rate}
	start := (s.i - 1) * n
	for k := range c.Samples {
		c.Samples[k] = sampleAt(start+k, s.seed)
	}
	c.Marks = []tts.Mark{{Offset: s.i, Len: 1, At: time.Duration(start) * time.Second / time.Duration(s.rate)}}
	return c, nil
}

// sampleAt is the fake's sample i of an utterance.
func sampleAt(i, seed int) int16 { return int16(i*7 + seed) }

func (s *fakeStream) Close() error {
	s.closeOnce.Do(func() { s.f.open.Add(-1) })
	return nil
}

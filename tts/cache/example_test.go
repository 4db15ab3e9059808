package cache_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/cache"
)

// tone is a tiny Synthesizer for the example: 50 ms of a constant level.
type tone struct{ calls int }

func (t *tone) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	t.calls++
	return &toneStream{rate: req.SampleRate}, nil
}

type toneStream struct {
	rate int
	sent bool
}

func (s *toneStream) Recv() (tts.Chunk, error) {
	if s.sent {
		return tts.Chunk{}, io.EOF
	}
	s.sent = true
	pcm := make([]int16, s.rate/20)
	for i := range pcm {
		pcm[i] = 1000
	}
	return tts.Chunk{Samples: pcm, Rate: s.rate}, nil
}

func (s *toneStream) Close() error { return nil }

// Example puts a cache with an on-disk layer in front of a synthesizer:
// the second request is served from memory, and the utterance comes out as
// 20 ms frames with a short last one.
func Example() {
	dir, err := os.MkdirTemp("", "prompts")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	engine := &tone{}
	c, err := cache.New(engine, cache.Options{Engine: "tone", Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := tts.Request{Text: "Welcome.", Language: "en-US", SampleRate: media.Rate8k}
	for range 2 {
		st, err := c.Synthesize(context.Background(), req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var sizes []int
		for {
			ch, err := st.Recv()
			if err != nil {
				break
			}
			sizes = append(sizes, len(ch.Samples))
		}
		st.Close()
		fmt.Println(sizes)
	}
	s := c.Stats()
	fmt.Println("engine calls:", engine.calls, "misses:", s.Misses, "hits:", s.Hits)
	// Output:
	// [160 160 80]
	// [160 160 80]
	// engine calls: 1 misses: 1 hits: 1
}

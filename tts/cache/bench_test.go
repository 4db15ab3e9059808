package cache

import (
	"context"
	"io"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/tts"
)

// benchCache returns a cache holding a 3 s utterance at 8 kHz.
func benchCache(b *testing.B) (*Cache, tts.Request) {
	f := &fake{chunks: 81} // 81·37 ms ≈ 3 s
	c, _ := New(f, Options{})
	r := req("benchmark prompt")
	st, _ := c.Synthesize(context.Background(), r)
	for {
		if _, err := st.Recv(); err != nil {
			break
		}
	}
	st.Close()
	return c, r
}

// BenchmarkHitRecv plays a cached 3 s prompt with Recv (chunks the caller
// owns): one op is one whole prompt.
func BenchmarkHitRecv(b *testing.B) {
	c, r := benchCache(b)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		st, err := c.Synthesize(context.Background(), r)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := st.Recv()
			if err == io.EOF {
				break
			}
			frames++
		}
		st.Close()
	}
	testutil.ReportFrames(b, frames)
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}

// BenchmarkHitRecvFrame plays a cached 3 s prompt into one reused frame.
func BenchmarkHitRecvFrame(b *testing.B) {
	c, r := benchCache(b)
	fr := media.NewFrame(media.Rate8k)
	frames := 0
	b.ReportAllocs()
	for b.Loop() {
		st, err := c.Synthesize(context.Background(), r)
		if err != nil {
			b.Fatal(err)
		}
		s := st.(*Stream)
		for {
			if _, err := s.RecvFrame(fr); err == io.EOF {
				break
			}
			frames++
		}
		st.Close()
	}
	testutil.ReportFrames(b, frames)
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}

// BenchmarkMiss synthesizes through the cache with a fresh key every time
// (the fake engine costs little): the recording's overhead.
func BenchmarkMiss(b *testing.B) {
	f := &fake{chunks: 81}
	c, _ := New(f, Options{MaxBytes: 1 << 20})
	frames, i := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		r := req("prompt")
		r.Rate = 1 + float64(i)*1e-9
		st, _ := c.Synthesize(context.Background(), r)
		for {
			if _, err := st.Recv(); err != nil {
				break
			}
			frames++
		}
		st.Close()
	}
	testutil.ReportFrames(b, frames)
}

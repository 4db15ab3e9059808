package filecall_test

import (
	"context"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/filecall"
)

// BenchmarkFrame measures one frame through the leg: Recv of the caller's
// 20 ms and Send of the bot's, in lockstep. One op is one frame.
func BenchmarkFrame(b *testing.B) {
	ctx := context.Background()
	in := make([]int16, 8000*60)
	for i := range in {
		in[i] = int16(i)
	}
	out := media.NewFrame(8000)
	c, err := filecall.New(filecall.Config{Input: in, Tail: -1, MaxDuration: 1000 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Recv(ctx); err != nil {
			b.Fatal(err)
		}
		if err := c.Send(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perFrame := float64(b.Elapsed()) / float64(b.N)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(media.FrameDuration)/perFrame, "x-realtime")
}

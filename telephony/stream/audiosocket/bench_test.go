package audiosocket_test

import (
	"context"
	"io"
	"testing"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/stream/audiosocket"
)

// BenchmarkLoopback: one 20 ms frame in (Asterisk write, Recv) and one out
// (Send, Asterisk read) per iteration over loopback TCP, unpaced.
func BenchmarkLoopback(b *testing.B) {
	cfg := audiosocket.Config{}
	audiosocket.Unpaced(&cfg)
	srv, calls := serve(b, cfg)
	a := connect(b, srv)
	a.frame(0x01, testUUID)
	call := waitCall(b, calls)
	in := audiosocket.AppendSlin(nil, tone(160, 1000, 8000))
	f := media.NewFrame(8000)
	out := make([]byte, 3+320)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.conn.Write(in); err != nil {
			b.Fatal(err)
		}
		if _, err := call.Recv(ctx); err != nil {
			b.Fatal(err)
		}
		if err := call.Send(ctx, f); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(a.conn, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame-pair")
	call.Hangup(ctx)
}

package sip

import (
	"context"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
)

// frameRig is a call leg over loopback UDP with pacing off, fed one caller
// packet per frame through the reader's own path, so that the per-frame
// work (RTP parse side, jitter buffer, G.711 both ways, RTP write) can be
// measured without waiting for the wall clock.
type frameRig struct {
	call  *Call
	sink  *net.UDPConn
	pkt   rtp.Packet
	frame *media.Frame
	t0    time.Time
	i     int
}

func newFrameRig(tb testing.TB) *frameRig { return newCodecRig(tb, Codec{Name: PCMU}) }

// newCodecRig is newFrameRig on another codec; the caller's packets carry
// the codec's encoding of a tone.
func newCodecRig(tb testing.TB, codec Codec) *frameRig {
	tb.Helper()
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	conn, err := net.ListenUDP("udp", lo)
	if err != nil {
		tb.Fatal(err)
	}
	sink, err := net.ListenUDP("udp", lo)
	if err != nil {
		tb.Fatal(err)
	}
	m := Media{Remote: sink.LocalAddr().(*net.UDPAddr), Codec: codec, DTMF: 101}
	c, err := newCall(callParams{info: telephony.Info{ID: "bench", Channel: "sip", Rate: rate}, media: m, conn: conn,
		byeDone: make(chan struct{}), bye: func(context.Context) error { return nil }})
	if err != nil {
		tb.Fatal(err)
	}
	c.unpaced = true
	r := &frameRig{call: c, sink: sink, frame: media.NewFrame(c.pcmRate), t0: time.Now()}
	c.next = r.t0
	for j := range r.frame.Samples {
		r.frame.Samples[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(j)/float64(c.pcmRate)))
	}
	r.pkt.Header = rtp.Header{Version: 2, SSRC: 9, PayloadType: codec.PayloadType}
	enc, err := newCoder(codec)
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.close()
	if r.pkt.Payload, err = enc.encode(nil, r.frame.Samples); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = c.Hangup(context.Background())
		sink.Close()
	})
	return r
}

// step runs one frame: a caller packet in, Recv, Send.
func (r *frameRig) step(tb testing.TB) {
	ctx := context.Background()
	r.pkt.SequenceNumber = uint16(r.i)
	r.pkt.Timestamp = uint32(r.i * r.call.clock / 50)
	src := r.sink.LocalAddr().(*net.UDPAddr).AddrPort()
	r.call.handle(&r.pkt, src, r.t0.Add(time.Duration(r.i)*media.FrameDuration))
	r.i++
	in, err := r.call.Recv(ctx)
	if err != nil || in.Frame == nil {
		tb.Fatalf("Recv: %v", err)
	}
	if err := r.call.Send(ctx, r.frame); err != nil {
		tb.Fatalf("Send: %v", err)
	}
}

// BenchmarkFrame is the leg's cost per 20 ms frame each way: one RTP packet
// of the caller through the jitter buffer and G.711 decoding, one frame of
// the bot G.711-encoded and written to a UDP socket. One op is one frame.
func BenchmarkFrame(b *testing.B) {
	r := newFrameRig(b)
	for range 100 {
		r.step(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r.step(b)
	}
	b.StopTimer()
	testutil.ReportFrames(b, b.N)
}

// BenchmarkFrameCodec is BenchmarkFrame on G.722 and Opus (16 kHz frames,
// the codec's encoder and decoder in the path).
func BenchmarkFrameCodec(b *testing.B) {
	for _, codec := range []Codec{{Name: PCMA, PayloadType: 8}, {Name: G722, PayloadType: 9}, {Name: Opus, PayloadType: 111}} {
		b.Run(codec.Name, func(b *testing.B) {
			r := newCodecRig(b, codec)
			for range 100 {
				r.step(b)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r.step(b)
			}
			b.StopTimer()
			testutil.ReportFrames(b, b.N)
		})
	}
}

// TestSteadyStateAllocs: no allocation per frame once the call runs.
func TestSteadyStateAllocs(t *testing.T) {
	r := newFrameRig(t)
	for range 100 {
		r.step(t)
	}
	if n := testing.AllocsPerRun(500, func() { r.step(t) }); n != 0 {
		t.Errorf("%.1f allocations per frame, want 0", n)
	}
	for _, codec := range []Codec{{Name: G722, PayloadType: 9}, {Name: Opus, PayloadType: 111}} {
		r := newCodecRig(t, codec)
		for range 100 {
			r.step(t)
		}
		if n := testing.AllocsPerRun(200, func() { r.step(t) }); n != 0 {
			t.Errorf("%s: %.1f allocations per frame, want 0", codec.Name, n)
		}
	}
}

package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/jitter"
	"github.com/parole-voice/parole/telephony"
)

// ErrFrame is wrapped by the error of [Call.Send] for a frame the leg cannot
// play (another sample rate than 8000 Hz, more than 20 ms).
var ErrFrame = errors.New("sip: frame not playable on this leg")

const (
	rate         = media.Rate8k
	frameSamples = rate / 50
	// behind is how late Recv or Send may run before the leg gives up
	// catching up and restarts its clock.
	behind = 200 * time.Millisecond
	// keyDuration and keyGap shape the RFC 4733 keys SendDTMF plays.
	keyDuration = 100 * time.Millisecond
	keyGap      = 60 * time.Millisecond
)

// Call is one answered SIP call: G.711 over symmetric RTP/UDP. It
// implements [telephony.Call]. Recv delivers a frame every 20 ms of wall
// clock from a jitter buffer (silence before the caller's first packet,
// concealment for losses) and the RFC 4733 keys received; Send paces the
// bot's frames on absolute 20 ms slots.
type Call struct {
	info    telephony.Info
	codec   Codec
	dtmfPT  int
	conn    *net.UDPConn
	byeDone <-chan struct{}                 // closed when the dialog ended (BYE either way)
	bye     func(ctx context.Context) error // sends BYE
	unpaced bool                            // benchmarks: no waiting for slots
	remote  atomic.Pointer[netip.AddrPort]
	done    chan struct{} // closed by Hangup
	reader  sync.WaitGroup

	once      sync.Once
	hangupErr error

	mu       sync.Mutex // receive state shared with the reader goroutine
	jb       *jitter.Buffer
	rx       *dtmf.Receiver
	keys     []rune
	scratch  []dtmf.Digit
	received atomic.Int64 // RTP packets received

	// Recv goroutine only.
	frame   media.Frame
	conceal *jitter.Concealer
	next    time.Time
	recvT   *time.Timer

	sendMu   sync.Mutex // Send and SendDTMF
	seq      uint16
	ts       uint32
	ssrc     uint32
	sendNext time.Time
	marker   bool
	pkt      rtp.Packet
	buf      []byte
	sendT    *time.Timer
	dtmfTx   *dtmf.Sender
	events   []dtmf.Packet
	sent     atomic.Int64 // RTP packets sent
}

func newCall(info telephony.Info, m Media, conn *net.UDPConn, byeDone <-chan struct{}, bye func(context.Context) error) (*Call, error) {
	jb, err := jitter.New(jitter.Config{ClockRate: rate})
	if err != nil {
		return nil, err
	}
	c := &Call{
		info: info, codec: m.Codec, dtmfPT: m.DTMF, conn: conn, byeDone: byeDone, bye: bye,
		done: make(chan struct{}), jb: jb,
		frame:   media.Frame{Samples: make([]int16, frameSamples), Rate: rate},
		conceal: jitter.NewConcealer(frameSamples * 4),
		ssrc:    rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf:   make([]byte, 0, 1500),
		recvT: stoppedTimer(), sendT: stoppedTimer(),
		marker: true,
	}
	c.pkt.Payload = make([]byte, 0, frameSamples)
	if m.DTMF >= 0 {
		rx, err := dtmf.NewReceiver(dtmf.ReceiverConfig{PayloadType: uint8(m.DTMF)})
		if err != nil {
			return nil, err
		}
		c.rx = rx
		if c.dtmfTx, err = dtmf.NewSender(dtmf.SenderConfig{}); err != nil {
			return nil, err
		}
	}
	remote := m.Remote.AddrPort()
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	c.remote.Store(&remote)
	c.reader.Add(1)
	go c.read()
	return c, nil
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// read receives RTP until the socket is closed.
func (c *Call) read() {
	defer c.reader.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, src, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable and the like
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.handle(&p, src, time.Now())
	}
}

// handle takes one RTP packet from src that arrived at now.
func (c *Call) handle(p *rtp.Packet, src netip.AddrPort, now time.Time) {
	// Symmetric RTP: answer to where the caller's media comes from.
	if from := netip.AddrPortFrom(src.Addr().Unmap(), src.Port()); *c.remote.Load() != from {
		moved := from // allocated only when the source changes
		c.remote.Store(&moved)
	}
	c.received.Add(1)
	c.mu.Lock()
	switch {
	case c.rx != nil && int(p.PayloadType) == c.dtmfPT:
		c.scratch, _ = c.rx.ReceiveRTP(c.scratch[:0], now, p)
		c.queueKeys()
	case p.PayloadType == c.codec.PayloadType:
		_ = c.jb.Push(p, now) // a bad packet is dropped
	}
	c.mu.Unlock()
}

// queueKeys moves the digits in c.scratch to c.keys; c.mu is held.
func (c *Call) queueKeys() {
	for _, d := range c.scratch {
		if k, ok := d.Event.Digit(); ok {
			c.keys = append(c.keys, rune(k))
		}
	}
}

// Info describes the call; Channel is "sip" and Rate 8000.
func (c *Call) Info() telephony.Info { return c.info }

// Packets returns the number of RTP packets received from and sent to the
// caller so far.
func (c *Call) Packets() (received, sent int64) { return c.received.Load(), c.sent.Load() }

func (c *Call) ended() error {
	select {
	case <-c.done:
		return fmt.Errorf("sip: call %s hung up: %w", c.info.ID, telephony.ErrHangup)
	case <-c.byeDone:
		return fmt.Errorf("sip: caller hung up call %s: %w", c.info.ID, telephony.ErrHangup)
	default:
		return nil
	}
}

// Recv returns the next 20 ms of the caller's audio, on the wall clock, or a
// key the caller pressed. It returns an error wrapping telephony.ErrHangup
// once the caller sent BYE or Hangup was called.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	if err := c.ended(); err != nil {
		return telephony.Input{}, err
	}
	c.mu.Lock()
	if len(c.keys) > 0 {
		k := c.keys[0]
		c.keys = append(c.keys[:0], c.keys[1:]...)
		c.mu.Unlock()
		return telephony.Input{Digit: k}, nil
	}
	c.mu.Unlock()

	now := time.Now()
	if c.next.IsZero() || now.Sub(c.next) > behind && !c.unpaced {
		c.next = now
	}
	if d := c.next.Sub(now); d > 0 && !c.unpaced {
		c.recvT.Reset(d)
		select {
		case <-c.recvT.C:
		case <-ctx.Done():
			c.recvT.Stop()
			return telephony.Input{}, ctx.Err()
		case <-c.done:
			c.recvT.Stop()
			return telephony.Input{}, c.ended()
		case <-c.byeDone:
			c.recvT.Stop()
			return telephony.Input{}, c.ended()
		}
	}
	at := c.next
	c.next = c.next.Add(media.FrameDuration)

	f := &c.frame
	f.Samples = f.Samples[:frameSamples]
	f.Time = at
	c.mu.Lock()
	res := c.jb.Pop(at)
	switch res.Kind {
	case jitter.Packet:
		n := len(res.Packet.Payload)
		if n > frameSamples {
			n = frameSamples
		}
		decode(c.codec, f.Samples[:n], res.Packet.Payload[:n])
		clear(f.Samples[n:])
		c.conceal.Good(f.Samples)
	case jitter.Lost:
		c.conceal.Conceal(f.Samples)
	default:
		f.Silence()
	}
	if c.rx != nil {
		c.scratch = c.rx.Expire(c.scratch[:0], at)
		c.queueKeys()
	}
	c.mu.Unlock()
	return telephony.Input{Frame: f}, nil
}

func decode(codec Codec, dst []int16, src []byte) {
	if codec.Name == "PCMA" {
		g711.DecodeAlaw(dst[:0], src)
	} else {
		g711.DecodeUlaw(dst[:0], src)
	}
}

// wait blocks until t, the call ends or ctx is done; c.sendMu is held.
func (c *Call) wait(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 || c.unpaced {
		return nil
	}
	c.sendT.Reset(d)
	select {
	case <-c.sendT.C:
		return nil
	case <-ctx.Done():
		c.sendT.Stop()
		return ctx.Err()
	case <-c.done:
		c.sendT.Stop()
		return c.ended()
	case <-c.byeDone:
		c.sendT.Stop()
		return c.ended()
	}
}

// slot returns the time of the next 20 ms send slot, restarting the clock
// (and marking a new talkspurt) when the sender fell behind; c.sendMu is
// held.
func (c *Call) slot(now time.Time) time.Time {
	if c.sendNext.IsZero() {
		c.sendNext = now
		c.marker = true
	} else if late := now.Sub(c.sendNext); late > behind {
		c.ts += uint32(late / (time.Second / rate)) // keep the RTP clock on the wall clock
		c.sendNext = now
		c.marker = true
	}
	return c.sendNext
}

// Send plays one frame to the caller at its 20 ms slot: it waits for the
// slot, sends the RTP packet and returns, so a caller sending in a loop is
// paced at real time. The leg holds no queue beyond the frame being sent.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if f == nil || f.Rate != rate || len(f.Samples) > frameSamples || len(f.Samples) == 0 {
		return fmt.Errorf("%w: want 1-%d samples at %d Hz", ErrFrame, frameSamples, rate)
	}
	if err := c.ended(); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.wait(ctx, c.slot(time.Now())); err != nil {
		return err
	}
	if c.codec.Name == "PCMA" {
		c.pkt.Payload = g711.EncodeAlaw(c.pkt.Payload[:0], f.Samples)
	} else {
		c.pkt.Payload = g711.EncodeUlaw(c.pkt.Payload[:0], f.Samples)
	}
	err := c.write(c.codec.PayloadType, c.marker, c.ts)
	c.marker = false
	c.ts += uint32(len(f.Samples))
	c.sendNext = c.sendNext.Add(time.Duration(len(f.Samples)) * time.Second / rate)
	return err
}

// write sends c.pkt.Payload; c.sendMu is held.
func (c *Call) write(pt uint8, marker bool, ts uint32) error {
	c.pkt.Header = rtp.Header{
		Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: c.seq, Timestamp: ts, SSRC: c.ssrc,
	}
	c.seq++
	n, err := c.pkt.Header.MarshalTo(c.buf[:cap(c.buf)])
	if err != nil {
		return fmt.Errorf("sip: rtp header: %w", err)
	}
	c.buf = append(c.buf[:n], c.pkt.Payload...)
	if _, err := c.conn.WriteToUDPAddrPort(c.buf, *c.remote.Load()); err != nil {
		return fmt.Errorf("sip: sending rtp: %w", err)
	}
	c.sent.Add(1)
	return nil
}

// Clear drops the audio queued for playout. The leg queues none (Send
// returns once its frame is on the wire), so there is nothing to drop.
func (c *Call) Clear(ctx context.Context) error { return c.ended() }

// SendDTMF plays keys to the caller as RFC 4733 telephone-events of 100 ms
// with 60 ms between keys. It returns an error wrapping
// telephony.ErrUnsupported when the caller did not offer telephone-event.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	if c.dtmfTx == nil {
		return fmt.Errorf("sip: no telephone-event negotiated: %w", telephony.ErrUnsupported)
	}
	evs := make([]dtmf.Event, 0, len(digits))
	for _, r := range digits {
		ev, err := dtmf.ParseDigit(r)
		if err != nil {
			return fmt.Errorf("sip: SendDTMF: %w", err)
		}
		evs = append(evs, ev)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for _, ev := range evs {
		start := c.slot(time.Now())
		var err error
		c.events, err = c.dtmfTx.AppendEvent(c.events[:0], ev, c.ts, keyDuration)
		if err != nil {
			return fmt.Errorf("sip: SendDTMF: %w", err)
		}
		for _, p := range c.events {
			if err := c.wait(ctx, start.Add(p.At)); err != nil {
				return err
			}
			c.pkt.Payload = p.AppendPayload(c.pkt.Payload[:0])
			if err := c.write(uint8(c.dtmfPT), p.Marker, p.Timestamp); err != nil {
				return err
			}
		}
		step := keyDuration + keyGap
		c.ts += uint32(step / (time.Second / rate))
		c.sendNext = start.Add(step)
		c.marker = true
	}
	return nil
}

// Transfer is not implemented yet (no REFER): it returns an error wrapping
// telephony.ErrUnsupported.
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	return fmt.Errorf("sip: transfer to %s: %w", target, telephony.ErrUnsupported)
}

// Hangup ends the call: it sends BYE unless the caller already hung up,
// and closes the media. It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.once.Do(func() {
		close(c.done)
		select {
		case <-c.byeDone:
		default:
			if err := c.bye(ctx); err != nil {
				c.hangupErr = fmt.Errorf("sip: sending BYE: %w", err)
			}
		}
		c.conn.Close()
		c.reader.Wait()
	})
	return c.hangupErr
}

package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/jitter"
	"github.com/parole-voice/parole/telephony"
)

// ErrMediaTimeout is wrapped, with telephony.ErrHangup, by the errors of a
// call the server ended because no RTP nor RTCP came for
// Config.MediaTimeout.
var ErrMediaTimeout = errors.New("sip: no media from the caller")

// ErrFrame is wrapped by the error of [Call.Send] for a frame the leg cannot
// play (another sample rate than Info().Rate, more than 20 ms).
var ErrFrame = errors.New("sip: frame not playable on this leg")

const (
	// rate and frameSamples are those of G.711, the default codec.
	rate         = media.Rate8k
	frameSamples = rate / 50
	// behind is how late Recv or Send may run before the leg gives up
	// catching up and restarts its clock.
	behind = 200 * time.Millisecond
	// keyDuration and keyGap shape the RFC 4733 keys SendDTMF plays.
	keyDuration = 100 * time.Millisecond
	keyGap      = 60 * time.Millisecond
	// lateFrame is how far behind its 20 ms slot a frame may leave before
	// it counts as late in [Stats].
	lateFrame = 10 * time.Millisecond
)

// Call is one answered SIP call: G.711 over symmetric RTP/UDP. It
// implements [telephony.Call]. Recv delivers a frame every 20 ms of wall
// clock from a jitter buffer (silence before the caller's first packet,
// concealment for losses) and the RFC 4733 keys received; Send paces the
// bot's frames on absolute 20 ms slots.
type Call struct {
	info     telephony.Info
	route    string
	codec    Codec
	coder    coder
	pcmRate  int // sample rate of the frames (Info().Rate)
	frameN   int // samples in 20 ms at pcmRate
	clock    int // RTP clock rate
	dtmfPT   int
	conn     *net.UDPConn
	rtcpConn *net.UDPConn                    // nil under rtcp-mux
	byeDone  <-chan struct{}                 // closed when the dialog ended (BYE either way)
	bye      func(ctx context.Context) error // sends BYE
	unpaced  bool                            // benchmarks: no waiting for slots
	remote   atomic.Pointer[netip.AddrPort]
	rtcpTo   atomic.Pointer[netip.AddrPort]
	done     chan struct{} // closed by Hangup
	reader   sync.WaitGroup
	started  time.Time

	// Signalling, for REFER and bridging (nil in benchmarks).
	srv    *Server
	do     func(context.Context, *sip.Request) (*sip.Response, error)
	peer   sip.Uri // the remote target (Contact)
	onEnd  func()  // outbound calls: frees the slot once hung up
	notify chan int
	acks   map[uint32]chan struct{} // re-INVITE answers awaiting their ACK, by CSeq; under mu

	// SDP of the call, for re-INVITE answers.
	sdpMu      sync.Mutex
	media      Media
	sdpID      uint64
	sdpVersion uint64
	lastAnswer []byte

	// Media state a re-INVITE changes.
	peerSends    atomic.Bool // the caller sends media (not recvonly/inactive)
	peerReceives atomic.Bool // the caller wants media (not sendonly/inactive: on hold)

	timeout      time.Duration // media inactivity limit, 0 for none
	lastRx       atomic.Int64  // unix ns of the last RTP or RTCP packet
	expired      chan struct{} // closed when the media timed out
	rtcpInterval time.Duration
	nextRTCP     time.Time // owned by the goroutine that sends RTCP
	cname        string
	rtcpSent     atomic.Int64
	rtcpRecv     atomic.Int64
	remoteReport atomic.Pointer[rtcp.ReceptionReport] // the caller's last report on our stream
	late         atomic.Int64                         // frames sent > 10 ms after their slot
	octets       atomic.Int64                         // payload octets sent

	once      sync.Once
	hangupErr error

	mu       sync.Mutex // receive state shared with the reader goroutine
	jb       *jitter.Buffer
	rx       *dtmf.Receiver
	keys     []rune
	scratch  []dtmf.Digit
	received atomic.Int64 // RTP packets received

	// In-band DTMF detection when no telephone-event was negotiated
	// (Recv goroutine only).
	inband *dtmf.Detector
	tones  []dtmf.Tone

	// Recv goroutine only.
	frame   media.Frame
	decoded []int16 // decoder output
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
	padded   []int16 // a short frame padded to 20 ms (G.722, Opus)
	dtmfTx   *dtmf.Sender
	events   []dtmf.Packet
	sent     atomic.Int64  // RTP packets sent
	clockTS  atomic.Uint32 // RTP timestamp of the last audio frame sent…
	clockAt  atomic.Int64  // …and its send slot, unix ns (for sender reports)
}

// callParams is what newCall needs; the zero values of the optional
// fields turn the feature off.
type callParams struct {
	info         telephony.Info
	route        string
	media        Media
	conn         *net.UDPConn
	rtcpConn     *net.UDPConn // nil: RTCP multiplexed on conn (or none, see rtcpInterval)
	byeDone      <-chan struct{}
	bye          func(context.Context) error
	timeout      time.Duration // media inactivity timeout
	rtcpInterval time.Duration // 0: no RTCP reports sent
}

func newCall(p callParams) (*Call, error) {
	m := p.media
	cd, err := newCoder(m.Codec)
	if err != nil {
		return nil, err
	}
	pcmRate, clock := m.Codec.SampleRate(), m.Codec.ClockRate()
	frameN := pcmRate / 50
	jb, err := jitter.New(jitter.Config{ClockRate: clock})
	if err != nil {
		cd.close()
		return nil, err
	}
	now := time.Now()
	c := &Call{
		info: p.info, route: p.route, codec: m.Codec, dtmfPT: m.DTMF, conn: p.conn, rtcpConn: p.rtcpConn,
		coder: cd, pcmRate: pcmRate, frameN: frameN, clock: clock,
		decoded: make([]int16, 0, 6*frameN), padded: make([]int16, frameN),
		byeDone: p.byeDone, bye: p.bye,
		done: make(chan struct{}), expired: make(chan struct{}), jb: jb, started: now,
		acks:    map[uint32]chan struct{}{},
		timeout: p.timeout, rtcpInterval: p.rtcpInterval,
		cname:   fmt.Sprintf("parole-%08x@%s", rand.Uint32(), p.conn.LocalAddr().(*net.UDPAddr).IP),
		frame:   media.Frame{Samples: make([]int16, frameN), Rate: pcmRate},
		conceal: jitter.NewConcealer(frameN * 4),
		ssrc:    rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf:   make([]byte, 0, 1500),
		recvT: stoppedTimer(), sendT: stoppedTimer(),
		marker: true,
	}
	c.lastRx.Store(now.UnixNano())
	c.info.Rate = pcmRate
	c.pkt.Payload = make([]byte, 0, max(frameN, opusMaxPacket))
	if m.DTMF >= 0 {
		rx, err := dtmf.NewReceiver(dtmf.ReceiverConfig{PayloadType: uint8(m.DTMF), ClockRate: clock})
		if err != nil {
			cd.close()
			return nil, err
		}
		c.rx = rx
		if c.dtmfTx, err = dtmf.NewSender(dtmf.SenderConfig{ClockRate: clock}); err != nil {
			cd.close()
			return nil, err
		}
	} else {
		if c.inband, err = dtmf.NewDetector(dtmf.DetectorConfig{Rate: pcmRate}); err != nil {
			cd.close()
			return nil, err
		}
		c.tones = make([]dtmf.Tone, 0, 4)
	}
	c.setMedia(m)
	c.media = m
	if c.rtcpInterval > 0 {
		c.nextRTCP = now.Add(c.rtcpInterval / 2) // RFC 3550 §6.2: the first report after half an interval
	}
	c.reader.Add(1)
	go c.loop(c.conn, true, c.rtcpConn == nil)
	if c.rtcpConn != nil {
		c.reader.Add(1)
		go c.loop(c.rtcpConn, false, true)
	}
	return c, nil
}

// setMedia applies a negotiated offer: where to send, and the direction.
func (c *Call) setMedia(m Media) {
	remote := m.Remote.AddrPort()
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	c.remote.Store(&remote)
	r := remote
	if m.RTCP != nil {
		r = m.RTCP.AddrPort()
		r = netip.AddrPortFrom(r.Addr().Unmap(), r.Port())
	}
	c.rtcpTo.Store(&r)
	c.peerSends.Store(m.PeerSends())
	c.peerReceives.Store(m.PeerReceives() && !m.Remote.IP.IsUnspecified())
	c.lastRx.Store(time.Now().UnixNano()) // a new offer restarts the inactivity clock
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// loop reads conn until it is closed: RTP (when rtpToo) and RTCP (RTCP
// packets are told apart by their packet type, RFC 5761 §4). A read
// deadline wakes it for the duties it owns: the media inactivity timeout
// (the RTP socket's loop) and the RTCP reports (sendRTCP).
func (c *Call) loop(conn *net.UDPConn, rtpToo, sendRTCP bool) {
	defer c.reader.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	c.arm(conn, time.Now(), rtpToo, sendRTCP)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if !c.wake(conn, time.Now(), rtpToo, sendRTCP) {
					return
				}
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable and the like
		}
		b := buf[:n]
		if isRTCP(b) {
			c.handleRTCP(b, src, time.Now())
			continue
		}
		if !rtpToo || p.Unmarshal(b) != nil {
			continue
		}
		c.handle(&p, src, time.Now())
	}
}

// isRTCP tells RTCP from RTP on one port: RTCP packet types 192-223
// occupy the second byte where RTP has marker and payload type (RFC 5761).
func isRTCP(b []byte) bool { return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223 }

// arm sets conn's read deadline to the next duty of its loop.
func (c *Call) arm(conn *net.UDPConn, now time.Time, timeout, sendRTCP bool) {
	var next time.Time
	if timeout && c.timeout > 0 {
		next = time.Unix(0, c.lastRx.Load()).Add(c.timeout)
		if !c.peerSends.Load() || !next.After(now) {
			next = now.Add(c.timeout) // on hold the caller may send nothing: check again later
		}
	}
	if sendRTCP && c.rtcpInterval > 0 && (next.IsZero() || c.nextRTCP.Before(next)) {
		next = c.nextRTCP
	}
	_ = conn.SetReadDeadline(next) // zero: no deadline
}

// wake runs the loop's duties that are due and re-arms the deadline. It
// returns false when the media timed out and the loop must end.
func (c *Call) wake(conn *net.UDPConn, now time.Time, timeout, sendRTCP bool) bool {
	if timeout && c.timeout > 0 && c.peerSends.Load() &&
		now.Sub(time.Unix(0, c.lastRx.Load())) >= c.timeout {
		c.expire()
		return false
	}
	if sendRTCP && c.rtcpInterval > 0 && !now.Before(c.nextRTCP) {
		c.sendReport(now)
		// RFC 3550 §6.3.1: randomize the interval over [0.5, 1.5] of it.
		c.nextRTCP = now.Add(c.rtcpInterval/2 + rand.N(c.rtcpInterval))
	}
	c.arm(conn, now, timeout, sendRTCP)
	return true
}

// expire ends the call for media inactivity: Recv and Send return
// ErrMediaTimeout and the caller gets a BYE.
func (c *Call) expire() {
	select {
	case <-c.done:
		return
	case <-c.byeDone:
		return
	default:
	}
	close(c.expired)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.bye(ctx) // the caller is likely gone; BYE is best effort
}

// handle takes one RTP packet from src that arrived at now.
func (c *Call) handle(p *rtp.Packet, src netip.AddrPort, now time.Time) {
	// Symmetric RTP: answer to where the caller's media comes from.
	if from := netip.AddrPortFrom(src.Addr().Unmap(), src.Port()); *c.remote.Load() != from {
		moved := from // allocated only when the source changes
		c.remote.Store(&moved)
	}
	c.received.Add(1)
	c.lastRx.Store(now.UnixNano())
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

// Info describes the call; Channel is "sip", Rate 8000 for G.711 and
// 16000 for G.722 and Opus.
func (c *Call) Info() telephony.Info { return c.info }

// Route is the route the server chose for the call from the called user
// (Config.Routes): the name of the flow that should answer it.
func (c *Call) Route() string { return c.route }

// Packets returns the number of RTP packets received from and sent to the
// caller so far.
func (c *Call) Packets() (received, sent int64) { return c.received.Load(), c.sent.Load() }

func (c *Call) ended() error {
	select {
	case <-c.expired:
		return fmt.Errorf("sip: call %s: %w after %v: %w", c.info.ID, ErrMediaTimeout, c.timeout, telephony.ErrHangup)
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
		case <-c.expired:
			c.recvT.Stop()
			return telephony.Input{}, c.ended()
		}
	}
	at := c.next
	c.next = c.next.Add(media.FrameDuration)

	f := &c.frame
	f.Samples = f.Samples[:c.frameN]
	f.Time = at
	c.mu.Lock()
	res := c.jb.Pop(at)
	switch res.Kind {
	case jitter.Packet:
		dec, err := c.coder.decode(c.decoded[:0], res.Packet.Payload)
		if err != nil { // a corrupt packet counts as lost
			c.concealFrame(f.Samples)
			break
		}
		n := copy(f.Samples, dec)
		clear(f.Samples[n:])
		c.conceal.Good(f.Samples)
	case jitter.Lost:
		c.concealFrame(f.Samples)
	default:
		f.Silence()
	}
	if c.rx != nil {
		c.scratch = c.rx.Expire(c.scratch[:0], at)
		c.queueKeys()
	}
	c.mu.Unlock()
	if c.inband != nil {
		c.tones = c.inband.Write(c.tones[:0], f.Samples)
		if len(c.tones) > 0 {
			c.mu.Lock()
			for _, t := range c.tones {
				if k, ok := t.Event.Digit(); ok {
					c.keys = append(c.keys, rune(k))
				}
			}
			c.mu.Unlock()
		}
	}
	return telephony.Input{Frame: f}, nil
}

// concealFrame fills f with the concealment of a lost packet: the codec's
// own (Opus PLC) or the generic one.
func (c *Call) concealFrame(f []int16) {
	if dec, ok := c.coder.conceal(c.decoded[:0]); ok {
		n := copy(f, dec)
		clear(f[n:])
		c.conceal.Good(f)
		return
	}
	c.conceal.Conceal(f)
}

// opusMaxPacket is the room kept for one encoded packet.
const opusMaxPacket = 1275

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
	case <-c.expired:
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
		c.ts += uint32(late / (time.Second / time.Duration(c.clock))) // keep the RTP clock on the wall clock
		c.sendNext = now
		c.marker = true
	}
	return c.sendNext
}

// Send plays one frame to the caller at its 20 ms slot: it waits for the
// slot, sends the RTP packet and returns, so a caller sending in a loop is
// paced at real time. The leg holds no queue beyond the frame being sent.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if f == nil || f.Rate != c.pcmRate || len(f.Samples) > c.frameN || len(f.Samples) == 0 {
		return fmt.Errorf("%w: want 1-%d samples at %d Hz", ErrFrame, c.frameN, c.pcmRate)
	}
	pcm := f.Samples
	if len(pcm) < c.frameN && (c.codec.Name == Opus || c.codec.Name == G722) {
		// These codecs take whole 20 ms frames: pad with silence.
		n := copy(c.padded, pcm)
		clear(c.padded[n:])
		pcm = c.padded
	}
	if err := c.ended(); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	at := c.slot(time.Now())
	if err := c.wait(ctx, at); err != nil {
		return err
	}
	if !c.unpaced && time.Since(at) > lateFrame {
		c.late.Add(1)
	}
	ticks := uint32(len(pcm) * c.clock / c.pcmRate)
	next := c.sendNext.Add(time.Duration(len(pcm)) * time.Second / time.Duration(c.pcmRate))
	if !c.peerReceives.Load() { // on hold: keep the clock, send nothing
		c.ts += ticks
		c.sendNext = next
		c.marker = true
		return nil
	}
	var err error
	c.pkt.Payload, err = c.coder.encode(c.pkt.Payload[:0], pcm)
	if err == nil {
		err = c.write(c.codec.PayloadType, c.marker, c.ts)
	} else {
		err = fmt.Errorf("sip: encoding %s: %w", c.codec.Name, err)
	}
	c.clockTS.Store(c.ts)
	c.clockAt.Store(at.UnixNano())
	c.marker = false
	c.ts += ticks
	c.sendNext = next
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
	c.octets.Add(int64(len(c.pkt.Payload)))
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
		c.ts += uint32(int64(step) * int64(c.clock) / int64(time.Second))
		c.sendNext = start.Add(step)
		c.marker = true
	}
	return nil
}

func errUnsupported() error { return telephony.ErrUnsupported }

// Hangup ends the call: it sends BYE unless the caller already hung up,
// and closes the media. It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.once.Do(func() {
		close(c.done)
		select {
		case <-c.byeDone:
		case <-c.expired: // BYE already sent
		default:
			if err := c.bye(ctx); err != nil {
				c.hangupErr = fmt.Errorf("sip: sending BYE: %w", err)
			}
		}
		if c.rtcpInterval > 0 {
			c.sendBye()
		}
		c.conn.Close()
		if c.rtcpConn != nil {
			c.rtcpConn.Close()
		}
		c.reader.Wait()
		c.mu.Lock()     // no Recv is decoding…
		c.sendMu.Lock() // …nor Send encoding any more
		c.coder.close()
		c.sendMu.Unlock()
		c.mu.Unlock()
		if c.onEnd != nil {
			c.onEnd()
		}
	})
	return c.hangupErr
}

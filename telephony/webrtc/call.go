package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/jitter"
	"github.com/parole-voice/parole/media/pacer"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
)

const (
	frameSamples = Rate / 50
	// ringFrames is how much caller audio waits for a late Recv (2 s).
	ringFrames = 100
	// maxGap is the most lost packets concealed at once (100 ms).
	maxGap = 5
	// idleAfter is the pause in the page's audio after which the leg
	// feeds Recv silence on the wall clock.
	idleAfter = 200 * time.Millisecond
	// maxKeys bounds the keys queued for Recv.
	maxKeys = 64
	// queueFrames is how far ahead of the wire Send may run (60 ms).
	queueFrames = 3
	// DTMFLabel is the label of the data channel the page sends keys on.
	DTMFLabel = "dtmf"
)

// Call is one browser call: a pion PeerConnection with one audio track each
// way. It implements [telephony.Call] at 16 kHz ([Rate]).
type Call struct {
	info    telephony.Info
	log     *slog.Logger
	pc      *pion.PeerConnection
	neg     negotiated
	track   *pion.TrackLocalStaticSample
	timeout time.Duration
	out     *outbox // messages to the page; nil for WHIP calls

	connected   chan struct{} // closed when the peer connection is up
	connectOnce sync.Once
	done        chan struct{} // closed when the call ended, for any reason
	endOnce     sync.Once
	reason      atomic.Pointer[string]
	hangupOnce  sync.Once

	wg      sync.WaitGroup // RTP and RTCP readers, the pacer
	pacer   *pacer.Pacer
	stopPc  context.CancelFunc // stops the pacer
	pacerCx context.Context

	lastMedia atomic.Int64 // unix nanos of the last RTP packet received
	received  atomic.Int64
	sent      atomic.Int64
	decoded   atomic.Int64
	concealed atomic.Int64
	silent    atomic.Int64
	badPkts   atomic.Int64

	mu      sync.Mutex // receive state shared with the reader goroutines
	closing bool
	// Sequence state of the audio stream (reader goroutine, under mu).
	started bool
	nextSeq uint16
	rx      *dtmf.Receiver
	dec     *transcoder
	keys    []rune
	scratch []dtmf.Digit

	ring     [ringFrames]media.Frame // decoded frames waiting for Recv
	ringHead int
	ringLen  int
	avail    chan struct{} // a frame was added to the ring
	conceal  *jitter.Concealer
	overruns atomic.Int64
	late     atomic.Int64
	maxLag   atomic.Int64 // ns a frame waited in the ring, at most
	lagSum   atomic.Int64
	lagN     atomic.Int64

	frame media.Frame // Recv goroutine only

	// pacer goroutine only.
	enc     *transcoder
	payload []byte

	toneMu sync.Mutex
	tones  *dtmf.Generator
}

// Info describes the call: Channel "webrtc", Rate 16000.
func (c *Call) Info() telephony.Info { return c.info }

// Codec returns the negotiated wire codec: "opus", "G722" or "PCMU".
func (c *Call) Codec() string { return c.neg.codec.name }

// Packets returns the number of RTP packets received from and sent to the
// page so far (telephone-events included in received).
func (c *Call) Packets() (received, sent int64) { return c.received.Load(), c.sent.Load() }

// Stats counts what a call's media did.
type Stats struct {
	// Received and Sent count RTP packets from and to the page.
	Received, Sent int64
	// Decoded, Concealed and Silent count the frames given to Recv: from
	// a packet, concealing a lost one, silence while the page sends none.
	Decoded, Concealed, Silent int64
	// Late counts packets dropped for coming after a newer one.
	Late int64
	// DecodeErrors counts packets the codec refused.
	DecodeErrors int64
	// Overruns counts frames dropped because Recv was over 2 s late.
	Overruns int64
	// MaxLag and MeanLag are how long frames waited for Recv: the time
	// the session ran behind the caller.
	MaxLag, MeanLag time.Duration
}

// Stats returns the call's media counters so far.
func (c *Call) Stats() Stats {
	return Stats{Received: c.received.Load(), Sent: c.sent.Load(), Decoded: c.decoded.Load(),
		Concealed: c.concealed.Load(), Silent: c.silent.Load(), DecodeErrors: c.badPkts.Load(),
		Overruns: c.overruns.Load(), Late: c.late.Load(), MaxLag: time.Duration(c.maxLag.Load()),
		MeanLag: time.Duration(c.lagSum.Load() / max(1, c.lagN.Load()))}
}

// Done is closed when the call has ended, for any reason.
func (c *Call) Done() <-chan struct{} { return c.done }

// Reason says why the call ended ("caller hung up", "bot hung up",
// "ICE failed", "media timeout", …), or "" while it runs.
func (c *Call) Reason() string {
	if r := c.reason.Load(); r != nil {
		return *r
	}
	return ""
}

// newCall builds the peer connection for offer and answers it. With
// trickle the answer is returned at once and candidates go to out; without
// it the answer waits for ICE gathering to complete.
func (s *Server) newCall(ctx context.Context, info telephony.Info, offer string, out *outbox) (*Call, string, error) {
	neg, err := negotiate(offer, s.cfg.Codecs)
	if err != nil {
		return nil, "", err
	}
	me, err := neg.mediaEngine()
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: media engine: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := pion.ConfigureRTCPReports(ir); err != nil {
		return nil, "", fmt.Errorf("webrtc: interceptors: %w", err)
	}
	se := pion.SettingEngine{}
	if s.cfg.PortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(s.cfg.PortMin, s.cfg.PortMax); err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICETimeouts(s.cfg.ICETimeout/2, s.cfg.ICETimeout, min(2*time.Second, s.cfg.ICETimeout/4))
	api := pion.NewAPI(pion.WithMediaEngine(me), pion.WithSettingEngine(se), pion.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(pion.Configuration{ICEServers: s.iceServers})
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: peer connection: %w", err)
	}
	c, err := s.setupCall(info, pc, neg, out)
	if err != nil {
		_ = pc.Close()
		return nil, "", err
	}
	answer, err := c.answer(ctx, offer, out != nil)
	if err != nil {
		c.release()
		return nil, "", err
	}
	return c, answer, nil
}

func (s *Server) setupCall(info telephony.Info, pc *pion.PeerConnection, neg negotiated, out *outbox) (*Call, error) {
	dec, err := newTranscoder(neg.codec, true, false)
	if err != nil {
		return nil, err
	}
	enc, err := newTranscoder(neg.codec, false, true)
	if err != nil {
		dec.close()
		return nil, err
	}
	c := &Call{
		info: info, log: s.log.With("call", info.ID, "codec", neg.codec.name), pc: pc, neg: neg,
		timeout: s.cfg.MediaTimeout, out: out,
		connected: make(chan struct{}), done: make(chan struct{}),
		dec: dec, enc: enc,
		frame:   media.Frame{Samples: make([]int16, frameSamples), Rate: Rate},
		conceal: jitter.NewConcealer(frameSamples * 4),
		avail:   make(chan struct{}, 1),
		payload: make([]byte, 0, 1500),
		pacer:   pacer.New(pacer.Config{Rate: Rate, QueueFrames: queueFrames, Underrun: pacer.SendSilence}),
	}
	for i := range c.ring {
		c.ring[i] = media.Frame{Samples: make([]int16, frameSamples), Rate: Rate}
	}
	c.pacerCx, c.stopPc = context.WithCancel(context.Background())
	c.lastMedia.Store(time.Now().UnixNano())
	if neg.dtmfPT >= 0 {
		if c.rx, err = dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: neg.dtmfClock, PayloadType: uint8(neg.dtmfPT)}); err != nil {
			c.release()
			return nil, err
		}
	}
	c.track, err = pion.NewTrackLocalStaticSample(neg.capability(), "audio", "parole")
	if err != nil {
		c.release()
		return nil, fmt.Errorf("webrtc: track: %w", err)
	}
	sender, err := pc.AddTrack(c.track)
	if err != nil {
		c.release()
		return nil, fmt.Errorf("webrtc: add track: %w", err)
	}
	c.wg.Add(1)
	go func() { // RTCP from the page feeds the interceptors
		defer c.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(c.onTrack)
	pc.OnConnectionStateChange(func(st pion.PeerConnectionState) {
		c.log.Debug("webrtc: connection state", "state", st.String())
		switch st {
		case pion.PeerConnectionStateConnected:
			c.connectOnce.Do(func() { close(c.connected) })
		case pion.PeerConnectionStateFailed:
			c.end("ICE failed")
		case pion.PeerConnectionStateClosed:
			c.end("connection closed")
		}
	})
	pc.OnDataChannel(func(dc *pion.DataChannel) {
		if dc.Label() != DTMFLabel {
			return
		}
		dc.OnMessage(func(m pion.DataChannelMessage) {
			if m.IsString {
				c.queueDigits(string(m.Data))
			}
		})
	})
	if out != nil {
		pc.OnICECandidate(func(cand *pion.ICECandidate) {
			if cand == nil {
				return
			}
			out.send(message{Type: msgCandidate, Candidate: ptr(cand.ToJSON())})
		})
	}
	return c, nil
}

func ptr[T any](v T) *T { return &v }

// answer applies the offer and returns the SDP answer.
func (c *Call) answer(ctx context.Context, offer string, trickle bool) (string, error) {
	if err := c.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrOffer, err)
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOffer, err)
	}
	gathered := pion.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("webrtc: set local description: %w", err)
	}
	if !trickle {
		t := time.NewTimer(c.timeout)
		defer t.Stop()
		select {
		case <-gathered:
		case <-t.C: // answer with what was gathered
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return c.pc.LocalDescription().SDP, nil
}

// onTrack reads the page's audio track until the connection closes.
func (c *Call) onTrack(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
	if tr.Kind() != pion.RTPCodecTypeAudio {
		return
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.log.Debug("webrtc: track read", "err", err)
			}
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.handle(&p, time.Now())
	}
}

// handle takes one RTP packet from the page that arrived at now.
func (c *Call) handle(p *rtp.Packet, now time.Time) {
	c.received.Add(1)
	c.lastMedia.Store(now.UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.rx != nil && int(p.PayloadType) == c.neg.dtmfPT:
		c.scratch, _ = c.rx.ReceiveRTP(c.scratch[:0], now, p)
		c.queueEvents()
	case p.PayloadType == c.neg.pt:
		c.receiveAudio(p)
	}
}

// queueEvents moves the keys in c.scratch to c.keys; c.mu is held.
func (c *Call) queueEvents() {
	for _, d := range c.scratch {
		if k, ok := d.Event.Digit(); ok && len(c.keys) < maxKeys {
			c.keys = append(c.keys, rune(k))
		}
	}
}

// queueDigits queues the valid keys of s (data channel, websocket) and
// ignores anything else.
func (c *Call) queueDigits(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range s {
		if _, err := dtmf.ParseDigit(r); err == nil && len(c.keys) < maxKeys {
			c.keys = append(c.keys, r)
		}
	}
}

// end marks the call over for reason; the first reason wins.
func (c *Call) end(reason string) {
	c.endOnce.Do(func() {
		c.reason.Store(&reason)
		close(c.done)
		c.pacer.Interrupt() // unblocks a Send waiting for room
		c.log.Info("webrtc: call ended", "reason", reason)
	})
}

func (c *Call) ended() error {
	select {
	case <-c.done:
		return fmt.Errorf("webrtc: call %s: %s: %w", c.info.ID, c.Reason(), telephony.ErrHangup)
	default:
		return nil
	}
}

// start begins the media clocks; the server calls it once the call is
// connected.
func (c *Call) start() {
	c.wg.Add(2)
	go c.clock()
	go func() {
		defer c.wg.Done()
		_ = c.pacer.Run(c.pacerCx, c.sink)
	}()
}

// sink encodes one paced frame and writes it to the track.
func (c *Call) sink(f *media.Frame) error {
	var err error
	c.payload, err = c.enc.encode(c.payload[:0], f.Samples)
	if err != nil {
		c.log.Warn("webrtc: encode", "err", err)
		return nil
	}
	if err := c.track.WriteSample(pionmedia.Sample{Data: c.payload, Duration: f.Duration()}); err != nil {
		c.log.Debug("webrtc: write sample", "err", err)
		return nil
	}
	c.sent.Add(1)
	return nil
}

// receiveAudio decodes one audio packet into the ring, in sequence order:
// a packet older than the last one is dropped, a gap of up to maxGap
// packets is concealed. Packets are used as they arrive, never held to a
// playout deadline: the recognizer would rather hear a late word than
// none. c.mu is held.
func (c *Call) receiveAudio(p *rtp.Packet) {
	if c.dec == nil {
		return
	}
	if c.started {
		d := int16(p.SequenceNumber - c.nextSeq)
		switch {
		case d < 0:
			c.late.Add(1)
			return
		case d > 0:
			for range min(int(d), maxGap) {
				f := c.push(time.Now())
				c.concealed.Add(1)
				c.concealFrame(f)
			}
		}
	}
	c.started = true
	c.nextSeq = p.SequenceNumber + 1
	f := c.push(time.Now())
	out, err := c.dec.decode(f.Samples[:0], p.Payload)
	if err != nil {
		c.badPkts.Add(1)
		c.concealFrame(f)
		return
	}
	c.decoded.Add(1)
	n := len(out)
	f.Samples = f.Samples[:frameSamples]
	switch {
	case n < frameSamples:
		clear(f.Samples[n:])
	case n > frameSamples: // a longer packet: its first 20 ms
		copy(f.Samples, out)
	}
	c.conceal.Good(f.Samples)
}

// push returns the next ring slot for a frame at t, dropping the oldest
// frame when the ring is full, and wakes Recv; c.mu is held.
func (c *Call) push(t time.Time) *media.Frame {
	if c.ringLen == len(c.ring) {
		c.ringHead = (c.ringHead + 1) % len(c.ring)
		c.ringLen--
		c.overruns.Add(1)
	}
	f := &c.ring[(c.ringHead+c.ringLen)%len(c.ring)]
	c.ringLen++
	f.Samples = f.Samples[:frameSamples]
	f.Rate = Rate
	f.Time = t
	select {
	case c.avail <- struct{}{}:
	default:
	}
	return f
}

// clock runs every 20 ms from start to Hangup: when the page has sent no
// audio for idleAfter it gives Recv silence at the wall-clock pace (so
// that no-input timeouts run), it ends RFC 4733 keys whose end packets
// were lost, and it ends the call when no media came for
// Config.MediaTimeout.
func (c *Call) clock() {
	defer c.wg.Done()
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.pacerCx.Done():
			return
		}
		now := time.Now()
		quiet := now.Sub(time.Unix(0, c.lastMedia.Load()))
		if quiet > c.timeout {
			c.end("media timeout")
			return
		}
		c.mu.Lock()
		if quiet > idleAfter && c.dec != nil {
			c.silent.Add(1)
			c.push(now).Silence()
		}
		if c.rx != nil {
			c.scratch = c.rx.Expire(c.scratch[:0], now)
			c.queueEvents()
		}
		c.mu.Unlock()
	}
}

// Recv returns the next 20 ms of the caller's audio or a key the caller
// pressed, blocking until one comes. Frames come as the page's packets
// arrive (silence on the wall clock while the page sends none) and wait in
// a 2 s ring when Recv is called late. It returns an error wrapping
// telephony.ErrHangup once the call ended: the page hung up or closed, ICE
// failed, no media came for Config.MediaTimeout, or Hangup was called.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	for {
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
		if c.ringLen > 0 {
			c.frame.CopyFrom(&c.ring[c.ringHead])
			c.ringHead = (c.ringHead + 1) % len(c.ring)
			c.ringLen--
			c.mu.Unlock()
			lag := int64(time.Since(c.frame.Time))
			c.lagSum.Add(lag)
			c.lagN.Add(1)
			if lag > c.maxLag.Load() {
				c.maxLag.Store(lag) // Recv is one goroutine: no lost update
			}
			return telephony.Input{Frame: &c.frame}, nil
		}
		c.mu.Unlock()
		select {
		case <-c.avail:
		case <-ctx.Done():
			return telephony.Input{}, ctx.Err()
		case <-c.done:
		}
	}
}

// concealFrame fills f for a lost packet; c.mu is held.
func (c *Call) concealFrame(f *media.Frame) {
	if out, ok := c.dec.conceal(f.Samples[:0]); ok {
		if n := len(out); n < frameSamples {
			f.Samples = f.Samples[:frameSamples]
			clear(f.Samples[n:])
		}
		f.Samples = f.Samples[:frameSamples]
		return
	}
	c.conceal.Conceal(f.Samples)
}

// Send queues one frame of 16 kHz audio for playout. The pacer sends a
// frame every 20 ms and queues at most 60 ms, so Send blocks while the
// queue is full: a caller sending in a loop is paced at real time.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if f == nil || f.Rate != Rate || len(f.Samples) > frameSamples || len(f.Samples) == 0 {
		return fmt.Errorf("%w: want 1-%d samples at %d Hz", ErrFrame, frameSamples, Rate)
	}
	if err := c.ended(); err != nil {
		return err
	}
	if err := c.pacer.Enqueue(ctx, f); err != nil {
		return fmt.Errorf("webrtc: send: %w", err)
	}
	return nil
}

// Clear drops the audio queued for playout at once (barge-in).
func (c *Call) Clear(ctx context.Context) error {
	c.pacer.Interrupt()
	return c.ended()
}

// SendDTMF plays keys to the caller in band (100 ms tones, 100 ms apart)
// and tells the page which keys they were. Browsers do not hand received
// RFC 4733 events to the page, so in band is what the caller hears.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	c.toneMu.Lock()
	if c.tones == nil {
		g, err := dtmf.NewGenerator(dtmf.ToneConfig{Rate: Rate})
		if err != nil {
			c.toneMu.Unlock()
			return fmt.Errorf("webrtc: SendDTMF: %w", err)
		}
		c.tones = g
	}
	samples, err := c.tones.AppendDigits(nil, digits)
	c.toneMu.Unlock()
	if err != nil {
		return fmt.Errorf("webrtc: SendDTMF: %w", err)
	}
	if c.out != nil {
		c.out.send(message{Type: msgDTMF, Digits: digits})
	}
	f := media.Frame{Rate: Rate}
	for len(samples) > 0 {
		n := min(frameSamples, len(samples))
		f.Samples = samples[:n]
		if err := c.Send(ctx, &f); err != nil {
			return err
		}
		samples = samples[n:]
	}
	return nil
}

// Transfer is not possible from a browser call: it returns an error
// wrapping telephony.ErrUnsupported.
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	return fmt.Errorf("webrtc: transfer to %s: %w", target, telephony.ErrUnsupported)
}

// Hangup ends the call: it tells the page, closes the peer connection
// (DTLS close_notify), stops the playout and waits for the call's
// goroutines. It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.end("bot hung up")
	var err error
	c.hangupOnce.Do(func() {
		if c.out != nil {
			c.out.send(message{Type: msgHangup, Reason: c.Reason()})
		}
		err = c.release()
	})
	return err
}

// release closes the peer connection and frees the codecs.
func (c *Call) release() error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.stopPc()
	var err error
	if cerr := c.pc.Close(); cerr != nil {
		err = fmt.Errorf("webrtc: close: %w", cerr)
	}
	c.wg.Wait()
	c.mu.Lock()
	if c.dec != nil {
		c.dec.close()
		c.dec = nil
	}
	c.mu.Unlock()
	c.enc.close()
	return err
}

// Observer returns the session observer that forwards the call's live
// events to the page: the caller's interim and final transcripts and the
// bot's replies as {"type":"transcript"}, the others (barge-in, latency
// traces, no-input, the end) as {"type":"event"}. It never blocks; events
// are dropped when the page does not keep up. A WHIP call has no page to
// tell: its observer does nothing.
func (c *Call) Observer() session.Observer {
	return session.ObserverFunc(func(e session.Event) {
		if c.out == nil {
			return
		}
		c.out.send(eventMessage(e))
	})
}

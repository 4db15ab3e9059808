package webrtc

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/g722"
	"github.com/parole-voice/parole/media/opus"
)

// rawTrack is a TrackLocal that writes RTP packets as given, so that the
// test peer can send telephone-events with their own payload type on the
// audio stream, as browsers do.
type rawTrack struct {
	mime string

	mu   sync.Mutex
	w    pion.TrackLocalWriter
	ssrc uint32
	pt   uint8
	dtmf map[uint32]uint8 // telephone-event PT by clock rate
}

func (t *rawTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dtmf = map[uint32]uint8{}
	var found *pion.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, mimeTelephoneEvent) {
			t.dtmf[c.ClockRate] = uint8(c.PayloadType)
		} else if found == nil && strings.EqualFold(c.MimeType, t.mime) {
			found = &c
		}
	}
	if found == nil {
		return pion.RTPCodecParameters{}, errors.New("rawTrack: codec not negotiated")
	}
	t.w, t.ssrc, t.pt = ctx.WriteStream(), uint32(ctx.SSRC()), uint8(found.PayloadType)
	return *found, nil
}

func (t *rawTrack) Unbind(pion.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

func (t *rawTrack) ID() string                { return "mic" }
func (t *rawTrack) RID() string               { return "" }
func (t *rawTrack) StreamID() string          { return "page" }
func (t *rawTrack) Kind() pion.RTPCodecType   { return pion.RTPCodecTypeAudio }
func (t *rawTrack) bound() (uint8, bool)      { t.mu.Lock(); defer t.mu.Unlock(); return t.pt, t.w != nil }
func (t *rawTrack) dtmfPT(clock uint32) uint8 { t.mu.Lock(); defer t.mu.Unlock(); return t.dtmf[clock] }

func (t *rawTrack) write(h rtp.Header, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return
	}
	h.SSRC = t.ssrc
	_, _ = t.w.WriteRTP(&h, payload)
}

// peer plays the browser: a pion PeerConnection signalled over the
// websocket handler, sending a sine (or nothing) and RFC 4733 keys,
// decoding what the server plays.
type peer struct {
	t      *testing.T
	codec  string // "opus" or "PCMU"
	ws     *websocket.Conn
	wsMu   sync.Mutex
	pc     *pion.PeerConnection
	track  *rawTrack
	dc     *pion.DataChannel
	msgs   chan message
	callID string

	toneHz float64 // 0: send silence
	keys   chan rune
	stop   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	got     []int16 // decoded audio from the server
	gotRate int
	dcOpen  chan struct{}
	mux     interface{ Close() error } // the ICE socket when peerOptions.mux
}

// cut makes the page vanish from the network: its ICE socket closes with
// no DTLS close and no hangup.
func (p *peer) cut() { _ = p.mux.Close() }

// peerOptions shape a test peer.
type peerOptions struct {
	codec   string  // "opus" (offers opus and PCMU) or "PCMU" (PCMU only)
	toneHz  float64 // sine sent, 0 for silence
	noMedia bool    // send no RTP at all
	mux     bool    // ICE on one loopback socket the test can cut (peer.cut)
}

func dialPeer(t *testing.T, srv *httptest.Server, path string, o peerOptions) *peer {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + path
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	var cfg message
	if err := ws.ReadJSON(&cfg); err != nil || cfg.Type != msgConfig {
		t.Fatalf("first message %+v, %v", cfg, err)
	}
	p := newPeer(t, o)
	p.ws, p.callID = ws, cfg.CallID
	p.pc.OnICECandidate(func(c *pion.ICECandidate) {
		if c != nil {
			p.send(message{Type: msgCandidate, Candidate: ptr(c.ToJSON())})
		}
	})
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	p.send(message{Type: msgOffer, SDP: offer.SDP})
	p.wg.Add(1)
	go p.read()
	p.start(o)
	return p
}

// newPeer builds the peer connection of a test page, not signalled yet.
func newPeer(t *testing.T, o peerOptions) *peer {
	t.Helper()
	p := &peer{t: t, codec: o.codec, msgs: make(chan message, 1024), toneHz: o.toneHz,
		keys: make(chan rune, 8), stop: make(chan struct{}), dcOpen: make(chan struct{})}
	m := &pion.MediaEngine{}
	reg := func(mime string, clock uint32, ch uint16, fmtp string, pt uint8) {
		if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mime, ClockRate: clock, Channels: ch, SDPFmtpLine: fmtp}, PayloadType: pion.PayloadType(pt)}, pion.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var mime string
	switch o.codec {
	case CodecOpus:
		mime = pion.MimeTypeOpus
		reg(pion.MimeTypeOpus, 48000, 2, "minptime=10;useinbandfec=1", 111)
		reg(mimeTelephoneEvent, 48000, 0, "0-16", 110)
		reg(pion.MimeTypePCMU, 8000, 0, "", 0)
	case CodecG722:
		mime = pion.MimeTypeG722
		reg(pion.MimeTypeG722, 8000, 0, "", 9)
	default:
		mime = pion.MimeTypePCMU
		reg(pion.MimeTypePCMU, 8000, 0, "", 0)
	}
	reg(mimeTelephoneEvent, 8000, 0, "0-16", 126)
	se := pion.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	if o.mux {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		mux := pion.NewICEUDPMux(nil, conn)
		p.mux = mux
		se.SetICEUDPMux(mux)
		se.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	}
	pc, err := pion.NewAPI(pion.WithMediaEngine(m), pion.WithSettingEngine(se)).NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p.pc = pc
	p.track = &rawTrack{mime: mime}
	if _, err := pc.AddTrack(p.track); err != nil {
		t.Fatal(err)
	}
	if p.dc, err = pc.CreateDataChannel(DTMFLabel, nil); err != nil {
		t.Fatal(err)
	}
	p.dc.OnOpen(func() { close(p.dcOpen) })
	pc.OnTrack(p.onTrack)
	t.Cleanup(p.close)
	return p
}

// start starts sending media unless o says not to.
func (p *peer) start(o peerOptions) {
	if !o.noMedia {
		p.wg.Add(1)
		go p.sendAudio()
	}
}

// waitConnected waits until the peer connection is up.
func (p *peer) waitConnected(d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for p.pc.ConnectionState() != pion.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			p.t.Fatalf("not connected after %v: %v", d, p.pc.ConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *peer) send(m message) {
	if p.ws == nil {
		return
	}
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	_ = p.ws.WriteJSON(m)
}

// read handles the server's messages until the socket closes.
func (p *peer) read() {
	defer p.wg.Done()
	defer close(p.msgs)
	for {
		var m message
		if err := p.ws.ReadJSON(&m); err != nil {
			return
		}
		switch m.Type {
		case msgAnswer:
			if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				p.t.Logf("answer: %v", err) // TestConnectTimeout closes the peer first
			}
		case msgCandidate:
			if m.Candidate != nil {
				_ = p.pc.AddICECandidate(*m.Candidate)
			}
		}
		select {
		case p.msgs <- m:
		default:
		}
	}
}

// waitMessage returns the first message of type typ (and kind, when not
// empty) within d.
func (p *peer) waitMessage(typ, kind string, d time.Duration) (message, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				return message{}, false
			}
			if m.Type == typ && (kind == "" || m.Kind == kind) {
				return m, true
			}
		case <-t.C:
			return message{}, false
		}
	}
}

// sendAudio sends a 20 ms packet every 20 ms (the sine or silence) and
// the keys asked for as RFC 4733 events in between.
func (p *peer) sendAudio() {
	defer p.wg.Done()
	clock, frame, pcmN := 8000, 160, 160
	var enc *opus.Encoder
	var g722Enc *g722.Encoder
	if p.codec == CodecG722 {
		g722Enc, pcmN = g722.NewEncoder(), 320
	}
	if p.codec == CodecOpus {
		clock, frame, pcmN = 48000, 960, 960
		var err error
		if enc, err = opus.NewEncoder(48000, opus.AppVoIP); err != nil {
			p.t.Error(err)
			return
		}
		defer enc.Close()
	}
	tx, _ := dtmf.NewSender(dtmf.SenderConfig{ClockRate: clock})
	pcm := make([]int16, pcmN)
	var payload []byte
	h := rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32(), Marker: true}
	n := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case k := <-p.keys:
			ev, _ := dtmf.ParseDigit(k)
			pkts, _ := tx.AppendEvent(nil, ev, h.Timestamp, 100*time.Millisecond)
			start := time.Now()
			dpt := p.track.dtmfPT(uint32(clock))
			for _, e := range pkts {
				time.Sleep(time.Until(start.Add(e.At)))
				eh := h
				eh.PayloadType, eh.Marker, eh.Timestamp = dpt, e.Marker, e.Timestamp
				p.track.write(eh, e.AppendPayload(nil))
				h.SequenceNumber++
			}
			h.Timestamp += uint32(time.Since(start) * time.Duration(clock) / time.Second)
			h.Marker = true
			continue
		case <-tick.C:
		}
		pt, ok := p.track.bound()
		if !ok {
			continue
		}
		for i := range pcm {
			v := 0.0
			if p.toneHz > 0 {
				v = 8000 * math.Sin(2*math.Pi*p.toneHz*float64(n+i)/float64(pcmN*50))
			}
			pcm[i] = int16(v)
		}
		n += pcmN
		switch {
		case enc != nil:
			payload, _ = enc.Encode(payload[:0], pcm)
		case g722Enc != nil:
			payload = g722Enc.Encode(payload[:0], pcm)
		default:
			payload = g711.EncodeUlaw(payload[:0], pcm)
		}
		h.PayloadType = pt
		p.track.write(h, payload)
		h.Marker = false
		h.SequenceNumber++
		h.Timestamp += uint32(frame)
	}
}

// onTrack decodes the server's audio into p.got.
func (p *peer) onTrack(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
	var dec *opus.Decoder
	var g722Dec *g722.Decoder
	rate := 8000
	if strings.EqualFold(tr.Codec().MimeType, pion.MimeTypeG722) {
		g722Dec, rate = g722.NewDecoder(), 16000
	}
	if strings.EqualFold(tr.Codec().MimeType, pion.MimeTypeOpus) {
		rate = 16000
		var err error
		if dec, err = opus.NewDecoder(rate); err != nil {
			p.t.Error(err)
			return
		}
		defer dec.Close()
	}
	p.mu.Lock()
	p.gotRate = rate
	p.mu.Unlock()
	var buf []int16
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		switch {
		case dec != nil:
			buf, err = dec.Decode(buf[:0], pkt.Payload)
			if err != nil {
				continue
			}
		case g722Dec != nil:
			buf = g722Dec.Decode(buf[:0], pkt.Payload)
		default:
			buf = g711.DecodeUlaw(buf[:0], pkt.Payload)
		}
		p.mu.Lock()
		p.got = append(p.got, buf...)
		p.mu.Unlock()
	}
}

// received returns a copy of the server's audio so far and its rate.
func (p *peer) received() ([]int16, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.got...), p.gotRate
}

// close ends the peer: no more media, the connection and socket closed.
func (p *peer) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	_ = p.pc.Close()
	if p.mux != nil {
		_ = p.mux.Close()
	}
	if p.ws != nil {
		p.wsMu.Lock()
		_ = p.ws.Close()
		p.wsMu.Unlock()
	}
	p.wg.Wait()
}

// rmsOf returns the RMS of s.
func rmsOf(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

// toneShare returns the share of s's energy at hz (Goertzel power over
// the total), near 1 for a pure sine at hz.
func toneShare(s []int16, rate int, hz float64) float64 {
	if len(s) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range s {
		x := float64(v)
		total += x * x
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if total == 0 {
		return 0
	}
	return 2 * power / (float64(len(s)) * total)
}

// loudFrames counts the 20 ms frames of s at rate with an RMS above min.
func loudFrames(s []int16, rate int, min float64) int {
	n := media.SamplesPerFrame(rate)
	c := 0
	for i := 0; i+n <= len(s); i += n {
		if rmsOf(s[i:i+n]) > min {
			c++
		}
	}
	return c
}

// sine returns a 20 ms frame of a sine at hz, 16 kHz, continuing at phase n.
func sine(hz float64, n int, amp float64) *media.Frame {
	f := media.NewFrame(Rate)
	for i := range f.Samples {
		f.Samples[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(n+i)/Rate))
	}
	return f
}

// newTestServer serves a Server with onCall over httptest.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return s, hs
}

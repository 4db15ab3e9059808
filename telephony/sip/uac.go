package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/parole-voice/parole/telephony"
)

// Errors of outbound calls and transfers.
var (
	// ErrCallFailed: an outbound INVITE got no 2xx (the sipgo
	// ErrDialogResponse with the final response is wrapped too), or its
	// answer was unusable.
	ErrCallFailed = errors.New("sip: outbound call failed")
	// ErrBusy: the server is at Config.MaxCalls or shutting down.
	ErrBusy = errors.New("sip: no call slot")
	// ErrTarget: a transfer or dial target is neither a SIP URI nor a
	// number.
	ErrTarget = errors.New("sip: bad target")
	// ErrTransferFailed: the peer accepted a REFER but the transfer did
	// not succeed (its final NOTIFY carried a failure status), or no final
	// NOTIFY came in time.
	ErrTransferFailed = errors.New("sip: transfer failed")
	// errReferRefused: the peer refused the REFER itself, so bridging is
	// the way out.
	errReferRefused = errors.New("sip: REFER refused")
)

// DialOptions tunes [Server.Dial].
type DialOptions struct {
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
	// Ring bounds how long the call may ring; zero means 60 s.
	Ring time.Duration
}

// parseTarget turns a SIP URI, a tel: URI or a bare number into a SIP URI;
// numbers go to host (the peer's host, "host:port"), which must then be set.
func parseTarget(target, host string) (sip.Uri, error) {
	var u sip.Uri
	t := strings.TrimSpace(target)
	if strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">") {
		t = t[1 : len(t)-1]
	}
	low := strings.ToLower(t)
	if strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:") {
		if err := sip.ParseUri(t, &u); err != nil || u.Host == "" {
			return u, fmt.Errorf("%w: %q: %v", ErrTarget, target, err)
		}
		return u, nil
	}
	t = strings.TrimPrefix(low, "tel:")
	if t == "" || host == "" || strings.IndexFunc(t, func(r rune) bool {
		return !strings.ContainsRune("+0123456789*#-.()", r)
	}) >= 0 {
		return u, fmt.Errorf("%w: %q", ErrTarget, target)
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = host, ""
	}
	u = sip.Uri{Scheme: "sip", User: t, Host: h}
	if p != "" {
		u.Port, _ = strconv.Atoi(p)
	}
	return u, nil
}

// Offer writes the SDP offer of an outbound call: PCMU, PCMA and
// telephone-event/8000 at addr, sendrecv.
func Offer(addr *net.UDPAddr, sessionID uint64) ([]byte, error) {
	return OfferCodecs(addr, sessionID, nil)
}

// OfferCodecs is [Offer] with the codecs of prefs, in that order (empty:
// PCMU and PCMA): payload types 0, 8, 9 and 111 for PCMU, PCMA, G.722 and
// Opus, and telephone-event at 8000 Hz (101) and, with Opus, at 48000 Hz
// (102).
func OfferCodecs(addr *net.UDPAddr, sessionID uint64, prefs []string) ([]byte, error) {
	if addr == nil || addr.IP == nil {
		return nil, fmt.Errorf("sip: offer without a media address")
	}
	if len(prefs) == 0 {
		prefs = []string{PCMU, PCMA}
	}
	ipver := "IP4"
	if addr.IP.To4() == nil {
		ipver = "IP6"
	}
	pts := map[string]uint8{PCMU: 0, PCMA: 8, G722: 9, Opus: 111}
	var formats []string
	var attrs []sdp.Attribute
	opusOffered := false
	seen := map[string]bool{}
	for _, p := range prefs {
		name, ok := canonicalCodec(p)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		c := Codec{Name: name, PayloadType: pts[name]}
		formats = append(formats, strconv.Itoa(int(c.PayloadType)))
		attrs = append(attrs, sdp.Attribute{Key: "rtpmap", Value: fmt.Sprintf("%d %s", c.PayloadType, c.rtpmap())})
		opusOffered = opusOffered || name == Opus
	}
	formats = append(formats, "101")
	attrs = append(attrs, sdp.Attribute{Key: "rtpmap", Value: "101 telephone-event/8000"}, sdp.Attribute{Key: "fmtp", Value: "101 0-16"})
	if opusOffered {
		formats = append(formats, "102")
		attrs = append(attrs, sdp.Attribute{Key: "rtpmap", Value: "102 telephone-event/48000"}, sdp.Attribute{Key: "fmtp", Value: "102 0-16"})
	}
	attrs = append(attrs, sdp.Attribute{Key: "ptime", Value: "20"}, sdp.Attribute{Key: SendRecv})
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{Username: "parole", SessionID: sessionID, SessionVersion: sessionID,
			NetworkType: "IN", AddressType: ipver, UnicastAddress: addr.IP.String()},
		SessionName: "parole",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: ipver, Address: &sdp.Address{Address: addr.IP.String()}},
		TimeDescriptions: []sdp.TimeDescription{{}},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: addr.Port},
				Protos: []string{"RTP", "AVP"}, Formats: formats},
			Attributes: attrs,
		}},
	}
	return sd.Marshal()
}

// Dial places an outbound call (UAC) to target, a SIP URI: INVITE with an
// SDP offer (Config.Codecs, else PCMU and PCMA, and telephone-event),
// provisional responses, digest
// authentication when challenged (opts), then ACK of the 200. The call
// counts against Config.MaxCalls and Serve must be running. The caller
// owns the call and ends it with Hangup. An unanswered or refused call is
// an error wrapping [ErrCallFailed]; cancelling ctx while it rings sends
// CANCEL.
func (s *Server) Dial(ctx context.Context, target string, opts DialOptions) (*Call, error) {
	uri, err := parseTarget(target, "")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closing || s.active >= s.cfg.MaxCalls {
		s.mu.Unlock()
		return nil, fmt.Errorf("sip: dial %s: %w", target, ErrBusy)
	}
	s.active++
	s.calls.Add(1)
	s.mu.Unlock()
	var once sync.Once
	release := func() {
		once.Do(func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
			s.calls.Done()
		})
	}
	conn, rtcpConn, err := s.listenRTP(false)
	if err != nil {
		release()
		return nil, err
	}
	closeMedia := func() {
		conn.Close()
		rtcpConn.Close()
	}
	sessID := uint64(time.Now().UnixNano())
	offer, err := OfferCodecs(conn.LocalAddr().(*net.UDPAddr), sessID, s.cfg.Codecs)
	if err != nil {
		release()
		closeMedia()
		return nil, err
	}
	ring := opts.Ring
	if ring <= 0 {
		ring = 60 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, ring)
	defer cancel()
	dlg, err := s.uacDialogs.Invite(rctx, uri, offer, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		release()
		closeMedia()
		return nil, fmt.Errorf("%w: %s: %w", ErrCallFailed, target, err)
	}
	if err := dlg.WaitAnswer(rctx, sipgo.AnswerOptions{Username: opts.Username, Password: opts.Password}); err != nil {
		dlg.Close()
		release()
		closeMedia()
		return nil, fmt.Errorf("%w: %s: %w", ErrCallFailed, target, err)
	}
	prefs := s.cfg.Codecs
	if len(prefs) == 0 {
		prefs = []string{PCMU, PCMA}
	}
	m, err := NegotiateCodecs(dlg.InviteResponse.Body(), prefs)
	if err != nil {
		_ = dlg.Ack(ctx)
		_ = dlg.Bye(ctx)
		dlg.Close()
		release()
		closeMedia()
		return nil, fmt.Errorf("%w: %s: answer: %w", ErrCallFailed, target, err)
	}
	if err := dlg.Ack(ctx); err != nil {
		dlg.Close()
		release()
		closeMedia()
		return nil, fmt.Errorf("%w: %s: ACK: %w", ErrCallFailed, target, err)
	}
	info := telephony.Info{ID: dlg.InviteRequest.CallID().Value(), Channel: "sip", Rate: m.Codec.SampleRate(), To: uri.String()}
	if h := dlg.InviteRequest.From(); h != nil {
		info.From = h.Address.String()
	}
	call, err := newCall(callParams{
		info: info, media: m, conn: conn, rtcpConn: rtcpConn,
		byeDone: dlg.Context().Done(), bye: dlg.Bye,
		timeout: s.cfg.MediaTimeout, rtcpInterval: s.cfg.RTCPInterval,
	})
	if err != nil {
		_ = dlg.Bye(ctx)
		dlg.Close()
		release()
		closeMedia()
		return nil, err
	}
	call.sdpID, call.sdpVersion, call.lastAnswer = sessID, sessID, offer
	call.srv, call.do = s, dlg.Do
	if c := dlg.InviteResponse.Contact(); c != nil {
		call.peer = c.Address
	} else {
		call.peer = uri
	}
	id := dlg.ID
	s.mu.Lock()
	s.live[id] = call
	s.mu.Unlock()
	call.onEnd = func() {
		s.mu.Lock()
		delete(s.live, id)
		s.mu.Unlock()
		dlg.Close()
		release()
	}
	s.log.Info("sip: outbound call answered", "call", info.ID, "to", info.To, "codec", m.Codec.Name)
	return call, nil
}

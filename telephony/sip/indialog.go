package sip

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ErrDTMFInfo is wrapped by the error of [ParseDTMFInfo] for a body that
// holds no DTMF key.
var ErrDTMFInfo = errors.New("sip: no DTMF key in INFO body")

// ParseDTMFInfo reads the key of a SIP INFO DTMF body: contentType
// "application/dtmf-relay" carries lines like "Signal=5" and
// "Duration=160" (the Cisco/SIP INFO convention), "application/dtmf" the
// key alone. Keys are "0123456789*#ABCD", also as event codes 10-15
// (10 is *, 11 is #, 12-15 are A-D, as in RFC 4733). Other content types
// are an error wrapping [ErrDTMFInfo].
func ParseDTMFInfo(contentType string, body []byte) (rune, error) {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	var sig string
	switch ct {
	case "application/dtmf-relay":
		found := false
		for line := range strings.Lines(string(body)) {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig, found = strings.TrimSpace(v), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("%w: no Signal= line", ErrDTMFInfo)
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(body))
	default:
		return 0, fmt.Errorf("%w: content type %q", ErrDTMFInfo, contentType)
	}
	if n, err := strconv.Atoi(sig); err == nil && n >= 10 && n <= 15 {
		return rune("*#ABCD"[n-10]), nil
	}
	if len(sig) != 1 || !strings.Contains("0123456789*#ABCD", strings.ToUpper(sig)) {
		return 0, fmt.Errorf("%w: signal %q", ErrDTMFInfo, sig)
	}
	return rune(strings.ToUpper(sig)[0]), nil
}

// onInfo takes SIP INFO in a call: DTMF keys go to Recv.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if len(req.Body()) == 0 { // an empty INFO is a keep-alive
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	k, err := ParseDTMFInfo(ct, req.Body())
	if err != nil {
		status, reason := sip.StatusBadRequest, "Bad Request"
		base, _, _ := strings.Cut(strings.ToLower(ct), ";")
		if b := strings.TrimSpace(base); b != "application/dtmf-relay" && b != "application/dtmf" {
			status, reason = sip.StatusUnsupportedMediaType, "Unsupported Media Type"
		}
		res := sip.NewResponseFromRequest(req, status, reason, nil)
		if status == sip.StatusUnsupportedMediaType {
			res.AppendHeader(sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		}
		_ = tx.Respond(res)
		return
	}
	c.pushKey(k)
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// onReInvite answers an INVITE inside a call: a new offer (hold, resume,
// a moved address) or a session refresh.
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	answer, status, err := c.renegotiate(req.Body())
	if err != nil {
		s.log.Info("sip: re-INVITE refused", "call", c.info.ID, "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, status, reasonOf(status), nil))
		return
	}
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(s.contactFor(req))
	// RFC 3261 §13.3.1.4: the UAS retransmits its 2xx, from T1 doubling
	// up to T2, until the ACK comes, for at most 64*T1.
	seq := req.CSeq().SeqNo
	acked := make(chan struct{})
	c.mu.Lock()
	c.acks[seq] = acked
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, seq)
		c.mu.Unlock()
	}()
	if err := tx.Respond(res); err != nil {
		return
	}
	wait, interval := time.NewTimer(sip.T1), sip.T1
	defer wait.Stop()
	give := time.NewTimer(64 * sip.T1)
	defer give.Stop()
	for {
		select {
		case <-acked:
			return
		case <-wait.C:
			if tx.Respond(res) != nil {
				return
			}
			interval = min(2*interval, sip.T2)
			wait.Reset(interval)
		case <-give.C:
			s.log.Info("sip: no ACK for the re-INVITE answer", "call", c.info.ID)
			return
		case <-c.done:
			return
		case <-c.byeDone:
			return
		}
	}
}

// onAck takes an ACK: the dialog's (for the INVITE's 2xx) and a call's
// re-INVITE answer.
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	_ = s.dialogsFor(req).ReadAck(req, tx) // an ACK of nothing we know is dropped
	if c := s.lookup(req); c != nil && req.CSeq() != nil {
		c.mu.Lock()
		if ch, ok := c.acks[req.CSeq().SeqNo]; ok {
			close(ch)
			delete(c.acks, req.CSeq().SeqNo)
		}
		c.mu.Unlock()
	}
}

// onUpdate answers UPDATE (RFC 3311) in a call: with SDP like a
// re-INVITE, without as a session refresh.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if len(req.Body()) == 0 {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	}
	answer, status, err := c.renegotiate(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, status, reasonOf(status), nil))
		return
	}
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(s.contactFor(req))
	_ = tx.Respond(res)
}

func reasonOf(status int) string {
	switch status {
	case sip.StatusNotAcceptableHere:
		return "Not Acceptable Here"
	case sip.StatusInternalServerError:
		return "Server Internal Error"
	}
	return "Bad Request"
}

// renegotiate applies a new offer to the call and returns the answer; an
// empty offer (offer in the 200, answer in the ACK) gets the call's media
// offered back as sendrecv. The codec cannot change within a call: an
// offer without the current one is refused with 488.
func (c *Call) renegotiate(offer []byte) ([]byte, int, error) {
	c.sdpMu.Lock()
	defer c.sdpMu.Unlock()
	m := c.media
	if len(offer) == 0 {
		m.Direction = SendRecv
	} else {
		var err error
		// The call keeps its codec when the new offer still has it.
		if m, err = NegotiateCodecs(offer, []string{c.codec.Name}); err != nil {
			if errors.Is(err, ErrNoCodec) {
				return nil, sip.StatusNotAcceptableHere, err
			}
			return nil, sip.StatusBadRequest, err
		}
		if m.Codec.Name != c.codec.Name {
			return nil, sip.StatusNotAcceptableHere, fmt.Errorf("%w: the call's codec %s is not offered", ErrNoCodec, c.codec.Name)
		}
		m.Codec, m.DTMF = c.codec, c.media.DTMF
		if c.rtcpConn != nil {
			m.RTCPMux = false
		}
		c.setMedia(m)
	}
	c.media = m
	local := c.conn.LocalAddr().(*net.UDPAddr)
	ans, err := answerVersion(m, local, c.sdpID, c.sdpVersion)
	if err == nil && string(ans) != string(c.lastAnswer) && c.lastAnswer != nil {
		c.sdpVersion++ // RFC 3264 §8: a changed description gets a new version
		ans, err = answerVersion(m, local, c.sdpID, c.sdpVersion)
	}
	if err != nil {
		return nil, sip.StatusInternalServerError, err
	}
	c.lastAnswer = ans
	return ans, 0, nil
}

// pushKey queues a key for Recv.
func (c *Call) pushKey(k rune) {
	c.mu.Lock()
	c.keys = append(c.keys, k)
	c.mu.Unlock()
}

// Held reports whether the caller put the call on hold (its last offer
// was sendonly or inactive): Send then sends nothing.
func (c *Call) Held() bool { return !c.peerReceives.Load() }

package sip

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Errors of the SDP offer/answer.
var (
	// ErrSDP: the offer is not SDP parole can read (no audio stream, no
	// address, bad syntax).
	ErrSDP = errors.New("sip: unusable SDP offer")
	// ErrNoCodec: the offer has no codec in common with parole (PCMU or
	// PCMA, and G.722 or Opus when configured); the server answers 488 Not
	// Acceptable Here.
	ErrNoCodec = errors.New("sip: no common codec")
)

// Codec is the audio codec negotiated for a call.
type Codec struct {
	// Name is [PCMU], [PCMA], [G722] or [Opus].
	Name string
	// PayloadType is the RTP payload type the offer gave it (0, 8 or 9 for
	// the static assignments).
	PayloadType uint8
}

// Media is the outcome of negotiating an SDP offer.
type Media struct {
	// Remote is where the caller wants its RTP sent.
	Remote *net.UDPAddr
	// Codec is the chosen audio codec.
	Codec Codec
	// DTMF is the telephone-event payload type at the codec's clock rate
	// (telephone-event/8000, or /48000 with Opus), or -1 when not offered.
	DTMF int
	// Direction is the offer's direction attribute for the stream:
	// "sendrecv" (the default), "sendonly", "recvonly" or "inactive". A
	// connection address of 0.0.0.0 (RFC 2543 hold) reads as "sendonly".
	Direction string
	// RTCPMux is true when the offer asks for RTCP on the RTP port
	// (a=rtcp-mux, RFC 5761); the answer then accepts it.
	RTCPMux bool
	// RTCP is where the caller wants its RTCP sent: the a=rtcp attribute
	// (RFC 3605) or the RTP port + 1; the RTP address under RTCPMux.
	RTCP *net.UDPAddr
}

// Directions of an SDP media stream (RFC 4566 §6, RFC 3264 §6.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// answerDirection is the direction an answer gives to an offer's.
func answerDirection(offer string) string {
	switch offer {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// PeerSends reports whether the offerer sends media in this direction.
func (m Media) PeerSends() bool { return m.Direction != RecvOnly && m.Direction != Inactive }

// PeerReceives reports whether the offerer wants media in this direction.
func (m Media) PeerReceives() bool { return m.Direction != SendOnly && m.Direction != Inactive }

// Negotiate reads an SDP offer and chooses, from its first active audio
// stream, the first of PCMU and PCMA in the caller's order of preference,
// plus telephone-event/8000 when offered. An offer without a common codec is
// an error wrapping [ErrNoCodec], any other unusable offer one wrapping
// [ErrSDP].
func Negotiate(offer []byte) (Media, error) { return NegotiateCodecs(offer, nil) }

// NegotiateCodecs is [Negotiate] with parole's codec preferences: prefs
// lists codec names ([PCMU], [PCMA], [G722], [Opus]) best first, and the
// offered codec that comes first in prefs wins whatever the caller's
// order. Empty prefs mean PCMU and PCMA in the caller's order.
// telephone-event is taken at the chosen codec's clock rate.
func NegotiateCodecs(offer []byte, prefs []string) (Media, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(offer)); err != nil {
		return Media{}, fmt.Errorf("%w: %w", ErrSDP, err)
	}
	var md *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			md = m
			break
		}
	}
	if md == nil {
		return Media{}, fmt.Errorf("%w: no active audio stream", ErrSDP)
	}
	if !hasProto(md.MediaName.Protos, "RTP", "AVP") {
		return Media{}, fmt.Errorf("%w: audio transport %s", ErrNoCodec, strings.Join(md.MediaName.Protos, "/"))
	}
	conn := md.ConnectionInformation
	if conn == nil {
		conn = sd.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return Media{}, fmt.Errorf("%w: no connection address", ErrSDP)
	}
	host := conn.Address.Address
	if i := strings.IndexByte(host, '/'); i >= 0 { // multicast TTL
		host = host[:i]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return Media{}, fmt.Errorf("%w: connection address %q is not an IP address", ErrSDP, host)
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return Media{}, fmt.Errorf("%w: audio port %d", ErrSDP, port)
	}

	rtpmap := map[int]string{} // payload type → upper-case "NAME/RATE"
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		n, err := strconv.Atoi(pt)
		if !ok || err != nil {
			continue
		}
		name, rate, _ := strings.Cut(strings.TrimSpace(enc), "/")
		rate, _, _ = strings.Cut(rate, "/") // channels
		rtpmap[n] = strings.ToUpper(name) + "/" + rate
	}
	rank := map[string]int{PCMU: 0, PCMA: 0} // lower is better; equal ranks keep the caller's order
	if len(prefs) > 0 {
		rank = map[string]int{}
		for i, p := range prefs {
			if name, ok := canonicalCodec(p); ok {
				if _, dup := rank[name]; !dup {
					rank[name] = i
				}
			}
		}
	}
	m := Media{Remote: &net.UDPAddr{IP: ip, Port: port}, DTMF: -1, Direction: SendRecv,
		RTCP: &net.UDPAddr{IP: ip, Port: port + 1}}
	for _, a := range sd.Attributes { // session-level direction, overridden below
		if isDirection(a.Key) {
			m.Direction = a.Key
		}
	}
	for _, a := range md.Attributes {
		switch {
		case isDirection(a.Key):
			m.Direction = a.Key
		case a.Key == "rtcp-mux":
			m.RTCPMux = true
		case a.Key == "rtcp":
			if r, ok := parseRTCPAttr(a.Value, ip); ok {
				m.RTCP = r
			}
		}
	}
	if m.RTCPMux {
		m.RTCP = &net.UDPAddr{IP: ip, Port: port}
	}
	if ip.IsUnspecified() && m.Direction == SendRecv {
		m.Direction = SendOnly // RFC 2543 hold: c=IN IP4 0.0.0.0
	}
	found, best := false, 0
	events := map[string]int{} // clock rate → first telephone-event payload type
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		enc, mapped := rtpmap[pt]
		if !mapped {
			switch pt { // static payload types (RFC 3551)
			case 0:
				enc = "PCMU/8000"
			case 8:
				enc = "PCMA/8000"
			case 9:
				enc = "G722/8000"
			}
		}
		name := ""
		switch enc {
		case "PCMU/8000", "PCMA/8000", "G722/8000":
			name = enc[:4]
		case "OPUS/48000":
			name = Opus
		case "TELEPHONE-EVENT/8000", "TELEPHONE-EVENT/48000":
			if _, seen := events[enc[16:]]; !seen {
				events[enc[16:]] = pt
			}
			continue
		}
		if r, ok := rank[name]; ok && name != "" && (!found || r < best) {
			m.Codec, best, found = Codec{Name: name, PayloadType: uint8(pt)}, r, true
		}
	}
	if found {
		if pt, ok := events[strconv.Itoa(m.Codec.ClockRate())]; ok {
			m.DTMF = pt
		}
	}
	if !found {
		return Media{}, fmt.Errorf("%w: offered %s", ErrNoCodec, strings.Join(md.MediaName.Formats, " "))
	}
	return m, nil
}

func isDirection(k string) bool {
	return k == SendRecv || k == SendOnly || k == RecvOnly || k == Inactive
}

// parseRTCPAttr reads "port [IN IP4 addr]" (RFC 3605).
func parseRTCPAttr(v string, def net.IP) (*net.UDPAddr, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return nil, false
	}
	port, err := strconv.Atoi(f[0])
	if err != nil || port <= 0 || port > 65535 {
		return nil, false
	}
	ip := def
	if len(f) == 4 {
		if ip = net.ParseIP(f[3]); ip == nil {
			return nil, false
		}
	}
	return &net.UDPAddr{IP: ip, Port: port}, true
}

func hasProto(protos []string, want ...string) bool {
	if len(protos) != len(want) {
		return false
	}
	for i := range want {
		if !strings.EqualFold(protos[i], want[i]) {
			return false
		}
	}
	return true
}

// Answer writes the SDP answer to a negotiated offer: one audio stream at
// addr with m's codec and, when negotiated, telephone-event/8000 for keys
// 0-16, a=rtcp-mux when the offer had it and the direction that answers
// the offer's (recvonly to sendonly, inactive to inactive). sessionID
// identifies the session (the o= line).
func Answer(m Media, addr *net.UDPAddr, sessionID uint64) ([]byte, error) {
	return answerVersion(m, addr, sessionID, sessionID)
}

// answerVersion is Answer with the o= line's session version, which a
// re-INVITE's answer increments.
func answerVersion(m Media, addr *net.UDPAddr, sessionID, version uint64) ([]byte, error) {
	if addr == nil || addr.IP == nil {
		return nil, fmt.Errorf("sip: answer without a media address")
	}
	ipver := "IP4"
	if addr.IP.To4() == nil {
		ipver = "IP6"
	}
	formats := []string{strconv.Itoa(int(m.Codec.PayloadType))}
	attrs := []sdp.Attribute{
		{Key: "rtpmap", Value: fmt.Sprintf("%d %s", m.Codec.PayloadType, m.Codec.rtpmap())},
	}
	if m.DTMF >= 0 {
		formats = append(formats, strconv.Itoa(m.DTMF))
		attrs = append(attrs,
			sdp.Attribute{Key: "rtpmap", Value: fmt.Sprintf("%d telephone-event/%d", m.DTMF, m.Codec.ClockRate())},
			sdp.Attribute{Key: "fmtp", Value: fmt.Sprintf("%d 0-16", m.DTMF)})
	}
	attrs = append(attrs, sdp.Attribute{Key: "ptime", Value: "20"})
	if m.RTCPMux {
		attrs = append(attrs, sdp.Attribute{Key: "rtcp-mux"})
	}
	attrs = append(attrs, sdp.Attribute{Key: answerDirection(m.Direction)})
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "parole", SessionID: sessionID, SessionVersion: version,
			NetworkType: "IN", AddressType: ipver, UnicastAddress: addr.IP.String(),
		},
		SessionName: "parole",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: ipver, Address: &sdp.Address{Address: addr.IP.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{
				Media: "audio", Port: sdp.RangedPort{Value: addr.Port},
				Protos: []string{"RTP", "AVP"}, Formats: formats,
			},
			Attributes: attrs,
		}},
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sip: writing the SDP answer: %w", err)
	}
	return b, nil
}

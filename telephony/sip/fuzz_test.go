package sip_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/parole-voice/parole/telephony/sip"
)

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; x=y", []byte("signal= 10\n"))
	f.Add("text/plain", []byte{0xff, '='})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		k, err := sip.ParseDTMFInfo(ct, body)
		if err != nil {
			if !errors.Is(err, sip.ErrDTMFInfo) {
				t.Fatalf("error %v does not wrap ErrDTMFInfo", err)
			}
			return
		}
		if !strings.ContainsRune("0123456789*#ABCD", k) {
			t.Fatalf("key %q", k)
		}
	})
}

func FuzzParseSipfrag(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\n"))
	f.Add([]byte("SIP/2.0 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := sip.ParseSipfrag(b)
		if err == nil && (code < 100 || code > 699) {
			t.Fatalf("status %d", code)
		}
	})
}

// FuzzNegotiateCodecs: any offer gives a sentinel error or a codec from
// the preferences whose answer reads back the same.
func FuzzNegotiateCodecs(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 111 9 0 102\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:102 telephone-event/48000\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9\r\na=sendonly\r\na=rtcp:4005 IN IP4 10.0.0.2\r\n"))
	prefs := []string{"opus", "G722", "PCMA", "PCMU"}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := sip.NegotiateCodecs(b, prefs)
		if err != nil {
			if !errors.Is(err, sip.ErrSDP) && !errors.Is(err, sip.ErrNoCodec) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		ans, err := sip.Answer(m, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30000}, 1)
		if err != nil {
			t.Fatal(err)
		}
		back, err := sip.NegotiateCodecs(ans, prefs)
		if err != nil || back.Codec != m.Codec || back.DTMF != m.DTMF || back.RTCPMux != m.RTCPMux {
			t.Fatalf("answer %q reads back as %+v, %v; want %+v", ans, back, err, m)
		}
	})
}

package sip_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/parole-voice/parole/telephony/sip"
)

func offer(lines ...string) []byte {
	return []byte(strings.Join(append([]string{
		"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0",
	}, lines...), "\r\n") + "\r\n")
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		offer []byte
		codec sip.Codec
		dtmf  int
		addr  string
		err   error
	}{
		{"static PCMU", offer("m=audio 4000 RTP/AVP 0"), sip.Codec{Name: "PCMU", PayloadType: 0}, -1, "10.0.0.1:4000", nil},
		{"caller prefers PCMA", offer("m=audio 4000 RTP/AVP 9 8 0 101", "a=rtpmap:101 telephone-event/8000"),
			sip.Codec{Name: "PCMA", PayloadType: 8}, 101, "10.0.0.1:4000", nil},
		{"dynamic PCMU, media address", offer("m=audio 5002 RTP/AVP 96 97", "c=IN IP4 192.0.2.7",
			"a=rtpmap:96 pcmu/8000", "a=rtpmap:97 telephone-event/8000"), sip.Codec{Name: "PCMU", PayloadType: 96}, 97, "192.0.2.7:5002", nil},
		{"telephone-event at 48k ignored", offer("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/48000"),
			sip.Codec{Name: "PCMU"}, -1, "10.0.0.1:4000", nil},
		{"video first", offer("m=video 4002 RTP/AVP 96", "m=audio 4000 RTP/AVP 8"), sip.Codec{Name: "PCMA", PayloadType: 8}, -1, "10.0.0.1:4000", nil},
		{"only G.722 and Opus", offer("m=audio 4000 RTP/AVP 9 111", "a=rtpmap:111 opus/48000/2"), sip.Codec{}, 0, "", sip.ErrNoCodec},
		{"SRTP", offer("m=audio 4000 RTP/SAVP 0"), sip.Codec{}, 0, "", sip.ErrNoCodec},
		{"rejected audio", offer("m=audio 0 RTP/AVP 0"), sip.Codec{}, 0, "", sip.ErrSDP},
		{"hostname address", []byte("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 pbx.example\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), sip.Codec{}, 0, "", sip.ErrSDP},
		{"no connection", []byte("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), sip.Codec{}, 0, "", sip.ErrSDP},
		{"garbage", []byte("hello"), sip.Codec{}, 0, "", sip.ErrSDP},
		{"empty", nil, sip.Codec{}, 0, "", sip.ErrSDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sip.Negotiate(tc.offer)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Codec != tc.codec || m.DTMF != tc.dtmf || m.Remote.String() != tc.addr {
				t.Errorf("got %+v %d %v, want %+v %d %s", m.Codec, m.DTMF, m.Remote, tc.codec, tc.dtmf, tc.addr)
			}
		})
	}
}

// TestAnswerParses: the answer is SDP that pion/sdp reads back and that
// Negotiate accepts with the same choice.
func TestAnswerParses(t *testing.T) {
	m, err := sip.Negotiate(offer("m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sip.Answer(m, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30000}, 42)
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	back, err := sip.Negotiate(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Codec != m.Codec || back.DTMF != 101 || back.Remote.String() != "127.0.0.1:30000" {
		t.Errorf("answer reads back as %+v", back)
	}
	if _, err := sip.Answer(m, nil, 1); err == nil {
		t.Error("Answer without an address: no error")
	}
}

func FuzzAnswer(f *testing.F) {
	f.Add(offer("m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add(offer("m=audio 5002 RTP/AVP 96", "c=IN IP6 ::1", "a=rtpmap:96 PCMU/8000/1"))
	f.Add(offer("m=audio 4000 RTP/AVP 9"))
	f.Add([]byte("v=0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := sip.Negotiate(b)
		if err != nil {
			if !errors.Is(err, sip.ErrSDP) && !errors.Is(err, sip.ErrNoCodec) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if m.Codec.Name != "PCMU" && m.Codec.Name != "PCMA" || m.Remote == nil {
			t.Fatalf("bad media %+v", m)
		}
		ans, err := sip.Answer(m, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30000}, 1)
		if err != nil {
			t.Fatal(err)
		}
		back, err := sip.Negotiate(ans)
		if err != nil || back.Codec != m.Codec || back.DTMF != m.DTMF {
			t.Fatalf("answer %q reads back as %+v, %v; want %+v", ans, back, err, m)
		}
	})
}

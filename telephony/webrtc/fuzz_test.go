package webrtc

import (
	"strings"
	"testing"
)

const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n" +
	"a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n" +
	"a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		prefs    []string
		codec    string
		pt, dtmf int
	}{
		{DefaultCodecs, CodecOpus, 111, 110},
		{[]string{CodecG722, CodecOpus}, CodecG722, 9, 126},
		{[]string{CodecPCMU}, CodecPCMU, 0, 126},
	} {
		n, err := negotiate(chromeOffer, c.prefs)
		if err != nil {
			t.Fatal(err)
		}
		if n.codec.name != c.codec || int(n.pt) != c.pt || n.dtmfPT != c.dtmf {
			t.Errorf("prefs %v: %s pt %d dtmf %d, want %s %d %d", c.prefs, n.codec.name, n.pt, n.dtmfPT, c.codec, c.pt, c.dtmf)
		}
	}
	// Static PCMU without rtpmap, no telephone-event.
	n, err := negotiate("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n", DefaultCodecs)
	if err != nil || n.codec.name != CodecPCMU || n.dtmfPT != -1 {
		t.Errorf("static PCMU: %+v %v", n, err)
	}
}

// FuzzNegotiate: any offer gives a codec we speak or an ErrOffer, never a
// panic.
func FuzzNegotiate(f *testing.F) {
	f.Add(chromeOffer)
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")
	f.Add("v=0\r\nm=audio 9 RTP/AVP 999\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus/x\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		n, err := negotiate(offer, DefaultCodecs)
		if err != nil {
			return
		}
		if _, ok := codecByName(n.codec.name); !ok {
			t.Fatalf("negotiated %q", n.codec.name)
		}
		if !strings.Contains(offer, "m=audio") {
			t.Fatal("negotiated an offer without audio")
		}
	})
}

// FuzzParseMessage: any websocket text gives one of the four page
// messages or an error.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`{"type":"offer","sdp":"v=0"}`, `{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0"}}`,
		`{"type":"hangup"}`, `{"type":"dtmf","digits":"12#"}`, `{"type":"answer"}`, `{`, `[]`, `{"type":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			return
		}
		switch m.Type {
		case msgOffer, msgCandidate, msgHangup, msgDTMF:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}

package sip_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

// Negotiate picks the caller's preferred G.711 law and telephone-event;
// Answer writes the SDP the server puts in its 200 OK.
func ExampleNegotiate() {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 49170 RTP/AVP 9 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	m, err := sip.Negotiate([]byte(offer))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Codec.Name, m.Codec.PayloadType, m.DTMF, m.Remote)
	answer, err := sip.Answer(m, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 30000}, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(answer), "\r\n", "\n")) // SDP lines end in CRLF

	_, err = sip.Negotiate([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 9\r\n"))
	fmt.Println(err)
	// Output:
	// PCMA 8 101 192.0.2.10:49170
	// v=0
	// o=parole 7 7 IN IP4 192.0.2.1
	// s=parole
	// c=IN IP4 192.0.2.1
	// t=0 0
	// m=audio 30000 RTP/AVP 8 101
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-16
	// a=ptime:20
	// a=sendrecv
	// sip: no common codec: offered 9
}

// A server that answers every call, greets nobody and hangs up when the
// caller presses a key.
func ExampleListen() {
	srv, err := sip.Listen(sip.Config{
		Addr: "127.0.0.1:0",
		OnCall: func(ctx context.Context, call telephony.Call) {
			for {
				in, err := call.Recv(ctx)
				if err != nil || in.Digit != 0 {
					return // the server sends BYE if the caller has not
				}
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a real program runs until shutdown
	fmt.Println(srv.Serve(ctx))
	// Output:
	// <nil>
}

// NegotiateCodecs with parole's preferences: the caller lists PCMU first,
// but the configuration ranks G.722 higher, so the call is wideband.
func ExampleNegotiateCodecs() {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 49170 RTP/AVP 0 9 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
	m, err := sip.NegotiateCodecs([]byte(offer), []string{"G722", "PCMU"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Codec.Name, m.Codec.SampleRate(), m.Codec.ClockRate(), m.DTMF, m.Direction, m.RTCP)
	// Output:
	// G722 16000 8000 101 sendonly 192.0.2.10:49171
}

// SIP INFO bodies carrying a key, in the two common formats.
func ExampleParseDTMFInfo() {
	k1, _ := sip.ParseDTMFInfo("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	k2, _ := sip.ParseDTMFInfo("application/dtmf", []byte("#"))
	_, err := sip.ParseDTMFInfo("text/plain", []byte("5"))
	fmt.Println(string(k1), string(k2), err)
	// Output:
	// 5 # sip: no DTMF key in INFO body: content type "text/plain"
}

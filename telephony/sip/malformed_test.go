package sip_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/telephony/sip"
)

// TestMalformed: garbage, truncated and invalid SIP messages are answered
// 400 or dropped; none reaches OnCall, and the server answers a good
// call afterwards.
func TestMalformed(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall})
	conn := udp(t)
	to := srv.Addr()
	invite := func(headers ...string) string {
		return strings.Join(append([]string{
			"INVITE sip:bot@" + to.String() + " SIP/2.0",
			"Via: SIP/2.0/UDP " + conn.LocalAddr().String() + ";branch=z9hG4bK-" + randomTag(),
		}, headers...), "\r\n") + "\r\n"
	}
	good := []string{
		"From: <sip:x@127.0.0.1>;tag=a1", "To: <sip:bot@127.0.0.1>", "Call-ID: " + randomTag(),
		"CSeq: 1 INVITE", "Contact: <sip:x@" + conn.LocalAddr().String() + ">", "Max-Forwards: 70",
	}
	sdpBody := string(sdpOffer(40000, "0"))
	for _, tc := range []struct {
		name string
		msg  string
		want int // 0: dropped or any 4xx
	}{
		{"garbage", "hello world\r\n\r\n", 0},
		{"binary", "\x00\x01\x02\xff\xfe INVITE \x00\r\n\r\n", 0},
		{"truncated start line", "INVITE sip:bot@", 0},
		{"truncated headers", invite("From: <sip:x@127.0.0.1>;tag=a1", "To: <sip:bo"), 0},
		{"no Call-ID", invite(good[0], good[1], good[3], good[4], "Content-Length: 0") + "\r\n", 0},
		{"bad CSeq", invite(good[0], good[1], good[2], "CSeq: x INVITE", good[4], "Content-Length: 0") + "\r\n", 0},
		{"Content-Length beyond the body", invite(append(good, "Content-Type: application/sdp", "Content-Length: 5000")...) + "\r\n" + sdpBody, 0},
		{"SDP garbage", invite(append(good[:2:2], "Call-ID: "+randomTag(), good[3], good[4], good[5], "Content-Type: application/sdp", "Content-Length: 8")...) + "\r\nv=0\r\nxyz", 488},
		{"huge", invite(append(good, "X-Pad: "+strings.Repeat("a", 60000), "Content-Length: 0")...) + "\r\n", 0},
	} {
		if _, err := conn.WriteToUDP([]byte(tc.msg), to); err != nil {
			t.Logf("%s: not sent: %v", tc.name, err) // a datagram too large for the loopback MTU is fine
			continue
		}
		status, res := readStatus(conn, 250*time.Millisecond)
		if status >= 300 && strings.HasPrefix(tc.msg, "INVITE ") {
			if ack := ackFor(tc.msg, res); ack != "" { // ends the server's INVITE transaction
				_, _ = conn.WriteToUDP([]byte(ack), to)
			}
		}
		switch {
		case tc.want != 0 && status != tc.want && status != 100:
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.want)
		case tc.want == 0 && status != 0 && (status < 400 || status >= 500):
			t.Errorf("%s: status %d, want 4xx or nothing", tc.name, status)
		}
		t.Logf("%s: %d", tc.name, status)
	}
	select {
	case c := <-h.calls:
		t.Fatalf("a malformed message reached OnCall: %+v", c.Info())
	default:
	}
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatalf("good call after the bad messages: %v", err)
	}
	defer dlg.Close()
	h.call(t)
	_ = dlg.Bye(ctx)
	<-h.ended
}

var tagN int

func randomTag() string {
	tagN++
	return "t" + time.Now().Format("150405.000000") + string(rune('a'+tagN%26))
}

// ackFor builds the ACK of a non-2xx final response to invite (RFC 3261
// §17.1.1.3: the INVITE's Request-URI, Via, From, Call-ID and CSeq
// number, the response's To).
func ackFor(invite, res string) string {
	head, _, _ := strings.Cut(invite, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	var to string
	for _, l := range strings.Split(res, "\r\n") {
		if k, _, _ := strings.Cut(l, ":"); strings.EqualFold(strings.TrimSpace(k), "To") {
			to = l
		}
	}
	if to == "" || len(lines) < 2 {
		return ""
	}
	out := []string{"ACK" + strings.TrimPrefix(lines[0], "INVITE")}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to":
			out = append(out, to)
		case "cseq":
			n, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			out = append(out, "CSeq: "+n+" ACK")
		case "content-type", "content-length", "x-pad":
		default:
			out = append(out, l)
		}
	}
	return strings.Join(append(out, "Content-Length: 0"), "\r\n") + "\r\n\r\n"
}

// readStatus returns the highest status code of the responses that come
// within d (0 for none) and the last response.
func readStatus(c *net.UDPConn, d time.Duration) (int, string) {
	status, last := 0, ""
	buf := make([]byte, 65536)
	end := time.Now().Add(d)
	for {
		_ = c.SetReadDeadline(end)
		n, err := c.Read(buf)
		if err != nil {
			return status, last
		}
		last = string(buf[:n])
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], "SIP/2.0") {
			var code int
			for _, ch := range f[1] {
				code = code*10 + int(ch-'0')
			}
			if code > status {
				status = code
			}
		}
	}
}

package sip_test

import (
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/emiago/sipgo"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

// callTo INVITEs user at srv.
func (u *uac) callTo(ctx context.Context, srv *sip.Server, user string, offer []byte) (*sipgo.DialogClientSession, error) {
	to := sipmsg.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: srv.Addr().Port}
	dlg, err := u.dialogs.Invite(ctx, to, offer, sipmsg.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return nil, err
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		dlg.Close()
		return nil, err
	}
	if err := dlg.Ack(ctx); err != nil {
		dlg.Close()
		return nil, err
	}
	return dlg, nil
}

// inDialog sends a request of method with body inside dlg and returns the
// final response.
func inDialog(ctx context.Context, t *testing.T, dlg *sipgo.DialogClientSession, method sipmsg.RequestMethod, contentType string, body []byte) *sipmsg.Response {
	t.Helper()
	req := sipmsg.NewRequest(method, dlg.InviteResponse.Contact().Address)
	if contentType != "" {
		req.AppendHeader(sipmsg.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	res, err := dlg.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if method == sipmsg.INVITE && res.IsSuccess() {
		ack := sipmsg.NewRequest(sipmsg.ACK, dlg.InviteResponse.Contact().Address)
		if err := dlg.WriteRequest(ack); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
	return res
}

// TestReInviteRetransmit: the 2xx to a re-INVITE is retransmitted (T1,
// 2·T1, …) until the ACK comes, and not after it.
func TestReInviteRetransmit(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	h.call(t)
	count := func(ack bool) int {
		req := sipmsg.NewRequest(sipmsg.INVITE, dlg.InviteResponse.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(sdpOffer(40000, "0"))
		tx, err := dlg.TransactionRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Terminate()
		var mu sync.Mutex
		n := 0
		tx.OnRetransmission(func(res *sipmsg.Response) { // RFC 6026: 2xx copies in the Accepted state
			mu.Lock()
			n++
			mu.Unlock()
		})
		end := time.After(1800 * time.Millisecond)
		for {
			select {
			case res := <-tx.Responses():
				if res.StatusCode != 200 {
					continue
				}
				mu.Lock()
				n++
				mu.Unlock()
				if ack {
					if err := dlg.WriteRequest(sipmsg.NewRequest(sipmsg.ACK, dlg.InviteResponse.Contact().Address)); err != nil {
						t.Fatal(err)
					}
				}
			case <-end:
				mu.Lock()
				defer mu.Unlock()
				return n
			}
		}
	}
	if n := count(false); n < 3 {
		t.Errorf("%d 200s in 1.8 s without ACK, want 3 (at 0, 0.5 and 1.5 s)", n)
	}
	if n := count(true); n != 1 {
		t.Errorf("%d 200s in 1.8 s with an ACK, want 1", n)
	}
	_ = dlg.Bye(ctx)
	<-h.ended
}

// heldCall is an OnCall that keeps the call until it ends and hands it
// over, with the error Recv ended with.
type heldCall struct {
	calls chan *sip.Call
	ended chan error
	keys  chan rune
}

func newHeldCall() *heldCall {
	return &heldCall{calls: make(chan *sip.Call, 4), ended: make(chan error, 4), keys: make(chan rune, 16)}
}

func (h *heldCall) onCall(ctx context.Context, call telephony.Call) {
	h.calls <- call.(*sip.Call)
	for {
		in, err := call.Recv(ctx)
		if err != nil {
			h.ended <- err
			return
		}
		if in.Digit != 0 {
			h.keys <- in.Digit
		}
	}
}

func (h *heldCall) call(t *testing.T) *sip.Call {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("OnCall did not run")
		return nil
	}
}

// TestRouting: the called user picks the route; an unknown user gets 404
// when there is no default route.
func TestRouting(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall,
		Routes: map[string]string{"sales": "flow-sales", "+33123456789": "support"}})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct{ user, route string }{{"sales", "flow-sales"}, {"+33123456789", "support"}} {
		dlg, err := u.callTo(ctx, srv, tc.user, sdpOffer(40000, "0"))
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		if got := h.call(t).Route(); got != tc.route {
			t.Errorf("%s: route %q, want %q", tc.user, got, tc.route)
		}
		if err := dlg.Bye(ctx); err != nil {
			t.Error(err)
		}
		dlg.Close()
		<-h.ended
	}
	if _, err := u.callTo(ctx, srv, "nobody", sdpOffer(40000, "0")); statusOf(err) != 404 {
		t.Errorf("unknown user: %v, want 404", err)
	}
	for end := time.Now().Add(2 * time.Second); srv.Calls() != 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond) // the ended calls' handlers finish
	}
	if n := srv.Calls(); n != 0 {
		t.Errorf("%d calls after the refusal", n)
	}
}

// TestDefaultRoute: with a default route every user is answered.
func TestDefaultRoute(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall, Routes: map[string]string{"sales": "s"}, DefaultRoute: "demo"})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.callTo(ctx, srv, "anyone", sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	if got := h.call(t).Route(); got != "demo" {
		t.Errorf("route %q, want demo", got)
	}
	_ = dlg.Bye(ctx)
	<-h.ended
}

// TestMediaTimeout: a caller that sends no RTP is hung up after
// MediaTimeout: it gets a BYE and Recv ends with ErrMediaTimeout.
func TestMediaTimeout(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall, MediaTimeout: 400 * time.Millisecond})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	select {
	case <-dlg.Context().Done():
	case <-ctx.Done():
		t.Fatal("no BYE after the media timeout")
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("BYE after %v, before the 400ms timeout", d)
	}
	err = <-h.ended
	if !errors.Is(err, sip.ErrMediaTimeout) || !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Recv ended with %v, want ErrMediaTimeout and ErrHangup", err)
	}
}

// TestMediaKeepsCallUp: RTP within the timeout keeps the call up.
func TestMediaKeepsCallUp(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall, MediaTimeout: 300 * time.Millisecond})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := udp(t)
	dlg, err := u.call(ctx, srv, sdpOffer(port(conn), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, _ := sip.Negotiate(dlg.InviteResponse.Body())
	h.call(t)
	s := newRTPSender(conn, ans.Remote, 0, 5)
	for range 50 { // 1 s, longer than the timeout
		s.send(t, nil, 0)
		time.Sleep(20 * time.Millisecond)
	}
	if dlg.Context().Err() != nil {
		t.Fatal("call ended while the caller sent media")
	}
	_ = dlg.Bye(ctx)
	if err := <-h.ended; errors.Is(err, sip.ErrMediaTimeout) {
		t.Errorf("Recv: %v", err)
	}
}

func udp(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// udpPair binds an even RTP port and the RTCP port above it.
func udpPair(t *testing.T) (rtpConn, rtcpConn *net.UDPConn) {
	t.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 0 {
			r, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
			if err == nil {
				t.Cleanup(func() { c.Close(); r.Close() })
				return c, r
			}
		}
		c.Close()
	}
	t.Fatal("no UDP port pair")
	return nil, nil
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// rtpSender sends the caller's PCMU packets.
type rtpSender struct {
	conn *net.UDPConn
	to   *net.UDPAddr
	pt   uint8
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newRTPSender(c *net.UDPConn, to *net.UDPAddr, pt uint8, ssrc uint32) *rtpSender {
	return &rtpSender{conn: c, to: to, pt: pt, ssrc: ssrc, seq: 1000, ts: 160000}
}

// send sends one 20 ms packet of pcm (silence when nil); skip > 0 drops
// that many sequence numbers first, as a lossy network would.
func (s *rtpSender) send(t *testing.T, pcm []int16, skip int) {
	t.Helper()
	s.seq += uint16(skip)
	s.ts += uint32(skip * 160)
	payload := make([]byte, 160)
	if pcm == nil {
		pcm = make([]int16, 160)
	}
	g711.EncodeUlaw(payload[:0], pcm)
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: s.pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s.seq++
	s.ts += 160
	if _, err := s.conn.WriteToUDP(b, s.to); err != nil {
		t.Fatal(err)
	}
}

// toneFor is an OnCall that plays a tone until the call ends, then reports
// the call.
func toneFor(out chan<- *sip.Call) func(context.Context, telephony.Call) {
	return func(ctx context.Context, call telephony.Call) {
		go func() {
			for {
				if _, err := call.Recv(ctx); err != nil {
					return
				}
			}
		}()
		f := media.NewFrame(8000)
		for i := 0; ; i++ {
			for j := range f.Samples {
				f.Samples[j] = int16(6000 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
			}
			if err := call.Send(ctx, f); err != nil {
				break
			}
		}
		out <- call.(*sip.Call)
	}
}

// TestRTCP: the server sends sender reports to the caller's RTCP port
// (RTP + 1) with a reception report block whose loss matches the packets
// the caller left out and whose LSR echoes the caller's own SR; the
// caller's report on the server's stream shows up in Stats. Under
// rtcp-mux the reports come on the RTP port.
func TestRTCP(t *testing.T) {
	for _, mux := range []bool{false, true} {
		name := "port+1"
		if mux {
			name = "rtcp-mux"
		}
		t.Run(name, func(t *testing.T) { testRTCP(t, mux) })
	}
}

func testRTCP(t *testing.T, mux bool) {
	calls := make(chan *sip.Call, 1)
	srv := serve(t, sip.Config{OnCall: toneFor(calls), RTCPInterval: 300 * time.Millisecond})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rtpC, rtcpC := udpPair(t)
	offer := sdpOffer(port(rtpC), "0")
	if mux {
		offer = append(offer, "a=rtcp-mux\r\n"...)
		rtcpC = rtpC
	}
	dlg, err := u.call(ctx, srv, offer)
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, err := sip.Negotiate(dlg.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}
	if ans.RTCPMux != mux {
		t.Errorf("answer rtcp-mux %v, want %v", ans.RTCPMux, mux)
	}

	// The caller: 60 packets with 6 left out, an SR about its stream with a
	// report on the server's.
	var serverSSRC uint32
	var mu sync.Mutex
	var srs []*rtcp.SenderReport
	var rtpPackets int
	var rtpAtSR []int // RTP packets received when each SR came
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 1500)
		for ctx.Err() == nil && dlg.Context().Err() == nil {
			_ = rtcpC.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := rtcpC.Read(buf)
			if err != nil {
				continue
			}
			if buf[1] >= 192 && buf[1] <= 223 {
				pkts, err := rtcp.Unmarshal(buf[:n])
				if err != nil {
					t.Errorf("server RTCP: %v", err)
					continue
				}
				mu.Lock()
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok {
						srs = append(srs, sr)
						rtpAtSR = append(rtpAtSR, rtpPackets)
					}
				}
				mu.Unlock()
			} else {
				var p rtp.Packet
				if p.Unmarshal(buf[:n]) == nil {
					mu.Lock()
					serverSSRC = p.SSRC
					rtpPackets++
					mu.Unlock()
				}
			}
		}
	}()
	if !mux { // drain the server's RTP on the RTP socket
		go func() {
			buf := make([]byte, 1500)
			for ctx.Err() == nil && dlg.Context().Err() == nil {
				_ = rtpC.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				n, err := rtpC.Read(buf)
				var p rtp.Packet
				if err == nil && p.Unmarshal(buf[:n]) == nil {
					mu.Lock()
					serverSSRC = p.SSRC
					rtpPackets++
					mu.Unlock()
				}
			}
		}()
	}
	call := make(chan *sip.Call, 1)
	s := newRTPSender(rtpC, ans.Remote, 0, 4242)
	var callerSRNTP uint64
	for i := range 60 {
		skip := 0
		if i%10 == 5 {
			skip = 1
		}
		s.send(t, nil, skip)
		if i == 30 {
			mu.Lock()
			ssrc := serverSSRC
			mu.Unlock()
			callerSRNTP = uint64(time.Now().Unix()+2208988800) << 32
			b, _ := rtcp.Marshal([]rtcp.Packet{
				&rtcp.SenderReport{SSRC: 4242, NTPTime: callerSRNTP, RTPTime: s.ts, PacketCount: 31, OctetCount: 31 * 160,
					Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: 25, TotalLost: 3, LastSequenceNumber: 99, Jitter: 7}}},
				rtcp.NewCNAMESourceDescription(4242, "caller@test"),
			})
			if _, err := rtcpC.WriteToUDP(b, ans.RTCP); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // at least one report after the last packet
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	var c *sip.Call
	select {
	case c = <-calls:
	case <-ctx.Done():
		t.Fatal("OnCall did not end")
	}
	close(call)
	<-readDone
	st := c.Stats()
	if !st.HaveRemote || st.Remote.FractionLost != 25 || st.Remote.Jitter != 7 || st.Remote.TotalLost != 3 {
		t.Errorf("server kept the caller's report as %+v (have %v)", st.Remote, st.HaveRemote)
	}
	if st.RTCPReceived != 1 || st.RTCPSent < 3 {
		t.Errorf("RTCP received %d (want 1), sent %d (want ≥ 3 at 300 ms over 2 s)", st.RTCPReceived, st.RTCPSent)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(srs) < 3 {
		t.Fatalf("caller got %d sender reports, want ≥ 3", len(srs))
	}
	last := srs[len(srs)-1]
	if last.SSRC != serverSSRC {
		t.Errorf("SR SSRC %x, RTP SSRC %x", last.SSRC, serverSSRC)
	}
	if d := int(last.PacketCount) - rtpAtSR[len(srs)-1]; d < -3 || d > 3 {
		t.Errorf("SR packet count %d, caller had received %d", last.PacketCount, rtpAtSR[len(srs)-1])
	}
	if last.OctetCount != 160*last.PacketCount {
		t.Errorf("SR octets %d for %d packets", last.OctetCount, last.PacketCount)
	}
	if len(last.Reports) != 1 {
		t.Fatalf("SR has %d report blocks, want 1", len(last.Reports))
	}
	rr := last.Reports[0]
	if rr.SSRC != 4242 || rr.TotalLost != 6 || rr.LastSequenceNumber != uint32(s.seq-1) {
		t.Errorf("report block %+v: want SSRC 4242, 6 lost, last seq %d", rr, s.seq-1)
	}
	if rr.LastSenderReport != uint32(callerSRNTP>>16) || rr.Delay == 0 {
		t.Errorf("LSR %x DLSR %d, want LSR %x and a delay", rr.LastSenderReport, rr.Delay, uint32(callerSRNTP>>16))
	}
	// The SR's RTP time and NTP time agree with the stream's clock: two
	// reports 8 kHz apart per second.
	if len(srs) >= 2 {
		a, b := srs[len(srs)-2], srs[len(srs)-1]
		dt := float64(b.NTPTime-a.NTPTime) / (1 << 32)
		dts := float64(b.RTPTime-a.RTPTime) / 8000
		if math.Abs(dt-dts) > 0.03 {
			t.Errorf("SRs %.3fs apart on the NTP clock, %.3fs on the RTP clock", dt, dts)
		}
	}
}

// TestDrain: Shutdown refuses new calls with 503 and waits for the call in
// progress; when it ends Shutdown returns and Serve with it. A second
// server's Shutdown deadline hangs up the call still up with a BYE.
func TestDrain(t *testing.T) {
	h := newHeldCall()
	srv, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: h.onCall})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	h.call(t)
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := u.call(ctx, srv, sdpOffer(40002, "0")); statusOf(err) != 503 {
		t.Errorf("INVITE while draining: %v, want 503", err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call up", err)
	case <-time.After(200 * time.Millisecond):
	}
	if dlg.Context().Err() != nil {
		t.Fatal("the call was hung up by the drain")
	}
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	<-h.ended

	// Deadline: the call is hung up.
	h2 := newHeldCall()
	srv2, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: h2.onCall})
	if err != nil {
		t.Fatal(err)
	}
	go func() { served <- srv2.Serve(context.Background()) }()
	dlg2, err := u.call(ctx, srv2, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg2.Close()
	h2.call(t)
	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	if err := srv2.Shutdown(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown at the deadline: %v", err)
	}
	select {
	case <-dlg2.Context().Done():
	case <-ctx.Done():
		t.Error("no BYE at the drain deadline")
	}
	if err := <-h2.ended; !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Recv: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// countRTP counts the server's RTP packets reaching c during d.
func countRTP(c *net.UDPConn, d time.Duration) int {
	n := 0
	end := time.Now().Add(d)
	buf := make([]byte, 1500)
	for time.Now().Before(end) {
		_ = c.SetReadDeadline(end)
		m, err := c.Read(buf)
		var p rtp.Packet
		if err == nil && !(buf[1] >= 192 && buf[1] <= 223) && p.Unmarshal(buf[:m]) == nil {
			n++
		}
	}
	return n
}

// TestHold: a re-INVITE with a=sendonly holds the call (answer recvonly,
// no RTP from the server), a=inactive is answered inactive, a=sendrecv
// resumes; an offer without SDP (refresh) gets the call's SDP; a codec
// change gets 488.
func TestHold(t *testing.T) {
	calls := make(chan *sip.Call, 1)
	srv := serve(t, sip.Config{OnCall: toneFor(calls)})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _ := udpPair(t)
	dlg, err := u.call(ctx, srv, sdpOffer(port(conn), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	if n := countRTP(conn, 300*time.Millisecond); n < 10 {
		t.Fatalf("%d RTP packets in 300 ms before hold", n)
	}
	version := func(b []byte) string {
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, "o=") {
				return strings.Fields(l)[2]
			}
		}
		return ""
	}
	v0 := version(dlg.InviteResponse.Body())
	for _, step := range []struct {
		offer, answer string
		flowing       bool
	}{
		{"sendonly", "recvonly", false},
		{"inactive", "inactive", false},
		{"sendrecv", "sendrecv", true},
	} {
		res := inDialog(ctx, t, dlg, sipmsg.INVITE, "application/sdp",
			append(sdpOffer(port(conn), "0"), "a="+step.offer+"\r\n"...))
		if res.StatusCode != 200 {
			t.Fatalf("re-INVITE %s: %d", step.offer, res.StatusCode)
		}
		ans, err := sip.Negotiate(res.Body())
		if err != nil || ans.Direction != step.answer {
			t.Errorf("re-INVITE %s answered %q (%v), want %s", step.offer, ans.Direction, err, step.answer)
		}
		if v := version(res.Body()); v == v0 {
			t.Errorf("re-INVITE %s: SDP version still %s", step.offer, v)
		} else {
			v0 = v
		}
		countRTP(conn, 100*time.Millisecond) // drain what was sent before the answer
		n := countRTP(conn, 300*time.Millisecond)
		if step.flowing && n < 10 || !step.flowing && n != 0 {
			t.Errorf("after %s: %d RTP packets in 300 ms", step.offer, n)
		}
	}
	// Session refresh without SDP: the same description back, same version.
	res := inDialog(ctx, t, dlg, sipmsg.INVITE, "", nil)
	if res.StatusCode != 200 || version(res.Body()) != v0 {
		t.Errorf("refresh: %d version %s, want 200 and %s", res.StatusCode, version(res.Body()), v0)
	}
	res = inDialog(ctx, t, dlg, sipmsg.UPDATE, "", nil)
	if res.StatusCode != 200 {
		t.Errorf("UPDATE refresh: %d", res.StatusCode)
	}
	res = inDialog(ctx, t, dlg, sipmsg.INVITE, "application/sdp", sdpOffer(port(conn), "8"))
	if res.StatusCode != 488 {
		t.Errorf("codec change: %d, want 488", res.StatusCode)
	}
	if dlg.Context().Err() != nil {
		t.Fatal("call ended")
	}
	_ = dlg.Bye(ctx)
	<-calls
}

// TestInfoDTMF: keys sent with SIP INFO come out of Recv; other bodies
// are refused.
func TestInfoDTMF(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	h.call(t)
	for _, tc := range []struct {
		ct, body string
		status   int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200},
		{"application/dtmf", "#", 200},
		{"application/dtmf-relay", "Signal= 10\r\nDuration= 100\r\n", 200},
		{"application/dtmf-relay", "Duration=160\r\n", 400},
		{"application/dtmf", "x", 400},
		{"text/plain", "5", 415},
	} {
		res := inDialog(ctx, t, dlg, sipmsg.INFO, tc.ct, []byte(tc.body))
		if res.StatusCode != tc.status {
			t.Errorf("INFO %s %q: %d, want %d", tc.ct, tc.body, res.StatusCode, tc.status)
		}
	}
	var got string
	for range 3 {
		select {
		case k := <-h.keys:
			got += string(k)
		case <-time.After(2 * time.Second):
		}
	}
	if got != "5#*" {
		t.Errorf("keys %q, want 5#*", got)
	}
	_ = dlg.Bye(ctx)
	<-h.ended
}

// TestInbandDTMF: without telephone-event in the offer, keys played as
// tones in the caller's audio are detected.
func TestInbandDTMF(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := udp(t)
	dlg, err := u.call(ctx, srv, sdpOffer(port(conn), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, _ := sip.Negotiate(dlg.InviteResponse.Body())
	if ans.DTMF != -1 {
		t.Fatalf("answer has telephone-event %d", ans.DTMF)
	}
	h.call(t)
	g, err := dtmf.NewGenerator(dtmf.ToneConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pcm := g.AppendSilence(nil, 200*time.Millisecond)
	pcm, err = g.AppendDigits(pcm, "19#")
	if err != nil {
		t.Fatal(err)
	}
	pcm = g.AppendSilence(pcm, 300*time.Millisecond)
	s := newRTPSender(conn, ans.Remote, 0, 9)
	start := time.Now()
	for i := 0; i+160 <= len(pcm); i += 160 {
		s.send(t, pcm[i:i+160], 0)
		time.Sleep(time.Until(start.Add(time.Duration(i/160+1) * 20 * time.Millisecond)))
	}
	var got string
	for range 3 {
		select {
		case k := <-h.keys:
			got += string(k)
		case <-time.After(2 * time.Second):
		}
	}
	if got != "19#" {
		t.Errorf("in-band keys %q, want 19#", got)
	}
	_ = dlg.Bye(ctx)
	<-h.ended
}

func TestParseDTMFInfo(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		want     rune
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160", '5'},
		{"Application/DTMF-Relay; charset=x", "signal = *\nDuration=250\n", '*'},
		{"application/dtmf-relay", "Signal=11", '#'},
		{"application/dtmf-relay", "Signal=d", 'D'},
		{"application/dtmf", " 7 \r\n", '7'},
	} {
		got, err := sip.ParseDTMFInfo(tc.ct, []byte(tc.body))
		if err != nil || got != tc.want {
			t.Errorf("%s %q: %q %v, want %q", tc.ct, tc.body, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ ct, body string }{
		{"application/dtmf-relay", ""}, {"application/dtmf-relay", "Signal=55"},
		{"application/dtmf", ""}, {"application/sdp", "Signal=1"}, {"", "5"},
		{"application/dtmf-relay", "Signal=16"},
	} {
		if _, err := sip.ParseDTMFInfo(tc.ct, []byte(tc.body)); !errors.Is(err, sip.ErrDTMFInfo) {
			t.Errorf("%s %q: %v, want ErrDTMFInfo", tc.ct, tc.body, err)
		}
	}
}

// TestCancel: with Ring set, the server rings (180); the caller's CANCEL
// ends the attempt with 487 and OnCall never runs. Without a CANCEL the
// call is answered after the ring.
func TestCancel(t *testing.T) {
	h := newHeldCall()
	srv := serve(t, sip.Config{OnCall: h.onCall, Ring: time.Second})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	to := sipmsg.Uri{Scheme: "sip", User: "bot", Host: "127.0.0.1", Port: srv.Addr().Port}
	dlg, err := u.dialogs.Invite(ctx, to, sdpOffer(40000, "0"), sipmsg.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	ringing := make(chan struct{})
	var once sync.Once
	wctx, stop := context.WithCancel(ctx)
	go func() {
		<-ringing
		stop() // WaitAnswer sends CANCEL when its context ends
	}()
	err = dlg.WaitAnswer(wctx, sipgo.AnswerOptions{OnResponse: func(res *sipmsg.Response) error {
		if res.StatusCode == 180 {
			once.Do(func() { close(ringing) })
		}
		return nil
	}})
	dlg.Close()
	if err == nil {
		t.Fatal("answered despite the CANCEL")
	}
	select {
	case <-ringing:
	default:
		t.Error("no 180 Ringing")
	}
	select {
	case c := <-h.calls:
		t.Fatalf("OnCall ran for a cancelled call %s", c.Info().ID)
	case <-time.After(1500 * time.Millisecond): // past the ring
	}
	if n := srv.Calls(); n != 0 {
		t.Errorf("%d calls after the CANCEL", n)
	}
	start := time.Now()
	dlg2, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg2.Close()
	if d := time.Since(start); d < time.Second {
		t.Errorf("answered after %v, before the 1 s ring", d)
	}
	h.call(t)
	_ = dlg2.Bye(ctx)
	<-h.ended
}

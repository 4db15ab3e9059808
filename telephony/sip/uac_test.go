package sip_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

// uac is a minimal caller built on sipgo's client: it INVITEs the server
// and takes the BYE the server sends.
type uac struct {
	dialogs *sipgo.DialogClientCache
	stop    func()

	mu      sync.Mutex
	onRefer func(req *sipmsg.Request, tx sipmsg.ServerTransaction) // nil: 405
}

// setRefer installs the caller's REFER handler.
func (u *uac) setRefer(f func(req *sipmsg.Request, tx sipmsg.ServerTransaction)) {
	u.mu.Lock()
	u.onRefer = f
	u.mu.Unlock()
}

func newUAC(t *testing.T) *uac {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientAddr(addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	u := &uac{dialogs: sipgo.NewDialogClientCache(client,
		sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: addr.Port}})}
	srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) { _ = u.dialogs.ReadBye(req, tx) })
	srv.OnRefer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		u.mu.Lock()
		f := u.onRefer
		u.mu.Unlock()
		if f == nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
			return
		}
		f(req, tx)
	})
	done := make(chan struct{})
	go func() { _ = srv.ServeUDP(conn); close(done) }()
	u.stop = func() { ua.Close(); conn.Close(); <-done }
	t.Cleanup(u.stop)
	return u
}

func sdpOffer(port int, formats string, rtpmaps ...string) []byte {
	s := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", port, formats)
	for _, m := range rtpmaps {
		s += "a=rtpmap:" + m + "\r\n"
	}
	return []byte(s)
}

// call INVITEs srv with offer and returns the dialog once answered and
// ACKed, or the final error.
func (u *uac) call(ctx context.Context, srv *sip.Server, offer []byte) (*sipgo.DialogClientSession, error) {
	to := sipmsg.Uri{Scheme: "sip", User: "bot", Host: "127.0.0.1", Port: srv.Addr().Port}
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

func statusOf(err error) int {
	var r *sipgo.ErrDialogResponse
	if errors.As(err, &r) {
		return r.Res.StatusCode
	}
	var rv sipgo.ErrDialogResponse
	if errors.As(err, &rv) {
		return rv.Res.StatusCode
	}
	return 0
}

// TestUACCall: the test is the caller, over sipgo's client and its own RTP
// socket. It advertises one RTP port but sends from another (symmetric RTP
// must answer to the second), sends a 1 kHz tone and the key 7; the bot
// plays 1 s of 440 Hz, the key 5, then hangs up, and the caller must get
// the BYE.
func TestUACCall(t *testing.T) {
	type record struct {
		loud    int
		keys    string
		recvErr error
		errs    []error
	}
	recs := make(chan record, 1)
	srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
		var rec record
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				in, err := call.Recv(ctx)
				if err != nil {
					rec.recvErr = err
					return
				}
				if in.Digit != 0 {
					rec.keys += string(in.Digit)
				} else if rms(in.Frame.Samples) > 1000 {
					rec.loud++
				}
			}
		}()
		time.Sleep(300 * time.Millisecond) // let the caller's media start
		f := media.NewFrame(8000)
		for i := range 50 {
			for j := range f.Samples {
				f.Samples[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
			}
			if err := call.Send(ctx, f); err != nil {
				rec.errs = append(rec.errs, err)
				break
			}
		}
		if err := call.SendDTMF(ctx, "5"); err != nil {
			rec.errs = append(rec.errs, err)
		}
		time.Sleep(600 * time.Millisecond) // hear the caller's key
		if err := call.Hangup(ctx); err != nil {
			rec.errs = append(rec.errs, err)
		}
		if err := call.Hangup(ctx); err != nil {
			rec.errs = append(rec.errs, fmt.Errorf("second Hangup: %w", err))
		}
		wg.Wait()
		recs <- rec
	}})
	u := newUAC(t)

	decoy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer decoy.Close()
	media_, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer media_.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(decoy.LocalAddr().(*net.UDPAddr).Port, "0 101", "0 PCMU/8000", "101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, err := sip.Negotiate(dlg.InviteResponse.Body())
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, dlg.InviteResponse.Body())
	}
	if ans.Codec.Name != "PCMU" || ans.DTMF != 101 {
		t.Errorf("answer %+v", ans)
	}

	// Caller's media: 1.5 s of 1 kHz tone, with key 7 at 0.5 s.
	sendDone := make(chan error, 1)
	go func() { sendDone <- sendCallerMedia(media_, ans.Remote) }()

	// Bot's media, read until the BYE.
	var pcm []int16
	var keys []dtmf.Digit
	rx, _ := dtmf.NewReceiver(dtmf.ReceiverConfig{PayloadType: 101})
	buf := make([]byte, 1500)
	var p rtp.Packet
	for ctx.Err() == nil && dlg.Context().Err() == nil {
		_ = media_.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := media_.Read(buf)
		if err != nil {
			continue
		}
		if p.Unmarshal(buf[:n]) != nil {
			t.Fatal("server sent a packet that is not RTP")
		}
		switch p.PayloadType {
		case 0:
			pcm = g711.DecodeUlaw(pcm, p.Payload)
		case 101:
			keys, _ = rx.ReceiveRTP(keys, time.Now(), &p)
		default:
			t.Errorf("payload type %d", p.PayloadType)
		}
	}
	if dlg.Context().Err() == nil {
		t.Fatal("no BYE from the server")
	}
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	rec := <-recs
	for _, err := range rec.errs {
		t.Error(err)
	}
	if !errors.Is(rec.recvErr, telephony.ErrHangup) {
		t.Errorf("Recv ended with %v", rec.recvErr)
	}
	if rec.keys != "7" {
		t.Errorf("bot heard keys %q, want 7", rec.keys)
	}
	if rec.loud < 40 {
		t.Errorf("bot heard %d loud frames, want ≥ 40 of the 75 sent", rec.loud)
	}
	// The bot's audio came to the socket the caller sends from (symmetric
	// RTP), is 1 s long and is a 440 Hz tone.
	if len(pcm) < 7000 || len(pcm) > 8000 {
		t.Errorf("caller got %d samples, want 8000 (a few may go to the SDP address first)", len(pcm))
	}
	if f := zeroCrossFreq(pcm, 8000); math.Abs(f-440) > 10 {
		t.Errorf("caller's tone is %.1f Hz, want 440", f)
	}
	if len(keys) != 1 || keys[0].Event != dtmf.Event(5) {
		t.Errorf("caller got keys %v, want 5", keys)
	}
}

func sendCallerMedia(c *net.UDPConn, to *net.UDPAddr) error {
	tx, err := dtmf.NewSender(dtmf.SenderConfig{})
	if err != nil {
		return err
	}
	ev, _ := dtmf.ParseDigit('7')
	events, err := tx.AppendEvent(nil, ev, 4000, 100*time.Millisecond)
	if err != nil {
		return err
	}
	start := time.Now()
	seq, payload := uint16(1), make([]byte, 160)
	send := func(pt uint8, marker bool, ts uint32, pl []byte) error {
		seq++
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
			SequenceNumber: seq, Timestamp: ts, SSRC: 77}, Payload: pl}).Marshal()
		if err != nil {
			return err
		}
		_, err = c.WriteToUDP(b, to)
		return err
	}
	next := 0
	for i := range 75 {
		at := start.Add(time.Duration(i) * media.FrameDuration)
		for next < len(events) && !start.Add(500*time.Millisecond+events[next].At).After(at) {
			if err := send(101, events[next].Marker, events[next].Timestamp, events[next].AppendPayload(nil)); err != nil {
				return err
			}
			next++
		}
		time.Sleep(time.Until(at))
		for j := range payload {
			payload[j] = g711.EncodeUlawSample(int16(6000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000)))
		}
		if err := send(0, i == 0, uint32(i*160), payload); err != nil {
			return err
		}
	}
	return nil
}

// zeroCrossFreq estimates the frequency of a tone from its sign changes.
func zeroCrossFreq(s []int16, rate int) float64 {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(s)) / float64(rate))
}

// TestRefusals: an offer with no common codec gets 488; a call beyond
// MaxCalls gets 486 while the first is up.
func TestRefusals(t *testing.T) {
	hold := make(chan struct{})
	srv := serve(t, sip.Config{MaxCalls: 1, OnCall: func(ctx context.Context, call telephony.Call) {
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, err := u.call(ctx, srv, sdpOffer(40000, "9 111", "111 opus/48000/2"))
	if statusOf(err) != 488 {
		t.Errorf("G.722/Opus offer: %v, want 488", err)
	}
	first, err := u.call(ctx, srv, sdpOffer(40000, "8"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.call(ctx, srv, sdpOffer(40002, "0"))
	if statusOf(err) != 486 {
		t.Errorf("second call: %v, want 486", err)
	}
	close(hold) // OnCall returns: the server hangs up
	select {
	case <-first.Context().Done():
	case <-ctx.Done():
		t.Error("no BYE after OnCall returned")
	}
	first.Close()
}

// TestShutdown: a call is up when the server shuts down; its OnCall sees
// ctx done, and the caller gets a BYE. The RTP port comes from the range.
func TestShutdown(t *testing.T) {
	lo := 20000 + 2*(freeUDPPort(t)%10000)
	srv, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", RTPPortMin: lo, RTPPortMax: lo + 40,
		OnCall: func(ctx context.Context, call telephony.Call) {
			for {
				if _, err := call.Recv(ctx); err != nil {
					return
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
	if err != nil {
		stop()
		<-served
		t.Fatal(err)
	}
	defer dlg.Close()
	if m, err := sip.Negotiate(dlg.InviteResponse.Body()); err != nil || m.Remote.Port < lo || m.Remote.Port > lo+40 || m.Remote.Port%2 != 0 {
		t.Errorf("answer RTP %v (%v), want an even port in %d-%d", m.Remote, err, lo, lo+40)
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return")
	}
	select {
	case <-dlg.Context().Done():
	case <-ctx.Done():
		t.Error("no BYE at shutdown")
	}
}

func TestConfigErrors(t *testing.T) {
	on := func(context.Context, telephony.Call) {}
	for _, cfg := range []sip.Config{
		{Addr: "127.0.0.1:0"},
		{Addr: "127.0.0.1:0", OnCall: on, MaxCalls: -1},
		{Addr: "127.0.0.1:0", OnCall: on, RTPPortMin: 3000},
		{Addr: "127.0.0.1:0", OnCall: on, RTPPortMin: 4000, RTPPortMax: 3000},
		{Addr: "0.0.0.0:0", OnCall: on},
		{Addr: "nonsense", OnCall: on},
	} {
		if _, err := sip.Listen(cfg); !errors.Is(err, sip.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
}

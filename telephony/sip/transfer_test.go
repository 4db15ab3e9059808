package sip_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

// referee answers REFER with 202 and sends NOTIFYs with the sipfrag
// status lines given, as a transferee (RFC 3515) does.
func referee(t *testing.T, u *uac, referTo chan<- string, frags ...string) *sync.WaitGroup {
	var wg sync.WaitGroup
	u.setRefer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		dlg, err := u.dialogs.MatchRequestDialog(req)
		if err != nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		if h := req.GetHeader("Refer-To"); h != nil {
			referTo <- h.Value()
		}
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 202, "Accepted", nil))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for i, frag := range frags {
				n := sipmsg.NewRequest(sipmsg.NOTIFY, dlg.InviteResponse.Contact().Address)
				n.AppendHeader(sipmsg.NewHeader("Event", "refer"))
				state := "active;expires=60"
				if i == len(frags)-1 {
					state = "terminated;reason=noresource"
				}
				n.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
				n.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
				n.SetBody([]byte(frag + "\r\n"))
				res, err := dlg.Do(ctx, n)
				if err != nil || res.StatusCode != 200 {
					t.Errorf("NOTIFY %q: %v %v", frag, res, err)
				}
			}
		}()
	})
	return &wg
}

// TestTransferRefer: blind transfer by REFER; the NOTIFY 200 completes it
// and the transferor hangs up. A failing NOTIFY makes Transfer fail.
func TestTransferRefer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []string
		ok    bool
	}{
		{"success", []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}, true},
		{"target busy", []string{"SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := make(chan error, 1)
			srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
				errs <- call.Transfer(ctx, "sip:agent@192.0.2.9:5060", false)
			}})
			u := newUAC(t)
			referTo := make(chan string, 1)
			wg := referee(t, u, referTo, tc.frags...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dlg, err := u.call(ctx, srv, sdpOffer(40000, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer dlg.Close()
			err = <-errs
			if got := <-referTo; got != "<sip:agent@192.0.2.9:5060>" {
				t.Errorf("Refer-To %q", got)
			}
			if tc.ok && err != nil {
				t.Errorf("Transfer: %v", err)
			}
			if !tc.ok && !errors.Is(err, sip.ErrTransferFailed) {
				t.Errorf("Transfer: %v, want ErrTransferFailed", err)
			}
			select { // BYE: after the transfer, or from the server once OnCall returned
			case <-dlg.Context().Done():
			case <-ctx.Done():
				t.Error("no BYE")
			}
			wg.Wait()
		})
	}
}

// TestTransferBridge: the caller refuses REFER (405), so the leg calls the
// target — another parole server — and relays audio both ways: the
// caller hears the target's 440 Hz tone, the target hears the caller's
// 1 kHz tone, and the caller's BYE ends the target's call too.
func TestTransferBridge(t *testing.T) {
	recs := make(chan callRecord, 1)
	target := serve(t, sip.Config{OnCall: recordingHandler(3*time.Second, recs)})
	transferErr := make(chan error, 1)
	srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
		transferErr <- call.Transfer(ctx, "sip:agent@"+target.Addr().String(), false)
	}})
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
	s := newRTPSender(conn, ans.Remote, 0, 31)
	var pcm []int16
	tone := make([]int16, 160)
	start := time.Now()
	buf := make([]byte, 1500)
	for i := 0; time.Since(start) < 2500*time.Millisecond; i++ {
		for j := range tone {
			tone[j] = int16(6000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000))
		}
		s.send(t, tone, 0)
		next := start.Add(time.Duration(i+1) * 20 * time.Millisecond)
		for {
			_ = conn.SetReadDeadline(next)
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 0 {
				pcm = g711.DecodeUlaw(pcm, p.Payload)
			}
		}
	}
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	var rec callRecord
	select {
	case rec = <-recs:
	case <-ctx.Done():
		t.Fatal("the target's call did not end")
	}
	if err := <-transferErr; err != nil {
		t.Errorf("Transfer: %v", err)
	}
	if !errors.Is(rec.recvErr, telephony.ErrHangup) {
		t.Errorf("target's Recv ended with %v", rec.recvErr)
	}
	if rec.loud < 50 {
		t.Errorf("target heard %d loud frames of the caller, want ≥ 50", rec.loud)
	}
	if len(pcm) < 8000 {
		t.Fatalf("caller got %d samples through the bridge, want ≥ 8000", len(pcm))
	}
	// Skip the start (silence before the target answered).
	tail := pcm[len(pcm)-8000:]
	if f := zeroCrossFreq(tail, 8000); math.Abs(f-440) > 15 {
		t.Errorf("caller hears %.1f Hz through the bridge, want the target's 440", f)
	}
}

func TestParseSipfrag(t *testing.T) {
	for body, want := range map[string]int{"SIP/2.0 200 OK\r\n": 200, "SIP/2.0 100 Trying": 100, "sip/2.0 603 Declined\r\nX: y\r\n": 603} {
		if got, err := sip.ParseSipfrag([]byte(body)); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", body, got, err, want)
		}
	}
	for _, body := range []string{"", "HTTP/1.1 200 OK", "SIP/2.0 abc", "SIP/2.0 99 x", "SIP/2.0"} {
		if _, err := sip.ParseSipfrag([]byte(body)); err == nil {
			t.Errorf("%q: no error", body)
		}
	}
}

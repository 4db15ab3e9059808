package webrtc

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/telephony"
)

// audioResult is what the server side of TestAudioBothWays heard.
type audioResult struct {
	codec     string
	frames    []float64 // RMS of each frame received
	share     float64   // share of the received audio at the peer's tone
	rate      int
	recvErr   error
	sentErr   error
	sentCount int
}

// The page sends a 1 kHz sine, the bot a 440 Hz sine: each side must hear
// the other's tone, frame by frame, through Opus and through PCMU.
func TestAudioBothWays(t *testing.T) {
	for _, codec := range []string{CodecOpus, CodecG722, CodecPCMU} {
		t.Run(codec, func(t *testing.T) {
			results := make(chan audioResult, 1)
			_, hs := newTestServer(t, Config{OnCall: func(ctx context.Context, c *Call) {
				res := audioResult{codec: c.Codec(), rate: c.Info().Rate}
				sent := make(chan error, 1)
				go func() {
					for i := range 75 { // 1.5 s
						if err := c.Send(ctx, sine(440, i*320, 8000)); err != nil {
							sent <- err
							return
						}
						res.sentCount++
					}
					sent <- nil
				}()
				var heard []int16
				for len(res.frames) < 100 {
					in, err := c.Recv(ctx)
					if err != nil {
						res.recvErr = err
						break
					}
					if in.Frame == nil {
						continue
					}
					r := rmsOf(in.Frame.Samples)
					res.frames = append(res.frames, r)
					if r > 1000 {
						heard = append(heard, in.Frame.Samples...)
					}
				}
				res.sentErr = <-sent
				res.share = toneShare(heard, Rate, 1000)
				results <- res
			}})
			p := dialPeer(t, hs, DefaultPath, peerOptions{codec: codec, toneHz: 1000})
			var res audioResult
			select {
			case res = <-results:
			case <-time.After(20 * time.Second):
				t.Fatal("the call did not run")
			}
			if res.codec != codec || res.rate != Rate {
				t.Errorf("codec %q at %d Hz, want %s at %d", res.codec, res.rate, codec, Rate)
			}
			if res.recvErr != nil || res.sentErr != nil {
				t.Fatalf("recv %v, send %v", res.recvErr, res.sentErr)
			}
			loud := 0
			for _, r := range res.frames {
				if r > 1000 {
					loud++
				}
			}
			// The page's sine is 8000 peak (RMS 5657); after the jitter
			// buffer's start most of the 100 frames must carry it.
			if loud < 70 {
				t.Errorf("%d of %d frames from the page above RMS 1000: %v", loud, len(res.frames), res.frames)
			}
			if res.share < 0.8 {
				t.Errorf("received audio: %.2f of its energy at 1 kHz", res.share)
			}
			time.Sleep(300 * time.Millisecond) // the last packets in flight
			got, rate := p.received()
			if loud := loudFrames(got, rate, 1000); loud < 60 {
				t.Errorf("the page heard %d loud frames of the bot's 75", loud)
			}
			// Frame by frame, the loud frames carry the 440 Hz tone (the
			// median frame: an underrun of a loaded machine may cut one).
			var shares []float64
			n := rate / 50
			for i := 0; i+n <= len(got); i += n {
				if rmsOf(got[i:i+n]) > 1000 {
					shares = append(shares, toneShare(got[i:i+n], rate, 440))
				}
			}
			slices.Sort(shares)
			if len(shares) == 0 {
				t.Error("the page heard no loud frame")
			} else if m := shares[len(shares)/2]; m < 0.8 {
				t.Errorf("the page's loud frames: median %.2f of their energy at 440 Hz", m)
			}
		})
	}
}

// Keys both ways: an RFC 4733 event and a data-channel key from the page
// reach Recv; SendDTMF plays a key in band that the page detects.
func TestDTMFBothWays(t *testing.T) {
	for _, codec := range []string{CodecOpus, CodecPCMU} {
		t.Run(codec, func(t *testing.T) {
			digits := make(chan rune, 8)
			sendErr := make(chan error, 1)
			_, hs := newTestServer(t, Config{OnCall: func(ctx context.Context, c *Call) {
				go func() { sendErr <- c.SendDTMF(ctx, "7") }()
				for {
					in, err := c.Recv(ctx)
					if err != nil {
						return
					}
					if in.Digit != 0 {
						digits <- in.Digit
					}
				}
			}})
			p := dialPeer(t, hs, DefaultPath, peerOptions{codec: codec})
			p.waitConnected(10 * time.Second)
			p.keys <- '5'
			got := []rune{}
			timeout := time.After(10 * time.Second)
			for len(got) < 1 {
				select {
				case d := <-digits:
					got = append(got, d)
				case <-timeout:
					t.Fatal("no RFC 4733 key reached Recv")
				}
			}
			select {
			case <-p.dcOpen:
			case <-timeout:
				t.Fatal("the data channel did not open")
			}
			if err := p.dc.SendText("#"); err != nil {
				t.Fatal(err)
			}
			for len(got) < 2 {
				select {
				case d := <-digits:
					got = append(got, d)
				case <-timeout:
					t.Fatalf("keys %q, want 5 #", string(got))
				}
			}
			p.send(message{Type: msgDTMF, Digits: "9x"}) // x is ignored
			for len(got) < 3 {
				select {
				case d := <-digits:
					got = append(got, d)
				case <-timeout:
					t.Fatalf("keys %q, want 5 # 9", string(got))
				}
			}
			if string(got) != "5#9" {
				t.Errorf("keys %q, want \"5#9\"", string(got))
			}
			if err := <-sendErr; err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			if m, ok := p.waitMessage(msgDTMF, "", 2*time.Second); !ok || m.Digits != "7" {
				t.Errorf("dtmf message %+v", m)
			}
			time.Sleep(200 * time.Millisecond)
			audio, rate := p.received()
			det, err := dtmf.NewDetector(dtmf.DetectorConfig{Rate: rate})
			if err != nil {
				t.Fatal(err)
			}
			tones := det.Flush(det.Write(nil, audio))
			var keys []string
			for _, tn := range tones {
				keys = append(keys, tn.String())
			}
			if len(tones) != 1 || tones[0].Event != dtmf.Event7 {
				t.Errorf("the page heard keys %v, want one 7", keys)
			}
		})
	}
}

// runUntilHangup is an OnCall that records the error ending Recv.
func runUntilHangup(ended chan<- error, reason chan<- string) func(context.Context, *Call) {
	return func(ctx context.Context, c *Call) {
		for {
			if _, err := c.Recv(ctx); err != nil {
				ended <- err
				reason <- c.Reason()
				return
			}
		}
	}
}

func waitEnd(t *testing.T, ended <-chan error, reason <-chan string, want string, d time.Duration) {
	t.Helper()
	select {
	case err := <-ended:
		if !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("Recv: %v, want ErrHangup", err)
		}
		if r := <-reason; r != want {
			t.Errorf("reason %q, want %q", r, want)
		}
	case <-time.After(d):
		t.Fatalf("the call did not end (want %q)", want)
	}
}

func TestPageHangsUp(t *testing.T) {
	ended, reason := make(chan error, 1), make(chan string, 1)
	srv, hs := newTestServer(t, Config{OnCall: runUntilHangup(ended, reason)})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus})
	if _, ok := p.waitMessage(msgAnswer, "", 5*time.Second); !ok {
		t.Fatal("no answer")
	}
	time.Sleep(500 * time.Millisecond)
	p.send(message{Type: msgHangup})
	waitEnd(t, ended, reason, "caller hung up", 5*time.Second)
	waitNoCalls(t, srv)
}

func TestPageCloses(t *testing.T) {
	ended, reason := make(chan error, 1), make(chan string, 1)
	srv, hs := newTestServer(t, Config{OnCall: runUntilHangup(ended, reason)})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus})
	if _, ok := p.waitMessage(msgAnswer, "", 5*time.Second); !ok {
		t.Fatal("no answer")
	}
	time.Sleep(500 * time.Millisecond)
	p.close() // the tab closes: the socket and the peer connection go
	select {
	case err := <-ended:
		if !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("Recv: %v", err)
		}
		// Whichever of the websocket or DTLS close is seen first.
		if r := <-reason; r != "caller hung up" && r != "connection closed" {
			t.Errorf("reason %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	waitNoCalls(t, srv)
}

func TestBotHangsUp(t *testing.T) {
	srv, hs := newTestServer(t, Config{OnCall: func(ctx context.Context, c *Call) {
		time.Sleep(300 * time.Millisecond)
		if err := c.Hangup(ctx); err != nil {
			t.Errorf("Hangup: %v", err)
		}
		if err := c.Hangup(ctx); err != nil { // twice is fine
			t.Errorf("second Hangup: %v", err)
		}
		if _, err := c.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("Recv after Hangup: %v", err)
		}
		if err := c.Send(ctx, sine(440, 0, 100)); !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("Send after Hangup: %v", err)
		}
	}})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus})
	m, ok := p.waitMessage(msgHangup, "", 10*time.Second)
	if !ok {
		t.Fatal("the page was not told of the hangup")
	}
	if m.Reason != "bot hung up" {
		t.Errorf("hangup reason %q", m.Reason)
	}
	waitNoCalls(t, srv)
}

// No RTP from the page for MediaTimeout ends the call.
func TestMediaTimeout(t *testing.T) {
	ended, reason := make(chan error, 1), make(chan string, 1)
	srv, hs := newTestServer(t, Config{MediaTimeout: 1500 * time.Millisecond, OnCall: runUntilHangup(ended, reason)})
	dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus, noMedia: true})
	waitEnd(t, ended, reason, "media timeout", 10*time.Second)
	waitNoCalls(t, srv)
}

// A page that never completes ICE (it ignores the answer) is dropped
// after MediaTimeout without running OnCall.
func TestConnectTimeout(t *testing.T) {
	ran := make(chan struct{}, 1)
	srv, hs := newTestServer(t, Config{MediaTimeout: time.Second, OnCall: func(context.Context, *Call) { ran <- struct{}{} }})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus, noMedia: true})
	_ = p.pc.Close() // before the answer can be applied: no ICE on our side
	m, ok := p.waitMessage(msgHangup, "", 10*time.Second)
	if !ok {
		t.Fatal("no hangup")
	}
	if m.Reason != "connection timeout" && m.Reason != "connection closed" {
		t.Errorf("reason %q", m.Reason)
	}
	select {
	case <-ran:
		t.Error("OnCall ran for a call that never connected")
	default:
	}
	waitNoCalls(t, srv)
}

func waitNoCalls(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.ActiveCalls() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still active", s.ActiveCalls())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The page vanishes from the network (no DTLS close, no hangup): ICE
// fails after ICETimeout, before the media timeout.
func TestICEFailure(t *testing.T) {
	ended, reason := make(chan error, 1), make(chan string, 1)
	srv, hs := newTestServer(t, Config{ICETimeout: 2 * time.Second, MediaTimeout: 30 * time.Second, OnCall: runUntilHangup(ended, reason)})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus, mux: true})
	p.waitConnected(10 * time.Second)
	time.Sleep(300 * time.Millisecond)
	p.cut()
	waitEnd(t, ended, reason, "ICE failed", 15*time.Second)
	waitNoCalls(t, srv)
}

// Clear drops the queued reply at once (barge-in): of three loud frames
// queued, at most the one on the wire plays; without Clear all three do.
func TestClear(t *testing.T) {
	for _, clearIt := range []bool{false, true} {
		heard := make(chan struct{}, 1)
		_, hs := newTestServer(t, Config{OnCall: func(ctx context.Context, c *Call) {
			time.Sleep(500 * time.Millisecond) // the page's jitter buffer settles
			for i := range queueFrames {
				if err := c.Send(ctx, sine(440, i*320, 8000)); err != nil {
					t.Error(err)
				}
			}
			if clearIt {
				if err := c.Clear(ctx); err != nil {
					t.Error(err)
				}
			}
			for range 25 {
				if err := c.Send(ctx, sine(440, 0, 0)); err != nil {
					t.Error(err)
				}
			}
			heard <- struct{}{}
			<-ctx.Done()
		}})
		p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecPCMU})
		select {
		case <-heard:
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not run")
		}
		time.Sleep(200 * time.Millisecond)
		got, rate := p.received()
		loud := loudFrames(got, rate, 1000)
		// The 16→8 kHz resampler's delay spreads a frame over two packets.
		if clearIt && loud > 2 || !clearIt && loud < queueFrames {
			t.Errorf("Clear %v: %d loud frames heard", clearIt, loud)
		}
		p.close()
	}
}

// The page closes its peer connection (DTLS close_notify) but not the
// socket: the call ends all the same.
func TestDTLSClose(t *testing.T) {
	ended, reason := make(chan error, 1), make(chan string, 1)
	srv, hs := newTestServer(t, Config{OnCall: runUntilHangup(ended, reason)})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus})
	p.waitConnected(10 * time.Second)
	time.Sleep(300 * time.Millisecond)
	_ = p.pc.Close()
	waitEnd(t, ended, reason, "connection closed", 10*time.Second)
	if _, ok := p.waitMessage(msgHangup, "", 5*time.Second); !ok {
		t.Error("the page was not told")
	}
	waitNoCalls(t, srv)
}

package sip_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/telephony/sip"
	"github.com/parole-voice/parole/tts/espeak"
)

// spoken returns text said by espeak-ng, at 8 kHz (sox resamples).
func spoken(t *testing.T, text string) []int16 {
	t.Helper()
	f, err := os.Open(testutil.SpokenWAV(t, text))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := wav.ReadAll(f)
	if err != nil || rate != 8000 {
		t.Fatalf("question WAV: rate %d, %v", rate, err)
	}
	return pcm
}

type replies struct {
	mu    sync.Mutex
	texts []string
}

func (r *replies) Observe(e session.Event) {
	if e.Kind == session.Reply {
		r.mu.Lock()
		r.texts = append(r.texts, e.Text)
		r.mu.Unlock()
	}
}

// TestVoiceSession runs the real voice session (demo flow, pocketsphinx,
// espeak-ng) on a SIP call: the caller, over RTP from the test, waits for
// the greeting, asks to book an appointment, hears the bot ask for the
// day and hangs up with BYE.
func TestVoiceSession(t *testing.T) {
	if testing.Short() {
		t.Skip("real engines: skipped with -short")
	}
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	question := spoken(t, "I would like to book an appointment")
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		t.Fatalf("stt/sphinx: %v", err)
	}
	defer rec.Close()
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatalf("tts/espeak: %v", err)
	}
	fl, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := flow.New(fl)
	if err != nil {
		t.Fatal(err)
	}
	obs := &replies{}
	runErr := make(chan error, 1)
	srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
		runErr <- session.Run(ctx, call, session.Config{
			Dialog: runner.New(eng, store.NewMemory(store.Options{})), Recognizer: rec, Synthesizer: synth,
			Observer: obs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}})
	u := newUAC(t)
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpConn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dlg, err := u.call(ctx, srv, sdpOffer(rtpConn.LocalAddr().(*net.UDPAddr).Port, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, err := sip.Negotiate(dlg.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}

	// The caller, frame by frame on the wall clock.
	const (
		waitGreeting = iota
		asking
		waitReply
	)
	phase, qi := waitGreeting, 0
	var heard [3]time.Duration // loud audio heard in each phase
	var lastLoud time.Time
	payload, pcm := make([]byte, 160), make([]int16, 0, 160)
	buf := make([]byte, 1500)
	var p rtp.Packet
	start := time.Now()
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			t.Fatalf("caller still in phase %d after 90 s (heard %v)", phase, heard)
		}
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		time.Sleep(time.Until(at))
		for { // the bot's audio that came in
			_ = rtpConn.SetReadDeadline(time.Now().Add(time.Millisecond))
			n, err := rtpConn.Read(buf)
			if err != nil {
				break
			}
			if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
				continue
			}
			pcm = g711.DecodeUlaw(pcm[:0], p.Payload)
			if rms(pcm) > 300 {
				heard[phase] += 20 * time.Millisecond
				lastLoud = time.Now()
			}
		}
		frame := make([]int16, 160)
		switch phase {
		case waitGreeting:
			if heard[phase] > 0 && time.Since(lastLoud) > 700*time.Millisecond {
				phase = asking
			}
		case asking:
			copy(frame, question[qi:])
			qi += 160
			if qi >= len(question) {
				phase = waitReply
			}
		case waitReply:
			if heard[phase] > 0 && time.Since(lastLoud) > time.Second {
				if err := dlg.Bye(ctx); err != nil {
					t.Fatalf("BYE: %v", err)
				}
				goto hungUp
			}
		}
		payload = g711.EncodeUlaw(payload[:0], frame)
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(i * 160), SSRC: 5}, Payload: payload}).Marshal()
		if _, err := rtpConn.WriteToUDP(b, ans.Remote); err != nil {
			t.Fatal(err)
		}
	}
hungUp:
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("session.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session.Run did not return after the caller's BYE")
	}
	obs.mu.Lock()
	texts := obs.texts
	obs.mu.Unlock()
	t.Logf("replies %q; caller heard greeting %v, reply %v", texts, heard[waitGreeting], heard[waitReply])
	if len(texts) < 2 || texts[1] != "Which day would you like to come?" {
		t.Fatalf("replies %q", texts)
	}
	if heard[waitGreeting] < time.Second || heard[waitReply] < time.Second {
		t.Errorf("caller heard %v of greeting and %v of reply, want ≥ 1 s each", heard[waitGreeting], heard[waitReply])
	}
}

// TestSippDTMFMenu: sipp presses 2 (an RFC 4733 capture shipped with
// sip-tester) during the demo flow's greeting; the menu takes the key and
// the bot asks for the day of the appointment.
func TestSippDTMFMenu(t *testing.T) {
	if testing.Short() {
		t.Skip("real engines: skipped with -short")
	}
	sipp := testutil.RequireTool(t, "sipp", "sip-tester")
	testutil.RequireFile(t, "/usr/share/sip-tester/dtmf_2833_2.pcap", "sip-tester")
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		t.Fatalf("stt/sphinx: %v", err)
	}
	defer rec.Close()
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatalf("tts/espeak: %v", err)
	}
	fl, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := flow.New(fl)
	if err != nil {
		t.Fatal(err)
	}
	obs := &replies{}
	runErr := make(chan error, 1)
	srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
		runErr <- session.Run(ctx, call, session.Config{
			Dialog: runner.New(eng, store.NewMemory(store.Options{})), Recognizer: rec, Synthesizer: synth,
			Observer: obs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}})
	cmd := exec.Command(sipp, "-sf", "testdata/uac_dtmf_menu.xml", "-m", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)&^1),
		"-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", t.TempDir()+"/errors.log",
		srv.Addr().String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sipp failed: %v\n%s", err, tail(out))
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("session.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session.Run did not return after the caller's BYE")
	}
	obs.mu.Lock()
	texts := obs.texts
	obs.mu.Unlock()
	if len(texts) < 2 || texts[1] != "Which day would you like to come?" {
		t.Fatalf("replies %q, want the day question after key 2", texts)
	}
}

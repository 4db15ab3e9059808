package sip_test

import (
	"context"
	"errors"
	"math"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// callRecord is what the test's OnCall saw of a call.
type callRecord struct {
	info         telephony.Info
	frames, loud int
	keys         string
	recvErr      error
	sendErr      error
	sent         int64
	received     int64
}

// recordingHandler returns an OnCall that plays toneFor of a 440 Hz tone
// to the caller while it records the caller's frames and keys until the
// call ends, then reports on the channel.
func recordingHandler(toneFor time.Duration, out chan<- callRecord) func(context.Context, telephony.Call) {
	return func(ctx context.Context, call telephony.Call) {
		var rec callRecord
		rec.info = call.Info()
		sendDone := make(chan error, 1)
		go func() {
			f := media.NewFrame(8000)
			var n int
			for i := 0; time.Duration(i)*media.FrameDuration < toneFor; i++ {
				for j := range f.Samples {
					f.Samples[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(n)/8000))
					n++
				}
				if err := call.Send(ctx, f); err != nil {
					sendDone <- err
					return
				}
			}
			sendDone <- nil
		}()
		for {
			in, err := call.Recv(ctx)
			if err != nil {
				rec.recvErr = err
				break
			}
			if in.Digit != 0 {
				rec.keys += string(in.Digit)
				continue
			}
			rec.frames++
			if rms(in.Frame.Samples) > 300 {
				rec.loud++
			}
		}
		rec.sendErr = <-sendDone
		if c, ok := call.(*sip.Call); ok {
			rec.received, rec.sent = c.Packets()
		}
		out <- rec
	}
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// serve starts a server on 127.0.0.1 and stops it at the end of the test.
func serve(t *testing.T, cfg sip.Config) *sip.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	srv, err := sip.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// TestSippCall: sipp (sip-tester) calls the server with PCMA and
// telephone-event, presses 1 and plays its g711a.pcap speech capture, then
// hangs up with BYE.
func TestSippCall(t *testing.T) {
	sipp := testutil.RequireTool(t, "sipp", "sip-tester")
	testutil.RequireFile(t, "/usr/share/sip-tester/g711a.pcap", "sip-tester")
	recs := make(chan callRecord, 1)
	srv := serve(t, sip.Config{OnCall: recordingHandler(time.Second, recs)})

	cmd := exec.Command(sipp, "-sf", "testdata/uac_pcma.xml", "-m", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)&^1),
		"-timeout", "40s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", t.TempDir()+"/errors.log",
		srv.Addr().String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp failed: %v\n%s", err, tail(out))
	}
	var rec callRecord
	select {
	case rec = <-recs:
	case <-time.After(10 * time.Second):
		t.Fatal("OnCall did not return after the caller's BYE")
	}
	t.Logf("call %+v", rec)
	if rec.info.Channel != "sip" || rec.info.Rate != 8000 || rec.info.ID == "" {
		t.Errorf("info %+v", rec.info)
	}
	if !errors.Is(rec.recvErr, telephony.ErrHangup) {
		t.Errorf("Recv ended with %v, want ErrHangup", rec.recvErr)
	}
	if rec.sendErr != nil {
		t.Errorf("Send: %v", rec.sendErr)
	}
	// The capture holds 236 PCMA packets (4.7 s) of speech; the call
	// lasts about 8 s of frames.
	if rec.frames < 300 {
		t.Errorf("%d frames received, want ≥ 300 (8 s call)", rec.frames)
	}
	if rec.loud < 100 {
		t.Errorf("%d loud frames, want ≥ 100 of the capture's speech", rec.loud)
	}
	if rec.received < 236 {
		t.Errorf("%d RTP packets received, want ≥ 236", rec.received)
	}
	if rec.keys != "1" {
		t.Errorf("keys %q, want \"1\"", rec.keys)
	}
	if rec.sent != 50 {
		t.Errorf("%d RTP packets sent, want 50 (1 s tone)", rec.sent)
	}
}

func tail(b []byte) []byte {
	if len(b) > 3000 {
		return b[len(b)-3000:]
	}
	return b
}

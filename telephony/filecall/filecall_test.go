package filecall_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/filecall"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var _ telephony.Call = (*filecall.Call)(nil)

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i%1000 + 1)
	}
	return s
}

func frameOf(v int16) *media.Frame {
	f := media.NewFrame(8000)
	for i := range f.Samples {
		f.Samples[i] = v
	}
	return f
}

// Recv delivers lead, input and tail as 20 ms frames, keys before the
// frame they fall in, then ErrHangup.
func TestRecvTimeline(t *testing.T) {
	ctx := context.Background()
	in := ramp(8000 / 2) // 500 ms
	c, err := filecall.New(filecall.Config{Input: in, Lead: 100 * time.Millisecond, Tail: 200 * time.Millisecond,
		Keys: []filecall.Key{{At: 40 * time.Millisecond, Digit: '5'}, {At: 0, Digit: '#'}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int16
	var keys []rune
	var keyAt []time.Duration
	for {
		x, err := c.Recv(ctx)
		if errors.Is(err, telephony.ErrHangup) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if x.Digit != 0 {
			keys, keyAt = append(keys, x.Digit), append(keyAt, c.Elapsed())
			continue
		}
		if len(x.Frame.Samples) != 160 || x.Frame.Rate != 8000 {
			t.Fatalf("frame of %d samples at %d Hz", len(x.Frame.Samples), x.Frame.Rate)
		}
		got = append(got, x.Frame.Samples...)
	}
	if want := 800 * 8; len(got) != want { // 100 + 500 + 200 ms
		t.Fatalf("%d samples, want %d", len(got), want)
	}
	if !bytes.Equal(i16b(got[800:800+len(in)]), i16b(in)) || nonZero(got[:800]) != 0 || nonZero(got[800+len(in):]) != 0 {
		t.Error("input not at 100 ms, or lead/tail not silent")
	}
	if string(keys) != "#5" || keyAt[0] != 0 || keyAt[1] != 40*time.Millisecond {
		t.Errorf("keys %q at %v", string(keys), keyAt)
	}
	// Hung up for good.
	if _, err := c.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Recv after the end: %v", err)
	}
	if err := c.Send(ctx, frameOf(1)); !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Send after the end: %v", err)
	}
}

func i16b(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return b
}

func nonZero(s []int16) int {
	n := 0
	for _, v := range s {
		if v != 0 {
			n++
		}
	}
	return n
}

// Send places frames on the input's timeline: a late frame at the current
// slot, the next ones after it, each waiting for its input.
func TestSendLockstep(t *testing.T) {
	ctx := context.Background()
	c, _ := filecall.New(filecall.Config{Tail: time.Second})
	for range 5 { // 100 ms of input
		c.Recv(ctx)
	}
	if err := c.Send(ctx, frameOf(7)); err != nil { // slot 4 (80 ms)
		t.Fatal(err)
	}
	// The next frame is for slot 5: it waits for the input of slot 5.
	sent := make(chan error, 1)
	go func() { sent <- c.Send(ctx, frameOf(9)) }()
	select {
	case err := <-sent:
		t.Fatalf("Send ahead of the input returned %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	c.Recv(ctx)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	out := c.Output()
	if len(out) != 6*160 || nonZero(out[:4*160]) != 0 || out[4*160] != 7 || out[5*160] != 9 {
		t.Fatalf("output %d samples, slot 4 %d, slot 5 %d", len(out), out[4*160], out[5*160])
	}
	// A cancelled Send gives its slot back.
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	if err := c.Send(cctx, frameOf(3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Send: %v", err)
	}
	c.Recv(ctx)
	if err := c.Send(ctx, frameOf(4)); err != nil {
		t.Fatal(err)
	}
	if out := c.Output(); out[6*160] != 4 {
		t.Errorf("slot 6 = %d after a cancelled Send", out[6*160])
	}
	if c.FramesSent() != 3 {
		t.Errorf("%d frames sent", c.FramesSent())
	}
	// Hangup wakes a waiting Send.
	go func() { time.Sleep(5 * time.Millisecond); c.Hangup(ctx) }()
	if err := c.Send(ctx, frameOf(5)); !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Send during hangup: %v", err)
	}
}

func TestActions(t *testing.T) {
	ctx := context.Background()
	c, _ := filecall.New(filecall.Config{Tail: -1})
	for range 10 {
		c.Recv(ctx)
	}
	c.Clear(ctx)
	if err := c.SendDTMF(ctx, "12#"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(ctx, "x"); err == nil {
		t.Error("SendDTMF of a non-key")
	}
	if err := c.Transfer(ctx, "", false); err == nil {
		t.Error("transfer without a target")
	}
	if err := c.Transfer(ctx, "sip:op@pbx", true); err != nil {
		t.Fatal(err)
	}
	c.Hangup(ctx) // after the transfer the call is over: not recorded
	a := c.Actions()
	want := []filecall.Action{
		{Kind: filecall.ActionClear, At: 200 * time.Millisecond},
		{Kind: filecall.ActionDTMF, At: 200 * time.Millisecond, Digits: "12#"},
		{Kind: filecall.ActionTransfer, At: 200 * time.Millisecond, Target: "sip:op@pbx", Bridge: true},
	}
	if len(a) != len(want) {
		t.Fatalf("actions %+v", a)
	}
	for i := range a {
		if a[i] != want[i] {
			t.Errorf("action %d: %+v, want %+v", i, a[i], want[i])
		}
	}
	if _, err := c.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Recv after transfer: %v", err)
	}
}

// AfterPrompt holds the input back until the bot spoke and then was
// silent that long.
func TestAfterPrompt(t *testing.T) {
	ctx := context.Background()
	c, _ := filecall.New(filecall.Config{Input: ramp(160), AfterPrompt: 100 * time.Millisecond, Tail: 20 * time.Millisecond})
	// 10 frames of silence with the bot quiet: the caller waits.
	for range 10 {
		x, _ := c.Recv(ctx)
		if nonZero(x.Frame.Samples) != 0 {
			t.Fatal("caller spoke before any prompt")
		}
	}
	// The bot speaks for 3 frames (slots 9, 10, 11).
	for range 3 {
		c.Send(ctx, frameOf(1))
		c.Recv(ctx)
	}
	// Then 100 ms (5 frames) of bot silence, and the caller speaks.
	var at time.Duration
	for range 20 {
		x, err := c.Recv(ctx)
		if err != nil {
			break
		}
		if nonZero(x.Frame.Samples) > 0 {
			at = c.Elapsed() - media.FrameDuration
			break
		}
	}
	start, ok := c.InputStart()
	if !ok || at != start || at != 340*time.Millisecond {
		t.Errorf("caller spoke at %v, input start %v %v; want 340ms (last bot frame at 220 ms + 20 ms + 100 ms)", at, start, ok)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []filecall.Config{
		{Rate: 8001},
		{Rate: -8000},
		{Lead: -time.Second},
		{Keys: []filecall.Key{{Digit: 'x'}}},
		{Keys: []filecall.Key{{At: -1, Digit: '1'}}},
		{Input: ramp(100), InputRate: 3},
	} {
		if _, err := filecall.New(cfg); !errors.Is(err, filecall.ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	c, _ := filecall.New(filecall.Config{})
	if err := c.Send(context.Background(), media.NewFrame(16000)); err == nil {
		t.Error("Send of a 16 kHz frame on an 8 kHz call")
	}
	if err := c.Send(context.Background(), nil); err == nil {
		t.Error("Send(nil)")
	}
	if _, err := filecall.Open(filepath.Join(t.TempDir(), "none.wav"), filecall.Config{}); err == nil {
		t.Error("Open of a missing file")
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	os.WriteFile(bad, []byte("RIFF...."), 0o644)
	if _, err := filecall.Open(bad, filecall.Config{}); !errors.Is(err, wav.ErrNotWAV) && !errors.Is(err, wav.ErrTruncated) && !errors.Is(err, wav.ErrMalformed) {
		t.Errorf("Open of a bad file: %v", err)
	}
}

// A 16 kHz input on an 8 kHz call is resampled: a 1 kHz tone keeps its
// frequency and length. The output WAV, read back by sox, holds what was
// sent at the right place.
func TestResampledInputAndWAVBySox(t *testing.T) {
	soxBin := testutil.RequireTool(t, "sox", "sox")
	ctx := context.Background()
	dir := t.TempDir()
	tonePath := filepath.Join(dir, "tone16k.wav")
	if out, err := exec.Command(soxBin, "-n", "-r", "16000", "-b", "16", "-c", "1", tonePath, "synth", "0.5", "sine", "1000", "vol", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	c, err := filecall.Open(tonePath, filecall.Config{Tail: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var in []int16
	for {
		x, err := c.Recv(ctx)
		if err != nil {
			break
		}
		in = append(in, x.Frame.Samples...)
		if c.Elapsed() == 200*time.Millisecond {
			c.Send(ctx, frameOf(1000))
		}
	}
	if len(in) != 8*600 {
		t.Fatalf("%d samples for 500 ms + 100 ms", len(in))
	}
	// Zero crossings of a 1 kHz tone: 2 per ms.
	zc := 0
	for i := 1001; i < 3000; i++ {
		if (in[i-1] < 0) != (in[i] < 0) {
			zc++
		}
	}
	if zc < 490 || zc > 510 {
		t.Errorf("%d zero crossings in 250 ms, want ~500 (1 kHz)", zc)
	}
	out := filepath.Join(dir, "out.wav")
	f, _ := os.Create(out)
	if err := c.WriteWAV(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	stat, err := exec.Command(soxBin, out, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Fatalf("sox stat: %v %s", err, stat)
	}
	if !bytes.Contains(stat, []byte("Length (seconds):      0.600000")) || !bytes.Contains(stat, []byte("Maximum amplitude:     0.030518")) {
		t.Errorf("sox stat of the output:\n%s", stat)
	}
}

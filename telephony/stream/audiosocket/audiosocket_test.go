package audiosocket_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
	"github.com/parole-voice/parole/telephony/stream/audiosocket"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs a server on a free port; its calls come out of the channel.
func serve(t testing.TB, cfg audiosocket.Config) (*audiosocket.Server, chan *audiosocket.Call) {
	t.Helper()
	calls := make(chan *audiosocket.Call, 4)
	cfg.Listen = "127.0.0.1:0"
	if cfg.OnCall == nil {
		cfg.OnCall = func(ctx context.Context, c telephony.Call) {
			calls <- c.(*audiosocket.Call)
			<-ctx.Done()
		}
	}
	srv, err := audiosocket.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv, calls
}

// asterisk plays Asterisk's side, writing frames as the protocol
// description says: kind, length big-endian, payload.
type asterisk struct {
	t    testing.TB
	conn net.Conn
}

var testUUID = []byte{0x40, 0x32, 0x5e, 0xc2, 0x5e, 0xfd, 0x4b, 0xd3, 0x80, 0x5f, 0x53, 0x57, 0x6e, 0x58, 0x1d, 0x13}

func connect(t testing.TB, srv *audiosocket.Server) *asterisk {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &asterisk{t: t, conn: conn}
}

func (a *asterisk) frame(kind byte, payload []byte) {
	a.t.Helper()
	b := []byte{kind, byte(len(payload) >> 8), byte(len(payload))}
	if _, err := a.conn.Write(append(b, payload...)); err != nil {
		a.t.Errorf("asterisk write: %v", err)
	}
}

func (a *asterisk) audio(pcm []int16) {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	a.frame(0x10, b)
}

// read reads one frame parole sent.
func (a *asterisk) read() (byte, []byte, error) {
	var h [3]byte
	if _, err := io.ReadFull(a.conn, h[:]); err != nil {
		return 0, nil, err
	}
	p := make([]byte, binary.BigEndian.Uint16(h[1:]))
	_, err := io.ReadFull(a.conn, p)
	return h[0], p, err
}

func waitCall(t testing.TB, calls chan *audiosocket.Call) *audiosocket.Call {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call")
		return nil
	}
}

func tone(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return s
}

func crossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return n
}

func TestAudioBothWays(t *testing.T) {
	srv, calls := serve(t, audiosocket.Config{})
	a := connect(t, srv)
	a.frame(0x01, testUUID)
	call := waitCall(t, calls)
	if info := call.Info(); info.ID != "40325ec2-5efd-4bd3-805f-53576e581d13" || info.Channel != "audiosocket" || info.Rate != 8000 {
		t.Errorf("info %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pcm := tone(25*160, 1000, 8000)
	go func() { // 1 kHz in frames of 20 ms, 30 ms and 10 ms, then a key
		for off, i := 0, 0; off < len(pcm); i++ {
			n := []int{160, 240, 80}[i%3]
			n = min(n, len(pcm)-off)
			a.audio(pcm[off : off+n])
			off += n
		}
		a.frame(0x03, []byte{'#'})
	}()
	for i := range 25 {
		in, err := call.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv %d: %v", i, err)
		}
		if in.Frame == nil || len(in.Frame.Samples) != 160 {
			t.Fatalf("Recv %d: %+v", i, in)
		}
		for j, v := range in.Frame.Samples { // slin is lossless
			if v != pcm[160*i+j] {
				t.Fatalf("frame %d sample %d: %d, want %d", i, j, v, pcm[160*i+j])
			}
		}
		if c := crossings(in.Frame.Samples); c < 38 || c > 42 {
			t.Errorf("frame %d: %d zero crossings, want 40 for 1 kHz", i, c)
		}
	}
	if in, err := call.Recv(ctx); err != nil || in.Digit != '#' {
		t.Fatalf("Recv: %+v %v, want key #", in, err)
	}

	go func() {
		f := media.NewFrame(8000)
		for i := range 25 {
			for j := range f.Samples {
				f.Samples[j] = int16(100*i + j)
			}
			if err := call.Send(ctx, f); err != nil {
				t.Errorf("Send %d: %v", i, err)
				return
			}
		}
	}()
	var first time.Time
	for i := range 25 {
		kind, p, err := a.read()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = time.Now()
		}
		if kind != 0x10 || len(p) != 320 {
			t.Fatalf("frame %d: kind %#x, %d bytes; want slin of 320", i, kind, len(p))
		}
		for j := range 160 {
			if v := int16(binary.LittleEndian.Uint16(p[2*j:])); v != int16(100*i+j) {
				t.Fatalf("frame %d sample %d: %d, want %d (order?)", i, j, v, 100*i+j)
			}
		}
	}
	if span := time.Since(first); span < 440*time.Millisecond {
		t.Errorf("25 frames within %v: not paced at 20 ms", span)
	}

	// DTMF out: in-band, 100 ms tone + 100 ms gap = 10 frames.
	go func() {
		if err := call.SendDTMF(ctx, "1"); err != nil {
			t.Error(err)
		}
	}()
	for i := range 10 {
		if _, _, err := a.read(); err != nil {
			t.Fatalf("DTMF frame %d: %v", i, err)
		}
	}
	if err := call.SendDTMF(ctx, "x"); err == nil {
		t.Error("SendDTMF(x) succeeded")
	}
}

func TestClear(t *testing.T) {
	srv, calls := serve(t, audiosocket.Config{})
	a := connect(t, srv)
	a.frame(0x01, testUUID)
	call := waitCall(t, calls)
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan int)
	go func() {
		f := media.NewFrame(8000)
		n := 0
		for call.Send(ctx, f) == nil {
			n++
		}
		sent <- n
	}()
	got := 0
	for ; got < 5; got++ {
		if _, _, err := a.read(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	n := <-sent
	if err := call.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = a.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		if _, _, err := a.read(); err != nil {
			break
		}
		got++
	}
	st := call.Stats()
	t.Logf("%d queued, %d written, %d cleared", n, got, st.Cleared)
	if st.Cleared < 1 || int64(got)+st.Cleared != int64(n) {
		t.Errorf("queued %d ≠ written %d + cleared %d", n, got, st.Cleared)
	}
}

func TestHangup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, calls := serve(t, audiosocket.Config{})
	for name, end := range map[string]func(a *asterisk){
		"hangup frame": func(a *asterisk) { a.frame(0x00, nil) },
		"error frame":  func(a *asterisk) { a.frame(0xff, []byte{0x01}) },
		"close":        func(a *asterisk) { a.conn.Close() },
	} {
		a := connect(t, srv)
		a.frame(0x01, testUUID)
		call := waitCall(t, calls)
		end(a)
		if _, err := call.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("%s: Recv %v, want ErrHangup", name, err)
		}
		if err := call.Send(ctx, media.NewFrame(8000)); !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("%s: Send %v", name, err)
		}
		call.Hangup(ctx)
	}
	// parole hangs up: a hangup frame, then the socket closes.
	a := connect(t, srv)
	a.frame(0x01, testUUID)
	call := waitCall(t, calls)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if kind, p, err := a.read(); err != nil || kind != 0x00 || len(p) != 0 {
		t.Errorf("after Hangup: kind %#x %d bytes %v, want a hangup frame", kind, len(p), err)
	}
	if _, _, err := a.read(); !errors.Is(err, io.EOF) {
		t.Errorf("after the hangup frame: %v, want EOF", err)
	}
	if err := call.Transfer(ctx, "100", false); !errors.Is(err, telephony.ErrUnsupported) {
		t.Errorf("Transfer: %v", err)
	}
}

// Malformed frames close the connection (after an error frame when a call
// runs), never a panic; before the UUID no call reaches OnCall.
func TestBadFrames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, calls := serve(t, audiosocket.Config{MaxAudioBytes: 640})
	before := map[string][]byte{
		"audio first":     {0x10, 0x00, 0x02, 1, 2},
		"short UUID":      {0x01, 0x00, 0x04, 1, 2, 3, 4},
		"unknown kind":    {0x07, 0x00, 0x00},
		"truncated":       {0x01, 0x00},
		"truncated UUID":  {0x01, 0x00, 0x10, 1, 2, 3},
		"oversized audio": {0x10, 0xff, 0xff},
	}
	for name, b := range before {
		a := connect(t, srv)
		a.conn.Write(b)
		if name == "truncated" || name == "truncated UUID" {
			a.conn.(*net.TCPConn).CloseWrite()
		}
		_ = a.conn.SetReadDeadline(time.Now().Add(6 * time.Second))
		if _, err := io.ReadAll(a.conn); err != nil {
			t.Errorf("%s: %v, want the connection closed", name, err)
		}
		select {
		case c := <-calls:
			t.Errorf("%s: call %s reached OnCall", name, c.Info().ID)
		default:
		}
	}
	during := map[string][]byte{
		"unknown kind":    {0x42, 0x00, 0x01, 9},
		"16 kHz slin":     {0x12, 0x00, 0x02, 0, 0},
		"odd audio":       {0x10, 0x00, 0x03, 1, 2, 3},
		"oversized audio": {0x10, 0x02, 0x82},
		"bad key":         {0x03, 0x00, 0x01, 'x'},
		"long DTMF":       {0x03, 0x00, 0x02, '1', '2'},
		"second UUID":     append([]byte{0x01, 0x00, 0x10}, testUUID...),
		"hangup payload":  {0x00, 0x00, 0x01, 0},
	}
	for name, b := range during {
		a := connect(t, srv)
		a.frame(0x01, testUUID)
		call := waitCall(t, calls)
		a.conn.Write(b)
		_, err := call.Recv(ctx)
		if !errors.Is(err, stream.ErrProtocol) {
			t.Errorf("%s: Recv %v, want ErrProtocol", name, err)
		}
		if kind, p, err := a.read(); err != nil || kind != 0xff || len(p) != 1 {
			t.Errorf("%s: %#x %v %v, want an error frame", name, kind, p, err)
		}
		if _, _, err := a.read(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: %v, want the connection closed", name, err)
		}
		call.Hangup(ctx)
	}
	// A frame cut short mid-call.
	a := connect(t, srv)
	a.frame(0x01, testUUID)
	call := waitCall(t, calls)
	a.conn.Write([]byte{0x10, 0x01, 0x40, 1, 2, 3})
	a.conn.(*net.TCPConn).CloseWrite()
	if _, err := call.Recv(ctx); !errors.Is(err, stream.ErrProtocol) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: Recv %v", err)
	}
	call.Hangup(ctx)
}

func TestMaxCallsAndConfig(t *testing.T) {
	srv, calls := serve(t, audiosocket.Config{MaxCalls: 1})
	a := connect(t, srv)
	a.frame(0x01, testUUID)
	call := waitCall(t, calls)
	b := connect(t, srv)
	if kind, _, err := b.read(); err != nil || kind != 0xff {
		t.Errorf("second connection: %#x %v, want an error frame", kind, err)
	}
	call.Hangup(context.Background())
	for name, cfg := range map[string]audiosocket.Config{
		"no OnCall":   {},
		"listen":      {OnCall: func(context.Context, telephony.Call) {}, Listen: "nohost"},
		"audio bytes": {OnCall: func(context.Context, telephony.Call) {}, MaxAudioBytes: 100},
	} {
		if _, err := audiosocket.Listen(cfg); !errors.Is(err, stream.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

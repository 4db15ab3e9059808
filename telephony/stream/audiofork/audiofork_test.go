package audiofork_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
	"github.com/parole-voice/parole/telephony/stream/audiofork"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type testServer struct {
	srv   *audiofork.Server
	http  *httptest.Server
	calls chan *audiofork.Call
}

func newServer(t testing.TB, cfg audiofork.Config) *testServer {
	t.Helper()
	ts := &testServer{calls: make(chan *audiofork.Call, 4)}
	if cfg.OnCall == nil {
		cfg.OnCall = func(ctx context.Context, c telephony.Call) {
			ts.calls <- c.(*audiofork.Call)
			<-ctx.Done()
		}
	}
	srv, err := audiofork.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		ts.http.Close()
	})
	return ts
}

// dial connects as jambonz does: subprotocol audio.jambonz.org.
func (ts *testServer) dial(t testing.TB, h http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{"audio.jambonz.org"}}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(ts.http.URL, "http")+audiofork.DefaultPath, h)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

func (ts *testServer) waitCall(t testing.TB) *audiofork.Call {
	t.Helper()
	select {
	case c := <-ts.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call")
		return nil
	}
}

// jambonz's first text frame: the call attributes plus sampleRate, mixType.
func meta(rate int) string {
	b, _ := json.Marshal(map[string]any{
		"callSid": "b8f9e1c2-0000-4000-8000-000000000001", "from": "+15551230000", "to": "+15557890000",
		"direction": "inbound", "sampleRate": rate, "mixType": "mono",
	})
	return string(b)
}

func l16(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func tone(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
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

// Streaming at 16 kHz: 1 kHz in, DTMF in, paced binary frames out,
// killAudio on Clear, disconnect on Hangup.
func TestStreaming16k(t *testing.T) {
	ts := newServer(t, audiofork.Config{Username: "u", Password: "p"})
	if _, resp, err := ts.dial(t, nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %v %v, want 401", resp, err)
	}
	h := http.Header{}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("u", "p")
	h.Set("Authorization", req.Header.Get("Authorization"))
	conn, resp, err := ts.dial(t, h)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "audio.jambonz.org" {
		t.Errorf("subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	conn.WriteMessage(websocket.TextMessage, []byte(meta(16000)))
	call := ts.waitCall(t)
	if info := call.Info(); info.Rate != 16000 || info.ID != "b8f9e1c2-0000-4000-8000-000000000001" ||
		info.From != "+15551230000" || info.To != "+15557890000" || info.Channel != "audiofork" {
		t.Errorf("info %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pcm := tone(20*320, 16000, 1000, 8000)
	go func() {
		for off := 0; off < len(pcm); off += 480 { // 30 ms frames
			conn.WriteMessage(websocket.BinaryMessage, l16(pcm[off:min(off+480, len(pcm))]))
		}
		conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"dtmf","dtmf":"7","duration":"1600"}`))
	}()
	for i := range 20 {
		in, err := call.Recv(ctx)
		if err != nil || in.Frame == nil || len(in.Frame.Samples) != 320 || in.Frame.Rate != 16000 {
			t.Fatalf("Recv %d: %+v %v", i, in, err)
		}
		for j, v := range in.Frame.Samples {
			if v != pcm[320*i+j] {
				t.Fatalf("frame %d sample %d: %d ≠ %d", i, j, v, pcm[320*i+j])
			}
		}
		if c := crossings(in.Frame.Samples); c < 38 || c > 42 {
			t.Errorf("frame %d: %d crossings, want 40", i, c)
		}
	}
	if in, err := call.Recv(ctx); err != nil || in.Digit != '7' {
		t.Fatalf("Recv: %+v %v, want key 7", in, err)
	}

	sendCtx, stop := context.WithCancel(ctx)
	sent := make(chan int)
	go func() {
		f := media.NewFrame(16000)
		n := 0
		for ; ; n++ {
			for j := range f.Samples {
				f.Samples[j] = int16(n)
			}
			if call.Send(sendCtx, f) != nil {
				break
			}
		}
		sent <- n
	}()
	var first time.Time
	for i := range 15 {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = time.Now()
		}
		if typ != websocket.BinaryMessage || len(b) != 640 || int16(binary.LittleEndian.Uint16(b)) != int16(i) {
			t.Fatalf("frame %d: type %d, %d bytes; want binary 640 bytes of %d", i, typ, len(b), i)
		}
	}
	if span := time.Since(first); span < 250*time.Millisecond {
		t.Errorf("15 frames within %v: not paced", span)
	}
	stop()
	<-sent
	if err := call.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	killed := false
	for !killed {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		killed = typ == websocket.TextMessage && string(b) == `{"type":"killAudio"}`
	}
	if st := call.Stats(); st.Cleared < 1 {
		t.Errorf("stats %+v: nothing cleared", st)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	var sawDisconnect bool
	for {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
				t.Errorf("after Hangup: %v, want close 1000", err)
			}
			break
		}
		sawDisconnect = sawDisconnect || typ == websocket.TextMessage && string(b) == `{"type":"disconnect"}`
	}
	if !sawDisconnect {
		t.Error("no disconnect before the close")
	}
}

// mod_audio_fork style: playAudio chunks of base64 raw L16; the peer
// closing is a hangup.
func TestPlayAudio(t *testing.T) {
	ts := newServer(t, audiofork.Config{Mode: audiofork.ModePlayAudio, ChunkFrames: 5})
	conn, _, err := ts.dial(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.WriteMessage(websocket.TextMessage, []byte(`{"uuid":"fs-uuid-1","from":"1000","to":"2000"}`))
	call := ts.waitCall(t)
	if info := call.Info(); info.Rate != 8000 || info.ID != "fs-uuid-1" {
		t.Errorf("info %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		f := media.NewFrame(8000)
		for i := range 7 { // one chunk of 5, then a chunk of 2 at the end
			for j := range f.Samples {
				f.Samples[j] = int16(i*1000 + j)
			}
			call.Send(ctx, f)
		}
	}()
	var got []int16
	for msgs := 0; msgs < 2; msgs++ {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Type string `json:"type"`
			Data struct {
				AudioContentType string `json:"audioContentType"`
				SampleRate       int    `json:"sampleRate"`
				AudioContent     string `json:"audioContent"`
			} `json:"data"`
		}
		if typ != websocket.TextMessage || json.Unmarshal(b, &m) != nil || m.Type != "playAudio" ||
			m.Data.AudioContentType != "raw" || m.Data.SampleRate != 8000 {
			t.Fatalf("message %d: %.100s", msgs, b)
		}
		raw, err := base64.StdEncoding.DecodeString(m.Data.AudioContent)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(raw); i += 2 {
			got = append(got, int16(binary.LittleEndian.Uint16(raw[i:])))
		}
		if want := []int{5, 2}[msgs] * 160; len(raw) != 2*want {
			t.Errorf("playAudio %d: %d samples, want %d", msgs, len(raw)/2, want)
		}
	}
	for i, v := range got {
		if v != int16((i/160)*1000+i%160) {
			t.Fatalf("sample %d: %d (order?)", i, v)
		}
	}
	conn.Close()
	if _, err := call.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
		t.Errorf("Recv after close: %v", err)
	}
	call.Hangup(ctx)
}

func TestBadFrames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts := newServer(t, audiofork.Config{MaxMessageBytes: 4096})
	type msg struct {
		typ  int
		data []byte
	}
	before := map[string]msg{
		"audio first":   {websocket.BinaryMessage, []byte{0, 0}},
		"not an object": {websocket.TextMessage, []byte(`[1,2]`)},
		"bad JSON":      {websocket.TextMessage, []byte(`{"callSid":`)},
		"bad rate":      {websocket.TextMessage, []byte(`{"callSid":"x","sampleRate":44100}`)},
		"stereo":        {websocket.TextMessage, []byte(`{"callSid":"x","mixType":"stereo"}`)},
		"oversized":     {websocket.TextMessage, []byte(`{"a":"` + strings.Repeat("x", 5000) + `"}`)},
	}
	for name, m := range before {
		conn, _, err := ts.dial(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.WriteMessage(m.typ, m.data)
		_, _, err = conn.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || (ce.Code != websocket.CloseProtocolError && ce.Code != websocket.CloseMessageTooBig) {
			t.Errorf("%s: %v, want close 1002/1009", name, err)
		}
		select {
		case c := <-ts.calls:
			t.Errorf("%s: call %s reached OnCall", name, c.Info().ID)
		default:
		}
	}
	during := map[string]msg{
		"odd length":    {websocket.BinaryMessage, []byte{1, 2, 3}},
		"unknown text":  {websocket.TextMessage, []byte(`{"type":"hello"}`)},
		"bad JSON text": {websocket.TextMessage, []byte(`{`)},
		"bad dtmf":      {websocket.TextMessage, []byte(`{"event":"dtmf","dtmf":"99"}`)},
		"oversized":     {websocket.BinaryMessage, make([]byte, 5000)},
	}
	for name, m := range during {
		conn, _, err := ts.dial(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.WriteMessage(websocket.TextMessage, []byte(meta(8000)))
		call := ts.waitCall(t)
		conn.WriteMessage(m.typ, m.data)
		if _, err := call.Recv(ctx); !errors.Is(err, stream.ErrProtocol) && !errors.Is(err, stream.ErrTooLarge) {
			t.Errorf("%s: Recv %v, want ErrProtocol", name, err)
		}
		_, _, err = conn.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a close frame", name, err)
		}
		call.Hangup(ctx)
	}
	for name, cfg := range map[string]audiofork.Config{
		"no OnCall": {},
		"mode":      {OnCall: func(context.Context, telephony.Call) {}, Mode: "file"},
		"rate":      {OnCall: func(context.Context, telephony.Call) {}, SampleRate: 44100},
		"auth":      {OnCall: func(context.Context, telephony.Call) {}, Username: "u"},
	} {
		if _, err := audiofork.New(cfg); !errors.Is(err, stream.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

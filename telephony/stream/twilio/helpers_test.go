package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream/twilio"
)

const token = "12345"

// server runs a twilio.Server under httptest; calls come out of the
// returned channel (OnCall waits for run to be called with them).
type testServer struct {
	srv   *twilio.Server
	http  *httptest.Server
	calls chan *twilio.Call
}

func newServer(t testing.TB, cfg twilio.Config, onCall func(ctx context.Context, c telephony.Call)) *testServer {
	t.Helper()
	ts := &testServer{calls: make(chan *twilio.Call, 4)}
	if onCall == nil {
		onCall = func(ctx context.Context, c telephony.Call) {
			ts.calls <- c.(*twilio.Call)
			<-ctx.Done()
		}
	}
	cfg.OnCall = onCall
	srv, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	mux := http.NewServeMux()
	path := cfg.Path
	if path == "" {
		path = twilio.DefaultPath
	}
	mux.Handle(path, srv)
	mux.Handle(path+"/twiml", srv)
	ts.http = httptest.NewServer(mux)
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

func (ts *testServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ts.http.URL, "http") + path
}

// peer plays Twilio: it dials the websocket and speaks the Media Streams
// messages as Twilio's documentation shows them.
type peer struct {
	t    testing.TB
	conn *websocket.Conn
	sid  string
	seq  int
	wmu  sync.Mutex
}

// dial opens the websocket, signing the URL with token when it is set.
func dial(t *testing.T, ts *testServer, authToken string) (*peer, *http.Response, error) {
	t.Helper()
	u := ts.wsURL(twilio.DefaultPath)
	h := http.Header{}
	if authToken != "" {
		h.Set("X-Twilio-Signature", twilio.Signature(authToken, u, nil))
	}
	conn, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		return nil, resp, err
	}
	p := &peer{t: t, conn: conn, sid: "MZ18ad3ab5a668481ce02b83e7395059f0"}
	t.Cleanup(func() { conn.Close() })
	return p, resp, nil
}

func (p *peer) send(v any) {
	p.t.Helper()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.seq++
	if m, ok := v.(map[string]any); ok {
		m["sequenceNumber"] = itoa(p.seq)
		if m["event"] != "connected" {
			m["streamSid"] = p.sid
		}
	}
	if err := p.conn.WriteJSON(v); err != nil {
		p.t.Errorf("peer write: %v", err)
	}
}

func (p *peer) raw(b string) {
	p.t.Helper()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := p.conn.WriteMessage(websocket.TextMessage, []byte(b)); err != nil {
		p.t.Errorf("peer write: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// begin sends connected and start, as Twilio does first.
func (p *peer) begin(params map[string]string) {
	p.send(map[string]any{"event": "connected", "protocol": "Call", "version": "1.0.0"})
	p.send(map[string]any{"event": "start", "start": map[string]any{
		"accountSid": "AC00000000000000000000000000000000", "streamSid": p.sid,
		"callSid": "CA00000000000000000000000000000001", "tracks": []string{"inbound"},
		"customParameters": params,
		"mediaFormat":      map[string]any{"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
	}})
}

// media sends 20 ms of pcm as a μ-law media message.
func (p *peer) media(chunk int, pcm []int16) {
	p.send(map[string]any{"event": "media", "media": map[string]any{
		"track": "inbound", "chunk": itoa(chunk), "timestamp": itoa(chunk * 20),
		"payload": base64.StdEncoding.EncodeToString(g711.EncodeUlaw(nil, pcm)),
	}})
}

// outMsg is a message parole sends, decoded by the peer.
type outMsg struct {
	Event     string `json:"event"`
	StreamSid string `json:"streamSid"`
	Media     struct {
		Payload string `json:"payload"`
	} `json:"media"`
	Mark struct {
		Name string `json:"name"`
	} `json:"mark"`
	at  time.Time
	pcm []int16
}

// read reads parole's next message; the error is the websocket's.
func (p *peer) read() (outMsg, error) {
	var m outMsg
	_, b, err := p.conn.ReadMessage()
	if err != nil {
		return m, err
	}
	m.at = time.Now()
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatalf("parole sent bad JSON %q: %v", b, err)
	}
	if m.StreamSid != p.sid {
		p.t.Errorf("parole's %s message has streamSid %q, want %q", m.Event, m.StreamSid, p.sid)
	}
	if m.Event == "media" {
		ulaw, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil {
			p.t.Fatalf("parole sent bad base64: %v", err)
		}
		m.pcm = g711.DecodeUlaw(nil, ulaw)
	}
	return m, nil
}

// tone returns n samples of a sine of freq Hz at 8 kHz, amplitude amp.
func tone(n int, freq, amp float64, phase int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(phase+i)/8000))
	}
	return s
}

// crossings counts the sign changes of s.
func crossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return n
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

// waitCall returns the next call the server accepted.
func (ts *testServer) waitCall(t testing.TB) *twilio.Call {
	t.Helper()
	select {
	case c := <-ts.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call")
		return nil
	}
}

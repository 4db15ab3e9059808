package webrtc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	pion "github.com/pion/webrtc/v4"

	"github.com/parole-voice/parole/telephony"
)

// A WHIP client: POST the offer (all candidates gathered), 201 with the
// answer and a Location; the bot's tone reaches it; DELETE hangs up.
func TestWHIP(t *testing.T) {
	ended := make(chan string, 1)
	srv, hs := newTestServer(t, Config{OnCall: func(ctx context.Context, c *Call) {
		for i := 0; ; i++ {
			if err := c.Send(ctx, sine(440, i*320, 8000)); err != nil {
				if !errors.Is(err, telephony.ErrHangup) {
					t.Errorf("Send: %v", err)
				}
				ended <- c.Reason()
				return
			}
		}
	}})
	p := newPeer(t, peerOptions{codec: CodecOpus, toneHz: 1000})
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := pion.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	resp, err := http.Post(hs.URL+DefaultWHIPPath, "application/sdp", strings.NewReader(p.pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("POST: %s %q: %s", resp.Status, resp.Header.Get("Content-Type"), answer)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, DefaultWHIPPath+"/") {
		t.Fatalf("Location %q", loc)
	}
	if !strings.Contains(string(answer), "a=candidate:") {
		t.Errorf("the answer has no candidates (WHIP does not trickle):\n%s", answer)
	}
	if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	p.start(peerOptions{})
	p.waitConnected(10 * time.Second)
	time.Sleep(time.Second)
	got, rate := p.received()
	if loud := loudFrames(got, rate, 1000); loud < 20 {
		t.Errorf("the WHIP client heard %d loud frames in a second", loud)
	}
	del := func() int {
		req, _ := http.NewRequest(http.MethodDelete, hs.URL+loc, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del(); code != http.StatusOK {
		t.Errorf("DELETE: %d", code)
	}
	select {
	case r := <-ended:
		if r != "caller hung up" {
			t.Errorf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("DELETE did not end the call")
	}
	waitNoCalls(t, srv)
	if code := del(); code != http.StatusNotFound {
		t.Errorf("second DELETE: %d, want 404", code)
	}
}

// Bad WHIP requests get 4xx and start no call.
func TestWHIPBadRequests(t *testing.T) {
	srv, hs := newTestServer(t, Config{OnCall: func(context.Context, *Call) { t.Error("a call ran") }})
	post := func(ct, body string) int {
		resp, err := http.Post(hs.URL+DefaultWHIPPath, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, ct, body string
		want           int
	}{
		{"json", "application/json", "{}", http.StatusUnsupportedMediaType},
		{"garbage", "application/sdp", "hello", http.StatusBadRequest},
		{"too big", "application/sdp", strings.Repeat("a", DefaultMaxBody+1), http.StatusRequestEntityTooLarge},
		{"no audio", "application/sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", http.StatusBadRequest},
		{"no common codec", "application/sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=rtpmap:8 PCMA/8000\r\n", http.StatusBadRequest},
		{"opus without fingerprint", "application/sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", http.StatusBadRequest},
	}
	for _, c := range cases {
		if got := post(c.ct, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, hs.URL+DefaultWHIPPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodDelete, hs.URL+DefaultWHIPPath+"/nope", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE unknown: %d", resp.StatusCode)
	}
	waitNoCalls(t, srv)
}

// Bad websocket signalling: the server answers with an error message and
// closes; no call runs.
func TestWebsocketBadMessages(t *testing.T) {
	srv, hs := newTestServer(t, Config{OnCall: func(context.Context, *Call) { t.Error("a call ran") }})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + DefaultPath
	for _, c := range []struct {
		name string
		msg  string
		want string
	}{
		{"not json", "{", "json"},
		{"unknown type", `{"type":"bye"}`, "unknown message type"},
		{"empty offer", `{"type":"offer"}`, "offer without sdp"},
		{"bad sdp", `{"type":"offer","sdp":"v=0"}`, "unusable offer"},
		{"too big", `{"type":"offer","sdp":"` + strings.Repeat("a", DefaultMaxBody) + `"}`, ""},
	} {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		var cfg message
		if err := ws.ReadJSON(&cfg); err != nil || cfg.Type != msgConfig {
			t.Fatalf("config: %+v %v", cfg, err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(c.msg)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m message
		err = ws.ReadJSON(&m)
		switch {
		case c.want == "" && err == nil && m.Type != msgError:
			t.Errorf("%s: got %+v", c.name, m)
		case c.want != "" && (err != nil || m.Type != msgError || !strings.Contains(m.Error, c.want)):
			t.Errorf("%s: got %+v, %v; want an error with %q", c.name, m, err, c.want)
		}
		ws.Close()
	}
	// A plain GET is not a websocket.
	resp, err := http.Get(hs.URL + DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET without upgrade: %d", resp.StatusCode)
	}
	// A page from another site may not open a call.
	_, resp, err = websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin websocket: %v %v", resp, err)
	}
	waitNoCalls(t, srv)
}

func TestConfigErrors(t *testing.T) {
	on := func(context.Context, *Call) {}
	for _, c := range []Config{
		{},
		{OnCall: on, Path: "ws"},
		{OnCall: on, Path: "/x", WHIPPath: "/x"},
		{OnCall: on, PortMin: 10000},
		{OnCall: on, PortMin: 20000, PortMax: 10000},
		{OnCall: on, MediaTimeout: -1},
		{OnCall: on, ICETimeout: -1},
		{OnCall: on, MaxCalls: -1},
		{OnCall: on, Codecs: []string{"speex"}},
		{OnCall: on, Codecs: []string{"opus", "OPUS"}},
		{OnCall: on, ICEServers: []ICEServer{{}}},
		{OnCall: on, ICEServers: []ICEServer{{URLs: []string{"http://stun.example"}}}},
		{OnCall: on, ICEServers: []ICEServer{{URLs: []string{"turn:turn.example:3478"}}}},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	s, err := New(Config{OnCall: on, Codecs: []string{"pcmu", "Opus"}, PortMin: 40000, PortMax: 40100,
		ICEServers: []ICEServer{{URLs: []string{"stun:stun.example:3478"}}, {URLs: []string{"turn:turn.example:3478"}, Username: "u", Credential: "p"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if strings.Join(got.Codecs, ",") != "PCMU,opus" || got.Path != DefaultPath || got.MediaTimeout != DefaultMediaTimeout {
		t.Errorf("config %+v", got)
	}
}

// Calls over MaxCalls are refused with 503.
func TestMaxCalls(t *testing.T) {
	release := make(chan struct{})
	srv, hs := newTestServer(t, Config{MaxCalls: 1, OnCall: func(ctx context.Context, c *Call) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}})
	p := dialPeer(t, hs, DefaultPath, peerOptions{codec: CodecOpus})
	p.waitConnected(10 * time.Second)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + DefaultPath
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second call: %v %v, want 503", resp, err)
	}
	close(release)
	if _, ok := p.waitMessage(msgHangup, "", 5*time.Second); !ok {
		t.Error("no hangup after OnCall returned")
	}
	waitNoCalls(t, srv)
}

package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

func streamServer(t *testing.T, bot Handler, cfg Config) (*Connector, *httptest.Server) {
	t.Helper()
	c := newConnector(t, bot, cfg)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

func postTo(t *testing.T, srv *httptest.Server, body string) *Response {
	t.Helper()
	resp, err := http.Post(srv.URL+"/io/web", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, r, _ := decodeAnswer(t, resp.StatusCode, resp.Header, b)
	if r == nil {
		t.Fatalf("POST %s: status %d", body, resp.StatusCode)
	}
	return r
}

func TestStreamCarriesRepliesWithResponseID(t *testing.T) {
	_, srv := streamServer(t, &fakeBot{}, Config{})
	s := openStream(t, srv.URL+"/io/web/sse?userid=u1") // tock-react-kit's spelling
	if f := s.next(t, "ping"); f.data != "1" {
		t.Fatalf("first ping %+v", f)
	}
	r := postTo(t, srv, `{"query":"hello","userId":"u1"}`)
	f, sr := s.message(t)
	if f.id != "1" {
		t.Errorf("frame id %q, want 1", f.id)
	}
	if texts(sr.Responses) != "Welcome|You said hello" || texts(r.Responses) != texts(sr.Responses) {
		t.Fatalf("stream %q, POST %q", texts(sr.Responses), texts(r.Responses))
	}
	if id := sr.Metadata[MetaResponseID]; id == "" || id != r.Metadata[MetaResponseID] {
		t.Fatalf("RESPONSE_ID stream %q POST %q", id, r.Metadata[MetaResponseID])
	}
	if sr.History != nil {
		t.Error("history on the stream")
	}

	// streamedResponse: the POST answers at once, empty; the reply comes
	// on the stream.
	r = postTo(t, srv, `{"payload":"hours","userId":"u1","streamedResponse":true}`)
	if len(r.Responses) != 0 || r.Metadata[MetaResponseID] == "" {
		t.Fatalf("streamed POST answer %+v", r)
	}
	f, sr = s.message(t)
	if texts(sr.Responses) != "Picked hours" || f.id != "2" || sr.Metadata[MetaResponseID] != r.Metadata[MetaResponseID] {
		t.Fatalf("streamed reply %+v %+v", f, sr)
	}
	// Another user's replies do not leak into this stream.
	postTo(t, srv, `{"query":"x","userId":"u2","streamedResponse":true}`)
	s.none(t, 100*time.Millisecond)
}

func TestStreamPing(t *testing.T) {
	_, srv := streamServer(t, &fakeBot{}, Config{PingInterval: 20 * time.Millisecond})
	s := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	start := time.Now()
	for range 4 {
		if f := s.next(t, "ping"); f.data != "1" {
			t.Fatalf("ping %+v", f)
		}
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("4 pings (3 periodic) came faster than the 20 ms interval allows")
	}
}

func TestPushReplayOnReconnect(t *testing.T) {
	c, srv := streamServer(t, &fakeBot{}, Config{QueueSize: 3})
	ctx := context.Background()
	// Pushed before any stream: kept.
	if err := c.Push(ctx, "u1", dialog.Say("reminder 1")); err != nil {
		t.Fatal(err)
	}
	s := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	if _, r := s.message(t); texts(r.Responses) != "reminder 1" {
		t.Fatalf("replayed %q", texts(r.Responses))
	}
	// Pushed while connected: delivered at once.
	if err := c.Push(ctx, "u1", dialog.Reply{Messages: []dialog.Message{{Text: "bye"}}, Hangup: true}); err != nil {
		t.Fatal(err)
	}
	_, r := s.message(t)
	if texts(r.Responses) != "bye" || r.Metadata[MetaEnd] != "true" {
		t.Fatalf("pushed %+v", r)
	}
	s.close()
	// Delivered messages are not replayed; new ones are, at most
	// QueueSize of them, oldest dropped.
	waitStreams(t, c, "u1", 0)
	for i := 1; i <= 4; i++ {
		if err := c.Push(ctx, "u1", dialog.Say("offline "+string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	s2 := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	var got []string
	for range 3 {
		_, r := s2.message(t)
		got = append(got, texts(r.Responses))
	}
	if strings.Join(got, ",") != "offline 2,offline 3,offline 4" {
		t.Fatalf("replayed %v", got)
	}
	s2.none(t, 100*time.Millisecond)
	s2.close()
	waitStreams(t, c, "u1", 0)
	// A reconnecting EventSource sends Last-Event-ID: what followed it is
	// replayed while still queued.
	s3 := openStream(t, srv.URL+"/io/web/sse?userId=u1", "Last-Event-ID", "4")
	got = got[:0]
	for range 2 {
		f, r := s3.message(t)
		got = append(got, f.id+"="+texts(r.Responses))
	}
	if strings.Join(got, ",") != "5=offline 3,6=offline 4" {
		t.Fatalf("Last-Event-ID replay %v", got)
	}

	if err := c.Push(ctx, "", dialog.Say("x")); err == nil {
		t.Error("Push without a user succeeded")
	}
	if err := c.Push(ctx, "u1", dialog.Reply{Messages: []dialog.Message{{}}}); err == nil {
		t.Error("Push of an invalid reply succeeded")
	}
}

func TestTwoTabsBothReceive(t *testing.T) {
	c, srv := streamServer(t, &fakeBot{}, Config{})
	a := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	b := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	a.next(t, "ping")
	b.next(t, "ping")
	if err := c.Push(context.Background(), "u1", dialog.Say("to both")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*stream{a, b} {
		if _, r := s.message(t); texts(r.Responses) != "to both" {
			t.Fatalf("got %q", texts(r.Responses))
		}
	}
}

func TestCloseEndsStreams(t *testing.T) {
	c, srv := streamServer(t, &fakeBot{}, Config{})
	s := openStream(t, srv.URL+"/io/web/sse?userId=u1")
	s.next(t, "ping")
	c.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Close")
	}
	resp, err := http.Get(srv.URL + "/io/web/sse?userId=u1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("stream after Close: %s", resp.Status)
	}
	if err := c.Push(context.Background(), "u1", dialog.Say("x")); err != ErrClosed {
		t.Fatalf("Push after Close = %v", err)
	}
}

func TestStreamsPerUserBounded(t *testing.T) {
	_, srv := streamServer(t, &fakeBot{}, Config{})
	for range maxStreamsPerUser {
		openStream(t, srv.URL+"/io/web/sse?userId=u1").next(t, "ping")
	}
	resp, err := http.Get(srv.URL + "/io/web/sse?userId=u1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("stream %d: %s", maxStreamsPerUser+1, resp.Status)
	}
}

// waitStreams waits until the connector sees n open streams for user id
// (a closed client is noticed by the server asynchronously).
func waitStreams(t *testing.T, c *Connector, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := 0
		if u := c.users[id]; u != nil {
			got = u.streams
		}
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open for %s, want %d", got, id, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShutdownEndsStreams shows the wiring parole serve needs: with Close
// registered on shutdown, http.Server.Shutdown returns at once although a
// stream is open.
func TestShutdownEndsStreams(t *testing.T) {
	c := newConnector(t, &fakeBot{}, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: c}
	hs.RegisterOnShutdown(func() { c.Close() })
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s := openStream(t, "http://"+ln.Addr().String()+"/io/web/sse?userId=u1")
	s.next(t, "ping")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Shutdown")
	}
}

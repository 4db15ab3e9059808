package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// fakeBot answers: start → "Welcome" with two quick replies; text →
// "You said X"; choice → "Picked X". It records what it got.
type fakeBot struct {
	mu       sync.Mutex
	sessions []runner.Session
	events   []dialog.Event
	fail     error
	reply    func(ev dialog.Event) dialog.Reply
}

func (b *fakeBot) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return dialog.Reply{}, b.fail
	}
	b.sessions = append(b.sessions, s)
	b.events = append(b.events, ev)
	if b.reply != nil {
		return b.reply(ev), nil
	}
	switch ev.Type {
	case dialog.EventStart:
		return dialog.Reply{Messages: []dialog.Message{{Text: "Welcome", Choices: []dialog.Choice{{Title: "Hours", Payload: "hours"}, {Title: "Book"}}}}}, nil
	case dialog.EventText:
		return dialog.Say("You said " + ev.Text), nil
	case dialog.EventChoice:
		return dialog.Say("Picked " + ev.Choice), nil
	}
	return dialog.Reply{}, nil
}

func (b *fakeBot) types() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s []string
	for _, e := range b.events {
		s = append(s, string(e.Type))
	}
	return strings.Join(s, ",")
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newConnector(t testing.TB, h Handler, cfg Config, opts ...Option) *Connector {
	t.Helper()
	c, err := New(h, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// post sends body to the connector in-process and returns the status and
// the decoded answer (a Response or an errorBody).
func post(t testing.TB, c *Connector, body string, header ...string) (int, *Response, errorBody) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, c.Path(), strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return decodeAnswer(t, w.Code, w.Header(), w.Body.Bytes())
}

func decodeAnswer(t testing.TB, code int, h http.Header, body []byte) (int, *Response, errorBody) {
	t.Helper()
	if ct := h.Get("Content-Type"); code != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d: content type %q, body %s", code, ct, body)
	}
	if code != http.StatusOK {
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Code == "" {
			t.Fatalf("status %d: error body %q is not a JSON error (%v)", code, body, err)
		}
		return code, nil, e
	}
	var resp Response
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if resp.Metadata == nil || resp.Responses == nil {
		t.Fatalf("answer %s lacks responses or metadata", body)
	}
	return code, &resp, errorBody{}
}

func texts(msgs []Message) string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Text)
	}
	return strings.Join(s, "|")
}

// frame is one server-sent event.
type frame struct {
	id, event, data string
}

// stream is an open event stream read by a goroutine.
type stream struct {
	resp   *http.Response
	frames chan frame
	done   chan struct{}
}

// openStream opens GET url and parses its frames.
func openStream(t testing.TB, url string, header ...string) *stream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("stream %s: %s %s", url, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("stream content type %q", ct)
	}
	s := &stream{resp: resp, frames: make(chan frame, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.frames)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var f frame
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if f != (frame{}) {
					s.frames <- f
				}
				f = frame{}
				continue
			}
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				f.id = v
			case "event":
				f.event = v
			case "data":
				if f.data != "" {
					f.data += "\n"
				}
				f.data += v
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.resp.Body.Close()
	<-s.done
}

// next returns the next frame of kind event, skipping others, or fails
// after a few seconds.
func (s *stream) next(t testing.TB, event string) frame {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				t.Fatalf("stream ended waiting for a %q frame", event)
			}
			if f.event == event {
				return f
			}
		case <-timeout:
			t.Fatalf("no %q frame within 5 s", event)
		}
	}
}

// message returns the next message frame decoded.
func (s *stream) message(t testing.TB) (frame, Response) {
	t.Helper()
	f := s.next(t, "message")
	var r Response
	if err := json.Unmarshal([]byte(f.data), &r); err != nil {
		t.Fatalf("message data %q: %v", f.data, err)
	}
	return f, r
}

// none checks that no message frame arrives within d.
func (s *stream) none(t testing.TB, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				return
			}
			if f.event == "message" {
				t.Fatalf("unexpected message frame %+v", f)
			}
		case <-timeout:
			return
		}
	}
}

var errBot = errors.New("bot exploded")

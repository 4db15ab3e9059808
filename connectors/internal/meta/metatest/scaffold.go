package metatest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// This file holds the test scaffolding the webhook connectors' tests
// share (Messenger, WhatsApp and Slack): the demo bot, fixtures, a
// recording handler, signed Graph webhook POSTs and the turn benchmark.

// DemoRunner returns a runner of the demo flow over an in-memory store
// closed at the end of the test.
func DemoRunner(t testing.TB) *runner.Runner {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	t.Cleanup(func() { st.Close() })
	return runner.New(engine, st)
}

// Fixture reads testdata/name of the package under test.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Post sends body to h as a Graph webhook POST on path, signed with
// secret (X-Hub-Signature-256; unsigned when secret is empty).
func Post(h http.Handler, path string, body []byte, secret string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if secret != "" {
		r.Header.Set(meta.SignatureHeader, meta.Sign(secret, body))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Recorder is a dialog handler that records the events and sessions it
// is given and answers each with Reply. It is safe for concurrent use.
type Recorder struct {
	// Reply is the answer to every event; set it before use.
	Reply dialog.Reply

	mu     sync.Mutex
	events []dialog.Event
	sess   []runner.Session
}

// Handle records ev and s and returns r.Reply.
func (r *Recorder) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.sess = append(r.sess, s)
	return r.Reply, nil
}

// Events returns a copy of the events handled so far.
func (r *Recorder) Events() []dialog.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dialog.Event(nil), r.events...)
}

// Sessions returns a copy of the sessions of the events handled so far.
func (r *Recorder) Sessions() []runner.Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runner.Session(nil), r.sess...)
}

// EchoBot is a dialog handler answering "echo: " and the event's text.
type EchoBot struct{}

// Handle says "echo: " + ev.Text.
func (EchoBot) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say("echo: " + ev.Text), nil
}

// BenchTurns measures whole turns: post(id) sends one message with the
// delivery id id and returns the status, wait waits for the turn it
// started, drain forgets the fake API's recorded calls. A warm-up turn
// comes first; every measured turn has a new id (a repeated one would be
// dropped). It reports turns/s.
func BenchTurns(b *testing.B, post func(id string) int, wait, drain func()) {
	post("warm")
	wait()
	drain()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if code := post("b" + strconv.Itoa(i)); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
		wait()
		if i%256 == 0 {
			drain()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

package applebusiness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

const (
	business = "2a9c1b7e-1f3d-4e5a-9b8c-7d6e5f4a3b2c"
	customer = "urn:mbid:AQAAY4Ac1L0pKZp3WmZGx2dL0kKaCeUrdLSN+3k/X8fIRu5ibtYv2cFQgFXu9hW0ATNy4PN7iVxRRrL5z4nBNzV/0qnPyQ1R0mSCFu8fHbGkUw2ZnNBC7cBqK8Xr46zhUTBTIm0SM7ZnYf2XmPXzYQXdkwGGzj3LO5kNcBaF9Db3F0t2bU0="
	secret   = "msp-shared-secret"
	apiToken = "msp-api-token"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fakeMSP is the provider's API: POST /messages with the Bearer token and
// an outbound message of the contract, 202 {"id"} back.
type fakeMSP struct {
	srv      *httptest.Server
	mu       sync.Mutex
	sent     []Outbound
	fail     []int
	attempts atomic.Int32
}

func newFakeMSP(t testing.TB) *fakeMSP {
	f := &fakeMSP{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.attempts.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/messages" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+apiToken {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		if len(f.fail) > 0 {
			code := f.fail[0]
			f.fail = f.fail[1:]
			f.mu.Unlock()
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":"busy"}`, code)
			return
		}
		f.mu.Unlock()
		var m Outbound
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil || m.ID == "" || m.SourceID != business || m.DestinationID == "" ||
			(m.Type != TypeText && m.Type != TypeInteractive) || m.Body == "" ||
			(m.Type == TypeInteractive && (m.InteractiveData == nil || m.InteractiveData.Data.ListPicker == nil || m.InteractiveData.Data.ReceivedMessage == nil)) {
			http.Error(w, `{"error":"invalid message"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.sent = append(f.sent, m)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]string{"id": m.ID})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMSP) take() []Outbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent
	f.sent = nil
	return s
}

type counting struct {
	Handler
	n atomic.Int32
}

func (c *counting) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	c.n.Add(1)
	return c.Handler.Handle(ctx, s, ev)
}

func demoRunner(t testing.TB) *runner.Runner {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	t.Cleanup(func() { st.Close() })
	return runner.New(e, st)
}

type env struct {
	msp  *fakeMSP
	c    *Connector
	srv  *httptest.Server
	hits *counting
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{msp: newFakeMSP(t), hits: &counting{Handler: demoRunner(t)}}
	cfg := Config{BusinessID: business, MSPURL: e.msp.srv.URL, APIToken: apiToken, Secret: secret}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(e.hits, cfg, WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return testNow }), WithRetry(3, time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func fixture(t testing.TB, name string, set map[string]any) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if set == nil {
		return b
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ = json.Marshal(m)
	return b
}

// signedHeaders are the headers of the provider's signed request.
func signedHeaders(body []byte, ts time.Time) http.Header {
	h := http.Header{}
	h.Set(TimestampHeader, strconv.FormatInt(ts.Unix(), 10))
	h.Set(SignatureHeader, Sign(secret, ts.Unix(), body))
	return h
}

func (e *env) deliver(t testing.TB, body []byte, h http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+DefaultPath, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func bodies(s []Outbound) string {
	var out []string
	for _, m := range s {
		out = append(out, m.Body)
	}
	return strings.Join(out, "\n")
}

func TestMessageInReplyOut(t *testing.T) {
	e := newEnv(t, nil)
	b := fixture(t, "inbound_text.json", nil)
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	sent := e.msp.take()
	all := bodies(sent)
	if !strings.Contains(all, "Welcome to the Parole demo line.") || !strings.Contains(all, "Sorry, I didn't understand.") {
		t.Fatalf("replies:\n%s", all)
	}
	var picker *Outbound
	for i, m := range sent {
		if m.DestinationID != customer || m.SourceID != business {
			t.Fatalf("addressed %s → %s", m.SourceID, m.DestinationID)
		}
		if m.Type == TypeInteractive && picker == nil {
			picker = &sent[i]
		}
	}
	if picker == nil {
		t.Fatal("no list picker")
	}
	d := picker.InteractiveData
	items := d.Data.ListPicker.Sections[0].Items
	if d.BID != ListPickerBID || len(items) < 2 || items[0] != (Item{Identifier: "hours", Title: "Opening hours", Style: "default"}) ||
		!strings.HasPrefix(d.Data.ReceivedMessage.Title, "You can ask for our opening hours") || !strings.Contains(picker.Body, "- Opening hours") {
		t.Fatalf("list picker %+v", d.Data)
	}
	// The same message delivered again is not answered again.
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK || len(e.msp.take()) != 0 {
		t.Fatal("redelivery answered")
	}
}

func TestListPickerRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	b := fixture(t, "inbound_text.json", nil)
	e.deliver(t, b, signedHeaders(b, testNow))
	e.msp.take()
	b = fixture(t, "inbound_listpicker_reply.json", nil)
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if got := bodies(e.msp.take()); !strings.HasPrefix(got, "We are open Monday to Friday") {
		t.Fatalf("selection answered %q", got)
	}
	// An interactive message without a selection is refused.
	b = fixture(t, "inbound_listpicker_reply.json", map[string]any{"id": "x1", "interactiveData": map[string]any{"data": map[string]any{}}})
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusBadRequest {
		t.Fatalf("no selection: %d", code)
	}
}

func TestCloseEndsTheConversation(t *testing.T) {
	e := newEnv(t, nil)
	b := fixture(t, "inbound_text.json", nil)
	e.deliver(t, b, signedHeaders(b, testNow))
	e.msp.take()
	b = fixture(t, "inbound_text.json", map[string]any{"id": "close1", "type": "close", "body": ""})
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK || len(e.msp.take()) != 0 {
		t.Fatalf("close: %d", code)
	}
	b = fixture(t, "inbound_text.json", map[string]any{"id": "again"})
	e.deliver(t, b, signedHeaders(b, testNow))
	if got := bodies(e.msp.take()); !strings.HasPrefix(got, "Welcome") {
		t.Fatalf("after close: %q", got)
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, nil)
	b := fixture(t, "inbound_text.json", nil)
	good := signedHeaders(b, testNow)
	mod := func(f func(h http.Header)) http.Header {
		h := good.Clone()
		f(h)
		return h
	}
	cases := map[string]http.Header{
		"none":         {},
		"no timestamp": mod(func(h http.Header) { h.Del(TimestampHeader) }),
		"no signature": mod(func(h http.Header) { h.Del(SignatureHeader) }),
		"stale":        signedHeaders(b, testNow.Add(-6*time.Minute)),
		"future":       signedHeaders(b, testNow.Add(6*time.Minute)),
		"other ts":     mod(func(h http.Header) { h.Set(TimestampHeader, strconv.FormatInt(testNow.Unix()+1, 10)) }),
		"no prefix":    mod(func(h http.Header) { h.Set(SignatureHeader, strings.TrimPrefix(h.Get(SignatureHeader), "sha256=")) }),
		"other secret": mod(func(h http.Header) { h.Set(SignatureHeader, Sign("other", testNow.Unix(), b)) }),
		"flipped":      mod(func(h http.Header) { s := []byte(h.Get(SignatureHeader)); s[9] ^= 1; h.Set(SignatureHeader, string(s)) }),
	}
	for name, h := range cases {
		if code := e.deliver(t, b, h); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, code)
		}
	}
	tampered := bytes.Replace(b, []byte("Hello"), []byte("Hellp"), 1)
	if code := e.deliver(t, tampered, good); code != http.StatusUnauthorized {
		t.Errorf("tampered body: %d", code)
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("an unverified message reached the dialog")
	}
	// Bearer mode.
	eb := newEnv(t, func(c *Config) { c.Auth, c.Secret, c.InboundToken = AuthBearer, "", "inbound-token" })
	if code := eb.deliver(t, b, http.Header{"Authorization": {"Bearer wrong"}}); code != http.StatusUnauthorized {
		t.Errorf("bearer wrong: %d", code)
	}
	if code := eb.deliver(t, b, http.Header{}); code != http.StatusUnauthorized {
		t.Errorf("bearer missing: %d", code)
	}
	if code := eb.deliver(t, b, http.Header{"Authorization": {"Bearer inbound-token"}}); code != http.StatusOK {
		t.Errorf("bearer good: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	for name, tc := range map[string]struct {
		body []byte
		want int
	}{
		"oversized":      {fixture(t, "inbound_text.json", map[string]any{"body": strings.Repeat("x", 4096)}), 413},
		"bad json":       {[]byte(`{"id":`), 400},
		"no source":      {fixture(t, "inbound_text.json", map[string]any{"sourceId": nil}), 400},
		"no type":        {fixture(t, "inbound_text.json", map[string]any{"type": ""}), 400},
		"other business": {fixture(t, "inbound_text.json", map[string]any{"destinationId": "someone-else"}), 400},
		"wrong type":     {[]byte(`{"id":1}`), 400},
	} {
		if code := e.deliver(t, tc.body, signedHeaders(tc.body, testNow)); code != tc.want {
			t.Errorf("%s: %d, want %d", name, code, tc.want)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("bad input reached the dialog")
	}
	// Other types (typing indicators) are acknowledged and ignored.
	b := fixture(t, "inbound_text.json", map[string]any{"type": "typing_start", "body": ""})
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK || e.hits.n.Load() != 0 {
		t.Fatalf("typing: %d", code)
	}
}

func TestSendRetriesAndFailures(t *testing.T) {
	e := newEnv(t, nil)
	e.msp.fail = []int{http.StatusTooManyRequests, http.StatusInternalServerError}
	b := fixture(t, "inbound_text.json", nil)
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if n := len(e.msp.take()); n == 0 || int(e.msp.attempts.Load()) != n+2 {
		t.Fatalf("%d messages in %d attempts", n, e.msp.attempts.Load())
	}
	e.msp.attempts.Store(0)
	e.msp.fail = []int{http.StatusForbidden}
	b = fixture(t, "inbound_text.json", map[string]any{"id": "m2", "body": "hours"})
	if code := e.deliver(t, b, signedHeaders(b, testNow)); code != http.StatusBadGateway || e.msp.attempts.Load() != 1 {
		t.Fatalf("403: %d after %d attempts", code, e.msp.attempts.Load())
	}
}

func TestNewValidates(t *testing.T) {
	h := demoRunner(t)
	good := Config{BusinessID: "b", MSPURL: "https://msp.example.com/v1", APIToken: "t", Secret: "s"}
	for name, mod := range map[string]func(*Config){
		"no business":   func(c *Config) { c.BusinessID = "" },
		"no api token":  func(c *Config) { c.APIToken = "" },
		"bad url":       func(c *Config) { c.MSPURL = "msp" },
		"no secret":     func(c *Config) { c.Secret = "" },
		"bearer no tok": func(c *Config) { c.Auth = AuthBearer },
		"bad auth":      func(c *Config) { c.Auth = "basic" },
		"neg skew":      func(c *Config) { c.MaxSkew = -1 },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(h, good); err != nil {
		t.Fatal(err)
	}
}

func TestRender(t *testing.T) {
	out := Render("b", "c", dialog.Reply{Messages: []dialog.Message{
		{Card: &dialog.Card{Title: "Plan", Subtitle: "Pick one", Buttons: []dialog.Choice{{Title: "A", Payload: "a"}, {Title: "Docs", URL: "https://x/docs"}}}},
		{Attachment: &dialog.Attachment{URL: "https://x/f.pdf", Name: "f.pdf"}},
	}, Transfer: &dialog.Transfer{Target: "agent"}})
	if len(out) != 4 || out[0].Body != "Docs: https://x/docs" || out[1].Type != TypeInteractive || out[2].Body != "f.pdf: https://x/f.pdf" || out[3].Body != "→ agent" {
		t.Fatalf("%+v", out)
	}
	s := out[1].InteractiveData.Data.ListPicker.Sections[0]
	if s.Title != "Pick one" || len(s.Items) != 1 || s.Items[0].Identifier != "a" || out[1].InteractiveData.Data.ReceivedMessage.Title != "Plan" {
		t.Fatalf("picker %+v", out[1].InteractiveData.Data)
	}
	if out[0].ID == out[1].ID || len(out[0].ID) != 36 {
		t.Fatalf("ids %q %q", out[0].ID, out[1].ID)
	}
}

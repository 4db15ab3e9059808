package rocketchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
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

// The fixture's token, room and user; the bot's credentials.
const (
	docToken  = "ir7hozblv4"
	docRoom   = "ZpMw6XxSuZdpupcDa"
	docUser   = "zk8ei6fZYTxnNdbWg"
	authToken = "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq"
	botUserID = "aobEdbYhXfu5hkeqG"
)

// fakeRC is the Rocket.Chat REST API side: POST /api/v1/chat.postMessage
// as its reference gives it (X-Auth-Token and X-User-Id headers, JSON
// body, {"success": true, "message": {…}} back).
type fakeRC struct {
	srv      *httptest.Server
	mu       sync.Mutex
	msgs     []PostMessage
	fail     []int
	refuse   bool
	attempts atomic.Int32
}

func newFakeRC(t testing.TB) *fakeRC {
	f := &fakeRC{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.attempts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/chat.postMessage" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"success":false,"error":"Not found"}`))
			return
		}
		if r.Header.Get("X-Auth-Token") != authToken || r.Header.Get("X-User-Id") != botUserID {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"status":"error","message":"You must be logged in to do this."}`))
			return
		}
		f.mu.Lock()
		if len(f.fail) > 0 {
			code := f.fail[0]
			f.fail = f.fail[1:]
			f.mu.Unlock()
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(code)
			w.Write([]byte(`{"success":false,"error":"error-too-many-requests"}`))
			return
		}
		refuse := f.refuse
		f.mu.Unlock()
		var m PostMessage
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil || m.RoomID == "" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"success":false,"error":"error-invalid-body"}`))
			return
		}
		if refuse {
			w.Write([]byte(`{"success":false,"error":"error-not-allowed"}`))
			return
		}
		f.mu.Lock()
		f.msgs = append(f.msgs, m)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ts": 1481748965123, "channel": m.RoomID, "success": true,
			"message": map[string]any{"_id": "jC9chsFddTvsbFQG7", "rid": m.RoomID, "msg": m.Text, "u": map[string]string{"_id": botUserID, "username": "parole.bot"}}})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRC) take() []PostMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs
	f.msgs = nil
	return m
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
	rc   *fakeRC
	c    *Connector
	srv  *httptest.Server
	hits *counting
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{rc: newFakeRC(t), hits: &counting{Handler: demoRunner(t)}}
	cfg := Config{Token: docToken, ServerURL: e.rc.srv.URL, AuthToken: authToken, UserID: botUserID}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(e.hits, cfg, WithLogger(slog.New(slog.DiscardHandler)), WithRetry(3, time.Millisecond, time.Second))
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

func webhook(t testing.TB, set map[string]any) []byte {
	b, err := os.ReadFile("testdata/outgoing_webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
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

func (e *env) post(t testing.TB, ctype string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(e.srv.URL+DefaultPath, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func texts(msgs []PostMessage) string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Text)
	}
	return strings.Join(s, "\n")
}

func actions(msgs []PostMessage) []Action {
	var out []Action
	for _, m := range msgs {
		for _, a := range m.Attachments {
			out = append(out, a.Actions...)
		}
	}
	return out
}

func TestMessageInReplyOut(t *testing.T) {
	e := newEnv(t, nil)
	code, body := e.post(t, "application/json", webhook(t, nil)) // the fixture: "hi"
	if code != http.StatusOK || body != "{}\n" {
		t.Fatalf("status %d %s", code, body)
	}
	msgs := e.rc.take()
	all := texts(msgs)
	for _, want := range []string{"Welcome to the Parole demo line.", "What would you like?"} {
		if !strings.Contains(all, want) {
			t.Errorf("replies lack %q:\n%s", want, all)
		}
	}
	for _, m := range msgs {
		if m.RoomID != docRoom || m.TMID != "" {
			t.Errorf("reply to %q tmid %q", m.RoomID, m.TMID)
		}
	}
	if e.hits.n.Load() != 2 {
		t.Fatalf("%d events, want start and text", e.hits.n.Load())
	}
}

func TestButtonRoundTrip(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ReplyInThread = true })
	e.post(t, "application/json", webhook(t, nil))
	msgs := e.rc.take()
	var hours *Action
	acts := actions(msgs)
	for i, a := range acts {
		if a.Text == "Opening hours" {
			hours = &acts[i]
		}
	}
	if hours == nil || hours.Type != "button" || !hours.MsgInChatWindow || hours.Msg == "" || hours.MsgProcessingType != "sendMessage" {
		t.Fatalf("no Opening hours button: %+v", acts)
	}
	for _, m := range msgs {
		if m.TMID != "QSGJ9YqFkXuinmHAt" {
			t.Fatalf("not in the thread: %+v", m)
		}
	}
	// The click makes the user send the button's msg in the room, which
	// the outgoing integration posts like any message.
	before := e.hits.n.Load()
	e.post(t, "application/json", webhook(t, map[string]any{"text": hours.Msg, "message_id": "click1"}))
	if got := texts(e.rc.take()); !strings.HasPrefix(got, "We are open Monday to Friday") {
		t.Fatalf("click answered %q", got)
	}
	if e.hits.n.Load() != before+1 {
		t.Fatal("the click was not one event")
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, nil)
	for name, body := range map[string][]byte{
		"wrong token":   webhook(t, map[string]any{"token": "ir7hozblv5"}),
		"missing token": webhook(t, map[string]any{"token": nil}),
		"empty token":   webhook(t, map[string]any{"token": ""}),
	} {
		if code, _ := e.post(t, "application/json", body); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, code)
		}
	}
	if e.hits.n.Load() != 0 || len(e.rc.take()) != 0 {
		t.Fatal("an unverified request reached the dialog")
	}
	off := newEnv(t, func(c *Config) { c.Token, c.InsecureSkipVerify = "", true })
	if code, _ := off.post(t, "application/json", webhook(t, map[string]any{"token": nil})); code != http.StatusOK {
		t.Fatalf("insecure: %d", code)
	}
}

func TestBotsIgnored(t *testing.T) {
	e := newEnv(t, nil)
	for _, set := range []map[string]any{
		{"user_id": botUserID},
		{"bot": map[string]any{"i": "integration-id"}},
		{"text": "   "},
	} {
		if code, _ := e.post(t, "application/json", webhook(t, set)); code != http.StatusOK {
			t.Fatal(code)
		}
	}
	if e.hits.n.Load() != 0 || len(e.rc.take()) != 0 {
		t.Fatal("answered a bot or an empty message")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	cases := []struct {
		name, ctype string
		body        []byte
		want        int
	}{
		{"oversized", "application/json", webhook(t, map[string]any{"text": strings.Repeat("x", 4096)}), 413},
		{"bad json", "application/json", []byte(`{"token":`), 400},
		{"wrong type", "application/json", []byte(`{"user_id":[]}`), 400},
		{"no room", "application/json", webhook(t, map[string]any{"channel_id": nil}), 400},
		{"no user", "application/json", webhook(t, map[string]any{"user_id": ""}), 400},
		{"form", "application/x-www-form-urlencoded", []byte("token=ir7hozblv4"), 415},
	}
	for _, c := range cases {
		if code, body := e.post(t, c.ctype, c.body); code != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, code, c.want, body)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("bad input reached the dialog")
	}
}

func TestSendRetriesAndFailures(t *testing.T) {
	e := newEnv(t, nil)
	e.rc.fail = []int{http.StatusTooManyRequests, http.StatusBadGateway}
	if code, body := e.post(t, "application/json", webhook(t, nil)); code != http.StatusOK {
		t.Fatalf("after 429 and 502: %d %s", code, body)
	}
	if n := len(e.rc.take()); n == 0 || int(e.rc.attempts.Load()) != n+2 {
		t.Fatalf("%d messages in %d attempts, want 2 retries", n, e.rc.attempts.Load())
	}
	// success false is a refusal: 502, not retried.
	e.rc.attempts.Store(0)
	e.rc.refuse = true
	if code, _ := e.post(t, "application/json", webhook(t, map[string]any{"text": "hours"})); code != http.StatusBadGateway {
		t.Fatalf("refused post gave %d", code)
	}
	if e.rc.attempts.Load() != 1 {
		t.Fatalf("refusal retried: %d", e.rc.attempts.Load())
	}
}

func TestNewValidates(t *testing.T) {
	h := demoRunner(t)
	good := Config{Token: "t", ServerURL: "https://rc.example.com", AuthToken: "a", UserID: "u"}
	for name, mod := range map[string]func(*Config){
		"no token":      func(c *Config) { c.Token = "" },
		"bad server":    func(c *Config) { c.ServerURL = "ftp://x" },
		"no auth":       func(c *Config) { c.AuthToken = "" },
		"no user":       func(c *Config) { c.UserID = "" },
		"bad path":      func(c *Config) { c.Path = "/x/" },
		"negative body": func(c *Config) { c.MaxBodyBytes = -1 },
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
	msgs := Render("r", "", dialog.Reply{Messages: []dialog.Message{
		{Card: &dialog.Card{Title: "Plan", Subtitle: "Pick", ImageURL: "https://x/i.png", Buttons: []dialog.Choice{{Title: "A", Payload: "a"}, {Title: "Docs", URL: "https://x/docs"}}}},
		{Attachment: &dialog.Attachment{URL: "https://x/p.png", Name: "p.png", ContentType: "image/png"}},
		{Audio: &dialog.Audio{URL: "https://x/a.wav", Text: "a recording"}},
	}, Transfer: &dialog.Transfer{Target: "agents"}})
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	c := msgs[0].Attachments[0]
	if c.Title != "Plan" || c.Text != "Pick" || len(c.Actions) != 2 || c.Actions[0].Msg != "A" || c.Actions[1].URL != "https://x/docs" || c.Actions[1].Msg != "" {
		t.Errorf("card: %+v", c)
	}
	if a := msgs[1].Attachments[0]; a.ImageURL != "https://x/p.png" || a.TitleLink != "https://x/p.png" {
		t.Errorf("image: %+v", a)
	}
	if msgs[2].Text != "a recording" || msgs[3].Text != "→ agents" {
		t.Errorf("texts: %q", texts(msgs))
	}
}

var startEvent = dialog.Event{Type: dialog.EventStart}

func sessionFor(id string) runner.Session {
	return runner.Session{ConversationID: Channel + ":" + id, Channel: Channel}
}

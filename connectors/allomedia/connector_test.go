package allomedia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

const user, pass = "allomedia", "s3cret"

// platform is the Allo-Media side: it posts to the connector served over
// real HTTP, as the platform does.
type platform struct {
	srv *httptest.Server
	c   *Connector
	st  store.Store
}

func newPlatform(t testing.TB, h Handler, cfg Config) *platform {
	t.Helper()
	var st store.Store
	if h == nil {
		st = store.NewMemory(store.Options{Now: clock})
		f, err := flow.Demo()
		if err != nil {
			t.Fatal(err)
		}
		e, err := flow.New(f, flow.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		h = runner.New(e, st, runner.WithClock(clock))
	}
	if cfg.Username == "" && !cfg.InsecureSkipVerify {
		cfg.Username, cfg.Password = user, pass
	}
	c, err := New(h, cfg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &platform{srv: srv, c: c, st: st}
}

// call posts body with the given Authorization and Content-Type headers
// ("" leaves one out) and returns the status and decoded answer.
func (p *platform) call(t testing.TB, body []byte, auth, ctype string) (int, Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+DefaultPath+"/call", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out Response
	if resp.StatusCode == http.StatusCreated {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out
}

func basic(u, p string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(u, p)
	return req.Header.Get("Authorization")
}

// ok posts an authenticated JSON request and wants 201.
func (p *platform) ok(t testing.TB, body []byte) Response {
	t.Helper()
	code, out := p.call(t, body, basic(user, pass), "application/json")
	if code != http.StatusCreated {
		t.Fatalf("status %d, want 201", code)
	}
	return out
}

// request returns the testdata call changed by mod.
func request(t testing.TB, mod func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/call.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func set(kv ...any) func(m map[string]any) {
	return func(m map[string]any) {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
	}
}

func session(id string, token any) map[string]any {
	return map[string]any{"sessionId": id, "user": map[string]any{"accessToken": token}}
}

// TestCall runs a call through the demo flow in French: the welcome on the
// first request, an utterance matched by parole, a precomputed intent that
// skips the matching, and the goodbye that ends the call.
func TestCall(t *testing.T) {
	p := newPlatform(t, nil, Config{})
	out := p.ok(t, request(t, set("text", nil)))
	if out.SessionID != "8c5bd3c2-2f4e-4a39-9a43-0d1b7a6f2e11" || out.ConversationEnd ||
		out.OutputText.TextToSpeech != "Bienvenue sur la ligne de démonstration Parole.\nDites horaires, ou tapez 1. Dites rendez-vous, ou tapez 2. Dites conseiller, ou tapez 0." {
		t.Fatalf("first answer = %+v", out)
	}
	out = p.ok(t, request(t, nil))
	if out.OutputText.TextToSpeech != "Quel jour souhaitez-vous venir ?" {
		t.Fatalf("after 'je voudrais prendre rendez-vous': %+v", out)
	}
	conv, _, err := p.st.Load(context.Background(), ConversationPrefix+"8c5bd3c2-2f4e-4a39-9a43-0d1b7a6f2e11")
	if err != nil || conv.Step != "ask_date" || conv.Locale != "fr-FR" || !conv.Voice || conv.Channel != Channel {
		t.Fatalf("conversation = %+v, %v", conv, err)
	}

	// A new call: the platform's own NLU says "hours" for words parole
	// would not match; the first request also opens the call.
	out = p.ok(t, request(t, set("session", session("call-2", nil), "text", "blabla xyz", "intent", "hours")))
	if !strings.HasPrefix(out.OutputText.TextToSpeech, "Bienvenue") || !strings.Contains(out.OutputText.TextToSpeech, "Nous sommes ouverts du lundi au vendredi") {
		t.Fatalf("precomputed intent: %+v", out)
	}
	out = p.ok(t, request(t, set("session", session("call-2", nil), "text", "non merci")))
	if out.OutputText.TextToSpeech != "Merci de votre appel. Au revoir !" || !out.ConversationEnd {
		t.Fatalf("goodbye: %+v", out)
	}
}

// recorder is a Handler that records what reaches it.
type recorder struct {
	mu       sync.Mutex
	sessions []runner.Session
	events   []dialog.Event
	reply    dialog.Reply
}

func (h *recorder) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions = append(h.sessions, s)
	h.events = append(h.events, ev)
	return h.reply, nil
}

func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func TestEvents(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	p := newPlatform(t, h, Config{})
	p.ok(t, request(t, set("locale", "en_US")))
	p.ok(t, request(t, set("text", nil, "locale", nil)))
	p.ok(t, request(t, set("text", "  ", "intent", "  ", "locale", nil)))
	types := ""
	for _, ev := range h.events {
		types += string(ev.Type) + ","
	}
	if types != "start,text,no_input,no_input," {
		t.Fatalf("events = %s", types)
	}
	if h.events[1].Text != "je voudrais prendre rendez-vous" || h.events[1].Confidence != 1 {
		t.Fatalf("text event = %+v", h.events[1])
	}
	for _, s := range h.sessions {
		if s.Locale != "en-US" || s.ConversationID != "allomedia:8c5bd3c2-2f4e-4a39-9a43-0d1b7a6f2e11" || !s.Voice || s.UserID != "" {
			t.Fatalf("session = %+v", s)
		}
	}
	p.ok(t, request(t, set("intent", "book")))
	ev := h.events[len(h.events)-1]
	if ev.Type != dialog.EventChoice || ev.Choice != "book" || ev.Metadata["allomedia.text"] != "je voudrais prendre rendez-vous" {
		t.Fatalf("precomputed intent event = %+v", ev)
	}
}

// TestRejected: bad credentials (401), a wrong content type or a
// malformed body (400), an oversized body (413) never reach the dialog.
func TestRejected(t *testing.T) {
	h := &recorder{}
	p := newPlatform(t, h, Config{MaxBodyBytes: 1024})
	good := request(t, nil)
	cases := []struct {
		name        string
		body        []byte
		auth, ctype string
		want        int
	}{
		{"no credentials", good, "", "application/json", http.StatusUnauthorized},
		{"wrong password", good, basic(user, "guess"), "application/json", http.StatusUnauthorized},
		{"wrong user", good, basic("someone", pass), "application/json", http.StatusUnauthorized},
		{"bearer instead of basic", good, "Bearer " + pass, "application/json", http.StatusUnauthorized},
		{"no content type", good, basic(user, pass), "", http.StatusBadRequest},
		{"text/plain", good, basic(user, pass), "text/plain", http.StatusBadRequest},
		{"form", good, basic(user, pass), "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"not JSON", []byte(`{"session": {`), basic(user, pass), "application/json", http.StatusBadRequest},
		{"JSON array", []byte(`[]`), basic(user, pass), "application/json", http.StatusBadRequest},
		{"no session", []byte(`{"text":"bonjour"}`), basic(user, pass), "application/json", http.StatusBadRequest},
		{"empty sessionId", request(t, set("session", session("", nil))), basic(user, pass), "application/json", http.StatusBadRequest},
		{"text not a string", request(t, set("text", 42)), basic(user, pass), "application/json", http.StatusBadRequest},
		{"trailing garbage", append(request(t, nil), []byte("}}")...), basic(user, pass), "application/json", http.StatusBadRequest},
		{"oversized", request(t, set("text", strings.Repeat("a", 2000))), basic(user, pass), "application/json", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := p.call(t, tc.body, tc.auth, tc.ctype); code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
		})
	}
	if code, _ := p.call(t, good, basic(user, pass), "application/json; charset=utf-8"); code != http.StatusCreated {
		t.Fatalf("charset parameter: status %d", code)
	}
	if h.count() != 2 { // the accepted request: start + text
		t.Fatalf("%d events reached the dialog, want 2", h.count())
	}
}

// TestAccessToken: a valid token names the parole user; any other gets
// 401 before the dialog.
func TestAccessToken(t *testing.T) {
	secret := []byte("account-secret")
	h := &recorder{reply: dialog.Say("ok")}
	p := newPlatform(t, h, Config{AccountJWTSecret: string(secret)})
	good, _ := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: testNow.Add(time.Hour).Unix()}, secret)
	expired, _ := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: testNow.Add(-time.Hour).Unix()}, secret)
	forged, _ := web.SignJWT(web.Claims{Subject: "alice"}, []byte("other"))
	p.ok(t, request(t, set("session", session("c1", good))))
	if h.sessions[0].UserID != "alice" {
		t.Fatalf("session = %+v", h.sessions[0])
	}
	for _, tok := range []string{expired, forged, "opaque"} {
		if code, _ := p.call(t, request(t, set("session", session("c2", tok))), basic(user, pass), "application/json"); code != http.StatusUnauthorized {
			t.Fatalf("token %.20s: status %d", tok, code)
		}
	}
	if h.count() != 2 {
		t.Fatalf("%d events, want 2", h.count())
	}
}

func TestConfig(t *testing.T) {
	h := &recorder{}
	for name, cfg := range map[string]Config{
		"no credentials": {},
		"no password":    {Username: "u"},
		"colon in user":  {Username: "a:b", Password: "p"},
		"bad path":       {Username: "u", Password: "p", Path: "io"},
		"trailing slash": {Username: "u", Password: "p", Path: "/io/"},
		"negative ttl":   {Username: "u", Password: "p", SessionTTL: -1},
	} {
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(nil, Config{Username: "u", Password: "p"}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil handler: %v", err)
	}
	c, err := New(h, Config{InsecureSkipVerify: true, Path: "/am"})
	if err != nil || c.Routes()[0] != "POST /am/call" {
		t.Fatalf("routes = %v, %v", c.Routes(), err)
	}
}

// TestSessionsBounded: the connector forgets idle calls and keeps at most
// MaxSessions.
func TestSessionsBounded(t *testing.T) {
	now := testNow
	c, err := New(&recorder{}, Config{InsecureSkipVerify: true, MaxSessions: 2, SessionTTL: time.Minute}, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		now = now.Add(time.Second)
		if first, _ := c.remember(&Request{Session: RequestSession{SessionID: id}}); !first {
			t.Fatalf("%s not first", id)
		}
	}
	if len(c.sessions) != 2 || c.sessions["a"] != nil {
		t.Fatalf("sessions = %v", c.sessions)
	}
	now = now.Add(2 * time.Minute)
	if first, _ := c.remember(&Request{Session: RequestSession{SessionID: "b"}}); !first {
		t.Fatal("an idle call was remembered past its TTL")
	}
}

func TestSpeechText(t *testing.T) {
	r := dialog.Reply{Messages: []dialog.Message{
		{Text: "shown", SSML: "<speak>Dites <emphasis>oui</emphasis>\n ou non.</speak>"},
		{Text: "plain"},
		{Audio: &dialog.Audio{URL: "x.wav", Text: "recorded"}},
		{Text: "fallback", SSML: "<speak>broken"},
	}}
	if got := SpeechText(r); got != "Dites oui ou non.\nplain\nrecorded\nfallback" {
		t.Fatalf("SpeechText = %q", got)
	}
}

package mattermost

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

// The documented example's token, channel and user.
const (
	docToken   = "zmigewsanbbsdf59xnmduzypjc"
	docChannel = "hawos4dqtby53pd64o4a4cmeoo"
	docUser    = "rnina9994bde8mua79zqcg5hmo"
	botToken   = "bot-token-xyz"
	botUser    = "botuserid00000000000000000"
)

// fakeMM is the Mattermost server's REST API side: POST /api/v4/posts as
// the API reference gives it (Bearer token, JSON post, 201 with the post).
type fakeMM struct {
	srv *httptest.Server
	mu  sync.Mutex
	// posts are the posts created, in order.
	posts []Post
	// fail, when set, answers the next requests with these statuses.
	fail     []int
	attempts atomic.Int32
}

func newFakeMM(t testing.TB) *fakeMM {
	f := &fakeMM{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.attempts.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v4/posts" {
			http.Error(w, `{"id":"api.context.404.app_error","status_code":404}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+botToken {
			http.Error(w, `{"id":"api.context.session_expired.app_error","status_code":401}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		if len(f.fail) > 0 {
			code := f.fail[0]
			f.fail = f.fail[1:]
			f.mu.Unlock()
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"status_code":`+http.StatusText(code)+`}`, code)
			return
		}
		f.mu.Unlock()
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			http.Error(w, "content type "+ct, http.StatusBadRequest)
			return
		}
		var p Post
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil || p.ChannelID == "" {
			http.Error(w, `{"id":"api.post.create_post.bad_request","status_code":400}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.posts = append(f.posts, p)
		n := len(f.posts)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": "post" + string(rune('a'+n)), "channel_id": p.ChannelID, "message": p.Message, "user_id": botUser, "props": p.Props})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMM) take() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.posts
	f.posts = nil
	return p
}

// counting wraps a handler and counts the events that reach it.
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
	mm   *fakeMM
	c    *Connector
	srv  *httptest.Server
	hits *counting
}

// newEnv serves a connector over the demo flow; buttons sends clicks to
// the connector's own /actions route.
func newEnv(t testing.TB, buttons bool, mod func(*Config)) *env {
	t.Helper()
	e := &env{mm: newFakeMM(t), hits: &counting{Handler: demoRunner(t)}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := Config{Token: docToken, ServerURL: e.mm.srv.URL, BotToken: botToken, BotUserID: botUser}
	if buttons {
		cfg.ActionURL = e.srv.URL + DefaultPath + "/actions"
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(e.hits, cfg, WithLogger(slog.New(slog.DiscardHandler)), WithRetry(3, time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	return e
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhook returns the documented JSON request with some fields changed.
func webhook(t testing.TB, set map[string]any) []byte {
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "outgoing_webhook.json"), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func (e *env) post(t testing.TB, path, ctype string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(e.srv.URL+path, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func messages(posts []Post) string {
	var s []string
	for _, p := range posts {
		s = append(s, p.Message)
	}
	return strings.Join(s, "\n")
}

func TestDocumentedWebhooksReachTheDialog(t *testing.T) {
	for _, tc := range []struct{ file, ctype string }{
		{"outgoing_webhook.json", "application/json"},
		{"outgoing_webhook.form", "application/x-www-form-urlencoded"},
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			e := newEnv(t, true, nil)
			code, body := e.post(t, DefaultPath, tc.ctype, fixture(t, tc.file))
			if code != http.StatusOK || body != "{}\n" {
				t.Fatalf("status %d %s", code, body)
			}
			posts := e.mm.take()
			// First contact: the welcome and the menu, then the answer to
			// "text here" (the trigger word "some" removed), which the demo does not understand.
			all := messages(posts)
			for _, want := range []string{"Welcome to the Parole demo line.", "What would you like?", "Sorry, I didn't understand."} {
				if !strings.Contains(all, want) {
					t.Errorf("posts lack %q:\n%s", want, all)
				}
			}
			for _, p := range posts {
				if p.ChannelID != docChannel || p.RootID != "" {
					t.Errorf("post to %q root %q", p.ChannelID, p.RootID)
				}
			}
			if got := e.hits.n.Load(); got != 2 {
				t.Errorf("%d events, want start and text", got)
			}
		})
	}
}

// buttons returns the buttons of the posts.
func buttons(posts []Post) []PostAction {
	var out []PostAction
	for _, p := range posts {
		if p.Props != nil {
			for _, a := range p.Props.Attachments {
				out = append(out, a.Actions...)
			}
		}
	}
	return out
}

func TestButtonRoundTrip(t *testing.T) {
	e := newEnv(t, true, nil)
	e.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"text": "hello"}))
	bs := buttons(e.mm.take())
	var hours *PostAction
	for i, b := range bs {
		if b.Name == "Opening hours" {
			hours = &bs[i]
		}
	}
	if hours == nil || hours.Integration == nil || hours.Integration.URL != e.c.cfg.ActionURL || hours.Type != "button" {
		t.Fatalf("no Opening hours button: %+v", bs)
	}
	// Mattermost posts the click to the integration URL with the context.
	click := func(ctx ActionContext, channel string) (int, string) {
		a := Action{UserID: docUser, UserName: "somename", ChannelID: channel, TeamID: "kwoknj9nwpypzgzy78wkw516qe",
			PostID: "p1", TriggerID: "trig", Type: "button", Context: ctx}
		b, _ := json.Marshal(a)
		return e.post(t, DefaultPath+"/actions", "application/json", b)
	}
	before := e.hits.n.Load()
	forged := hours.Integration.Context
	forged.Payload = "book"
	for name, tc := range map[string]struct {
		ctx     ActionContext
		channel string
	}{
		"payload changed":  {forged, docChannel},
		"no signature":     {ActionContext{Payload: "hours"}, docChannel},
		"other channel":    {hours.Integration.Context, "otherchannel00000000000000"},
		"signature of hex": {ActionContext{Payload: "hours", Sig: strings.Repeat("0", 64)}, docChannel},
	} {
		if code, body := click(tc.ctx, tc.channel); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d %s", name, code, body)
		}
	}
	if e.hits.n.Load() != before || len(e.mm.take()) != 0 {
		t.Fatal("a forged click reached the dialog")
	}
	if code, body := click(hours.Integration.Context, docChannel); code != http.StatusOK {
		t.Fatalf("click: %d %s", code, body)
	}
	if got := messages(e.mm.take()); !strings.Contains(got, "We are open Monday to Friday") {
		t.Fatalf("click answered %q", got)
	}
}

func TestChoicesAsTextWithoutActionURL(t *testing.T) {
	e := newEnv(t, false, func(c *Config) { c.ReplyInThread = true })
	e.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"text": "hi"}))
	posts := e.mm.take()
	if len(buttons(posts)) != 0 || !strings.Contains(messages(posts), "1. Opening hours") {
		t.Fatalf("want a numbered list:\n%s", messages(posts))
	}
	for _, p := range posts {
		if p.RootID != "axdygg1957njfe5pu38saikdho" {
			t.Fatalf("reply not in thread: %+v", p)
		}
	}
	e.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"text": "some 1"})) // trigger word, then the number
	if got := messages(e.mm.take()); !strings.HasPrefix(got, "We are open Monday to Friday") {
		t.Fatalf("typed 1 answered %q", got)
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, true, nil)
	for name, body := range map[string][]byte{
		"wrong token":   webhook(t, map[string]any{"token": "zmigewsanbbsdf59xnmduzypjd"}),
		"missing token": webhook(t, map[string]any{"token": nil}),
		"empty token":   webhook(t, map[string]any{"token": ""}),
	} {
		if code, _ := e.post(t, DefaultPath, "application/json", body); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, code)
		}
	}
	form := bytes.Replace(fixture(t, "outgoing_webhook.form"), []byte(docToken), []byte("forged"), 1)
	if code, _ := e.post(t, DefaultPath, "application/x-www-form-urlencoded", form); code != http.StatusUnauthorized {
		t.Errorf("forged form: %d", code)
	}
	if e.hits.n.Load() != 0 || len(e.mm.take()) != 0 {
		t.Fatal("an unverified request reached the dialog")
	}
	// With verification off (explicitly), the token is not needed.
	off := newEnv(t, false, func(c *Config) { c.Token, c.InsecureSkipVerify = "", true })
	if code, _ := off.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"token": nil})); code != http.StatusOK {
		t.Fatalf("insecure: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, true, func(c *Config) { c.MaxBodyBytes = 2048 })
	big := webhook(t, map[string]any{"text": strings.Repeat("x", 4096)})
	cases := []struct {
		name, path, ctype string
		body              []byte
		want              int
	}{
		{"oversized", DefaultPath, "application/json", big, 413},
		{"bad json", DefaultPath, "application/json", []byte(`{"token":`), 400},
		{"two values", DefaultPath, "application/json", []byte(`{} {}`), 400},
		{"wrong type", DefaultPath, "application/json", []byte(`{"channel_id":5}`), 400},
		{"no channel", DefaultPath, "application/json", webhook(t, map[string]any{"channel_id": nil}), 400},
		{"bad form", DefaultPath, "application/x-www-form-urlencoded", []byte("a=%zz"), 400},
		{"text/plain", DefaultPath, "text/plain", []byte("hi"), 415},
		{"action bad json", DefaultPath + "/actions", "application/json", []byte(`[`), 400},
		{"action no payload", DefaultPath + "/actions", "application/json", []byte(`{"user_id":"u","channel_id":"c","context":{}}`), 400},
		{"action oversized", DefaultPath + "/actions", "application/json", big, 413},
	}
	for _, c := range cases {
		if code, body := e.post(t, c.path, c.ctype, c.body); code != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, code, c.want, body)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("bad input reached the dialog")
	}
	resp, err := http.Get(e.srv.URL + DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

func TestOwnPostsIgnored(t *testing.T) {
	e := newEnv(t, true, nil)
	if code, _ := e.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"user_id": botUser})); code != http.StatusOK {
		t.Fatal(code)
	}
	if e.hits.n.Load() != 0 || len(e.mm.take()) != 0 {
		t.Fatal("the bot answered itself")
	}
}

func TestSendRetriesAndFailures(t *testing.T) {
	e := newEnv(t, true, nil)
	e.mm.fail = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}
	if code, body := e.post(t, DefaultPath, "application/json", webhook(t, nil)); code != http.StatusOK {
		t.Fatalf("after 429 and 503: %d %s", code, body)
	}
	if got := e.mm.attempts.Load(); got < 5 { // 3 attempts for the first post, then the others
		t.Fatalf("%d API requests, want the first post retried twice", got)
	}
	if len(e.mm.take()) == 0 {
		t.Fatal("nothing posted")
	}
	// A refused post (403) is not retried and answers 502.
	e.mm.attempts.Store(0)
	e.mm.fail = []int{http.StatusForbidden}
	if code, _ := e.post(t, DefaultPath, "application/json", webhook(t, map[string]any{"text": "hours"})); code != http.StatusBadGateway {
		t.Fatalf("403 from Mattermost gave %d", code)
	}
	if e.mm.attempts.Load() != 1 {
		t.Fatalf("403 retried: %d attempts", e.mm.attempts.Load())
	}
}

func TestNewValidates(t *testing.T) {
	h := demoRunner(t)
	good := Config{Token: "t", ServerURL: "https://mm.example.com", BotToken: "b"}
	for name, mod := range map[string]func(*Config){
		"no token":      func(c *Config) { c.Token = "" },
		"no server":     func(c *Config) { c.ServerURL = "" },
		"bad server":    func(c *Config) { c.ServerURL = "mm.example.com" },
		"no bot token":  func(c *Config) { c.BotToken = "" },
		"bad path":      func(c *Config) { c.Path = "io/mm" },
		"bad action":    func(c *Config) { c.ActionURL = "/relative" },
		"negative body": func(c *Config) { c.MaxBodyBytes = -1 },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(nil, good); !errors.Is(err, ErrConfig) {
		t.Error("nil handler accepted")
	}
	if _, err := New(h, good); err != nil {
		t.Fatal(err)
	}
}

func TestRenderCardAndAttachment(t *testing.T) {
	e := newEnv(t, true, nil)
	posts := e.c.Render("ch", "", dialog.Reply{Messages: []dialog.Message{
		{Card: &dialog.Card{Title: "Plan", Subtitle: "Pick", ImageURL: "https://x/i.png", Buttons: []dialog.Choice{{Title: "A", Payload: "a"}, {Title: "Docs", URL: "https://x/docs"}}}},
		{Attachment: &dialog.Attachment{URL: "https://x/f.pdf", Name: "f.pdf", ContentType: "application/pdf"}},
		{SSML: "<speak>Hello <break/>there</speak>"},
	}, Transfer: &dialog.Transfer{Target: "+33123456789"}})
	if len(posts) != 4 {
		t.Fatalf("%d posts: %+v", len(posts), posts)
	}
	a := posts[0].Props.Attachments[0]
	if a.Title != "Plan" || a.Text != "Pick" || a.ImageURL != "https://x/i.png" || len(a.Actions) != 1 || a.Actions[0].Integration.Context.Payload != "a" {
		t.Errorf("card: %+v", a)
	}
	if !strings.Contains(posts[0].Message, "[Docs](https://x/docs)") || posts[1].Message != "[f.pdf](https://x/f.pdf)" || posts[2].Message != "Hello there" || posts[3].Message != "→ +33123456789" {
		t.Errorf("messages: %q", messages(posts))
	}
}

func sessionFor(id string) runner.Session {
	return runner.Session{ConversationID: Channel + ":" + id, Channel: Channel}
}

func startEvent() dialog.Event { return dialog.Event{Type: dialog.EventStart} }

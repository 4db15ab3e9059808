package messenger

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

const (
	appSecret = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
	verifyTok = "parole-verify-token"
	pageToken = "EAAGm0PX4ZCpsBAPageToken"
	psid      = "1254477777772919"
	pageID    = "682498302938465"
	convID    = ConversationPrefix + pageID + ":" + psid
)

// post sends body signed with secret (unsigned when secret is empty).
func post(c *Connector, body []byte, secret string) *httptest.ResponseRecorder {
	return metatest.Post(c, c.Path(), body, secret)
}

// setup returns a connector over h talking to a fake Graph API.
func setup(t testing.TB, h Handler, mod func(*Config), opts ...Option) (*Connector, *metatest.Graph) {
	t.Helper()
	g := metatest.NewGraph(t, "v24.0", pageToken)
	cfg := Config{AppSecret: appSecret, VerifyToken: verifyTok, PageAccessToken: pageToken, GraphURL: g.URL(), GraphVersion: "v24.0"}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(h, cfg, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, g
}

// sent returns the texts (or template texts) of the messages among calls.
func sent(t *testing.T, calls []metatest.Call) []string {
	t.Helper()
	var out []string
	for _, c := range calls {
		if c.Refused != "" {
			t.Fatalf("fake Graph API refused a call: %s: %v", c.Refused, c.Body)
		}
		if c.Path != "/v24.0/me/messages" || c.Query.Get("access_token") != pageToken {
			t.Fatalf("call to %s?%s", c.Path, c.Query.Encode())
		}
		msg, ok := c.Body["message"].(map[string]any)
		if !ok {
			continue
		}
		if c.Body["messaging_type"] != "RESPONSE" {
			t.Fatalf("messaging_type %v", c.Body["messaging_type"])
		}
		if s, ok := msg["text"].(string); ok {
			out = append(out, s)
		} else if a, ok := msg["attachment"].(map[string]any); ok {
			p := a["payload"].(map[string]any)
			out = append(out, "["+p["template_type"].(string)+"]")
		}
	}
	return out
}

func TestVerificationGET(t *testing.T) {
	c, _ := setup(t, &metatest.Recorder{}, nil)
	cases := []struct {
		query string
		code  int
		body  string
	}{
		{"hub.mode=subscribe&hub.verify_token=" + verifyTok + "&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, ""},
		{"hub.mode=subscribe&hub.challenge=1158201444", 403, ""},
		{"hub.mode=unsubscribe&hub.verify_token=" + verifyTok + "&hub.challenge=1", 400, ""},
		{"hub.mode=subscribe&hub.verify_token=" + verifyTok, 400, ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, c.Path()+"?"+tc.query, nil)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != tc.code || tc.body != "" && w.Body.String() != tc.body {
			t.Errorf("GET ?%s = %d %q, want %d %q", tc.query, w.Code, w.Body, tc.code, tc.body)
		}
	}
}

func TestSignature(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("hi")}
	c, g := setup(t, h, nil)
	body := metatest.Fixture(t, "text_message.json")
	good := meta.Sign(appSecret, body)
	flipped := []byte(good)
	flipped[len(flipped)-1] ^= 1
	cases := map[string]string{
		"missing":      "",
		"forged":       string(flipped),
		"other secret": meta.Sign("another-secret", body),
		"sha1 prefix":  strings.Replace(good, "sha256=", "sha1=", 1),
		"no prefix":    strings.TrimPrefix(good, "sha256="),
		"truncated":    good[:30],
		"other body":   meta.Sign(appSecret, append([]byte(" "), body...)),
	}
	for name, sig := range cases {
		r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if sig != "" {
			r.Header.Set(meta.SignatureHeader, sig)
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s signature: status %d, want 401", name, w.Code)
		}
	}
	c.Wait()
	if len(h.Events()) != 0 || len(g.Calls()) != 0 {
		t.Fatal("a request with a bad signature reached the dialog")
	}
	// The good signature passes.
	if w := post(c, body, appSecret); w.Code != 200 || w.Body.String() != "EVENT_RECEIVED" {
		t.Fatalf("good signature: %d %s", w.Code, w.Body)
	}
	c.Wait()
	if ev := h.Events(); len(ev) != 2 || ev[0].Type != dialog.EventStart || ev[1].Text != "hello, world!" {
		t.Fatalf("events %+v", ev)
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("hi")}
	c, _ := setup(t, h, func(cfg *Config) { cfg.InsecureSkipVerify = true; cfg.AppSecret = "" })
	if w := post(c, metatest.Fixture(t, "text_message.json"), ""); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	if len(h.Events()) != 2 {
		t.Fatalf("events %+v", h.Events())
	}
}

func TestBadRequests(t *testing.T) {
	h := &metatest.Recorder{}
	c, _ := setup(t, h, func(cfg *Config) { cfg.MaxBodyBytes = 4096 })
	big := []byte(`{"object":"page","entry":[],"pad":"` + strings.Repeat("x", 5000) + `"}`)
	cases := []struct {
		name  string
		body  []byte
		ctype string
		code  int
	}{
		{"oversized", big, "application/json", 413},
		{"bad json", []byte(`{"object":"page","entry":[`), "application/json", 400},
		{"two values", []byte(`{"object":"page"} {}`), "application/json", 400},
		{"not a page", []byte(`{"object":"whatsapp_business_account","entry":[]}`), "application/json", 400},
		{"no sender", []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"recipient":{"id":"1"},"message":{"mid":"m","text":"x"}}]}]}`), "application/json", 400},
		{"no mid", []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"text":"x"}}]}]}`), "application/json", 400},
		{"wrong type", []byte(`{"object":"page","entry":[]}`), "text/plain", 415},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ctype)
		r.Header.Set(meta.SignatureHeader, meta.Sign(appSecret, tc.body))
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, w.Code, tc.code, w.Body)
		}
	}
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(m, c.Path(), nil))
		if w.Code != 405 {
			t.Errorf("%s: %d", m, w.Code)
		}
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/elsewhere", nil))
	if w.Code != 404 {
		t.Errorf("other path: %d", w.Code)
	}
	c.Wait()
	if len(h.Events()) != 0 {
		t.Fatalf("bad requests reached the dialog: %+v", h.Events())
	}
}

// TestConversation runs the demo flow: a first message gets the welcome
// and the menu with quick replies, the quick reply and a postback button
// come back as choices.
func TestConversation(t *testing.T) {
	c, g := setup(t, metatest.DemoRunner(t), nil)
	if w := post(c, metatest.Fixture(t, "text_message.json"), appSecret); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	calls := g.Calls()
	if len(calls) < 3 || calls[0].Body["sender_action"] != "typing_on" {
		t.Fatalf("want typing_on first, got %+v", calls)
	}
	for _, call := range calls {
		if got := call.Body["recipient"].(map[string]any)["id"]; got != psid {
			t.Fatalf("recipient %v", got)
		}
	}
	texts := sent(t, calls)
	if len(texts) < 2 || texts[0] != "Welcome to the Parole demo line." || !strings.Contains(texts[1], "What would you like?") {
		t.Fatalf("texts %q", texts)
	}
	// The menu carries the intents as quick replies.
	last := calls[len(calls)-1].Body["message"].(map[string]any)
	qrs, _ := last["quick_replies"].([]any)
	var payloads []string
	for _, q := range qrs {
		payloads = append(payloads, q.(map[string]any)["payload"].(string))
	}
	if !strings.Contains(strings.Join(payloads, ","), "hours") || !strings.Contains(strings.Join(payloads, ","), "book") {
		t.Fatalf("quick replies %v", qrs)
	}

	// Tapping the quick reply.
	if w := post(c, metatest.Fixture(t, "quick_reply.json"), appSecret); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	texts = sent(t, g.Calls())
	if len(texts) == 0 || texts[0] != "We are open Monday to Friday, from 9 am to 6 pm." {
		t.Fatalf("after the quick reply: %q", texts)
	}
	// "no" then the menu again by text, then a postback button.
	post(c, msgBody("m_2", "no"), appSecret)
	c.Wait()
	g.Calls()
	post(c, msgBody("m_3", "main menu"), appSecret)
	c.Wait()
	g.Calls()
	if w := post(c, metatest.Fixture(t, "postback.json"), appSecret); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	texts = sent(t, g.Calls())
	if len(texts) == 0 || texts[0] != "Which day would you like to come?" {
		t.Fatalf("after the postback: %q", texts)
	}
}

func msgBody(mid, text string) []byte {
	return []byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":1458692752478,"messaging":[{"sender":{"id":"` + psid +
		`"},"recipient":{"id":"` + pageID + `"},"timestamp":1458692752478,"message":{"mid":"` + mid + `","text":"` + text + `"}}]}]}`)
}

func TestEventsMapping(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("ok")}
	c, g := setup(t, h, func(cfg *Config) { cfg.DefaultLocale = "en-US"; cfg.NoTyping = true })
	post(c, metatest.Fixture(t, "attachment.json"), appSecret)
	c.Wait()
	post(c, metatest.Fixture(t, "echo_and_read.json"), appSecret)
	c.Wait()
	get := []byte(`{"object":"page","entry":[{"id":"` + pageID + `","messaging":[{"sender":{"id":"` + psid + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"postback":{"title":"Get Started","payload":"GET_STARTED"}}]}]}`)
	post(c, get, appSecret)
	c.Wait()
	ev := h.Events()
	if len(ev) != 3 {
		t.Fatalf("events %+v", ev)
	}
	if ev[0].Type != dialog.EventStart || ev[1].Type != dialog.EventAttachment || ev[1].Attachment.URL != "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.png" ||
		ev[1].Attachment.ContentType != "image/*" {
		t.Fatalf("attachment: %+v", ev[:2])
	}
	if ev[2].Type != dialog.EventStart {
		t.Fatalf("Get Started: %+v", ev[2])
	}
	if !ev[1].Time.Equal(time.UnixMilli(1518479195308)) || ev[1].Metadata["messenger.mid"] != "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c" {
		t.Fatalf("time/metadata %v %v", ev[1].Time, ev[1].Metadata)
	}
	s := h.Sessions()[1]
	if s.ConversationID != convID || s.Channel != Channel || s.ChannelUserID != psid || s.Locale != "en-US" {
		t.Fatalf("session %+v", s)
	}
	for _, call := range g.Calls() {
		if call.Body["sender_action"] != nil {
			t.Fatal("typing sent with no_typing")
		}
	}
}

func TestDuplicateDelivery(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("ok")}
	c, _ := setup(t, h, nil)
	body := metatest.Fixture(t, "quick_reply.json")
	for i := 0; i < 3; i++ {
		if w := post(c, body, appSecret); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	c.Wait()
	if ev := h.Events(); len(ev) != 2 || ev[1].Type != dialog.EventChoice || ev[1].Choice != "hours" {
		t.Fatalf("events %+v", ev)
	}
}

// TestSendRetries: a 429 with Retry-After and a 500 are retried; the reply
// arrives once.
func TestSendRetries(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	h := &metatest.Recorder{Reply: dialog.Say("ok")}
	c, g := setup(t, h, func(cfg *Config) { cfg.NoTyping = true }, WithRetryWait(sleep))
	if err := c.Send(context.Background(), psid, dialog.Say("warm")); err != nil {
		t.Fatal(err)
	}
	g.Calls()
	g.FailNext(1, http.StatusTooManyRequests, "2")
	g.FailNext(1, http.StatusInternalServerError, "")
	if err := c.Send(context.Background(), psid, dialog.Say("after backoff")); err != nil {
		t.Fatal(err)
	}
	calls := g.Calls()
	if len(calls) != 3 || calls[0].Refused == "" || calls[1].Refused == "" || calls[2].Refused != "" {
		t.Fatalf("calls %+v", calls)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 2 || waits[0] != 2*time.Second {
		t.Fatalf("waits %v, want [2s, backoff]", waits)
	}
	// A 400 from the Graph API is not retried and surfaces its error.
	c2, _ := setup(t, h, nil)
	c2.graph.Token = "wrong"
	err := c2.Send(context.Background(), psid, dialog.Say("x"))
	var ge *meta.GraphError
	if !errors.As(err, &ge) || ge.Code != 190 || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
}

func TestConfig(t *testing.T) {
	good := Config{AppSecret: "s", VerifyToken: "v", PageAccessToken: "t"}
	if _, err := New(&metatest.Recorder{}, good); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"no secret":      func(c *Config) { c.AppSecret = "" },
		"no verify":      func(c *Config) { c.VerifyToken = "" },
		"no token":       func(c *Config) { c.PageAccessToken = "" },
		"bad path":       func(c *Config) { c.Path = "io/x" },
		"bad graph":      func(c *Config) { c.GraphURL = "ftp://x" },
		"bad version":    func(c *Config) { c.GraphVersion = "24" },
		"negative limit": func(c *Config) { c.MaxBodyBytes = -1 },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(&metatest.Recorder{}, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(nil, good); !errors.Is(err, ErrConfig) {
		t.Error("nil handler accepted")
	}
	c, _ := New(&metatest.Recorder{}, good)
	if r := c.Routes(); len(r) != 2 || r[0] != "GET /io/messenger" || r[1] != "POST /io/messenger" {
		t.Fatalf("routes %v", r)
	}
}

// TestBusy: when too many turns wait, the webhook answers 503 and the
// delivery is taken again when Meta retries it.
func TestBusy(t *testing.T) {
	release := make(chan struct{})
	h := &blocking{release: release}
	c, _ := setup(t, h, func(cfg *Config) { cfg.MaxPending = 1; cfg.NoTyping = true })
	if w := post(c, msgBody("m_1", "one"), appSecret); w.Code != 200 {
		t.Fatalf("first: %d", w.Code)
	}
	if w := post(c, msgBody("m_2", "two"), appSecret); w.Code != 503 {
		t.Fatalf("second: %d, want 503", w.Code)
	}
	close(release)
	c.Wait()
	if w := post(c, msgBody("m_2", "two"), appSecret); w.Code != 200 {
		t.Fatalf("retry: %d", w.Code)
	}
	c.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.Join(h.texts, ",") != "one,two" {
		t.Fatalf("texts %v", h.texts)
	}
}

type blocking struct {
	release chan struct{}
	mu      sync.Mutex
	texts   []string
}

func (b *blocking) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	if ev.Type == dialog.EventText {
		b.texts = append(b.texts, ev.Text)
	}
	return dialog.Reply{}, nil
}

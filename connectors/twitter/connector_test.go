package twitter

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

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// The fixture's accounts: the bot (for_user_id) and the user writing.
const (
	secret      = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"
	botID       = "4337869213"
	userID      = "3001969357"
	accessToken = "VGhpcyBpcyBhbiBleGFtcGxlIE9BdXRoIDIuMCBCZWFyZXIgdG9rZW4"
)

// fakeX is the X API v2 side: POST /2/dm_conversations/with/{participant_id}/messages
// as its OpenAPI gives it (Bearer user token, {"text"} of at least one
// character, 201 {"data": {"dm_conversation_id", "dm_event_id"}}), with
// 429 and x-rate-limit-reset when asked.
type fakeX struct {
	srv      *httptest.Server
	mu       sync.Mutex
	sent     []sentDM
	limited  int // answer 429 this many times
	attempts atomic.Int32
	n        int
}

type sentDM struct{ To, Text string }

func newFakeX(t testing.TB) *fakeX {
	f := &fakeX{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2/dm_conversations/with/{participant_id}/messages", func(w http.ResponseWriter, r *http.Request) {
		f.attempts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`))
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.limited > 0 {
			f.limited--
			w.Header().Set("X-Rate-Limit-Limit", "200")
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`))
			return
		}
		var body struct {
			Text string `json:"text"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Text == "" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":[{"message":"$.text: must be at least 1 characters long"}],"title":"Invalid Request","type":"https://api.twitter.com/2/problems/invalid-request"}`))
			return
		}
		f.n++
		f.sent = append(f.sent, sentDM{r.PathValue("participant_id"), body.Text})
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"dm_conversation_id": botID + "-" + r.PathValue("participant_id"), "dm_event_id": strconv.Itoa(1582838499983564806 + f.n)}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeX) take() []sentDM {
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
	x    *fakeX
	c    *Connector
	srv  *httptest.Server
	hits *counting
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{x: newFakeX(t), hits: &counting{Handler: demoRunner(t)}}
	cfg := Config{ConsumerSecret: secret, UserID: botID, AccessToken: accessToken, APIURL: e.x.srv.URL}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(e.hits, cfg, WithLogger(slog.New(slog.DiscardHandler)), WithRetry(3, time.Millisecond, 5*time.Second))
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

// delivery returns the documented DM delivery with the message's id and
// text changed (and a quick reply response when metadata is set).
func delivery(t testing.TB, id, text, metadata string) []byte {
	b, err := os.ReadFile("testdata/dm_event.json")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	ev := p["direct_message_events"].([]any)[0].(map[string]any)
	ev["id"] = id
	md := ev["message_create"].(map[string]any)["message_data"].(map[string]any)
	md["text"] = text
	if metadata != "" {
		md["quick_reply_response"] = map[string]string{"type": "options", "metadata": metadata}
	}
	b, _ = json.Marshal(p)
	return b
}

func sign(body []byte) string {
	return "sha256=" + httpx.SignHMAC("sha256", httpx.Base64, []byte(secret), body)
}

func (e *env) deliver(t testing.TB, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+DefaultPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sig != "" {
		req.Header.Set("x-twitter-webhooks-signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func texts(s []sentDM) string {
	var out []string
	for _, d := range s {
		out = append(out, d.Text)
	}
	return strings.Join(out, "\n")
}

func TestCRC(t *testing.T) {
	// X's own CRC sample: its secret and token; the answer computed with
	// openssl (testdata/README.md).
	if got := ResponseToken(secret, "9b4507b3-9040-4669-9ca3-6b94edb50553"); got != "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=" {
		t.Fatalf("ResponseToken = %s", got)
	}
	e := newEnv(t, nil)
	resp, err := http.Get(e.srv.URL + DefaultPath + "?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553&nonce=x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 || ans["response_token"] != "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=" || len(ans) != 1 {
		t.Fatalf("CRC: %d %v %v", resp.StatusCode, ans, err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("CRC content type %q", resp.Header.Get("Content-Type"))
	}
	resp2, err := http.Get(e.srv.URL + DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("CRC without token: %d", resp2.StatusCode)
	}
}

func TestDocumentedMessageInReplyOut(t *testing.T) {
	e := newEnv(t, nil)
	b, _ := os.ReadFile("testdata/dm_event.json")
	if code := e.deliver(t, b, sign(b)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	sent := e.x.take()
	if len(sent) == 0 {
		t.Fatal("no DM sent")
	}
	for _, d := range sent {
		if d.To != userID {
			t.Fatalf("DM to %s", d.To)
		}
	}
	all := texts(sent)
	for _, want := range []string{"Welcome to the Parole demo line.", "1. Opening hours\n2. Book an appointment", "Sorry, I didn't understand."} {
		if !strings.Contains(all, want) {
			t.Errorf("DMs lack %q:\n%s", want, all)
		}
	}
	// X delivers the same event again: it is not answered twice.
	if code := e.deliver(t, b, sign(b)); code != http.StatusOK || len(e.x.take()) != 0 {
		t.Fatal("a redelivered event was answered again")
	}
}

func TestChoiceRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	b := delivery(t, "1", "hi", "")
	e.deliver(t, b, sign(b))
	e.x.take()
	// The user answers the numbered list with the number.
	b = delivery(t, "2", "1", "")
	e.deliver(t, b, sign(b))
	if got := texts(e.x.take()); !strings.HasPrefix(got, "We are open Monday to Friday") {
		t.Fatalf("\"1\" answered %q", got)
	}
	// A quick reply response's metadata is the choice's payload ("yes" of
	// "anything else?"), whatever the text.
	b = delivery(t, "3", "Sure thing", "yes")
	e.deliver(t, b, sign(b))
	if got := texts(e.x.take()); !strings.Contains(got, "What would you like?") {
		t.Fatalf("quick reply answered %q", got)
	}
}

func TestDocumentedQuickReplyObject(t *testing.T) {
	b, err := os.ReadFile("testdata/message_create_quick_reply.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev DMEvent
	if err := httpx.DecodeJSON(b, &ev); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	got := e.c.event(&ev, nil)
	if got.Type != dialog.EventChoice || got.Choice != "external_id_2" || got.Metadata["twitter.text"] != "Blue Bird" || !got.Time.Equal(time.UnixMilli(1392078023603)) {
		t.Fatalf("event %+v", got)
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, nil)
	b := delivery(t, "9", "hello", "")
	good := sign(b)
	forged := []byte(good)
	forged[10] ^= 1
	otherKey := "sha256=" + httpx.SignHMAC("sha256", httpx.Base64, []byte("another secret"), b)
	for name, sig := range map[string]string{
		"missing":      "",
		"no prefix":    strings.TrimPrefix(good, "sha256="),
		"forged":       string(forged),
		"other secret": otherKey,
		"hex":          "sha256=" + httpx.SignHMAC("sha256", httpx.Hex, []byte(secret), b),
		"sha1 prefix":  "sha1=" + strings.TrimPrefix(good, "sha256="),
	} {
		if code := e.deliver(t, b, sig); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, code)
		}
	}
	// A body changed after signing.
	if code := e.deliver(t, delivery(t, "9", "hello!", ""), good); code != http.StatusUnauthorized {
		t.Errorf("tampered body: %d", code)
	}
	if e.hits.n.Load() != 0 || len(e.x.take()) != 0 {
		t.Fatal("an unverified delivery reached the dialog")
	}
}

func TestIgnored(t *testing.T) {
	e := newEnv(t, nil)
	// The bot's own message (X echoes sent DMs to the webhook).
	own := bytes.Replace(delivery(t, "10", "hello", ""), []byte(`"sender_id":"`+userID+`"`), []byte(`"sender_id":"`+botID+`"`), 1)
	// Events for another subscribed account.
	other := bytes.Replace(delivery(t, "11", "hello", ""), []byte(`"for_user_id":"`+botID+`"`), []byte(`"for_user_id":"999"`), 1)
	// Another activity.
	follow := []byte(`{"for_user_id":"` + botID + `","follow_events":[{"type":"follow"}]}`)
	for _, b := range [][]byte{own, other, follow} {
		if code := e.deliver(t, b, sign(b)); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	if e.hits.n.Load() != 0 || len(e.x.take()) != 0 {
		t.Fatal("answered an ignored event")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	big := delivery(t, "12", strings.Repeat("x", 5000), "")
	for name, tc := range map[string]struct {
		body []byte
		want int
	}{
		"oversized":      {big, 413},
		"bad json":       {[]byte(`{"for_user_id":`), 400},
		"no for_user_id": {[]byte(`{"direct_message_events":[]}`), 400},
		"wrong type":     {[]byte(`{"for_user_id":1}`), 400},
	} {
		if code := e.deliver(t, tc.body, sign(tc.body)); code != tc.want {
			t.Errorf("%s: %d, want %d", name, code, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+DefaultPath, strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", resp.StatusCode)
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("bad input reached the dialog")
	}
}

func TestRateLimitBackoff(t *testing.T) {
	e := newEnv(t, nil)
	e.x.limited = 2
	b := delivery(t, "20", "hi", "")
	if code := e.deliver(t, b, sign(b)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	n := len(e.x.take())
	if n == 0 || int(e.x.attempts.Load()) != n+2 {
		t.Fatalf("%d DMs in %d attempts, want two 429s retried", n, e.x.attempts.Load())
	}
}

func TestResetTransport(t *testing.T) {
	now := time.Unix(1700000000, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rate-Limit-Reset", "1700000007")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	hc := withResets(nil, func() time.Time { return now })
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Retry-After"); got != "7" {
		t.Fatalf("Retry-After %q, want 7", got)
	}
}

func TestNewValidates(t *testing.T) {
	h := demoRunner(t)
	good := Config{ConsumerSecret: "s", UserID: "1", AccessToken: "t"}
	for name, mod := range map[string]func(*Config){
		"no secret":    func(c *Config) { c.ConsumerSecret = "" },
		"no user":      func(c *Config) { c.UserID = "" },
		"no token":     func(c *Config) { c.AccessToken = "" },
		"bad api":      func(c *Config) { c.APIURL = "api.x.com" },
		"bad path":     func(c *Config) { c.Path = "twitter" },
		"negative ttl": func(c *Config) { c.ConversationTTL = -time.Second },
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
	got := Render(dialog.Reply{Messages: []dialog.Message{
		{Text: "Pick", Choices: []dialog.Choice{{Title: "A"}, {Title: "Site", URL: "https://x"}, {Title: "B"}}},
		{Card: &dialog.Card{Title: "T", Subtitle: "S"}},
		{Text: strings.Repeat("é", MaxDMLength+5)},
	}, Transfer: &dialog.Transfer{Target: "agent"}})
	if len(got) != 4 || got[0] != "Pick\n1. A\nSite: https://x\n2. B" || got[1] != "T\nS" || got[3] != "→ agent" {
		t.Fatalf("%q", got[:2])
	}
	if n := len([]rune(got[2])); n != MaxDMLength {
		t.Fatalf("long DM has %d characters", n)
	}
}

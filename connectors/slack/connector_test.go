package slack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

const (
	secret   = "8f742231b10e8888abcd99yyyzzz85a5" // the signing secret of Slack's documented example
	botToken = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
	team     = "T123ABC456"
	dm       = "D024BE91L"
	user     = "U2147483697"
)

// now is the tests' clock: a request signed at now is fresh.
var now = time.Unix(1700000000, 0)

func setup(t testing.TB, h Handler, mod func(*Config), opts ...Option) (*Connector, *fakeSlack) {
	t.Helper()
	f := newFakeSlack(t, botToken)
	cfg := Config{SigningSecret: secret, BotToken: botToken, APIURL: f.url()}
	if mod != nil {
		mod(&cfg)
	}
	base := []Option{WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return now })}
	c, err := New(h, cfg, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, f
}

// send posts body to the route as Slack does, signed at time at with
// secret (unsigned when secret is empty).
func send(c *Connector, route, ctype string, body []byte, at time.Time, key string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, c.cfg.Path+route, bytes.NewReader(body))
	r.Header.Set("Content-Type", ctype)
	if key != "" {
		ts := strconv.FormatInt(at.Unix(), 10)
		r.Header.Set(TimestampHeader, ts)
		r.Header.Set(SignatureHeader, Sign(key, ts, body))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w
}

func event(c *Connector, body []byte, hdr ...string) *httptest.ResponseRecorder {
	return send(c, "/events", "application/json", body, now, secret, hdr...)
}

// click posts a block_actions payload for a button of ours carrying value,
// clicked by user in channel.
func click(t testing.TB, c *Connector, channel, value, trigger string) *httptest.ResponseRecorder {
	p := string(metatest.Fixture(t, "block_actions.json"))
	p = strings.NewReplacer(`"WaXA"`, `"`+ChoiceActionPrefix+`0"`, `"click_me_123"`, strconv.Quote(value),
		`"CBR2V3XEX"`, strconv.Quote(channel), `"UA8RXUSPL"`, strconv.Quote(user), `"T9TK3CUKW"`, strconv.Quote(team),
		"12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3", trigger).Replace(p)
	body := []byte("payload=" + url.QueryEscape(p))
	return send(c, "/interactions", "application/x-www-form-urlencoded", body, now, secret)
}

// TestVerifyDocumentedExample checks Verify against the worked example of
// Slack's "Verifying requests from Slack": signing secret, timestamp,
// body and the signature Slack computed.
func TestVerifyDocumentedExample(t *testing.T) {
	body := metatest.Fixture(t, "signed_slash_command.txt")
	h := http.Header{}
	h.Set(TimestampHeader, "1531420618")
	h.Set(SignatureHeader, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	at := time.Unix(1531420618, 0)
	if err := Verify(secret, h, body, at.Add(time.Minute), DefaultTolerance); err != nil {
		t.Fatalf("documented example refused: %v", err)
	}
	if got := Sign(secret, "1531420618", body); got != h.Get(SignatureHeader) {
		t.Fatalf("Sign = %s", got)
	}
	if err := Verify(secret, h, body, at.Add(6*time.Minute), DefaultTolerance); !errors.Is(err, ErrTimestamp) || !errors.Is(err, httpx.ErrUnauthorized) {
		t.Fatalf("6 minutes late: %v", err)
	}
	if err := Verify(secret, h, append(body, 'x'), at, DefaultTolerance); !errors.Is(err, ErrSignature) || !errors.Is(err, httpx.ErrUnauthorized) {
		t.Fatalf("changed body: %v", err)
	}
}

func TestURLVerification(t *testing.T) {
	c, _ := setup(t, &metatest.Recorder{}, nil)
	w := event(c, metatest.Fixture(t, "url_verification.json"))
	if w.Code != 200 || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("challenge: %d %q %s", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	if w := send(c, "/events", "application/json", metatest.Fixture(t, "url_verification.json"), now, ""); w.Code != 401 {
		t.Fatalf("unsigned challenge: %d", w.Code)
	}
}

// TestForgedRequests: every kind of bad signature or timestamp gets 401
// and never reaches the dialog.
func TestForgedRequests(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("hi")}
	c, f := setup(t, h, nil)
	body := metatest.Fixture(t, "message_im.json")
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign(secret, ts, body)
	forged := []byte(good)
	forged[5] ^= 1
	cases := map[string][2]string{ // timestamp, signature
		"no signature":    {ts, ""},
		"no timestamp":    {"", good},
		"bad timestamp":   {"yesterday", good},
		"forged":          {ts, string(forged)},
		"other secret":    {ts, Sign("another", ts, body)},
		"v1":              {ts, "v1=" + strings.TrimPrefix(good, "v0=")},
		"no prefix":       {ts, strings.TrimPrefix(good, "v0=")},
		"stale (replay)":  {strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), Sign(secret, strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), body)},
		"future":          {strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), Sign(secret, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), body)},
		"other timestamp": {strconv.FormatInt(now.Unix()+1, 10), good},
	}
	for name, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, "/io/slack/events", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if tc[0] != "" {
			r.Header.Set(TimestampHeader, tc[0])
		}
		if tc[1] != "" {
			r.Header.Set(SignatureHeader, tc[1])
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	// Interactive payloads are checked the same way.
	p := []byte("payload=" + url.QueryEscape(string(metatest.Fixture(t, "block_actions.json"))))
	if w := send(c, "/interactions", "application/x-www-form-urlencoded", p, now, "wrong-secret"); w.Code != 401 {
		t.Errorf("forged interaction: %d", w.Code)
	}
	c.Wait()
	if len(h.Events()) != 0 {
		t.Fatal("a forged request reached the dialog")
	}
	if posts, _ := f.take(); len(posts) != 0 {
		t.Fatal("a forged request made the bot post")
	}
	// Four minutes old is within Slack's five.
	if w := send(c, "/events", "application/json", body, now.Add(-4*time.Minute), secret); w.Code != 200 {
		t.Fatalf("4 minutes old: %d", w.Code)
	}
}

func TestBadRequests(t *testing.T) {
	h := &metatest.Recorder{}
	c, _ := setup(t, h, func(cfg *Config) { cfg.MaxBodyBytes = 4096 })
	for _, tc := range []struct {
		name, route, ctype, body string
		code                     int
	}{
		{"oversized", "/events", "application/json", `{"type":"event_callback","x":"` + strings.Repeat("y", 5000) + `"}`, 413},
		{"bad json", "/events", "application/json", `{"type":"event_callback",`, 400},
		{"no type", "/events", "application/json", `{"event_id":"Ev1"}`, 400},
		{"no event id", "/events", "application/json", `{"type":"event_callback","event":{"type":"message"}}`, 400},
		{"no challenge", "/events", "application/json", `{"type":"url_verification"}`, 400},
		{"no payload", "/interactions", "application/x-www-form-urlencoded", `foo=bar`, 400},
		{"payload not json", "/interactions", "application/x-www-form-urlencoded", `payload=%7Bnope`, 400},
		{"bad form", "/interactions", "application/x-www-form-urlencoded", `payload=%zz`, 400},
		{"actions without user", "/interactions", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(`{"type":"block_actions","team":{"id":"T"},"channel":{"id":"C"}}`), 400},
		{"text", "/events", "text/plain", `hello`, 415},
	} {
		if w := send(c, tc.route, tc.ctype, []byte(tc.body), now, secret); w.Code != tc.code {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/io/slack/events", nil))
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
	w = httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/io/slack/other", nil))
	if w.Code != 404 {
		t.Errorf("other path: %d", w.Code)
	}
	c.Wait()
	if len(h.Events()) != 0 {
		t.Fatalf("bad requests reached the dialog: %+v", h.Events())
	}
}

// TestConversation runs the demo flow in a direct message: the first
// message gets the welcome and the menu with buttons; clicking a button
// comes back as block_actions and answers the choice.
func TestConversation(t *testing.T) {
	c, f := setup(t, metatest.DemoRunner(t), nil)
	if w := event(c, metatest.Fixture(t, "message_im.json")); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	posts, refused := f.take()
	if len(refused) != 0 || len(posts) < 2 {
		t.Fatalf("posts %+v refused %v", posts, refused)
	}
	if posts[0].Channel != dm || posts[0].Text != "Welcome to the Parole demo line." || posts[0].ThreadTS != "" {
		t.Fatalf("welcome %+v", posts[0])
	}
	menu := posts[1]
	if len(menu.Blocks) != 2 || menu.Blocks[0].Type != "section" || menu.Blocks[0].Text.Type != "mrkdwn" || menu.Blocks[1].Type != "actions" {
		t.Fatalf("menu blocks %+v", menu.Blocks)
	}
	var values []string
	for _, e := range menu.Blocks[1].Elements {
		values = append(values, e.Value)
	}
	if strings.Join(values, ",") != "hours,book" || !strings.Contains(menu.Text, "What would you like?") {
		t.Fatalf("buttons %v, text %q", values, menu.Text)
	}
	// The user clicks "Opening hours".
	if w := click(t, c, dm, "hours", "111.222.aaa"); w.Code != 200 {
		t.Fatalf("click: %d", w.Code)
	}
	c.Wait()
	posts, refused = f.take()
	if len(refused) != 0 || len(posts) < 1 || posts[0].Text != "We are open Monday to Friday, from 9 am to 6 pm." || posts[0].Channel != dm {
		t.Fatalf("after the click: %+v %v", posts, refused)
	}
	// "no" by text ends the call politely.
	body := bytes.Replace(metatest.Fixture(t, "message_im.json"), []byte("Hello hello can you hear me?"), []byte("no"), 1)
	body = bytes.Replace(body, []byte("Ev123ABC456"), []byte("Ev2"), 1)
	event(c, body)
	c.Wait()
	if posts, _ = f.take(); len(posts) != 1 || posts[0].Text != "Thank you for calling. Goodbye!" {
		t.Fatalf("after no: %+v", posts)
	}
}

func TestMention(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("Rivers & <streams>")}
	c, f := setup(t, h, func(cfg *Config) { cfg.ReplyInThread = true; cfg.DefaultLocale = "en-US" })
	if w := event(c, metatest.Fixture(t, "app_mention.json")); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	ev := h.Events()
	if len(ev) != 2 || ev[0].Type != dialog.EventStart || ev[1].Text != "is it everything a river should be?" {
		t.Fatalf("events %+v", ev)
	}
	if !ev[1].Time.Equal(time.Unix(1515449522, 16000)) || ev[1].Metadata["slack.channel"] != "C123ABC456" {
		t.Fatalf("time %v metadata %v", ev[1].Time, ev[1].Metadata)
	}
	s := h.Sessions()[1]
	if s.ConversationID != "slack:T123ABC456:C123ABC456:U061F7AUR" || s.ChannelUserID != "U061F7AUR" || s.Channel != Channel || s.Locale != "en-US" {
		t.Fatalf("session %+v", s)
	}
	posts, _ := f.take()
	if len(posts) != 2 || posts[1].ThreadTS != "1515449522.000016" || posts[1].Blocks[0].Text.Text != "Rivers &amp; &lt;streams&gt;" || posts[1].Text != "Rivers & <streams>" {
		t.Fatalf("posts %+v", posts)
	}
	if got := stripMention("<@U0LAN0Z89|bot> hi <@U999> there", "U0LAN0Z89"); got != "hi <@U999> there" {
		t.Fatalf("stripMention = %q", got)
	}
	if got := stripMention("  <@U0LAN0Z89>   hours", ""); got != "hours" {
		t.Fatalf("stripMention unknown bot = %q", got)
	}
}

// TestIgnored: bot messages, edits, channel chatter without a mention,
// the bot's own messages and foreign buttons never reach the dialog.
func TestIgnored(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("x")}
	c, _ := setup(t, h, nil)
	im := string(metatest.Fixture(t, "message_im.json"))
	bodies := []string{
		string(metatest.Fixture(t, "bot_message.json")),
		strings.Replace(strings.Replace(im, `"channel_type": "im"`, `"channel_type": "channel"`, 1), "Ev123ABC456", "Ev-ch", 1),
		strings.Replace(strings.Replace(im, `"type": "message",`, `"type": "message", "subtype": "message_changed",`, 1), "Ev123ABC456", "Ev-ed", 1),
		strings.Replace(strings.Replace(im, `"user": "U2147483697"`, `"user": "U0LAN0Z89"`, 1), "Ev123ABC456", "Ev-own", 1),
		strings.Replace(strings.Replace(im, `"type": "message",`, `"type": "reaction_added",`, 1), "Ev123ABC456", "Ev-re", 1),
		`{"type":"app_rate_limited","team_id":"T123ABC456","minute_rate_limited":1518467820,"api_app_id":"A123ABC456"}`,
	}
	for i, b := range bodies {
		if w := event(c, []byte(b)); w.Code != 200 {
			t.Fatalf("body %d: %d %s", i, w.Code, w.Body)
		}
	}
	// The documented block_actions: another app's button.
	p := []byte("payload=" + url.QueryEscape(string(metatest.Fixture(t, "block_actions.json"))))
	if w := send(c, "/interactions", "application/x-www-form-urlencoded", p, now, secret); w.Code != 200 {
		t.Fatalf("foreign button: %d", w.Code)
	}
	c.Wait()
	if ev := h.Events(); len(ev) != 0 {
		t.Fatalf("ignored events reached the dialog: %+v", ev)
	}
}

// TestRetriesDeduplicated: Slack's retries (X-Slack-Retry-Num) of an event
// already taken are acknowledged and dropped.
func TestRetriesDeduplicated(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("x")}
	c, f := setup(t, h, nil)
	body := metatest.Fixture(t, "message_im.json")
	event(c, body)
	for i := 1; i <= 3; i++ {
		if w := event(c, body, RetryNumHeader, strconv.Itoa(i), "X-Slack-Retry-Reason", "http_timeout"); w.Code != 200 {
			t.Fatalf("retry %d: %d", i, w.Code)
		}
	}
	c.Wait()
	if ev := h.Events(); len(ev) != 2 { // start + the message, once
		t.Fatalf("events %+v", ev)
	}
	if posts, _ := f.take(); len(posts) != 2 {
		t.Fatalf("%d posts", len(posts))
	}
	// A repeated click is dropped too.
	click(t, c, dm, "hours", "9.9.x")
	click(t, c, dm, "hours", "9.9.x")
	c.Wait()
	if ev := h.Events(); len(ev) != 3 || ev[2].Choice != "hours" {
		t.Fatalf("events %+v", ev)
	}
}

// TestAcknowledgedBeforeDialog: the request is answered while the dialog
// still works, as Slack wants an answer within 3 seconds.
func TestAcknowledgedBeforeDialog(t *testing.T) {
	release := make(chan struct{})
	h := &blocking{release: release}
	c, f := setup(t, h, nil)
	if w := event(c, metatest.Fixture(t, "message_im.json")); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if c.turns.Pool.Pending() != 1 {
		t.Fatalf("pending %d: the turn should still be running", c.turns.Pool.Pending())
	}
	close(release)
	c.Wait()
	if posts, _ := f.take(); len(posts) != 2 {
		t.Fatalf("%d posts after release", len(posts))
	}
}

type blocking struct{ release chan struct{} }

func (b *blocking) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	<-b.release
	return dialog.Say("done " + string(ev.Type)), nil
}

func TestBusy(t *testing.T) {
	release := make(chan struct{})
	c, _ := setup(t, &blocking{release: release}, func(cfg *Config) { cfg.MaxPending = 1 })
	event(c, metatest.Fixture(t, "message_im.json"))
	other := bytes.Replace(metatest.Fixture(t, "app_mention.json"), []byte("Ev0LAN670R"), []byte("EvBusy"), 1)
	if w := event(c, other); w.Code != 503 {
		t.Fatalf("second: %d, want 503", w.Code)
	}
	close(release)
	c.Wait()
	if w := event(c, other, RetryNumHeader, "1"); w.Code != 200 || c.turns.Pool.Pending() > 1 {
		t.Fatalf("retry after 503: %d", w.Code)
	}
	c.Wait()
}

func TestRateLimitAndErrors(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	c, f := setup(t, &metatest.Recorder{}, nil, WithRetryWait(sleep))
	f.rateLimit(2)
	if err := c.Send(context.Background(), dm, "", dialog.Say("after the limit")); err != nil {
		t.Fatal(err)
	}
	posts, refused := f.take()
	if len(posts) != 1 || len(refused) != 2 {
		t.Fatalf("posts %v refused %v", posts, refused)
	}
	mu.Lock()
	if len(waits) != 2 || waits[0] != time.Second || waits[1] != time.Second {
		t.Fatalf("waits %v, want Retry-After 1s twice", waits)
	}
	mu.Unlock()
	// "ok": false is an error with Slack's code, not retried.
	c.cfg.BotToken = "xoxb-wrong"
	err := c.Send(context.Background(), dm, "", dialog.Say("x"))
	if !errors.Is(err, ErrAPI) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("bad token: %v", err)
	}
	if _, refused := f.take(); len(refused) != 1 {
		t.Fatalf("refused %v", refused)
	}
}

func TestConfig(t *testing.T) {
	good := Config{SigningSecret: "s", BotToken: "xoxb-1"}
	c, err := New(&metatest.Recorder{}, good)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Routes(); len(r) != 2 || r[0] != "POST /io/slack/events" || r[1] != "POST /io/slack/interactions" {
		t.Fatalf("routes %v", r)
	}
	for name, mod := range map[string]func(*Config){
		"no secret": func(c *Config) { c.SigningSecret = "" },
		"no token":  func(c *Config) { c.BotToken = "" },
		"bad path":  func(c *Config) { c.Path = "/slack/" },
		"bad api":   func(c *Config) { c.APIURL = "slack.com" },
		"negative":  func(c *Config) { c.Tolerance = -time.Second },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(&metatest.Recorder{}, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(nil, good); !errors.Is(err, ErrConfig) {
		t.Error("nil handler")
	}
	insecure := Config{BotToken: "xoxb-1", InsecureSkipVerify: true}
	ci, err := New(&metatest.Recorder{Reply: dialog.Say("x")}, insecure, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer ci.Close(context.Background())
	if w := send(ci, "/events", "application/json", metatest.Fixture(t, "url_verification.json"), now, ""); w.Code != 200 {
		t.Fatalf("insecure: %d", w.Code)
	}
}

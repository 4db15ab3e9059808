package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func TestRenderMapping(t *testing.T) {
	r := dialog.Reply{
		Messages: []dialog.Message{
			{Text: "Pick one", Choices: []dialog.Choice{
				{Title: "Hours", Payload: "hours", ImageURL: "https://x/clock.png"},
				{Title: "Yes"},
				{Title: "Site", URL: "https://example.com"},
			}},
			{SSML: "<speak>Hello &amp; <break time=\"1s\"/>welcome</speak>"},
			{Audio: &dialog.Audio{URL: "prompt.wav", Text: "Recorded prompt"}},
			{Card: &dialog.Card{Title: "Shop", Subtitle: "Open 9-6", ImageURL: "https://x/shop.jpg", Buttons: []dialog.Choice{{Title: "Go", Payload: "go"}, {Title: "Map", URL: "https://map"}}}},
			{Card: &dialog.Card{Title: "A"}},
			{Card: &dialog.Card{Title: "B"}},
			{Text: "between"},
			{Card: &dialog.Card{Title: "Alone"}},
			{Attachment: &dialog.Attachment{URL: "https://x/p.png", Name: "photo", ContentType: "image/png"}},
			{Attachment: &dialog.Attachment{URL: "https://x/f.pdf", ContentType: "application/pdf"}},
			{Attachment: &dialog.Attachment{URL: "https://x/a.mp3", Name: "song", ContentType: "audio/mpeg"}, Choices: []dialog.Choice{{Title: "Again", Payload: "again"}}},
			{Choices: []dialog.Choice{{Title: "Only", Payload: "only"}}},
		},
		Hangup: true,
	}
	msgs, meta := Render(r, "en")
	var buf bytes.Buffer
	if err := encodeJSON(&buf, msgs); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	want := `[` +
		`{"text":"Pick one","buttons":[{"type":"quick_reply","title":"Hours","payload":"hours","imageUrl":"https://x/clock.png"},{"type":"quick_reply","title":"Yes","payload":"Yes"},{"type":"web_url","title":"Site","url":"https://example.com","target":"_blank","style":"primary"}],"version":"1"},` +
		`{"text":"Hello & welcome","version":"1"},` +
		`{"text":"Recorded prompt","version":"1"},` +
		`{"carousel":{"cards":[{"title":"Shop","subTitle":"Open 9-6","file":{"url":"https://x/shop.jpg","name":"Shop","type":"image"},"buttons":[{"type":"postback","title":"Go","payload":"go","style":"primary"},{"type":"web_url","title":"Map","url":"https://map","target":"_blank","style":"primary"}]},{"title":"A"},{"title":"B"}]},"version":"1"},` +
		`{"text":"between","version":"1"},` +
		`{"card":{"title":"Alone"},"version":"1"},` +
		`{"image":{"file":{"url":"https://x/p.png","name":"photo","type":"image"},"title":"photo"},"version":"1"},` +
		`{"card":{"title":"https://x/f.pdf","file":{"url":"https://x/f.pdf","name":"https://x/f.pdf","type":"file"}},"version":"1"},` +
		`{"buttons":[{"type":"quick_reply","title":"Again","payload":"again"}],"card":{"title":"song","file":{"url":"https://x/a.mp3","name":"song","type":"audio"}},"version":"1"},` +
		`{"buttons":[{"type":"quick_reply","title":"Only","payload":"only"}],"version":"1"}]`
	if string(got) != want {
		t.Errorf("messages\n got %s\nwant %s", got, want)
	}
	if len(meta) != 1 || meta[MetaEnd] != "true" {
		t.Errorf("metadata %v, want end=true", meta)
	}

	msgs, meta = Render(dialog.Reply{Transfer: &dialog.Transfer{Target: "sip:op@pbx"}}, "fr-FR")
	if texts(msgs) != "Je vous transfère vers sip:op@pbx." || meta[MetaTransfer] != "sip:op@pbx" {
		t.Errorf("transfer: %q %v", texts(msgs), meta)
	}
	msgs, meta = Render(dialog.Reply{Messages: []dialog.Message{{Text: "Hold on"}}, Transfer: &dialog.Transfer{Target: "+33123456789"}}, "en")
	if texts(msgs) != "Hold on" || meta[MetaTransfer] != "+33123456789" {
		t.Errorf("transfer with text: %q %v", texts(msgs), meta)
	}
	msgs, _ = Render(dialog.Reply{Transfer: &dialog.Transfer{Target: "sip:a@b"}}, "")
	if texts(msgs) != "Transferring you to sip:a@b." {
		t.Errorf("english transfer text %q", texts(msgs))
	}
	msgs, meta = Render(dialog.Reply{Gather: &dialog.Gather{Speech: true}}, "en")
	if len(msgs) != 0 || len(meta) != 0 {
		t.Errorf("gather only: %v %v", msgs, meta)
	}
}

func TestStartOnFirstContactThenContinue(t *testing.T) {
	bot := &fakeBot{}
	c := newConnector(t, bot, Config{})
	code, resp, _ := post(t, c, `{"query":"hello","userId":"u1","locale":"fr_FR"}`)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := texts(resp.Responses); got != "Welcome|You said hello" {
		t.Fatalf("first answer %q", got)
	}
	if b := resp.Responses[0].Buttons; len(b) != 2 || b[0] != (Button{Type: ButtonQuickReply, Title: "Hours", Payload: "hours"}) || b[1].Payload != "Book" {
		t.Fatalf("welcome buttons %+v", b)
	}
	if resp.Metadata[MetaResponseID] == "" {
		t.Error("no RESPONSE_ID")
	}
	want := runner.Session{ConversationID: "web:u1", Channel: "web", ChannelUserID: "u1", Locale: "fr-FR"}
	if bot.sessions[0] != want || bot.sessions[1] != want {
		t.Fatalf("sessions %+v, want %+v", bot.sessions, want)
	}
	// The same user continues: no second start; the locale is remembered.
	_, resp, _ = post(t, c, `{"query":"again","userId":"u1"}`)
	if got := texts(resp.Responses); got != "You said again" {
		t.Fatalf("second answer %q", got)
	}
	// A clicked button is a choice event.
	_, resp, _ = post(t, c, `{"payload":"hours","userId":"u1"}`)
	if got := texts(resp.Responses); got != "Picked hours" {
		t.Fatalf("payload answer %q", got)
	}
	// Query wins over payload, as in Tock.
	_, resp, _ = post(t, c, `{"query":"typed","payload":"clicked","userId":"u1"}`)
	if got := texts(resp.Responses); got != "You said typed" {
		t.Fatalf("query+payload answer %q", got)
	}
	if got := bot.types(); got != "start,text,text,choice,text" {
		t.Fatalf("events %s", got)
	}
	for _, s := range bot.sessions {
		if s.Locale != "fr-FR" {
			t.Fatalf("locale not kept: %+v", s)
		}
	}
	ev := bot.events[3]
	if ev.Choice != "hours" || ev.Time.IsZero() {
		t.Fatalf("choice event %+v", ev)
	}
	if ev := bot.events[1]; ev.Text != "hello" || ev.Confidence != 1 {
		t.Fatalf("text event %+v", ev)
	}
	// Another user gets a start of their own, in the default locale.
	post(t, c, `{"query":"hi","userId":"u2"}`)
	if s := bot.sessions[len(bot.sessions)-1]; s.ConversationID != "web:u2" || s.Locale != "en" {
		t.Fatalf("u2 session %+v", s)
	}
	if got := bot.types(); got != "start,text,text,choice,text,start,text" {
		t.Fatalf("events %s", got)
	}
}

func TestOpenAndReferral(t *testing.T) {
	bot := &fakeBot{}
	c := newConnector(t, bot, Config{})
	_, resp, _ := post(t, c, `{"userId":"u1"}`)
	if texts(resp.Responses) != "Welcome" {
		t.Fatalf("opening answer %q", texts(resp.Responses))
	}
	_, resp, _ = post(t, c, `{"userId":"u1","query":"   "}`)
	if len(resp.Responses) != 0 || bot.types() != "start" {
		t.Fatalf("reopening a known user: %+v, events %s", resp.Responses, bot.types())
	}
	_, resp, _ = post(t, c, `{"userId":"u1","ref":"promo-42"}`)
	if texts(resp.Responses) != "Welcome" || bot.events[1].Metadata["ref"] != "promo-42" {
		t.Fatalf("referral: %q %+v", texts(resp.Responses), bot.events)
	}
}

func TestHistoryKeptByConnector(t *testing.T) {
	bot := &fakeBot{}
	c := newConnector(t, bot, Config{HistorySize: 6})
	post(t, c, `{"query":"hello","userId":"u1"}`)
	post(t, c, `{"payload":"hours","userId":"u1"}`)
	_, resp, _ := post(t, c, `{"query":"third","userId":"u1","returnsHistory":true}`)
	if texts(resp.Responses) != "You said third" {
		t.Fatalf("answer %q", texts(resp.Responses))
	}
	var got []string
	for _, h := range resp.History {
		got = append(got, string(h.Author)+":"+h.Text)
	}
	// The start event is not shown; the choice shows its button's title.
	want := "bot:Welcome user:hello bot:You said hello user:Hours bot:Picked hours"
	if strings.Join(got, " ") != want {
		t.Fatalf("history\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	// HistorySize bounds it: 6 entries are 3 events and 3 replies. The
	// welcome offering the "Hours" button fell out, so the choice shows
	// its payload.
	_, resp, _ = post(t, c, `{"userId":"u1","returnsHistory":true}`)
	got = got[:0]
	for _, h := range resp.History {
		got = append(got, string(h.Author)+":"+h.Text)
	}
	if want := "user:hello bot:You said hello user:hours bot:Picked hours user:third bot:You said third"; strings.Join(got, " ") != want {
		t.Fatalf("bounded history\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// demoRunner is the demo flow behind a runner on a memory store.
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

func TestHistoryFromRunnerTranscript(t *testing.T) {
	run := demoRunner(t)
	c := newConnector(t, run, Config{})
	_, resp, _ := post(t, c, `{"query":"When are you open?","userId":"u1","locale":"en-US"}`)
	if got := texts(resp.Responses); !strings.Contains(got, "Welcome to the Parole demo line.") || !strings.Contains(got, "Monday to Friday") {
		t.Fatalf("answer %q", got)
	}
	post(t, c, `{"payload":"yes","userId":"u1"}`)

	// A restarted connector (same store) knows the user from the
	// transcript: no second welcome, and the history comes from it.
	c2 := newConnector(t, run, Config{})
	_, resp, _ = post(t, c2, `{"userId":"u1","returnsHistory":true}`)
	if len(resp.Responses) != 0 {
		t.Fatalf("known user got a new welcome: %q", texts(resp.Responses))
	}
	var got []string
	for _, h := range resp.History {
		got = append(got, string(h.Author)+":"+h.Text)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"bot:Welcome to the Parole demo line.", "user:When are you open?", "bot:We are open Monday to Friday", "user:Yes", "bot:You can ask for our opening hours"} {
		if !strings.Contains(joined, want) {
			t.Errorf("history lacks %q:\n%s", want, joined)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	c := newConnector(t, &fakeBot{}, Config{MaxBodyBytes: 200})
	for _, tc := range []struct {
		body string
		code int
		err  string
	}{
		{`{"query":"hi"}`, 400, "missing_user_id"},
		{`{"query":"hi","userId":""}`, 400, "missing_user_id"},
		{`{"query":`, 400, "invalid_request"},
		{`not json`, 400, "invalid_request"},
		{`[1,2]`, 400, "invalid_request"},
		{`{"userId":"u"} {"userId":"v"}`, 400, "invalid_request"},
		{`{"userId":42}`, 400, "invalid_request"},
		{`{"userId":"u","locale":"en US"}`, 400, "invalid_request"},
		{`{"userId":"a\u0000b"}`, 400, "invalid_request"},
		{`{"userId":"u","query":"` + strings.Repeat("x", 300) + `"}`, 413, "too_large"},
		{``, 400, "invalid_request"},
	} {
		code, _, e := post(t, c, tc.body)
		if code != tc.code || e.Code != tc.err {
			t.Errorf("%.40q: %d %+v, want %d %s", tc.body, code, e, tc.code, tc.err)
		}
	}
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/io/web", 405},
		{http.MethodPost, "/io/web/sse", 405},
		{http.MethodPost, "/io/web/other", 404},
	} {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}")))
		code, _, _ := decodeAnswer(t, w.Code, w.Header(), w.Body.Bytes())
		if code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.code)
		}
	}
	// A stream without a user is a client error too.
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/io/web/sse", nil))
	if code, _, e := decodeAnswer(t, w.Code, w.Header(), w.Body.Bytes()); code != 400 || e.Code != "missing_user_id" {
		t.Errorf("stream without user: %d %+v", code, e)
	}
}

func TestBotErrorIs500(t *testing.T) {
	c := newConnector(t, &fakeBot{fail: errBot}, Config{})
	code, _, e := post(t, c, `{"query":"hi","userId":"u1"}`)
	if code != 500 || e.Code != "bot_error" {
		t.Fatalf("%d %+v", code, e)
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	c := newConnector(t, &fakeBot{}, Config{Rate: 1, Burst: 3}, WithClock(clk.now))
	for i := range 3 {
		if code, _, e := post(t, c, `{"query":"hi","userId":"u1"}`); code != 200 {
			t.Fatalf("request %d: %d %+v", i, code, e)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/io/web", strings.NewReader(`{"query":"hi","userId":"u1"}`))
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	code, _, e := decodeAnswer(t, w.Code, w.Header(), w.Body.Bytes())
	if code != 429 || e.Code != "rate_limited" || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("4th request: %d %+v Retry-After %q", code, e, w.Header().Get("Retry-After"))
	}
	// Another user has a bucket of their own.
	if code, _, _ := post(t, c, `{"query":"hi","userId":"u2"}`); code != 200 {
		t.Fatalf("u2: %d", code)
	}
	clk.add(1100 * time.Millisecond)
	if code, _, _ := post(t, c, `{"query":"hi","userId":"u1"}`); code != 200 {
		t.Fatalf("after refill: %d", code)
	}
	if code, _, _ := post(t, c, `{"query":"hi","userId":"u1"}`); code != 429 {
		t.Fatalf("refilled one token only, got %d", code)
	}
	// A negative rate turns the limit off.
	off := newConnector(t, &fakeBot{}, Config{Rate: -1, Burst: 1}, WithClock(clk.now))
	for i := range 20 {
		if code, _, _ := post(t, off, `{"query":"hi","userId":"u1"}`); code != 200 {
			t.Fatalf("unlimited request %d: %d", i, code)
		}
	}
}

func TestCORS(t *testing.T) {
	c := newConnector(t, &fakeBot{}, Config{AllowedOrigins: []string{"https://*.example.com", "http://localhost:*"}})
	preflight := func(origin, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "http://parole.test"+path, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w
	}
	for _, origin := range []string{"https://shop.example.com", "http://localhost:3000", "http://parole.test"} {
		w := preflight(origin, "/io/web")
		h := w.Header()
		if w.Code != 204 || h.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight from %s: %d %v", origin, w.Code, h)
		}
	}
	if w := preflight("https://shop.example.com", "/io/web/sse"); w.Code != 204 || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("stream preflight: %d %v", w.Code, w.Header())
	}
	for _, origin := range []string{"https://evil.com", "https://example.com.evil.com", "http://shop.example.com"} {
		w := preflight(origin, "/io/web")
		if code, _, e := decodeAnswer(t, w.Code, w.Header(), w.Body.Bytes()); code != 403 || e.Code != "origin_not_allowed" || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: %d %+v", origin, code, e)
		}
	}
	// An allowed cross-origin POST gets the header; a forbidden one is
	// refused before the bot runs.
	code, _, _ := post(t, c, `{"query":"hi","userId":"u1"}`, "Origin", "https://shop.example.com")
	if code != 200 {
		t.Fatalf("allowed POST: %d", code)
	}
	code, _, e := post(t, c, `{"query":"hi","userId":"u1"}`, "Origin", "https://evil.com")
	if code != 403 || e.Code != "origin_not_allowed" {
		t.Fatalf("forbidden POST: %d %+v", code, e)
	}
	if !globMatch("*", "anything") || globMatch("a*b*c", "abx") || !globMatch("a*b*c", "a1b2c") || globMatch("exact", "exactly") {
		t.Error("globMatch")
	}
}

func TestAuth(t *testing.T) {
	clk := newClock()
	secret := []byte("s3cret")
	c := newConnector(t, &fakeBot{}, Config{Token: "static-token", JWTSecret: string(secret)}, WithClock(clk.now))
	jwt := func(cl Claims, key []byte) string {
		s, err := SignJWT(cl, key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := clk.now().Add(time.Hour).Unix()
	good := jwt(Claims{Subject: "alice", ExpiresAt: exp}, secret)
	forged := jwt(Claims{Subject: "alice", ExpiresAt: exp}, []byte("other"))
	expired := jwt(Claims{Subject: "alice", ExpiresAt: clk.now().Add(-time.Minute).Unix()}, secret)
	early := jwt(Claims{NotBefore: clk.now().Add(time.Minute).Unix()}, secret)
	parts := strings.Split(good, ".")
	none := "eyJhbGciOiJub25lIn0." + parts[1] + "."
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	body := `{"query":"hi","userId":"mallory"}`
	for _, tc := range []struct {
		name, auth string
		code       int
	}{
		{"none", "", 401},
		{"static", "Bearer static-token", 200},
		{"wrong static", "Bearer static-tokeN", 401},
		{"basic", "Basic c3RhdGljLXRva2Vu", 401},
		{"jwt", "Bearer " + good, 200},
		{"forged jwt", "Bearer " + forged, 401},
		{"expired jwt", "Bearer " + expired, 401},
		{"not yet valid jwt", "Bearer " + early, 401},
		{"alg none", "Bearer " + none, 401},
		{"tampered claims", "Bearer " + tampered, 401},
		{"garbage", "Bearer a.b", 401},
	} {
		var hdr []string
		if tc.auth != "" {
			hdr = []string{"Authorization", tc.auth}
		}
		code, _, e := post(t, c, body, hdr...)
		if code != tc.code {
			t.Errorf("%s: %d %+v, want %d", tc.name, code, e, tc.code)
		}
		if tc.code == 401 && e.Code != "unauthorized" {
			t.Errorf("%s: error %+v", tc.name, e)
		}
	}
	// The JWT's subject is the user, whatever the body says.
	bot := &fakeBot{}
	c2 := newConnector(t, bot, Config{JWTSecret: string(secret)}, WithClock(clk.now))
	if code, _, _ := post(t, c2, `{"query":"hi"}`, "Authorization", "Bearer "+good); code != 200 {
		t.Fatalf("jwt without userId: %d", code)
	}
	post(t, c2, body, "Authorization", "Bearer "+good)
	for _, s := range bot.sessions {
		if s.ChannelUserID != "alice" {
			t.Fatalf("session %+v not alice's", s)
		}
	}
	if _, err := VerifyJWT(expired, secret, clk.now()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("VerifyJWT(expired) = %v", err)
	}
}

func TestAuthOnStream(t *testing.T) {
	c := newConnector(t, &fakeBot{}, Config{Token: "tok"})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close) // after the streams' cleanups
	resp, err := http.Get(srv.URL + "/io/web/sse?userId=u1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("stream without token: %s", resp.Status)
	}
	s := openStream(t, srv.URL+"/io/web/sse?userId=u1&access_token=tok")
	s.next(t, "ping")
	s2 := openStream(t, srv.URL+"/io/web/sse?userId=u1", "Authorization", "Bearer tok")
	s2.next(t, "ping")
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Path: "io/web"},
		{Path: "/io/web/"},
		{Burst: -1},
		{AllowedOrigins: []string{""}},
		{DefaultLocale: "en US"},
	} {
		if _, err := New(&fakeBot{}, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := New(nil, Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New(nil) = %v", err)
	}
}

func TestMaxUsers(t *testing.T) {
	clk := newClock()
	c := newConnector(t, &fakeBot{}, Config{MaxUsers: 2}, WithClock(clk.now))
	for _, u := range []string{"a", "b", "c"} {
		clk.add(time.Second)
		if code, _, _ := post(t, c, `{"query":"hi","userId":"`+u+`"}`); code != 200 {
			t.Fatalf("user %s: %d", u, code)
		}
	}
	c.mu.Lock()
	n, _, hasA := len(c.users), 0, c.users["a"] != nil
	c.mu.Unlock()
	if n != 2 || hasA {
		t.Fatalf("%d users tracked (a kept: %v), want 2 without the oldest", n, hasA)
	}
	// A user busy in a stream is never evicted: with both slots held,
	// a third user is refused.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ub, _ := c.acquire("b")
	uc, _ := c.acquire("c")
	defer c.release(ub)
	defer c.release(uc)
	code, _, e := post(t, c, `{"query":"hi","userId":"d"}`)
	if code != 503 || e.Code != "busy" {
		t.Fatalf("full: %d %+v", code, e)
	}
	_ = ctx
}

// TestDemoTransferAndHangup runs the demo flow's operator transfer and
// goodbye through the connector.
func TestDemoTransferAndHangup(t *testing.T) {
	c := newConnector(t, demoRunner(t), Config{})
	_, resp, _ := post(t, c, `{"query":"I want to talk to an operator","userId":"u1","locale":"en"}`)
	if got := texts(resp.Responses); !strings.HasSuffix(got, "Please hold, I am transferring you to an operator.") || resp.Metadata[MetaTransfer] != "sip:operator@localhost" {
		t.Fatalf("transfer: %q %v", got, resp.Metadata)
	}
	// The ended conversation starts again on the next message.
	_, resp, _ = post(t, c, `{"query":"goodbye","userId":"u1"}`)
	if got := texts(resp.Responses); !strings.Contains(got, "Welcome") {
		t.Fatalf("after transfer: %q", got)
	}
	_, resp, _ = post(t, c, `{"query":"goodbye","userId":"u1"}`)
	if got := texts(resp.Responses); got != "Thank you for calling. Goodbye!" || resp.Metadata[MetaEnd] != "true" {
		t.Fatalf("goodbye: %q %v", got, resp.Metadata)
	}
}

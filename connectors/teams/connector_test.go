package teams

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// TestVerification posts the same personal message with good, forged,
// missing and expired tokens: only the good ones reach the dialog.
func TestVerification(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	now := time.Now()
	c := bf.connector(t, h, nil, WithClock(func() time.Time { return now }))
	amer := bf.serviceURL("amer")
	_, other := testKeys()

	with := func(mod func(jwt.MapClaims)) string {
		cl := claimsFor(amer, now)
		mod(cl)
		return "Bearer " + sign(t, bf.key, testKeyID, cl)
	}
	hs256 := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor(amer, now))
	hs256.Header["kid"] = testKeyID
	hsTok, _ := hs256.SignedString([]byte("guess"))
	noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(amer, now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	good := sign(t, bf.key, testKeyID, claimsFor(amer, now))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64Claims(t, claimsFor(amer, now), "aud", "another-bot") + "." + parts[2]

	cases := []struct {
		name, auth string
		channel    string
		want       int
	}{
		{"good", "Bearer " + good, "", http.StatusOK},
		{"expired within the 5 min skew", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-4 * time.Minute).Unix() }), "", http.StatusOK},
		{"missing", "", "", http.StatusUnauthorized},
		{"not bearer", "Basic " + good, "", http.StatusUnauthorized},
		{"garbage", "Bearer not.a.jwt", "", http.StatusUnauthorized},
		{"expired", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-6 * time.Minute).Unix() }), "", http.StatusUnauthorized},
		{"no expiry", with(func(c jwt.MapClaims) { delete(c, "exp") }), "", http.StatusUnauthorized},
		{"not yet valid", with(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), "", http.StatusUnauthorized},
		{"wrong issuer", with(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/x/" }), "", http.StatusUnauthorized},
		{"wrong audience", with(func(c jwt.MapClaims) { c["aud"] = "another-bot" }), "", http.StatusUnauthorized},
		{"tampered payload", "Bearer " + tampered, "", http.StatusUnauthorized},
		{"signed by another key", "Bearer " + sign(t, other, testKeyID, claimsFor(amer, now)), "", http.StatusUnauthorized},
		{"unknown key id", "Bearer " + sign(t, other, "rogue", claimsFor(amer, now)), "", http.StatusUnauthorized},
		{"HS256 with the kid", "Bearer " + hsTok, "", http.StatusUnauthorized},
		{"alg none", "Bearer " + noneTok, "", http.StatusUnauthorized},
		{"serviceurl of another region", with(func(c jwt.MapClaims) { c["serviceurl"] = bf.serviceURL("emea") }), "", http.StatusForbidden},
		{"no serviceurl", with(func(c jwt.MapClaims) { delete(c, "serviceurl") }), "", http.StatusForbidden},
		{"key not endorsed for the channel", "Bearer " + good, "slack", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.count()
			m := personalMessage(t, amer, "v1", "hello")
			if tc.channel != "" {
				m["channelId"] = tc.channel
			}
			w := bf.deliver(t, c, m, tc.auth)
			bf.takeCalls()
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if reached := h.count() > before; reached != (tc.want == http.StatusOK) {
				t.Fatalf("reached the dialog: %v", reached)
			}
		})
	}
	// The keys were fetched once: the unknown key id came within a minute
	// of that fetch, so it did not prompt another.
	hits := func() int { bf.mu.Lock(); defer bf.mu.Unlock(); return bf.keysHits }
	if hits() != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", hits())
	}
	// Two minutes later an unknown key id refetches, once.
	now = now.Add(2 * time.Minute)
	for _, kid := range []string{"rogue-2", "rogue-3"} {
		if w := bf.deliver(t, c, personalMessage(t, amer, "v3", "hi"), "Bearer "+sign(t, other, kid, claimsFor(amer, now))); w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", kid, w.Code)
		}
	}
	if hits() != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", hits())
	}
}

func base64Claims(t *testing.T, c jwt.MapClaims, k string, v any) string {
	c[k] = v
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestKeysUnavailable: when the metadata cannot be fetched, activities are
// refused with 503 and the endpoint is not hammered.
func TestKeysUnavailable(t *testing.T) {
	bf := newFakeBF(t)
	bf.keysDown = true
	h := &recorder{}
	c := bf.connector(t, h, nil)
	amer := bf.serviceURL("amer")
	for i := 0; i < 3; i++ {
		if w := bf.deliver(t, c, personalMessage(t, amer, "k", "hi")); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d", w.Code)
		}
	}
	bf.mu.Lock()
	defer bf.mu.Unlock()
	if bf.metadataHits != 1 || h.count() != 0 {
		t.Fatalf("metadata fetched %d times, dialog reached %d times", bf.metadataHits, h.count())
	}
}

// TestBadRequests: oversized, malformed and mistyped bodies never reach the
// dialog.
func TestBadRequests(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, h, func(c *Config) { c.MaxBodyBytes = 4096 })
	amer := bf.serviceURL("amer")
	auth := bf.bearer(t, amer)
	post := func(ctype, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, c.Path(), strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w
	}
	big := personalMessage(t, amer, "b", strings.Repeat("x", 5000))
	bigBody, _ := json.Marshal(big)
	cases := []struct {
		name, ctype, body string
		want              int
	}{
		{"oversized", "application/json", string(bigBody), http.StatusRequestEntityTooLarge},
		{"bad JSON", "application/json", `{"type":"message",`, http.StatusBadRequest},
		{"two values", "application/json", `{"type":"message"} {}`, http.StatusBadRequest},
		{"no type", "application/json", `{"text":"hi"}`, http.StatusBadRequest},
		{"wrong field type", "application/json", `{"type":"message","text":3}`, http.StatusBadRequest},
		{"no conversation", "application/json", `{"type":"message","serviceUrl":"` + amer + `","from":{"id":"u"},"recipient":{"id":"b"}}`, http.StatusBadRequest},
		{"plain http serviceUrl", "application/json", `{"type":"message","serviceUrl":"http://evil.example/","from":{"id":"u"},"recipient":{"id":"b"},"conversation":{"id":"c"}}`, http.StatusBadRequest},
		{"text/plain", "text/plain", `{}`, http.StatusUnsupportedMediaType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := post(tc.ctype, tc.body)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			var e map[string]string
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e["error"] == "" {
				t.Fatalf("error body %q", w.Body)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, c.Path(), nil)
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
	if h.count() != 0 || len(bf.takeCalls()) != 0 {
		t.Fatal("a bad request reached the dialog or the API")
	}
}

// TestButtonRoundTrip renders choices as Hero card messageBack buttons and
// sends the clicked button's value back as a choice, in a channel without
// a mention (a card action on the bot's own card).
func TestButtonRoundTrip(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, choiceBot{h}, nil)
	amer := bf.serviceURL("amer")
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "p1", "menu please")))
	calls := bf.takeCalls()
	last := calls[len(calls)-1]
	bs := buttons(t, last)
	if len(bs) != 2 || bs[0]["type"] != "messageBack" || bs[0]["displayText"] != "Sales 🛒" || bs[1]["type"] != "openUrl" || bs[1]["value"] != "https://example.com/hours" {
		t.Fatalf("buttons %v", bs)
	}
	click := personalMessage(t, amer, "p2", bs[0]["text"].(string))
	click["value"] = bs[0]["value"]
	expectOK(t, bf.deliver(t, c, click))
	_, ev := h.last()
	if ev.Type != dialog.EventChoice || ev.Choice != "sales" {
		t.Fatalf("event %+v", ev)
	}
	got := texts(bf.takeCalls())
	if len(got) != 1 || got[0] != "picked: sales" {
		t.Fatalf("reply %q", got)
	}
}

// choiceBot offers two choices on any text and records through rec.
type choiceBot struct{ rec *recorder }

func (b choiceBot) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	r, err := b.rec.Handle(ctx, s, ev)
	if ev.Type == dialog.EventText {
		r = dialog.Reply{Messages: []dialog.Message{{Text: "Pick one", Choices: []dialog.Choice{
			{Title: "Sales 🛒", Payload: "sales"}, {Title: "Hours", URL: "https://example.com/hours"}}}}}
	}
	return r, err
}

// TestAdaptiveCards: with choice_style adaptive, choices are Action.Submit
// actions; their data comes back in value as a choice, and an
// adaptiveCard/action invoke is answered with the invoke response.
func TestAdaptiveCards(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, choiceBot{h}, func(c *Config) { c.ChoiceStyle = ChoiceAdaptive })
	amer := bf.serviceURL("amer")
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "a1", "menu")))
	calls := bf.takeCalls()
	last := calls[len(calls)-1].Raw
	att := last["attachments"].([]any)[0].(map[string]any)
	card := att["content"].(map[string]any)
	if att["contentType"] != ContentTypeAdaptiveCard || card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
		t.Fatalf("card %v", att)
	}
	if body := card["body"].([]any)[0].(map[string]any); body["type"] != "TextBlock" || body["text"] != "Pick one" {
		t.Fatalf("body %v", body)
	}
	actions := card["actions"].([]any)
	submit := actions[0].(map[string]any)
	if submit["type"] != "Action.Submit" || submit["title"] != "Sales 🛒" || actions[1].(map[string]any)["type"] != "Action.OpenUrl" {
		t.Fatalf("actions %v", actions)
	}
	// Action.Submit: a message with the data as value and no text.
	sub := personalMessage(t, amer, "a2", "")
	delete(sub, "text")
	sub["value"] = submit["data"]
	expectOK(t, bf.deliver(t, c, sub))
	if _, ev := h.last(); ev.Type != dialog.EventChoice || ev.Choice != "sales" {
		t.Fatalf("submit event %+v", ev)
	}
	bf.takeCalls()
	// Action.Execute: an adaptiveCard/action invoke.
	inv := personalMessage(t, amer, "a3", "")
	delete(inv, "text")
	inv["type"], inv["name"] = TypeInvoke, InvokeAdaptiveCardAction
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "pick", "data": map[string]any{"choice": "hours"}}, "trigger": "manual"}
	w := bf.deliver(t, c, inv)
	expectOK(t, w)
	var ir InvokeResponse
	if err := json.Unmarshal(w.Body.Bytes(), &ir); err != nil || ir.StatusCode != 200 || ir.Type != "application/vnd.microsoft.activity.message" || ir.Value != "picked: hours" {
		t.Fatalf("invoke response %s", w.Body)
	}
	if got := texts(bf.takeCalls()); len(got) != 1 || got[0] != "picked: hours" {
		t.Fatalf("invoke replies %q", got)
	}
	// An invoke the connector does not handle gets 501 and reaches nothing.
	n := h.count()
	inv["name"], inv["value"] = "task/fetch", map[string]any{"data": map[string]any{"x": 1}}
	if w := bf.deliver(t, c, inv); w.Code != http.StatusNotImplemented || h.count() != n {
		t.Fatalf("task/fetch: %d", w.Code)
	}
}

// TestIgnoredActivities: reactions and other events are acknowledged and
// go nowhere.
func TestIgnoredActivities(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, h, nil)
	amer := bf.serviceURL("amer")
	react := personalMessage(t, amer, "r1", "")
	react["type"] = TypeMessageReaction
	react["reactionsAdded"] = []any{map[string]any{"type": "like"}}
	react["replyToId"] = "1001"
	expectOK(t, bf.deliver(t, c, react))
	chCreated := personalMessage(t, amer, "r2", "")
	chCreated["type"] = TypeConversationUpdate
	var cd map[string]any
	json.Unmarshal([]byte(readFile(t, "channel_created_channeldata.json")), &cd)
	chCreated["channelData"] = cd
	expectOK(t, bf.deliver(t, c, chCreated))
	if h.count() != 0 || len(bf.takeCalls()) != 0 {
		t.Fatal("an ignored activity reached the dialog or the API")
	}
}

// TestNotifyEndpoint checks POST {path}/notify: token, body, unknown user.
func TestNotifyEndpoint(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, h, nil)
	amer := bf.serviceURL("amer")
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "n1", "hi")))
	bf.takeCalls()
	post := func(auth, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, c.Path()+"/notify", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w
	}
	good := "Bearer " + testNotifyTk
	for _, tc := range []struct {
		name, auth, body string
		want             int
	}{
		{"no token", "", `{"user":"` + megan + `","text":"x"}`, http.StatusUnauthorized},
		{"wrong token", "Bearer nope", `{"user":"` + megan + `","text":"x"}`, http.StatusUnauthorized},
		{"bad JSON", good, `{"user":`, http.StatusBadRequest},
		{"no user", good, `{"text":"x"}`, http.StatusBadRequest},
		{"text and reply", good, `{"user":"u","text":"x","reply":{"messages":[{"text":"y"}]}}`, http.StatusBadRequest},
		{"invalid reply", good, `{"user":"u","reply":{"messages":[{}]}}`, http.StatusBadRequest},
		{"unknown user", good, `{"user":"29:nobody","text":"x"}`, http.StatusNotFound},
	} {
		if w := post(tc.auth, tc.body); w.Code != tc.want {
			t.Fatalf("%s: status %d, want %d: %s", tc.name, w.Code, tc.want, w.Body)
		}
	}
	if calls := bf.takeCalls(); len(calls) != 0 {
		t.Fatalf("refused notifications sent %+v", calls)
	}
	w := post(good, `{"user":"`+megan+`","reply":{"messages":[{"text":"Your call summary","choices":[{"title":"Call me back","payload":"callback"}]}]}}`)
	expectOK(t, w)
	var res NotifyResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.ConversationID != "a:personal-"+megan || len(res.ActivityIDs) != 1 {
		t.Fatalf("answer %s", w.Body)
	}
	calls := bf.takeCalls()
	if len(calls) != 2 || calls[1].Activity.Text != "Your call summary" || len(buttons(t, calls[1])) != 1 {
		t.Fatalf("calls %+v", calls)
	}
}

// TestOutgoingToken: the token is cached until 5 minutes before expiry,
// renewed after a 401 from the Connector, and taken from the tenant's
// authority for single-tenant apps.
func TestOutgoingToken(t *testing.T) {
	bf := newFakeBF(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := bf.connector(t, &recorder{}, func(c *Config) {
		c.AppType, c.TenantID = AppSingleTenant, testTenant
		c.TypingInterval = -1
	}, WithClock(clock))
	amer := bf.serviceURL("amer")
	for i := 0; i < 3; i++ {
		expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "t", "hi")))
	}
	tokens := func() int { bf.mu.Lock(); defer bf.mu.Unlock(); return bf.tokens }
	if tokens() != 1 {
		t.Fatalf("%d tokens for 3 turns", tokens())
	}
	mu.Lock()
	now = now.Add(56 * time.Minute) // within 5 min of the 1 h expiry
	mu.Unlock()
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "t", "hi")))
	if tokens() != 2 {
		t.Fatalf("%d tokens after 56 min", tokens())
	}
	bf.mu.Lock()
	bf.refuseNext = 1
	bf.mu.Unlock()
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "t", "hi")))
	bf.mu.Lock()
	defer bf.mu.Unlock()
	if bf.tokens != 3 || bf.tokenPaths[0] != "/"+testTenant+"/oauth2/v2.0/token" {
		t.Fatalf("tokens %d at %v", bf.tokens, bf.tokenPaths)
	}
}

func TestTokenRefused(t *testing.T) {
	bf := newFakeBF(t)
	c := bf.connector(t, &recorder{}, func(c *Config) { c.AppPassword = "wrong" })
	w := bf.deliver(t, c, personalMessage(t, bf.serviceURL("amer"), "x", "hi"))
	if w.Code != http.StatusBadGateway {
		t.Fatalf("status %d", w.Code)
	}
	_, err := c.Notify(context.Background(), megan, dialog.Say("x"))
	if !errors.Is(err, ErrToken) {
		t.Fatalf("notify err %v", err)
	}
}

func TestConfig(t *testing.T) {
	ok := Config{AppID: "a", AppPassword: "p"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"no app id":         func(c *Config) { c.AppID = "" },
		"no password":       func(c *Config) { c.AppPassword = "" },
		"bad app type":      func(c *Config) { c.AppType = "msi" },
		"single no tenant":  func(c *Config) { c.AppType = AppSingleTenant },
		"multi with tenant": func(c *Config) { c.TenantID = "t" },
		"bad path":          func(c *Config) { c.Path = "teams/" },
		"bad choice style":  func(c *Config) { c.ChoiceStyle = "carousel" },
		"negative body":     func(c *Config) { c.MaxBodyBytes = -1 },
		"http login":        func(c *Config) { c.LoginURL = "http://login.example.com" },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := New(&recorder{}, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := New(nil, ok); !errors.Is(err, ErrConfig) {
		t.Error("nil handler accepted")
	}
	c, _ := New(&recorder{}, ok)
	if r := c.Routes(); len(r) != 1 || r[0] != DefaultPath {
		t.Errorf("routes %v", r)
	}
	r := httptest.NewRequest(http.MethodPost, DefaultPath+"/notify", strings.NewReader("{}"))
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("notify without a token: %d", w.Code)
	}
}

// TestInsecureSkipVerify: with verification off (explicitly), unsigned
// activities are taken.
func TestInsecureSkipVerify(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, h, func(c *Config) { c.InsecureSkipVerify = true })
	expectOK(t, bf.deliver(t, c, personalMessage(t, bf.serviceURL("amer"), "i", "hi"), ""))
	if h.count() != 2 { // start + text
		t.Fatalf("events %d", h.count())
	}
	bf.takeCalls()
}

// TestSessionAndMetadata checks what the dialog learns of a channel
// message: session ids, locale, mention-free text, Teams facts.
func TestSessionAndMetadata(t *testing.T) {
	bf := newFakeBF(t)
	h := &recorder{}
	c := bf.connector(t, h, nil)
	ch := fixture(t, "channel_mention.json", bf.serviceURL("amer"))
	var cd map[string]any
	json.Unmarshal([]byte(readFile(t, "channel_created_channeldata.json")), &cd)
	delete(cd, "eventType")
	ch["channelData"] = cd
	ch["id"] = "42"
	ch["locale"] = "fr-FR"
	ch["recipient"] = map[string]any{"id": testBotID, "name": "Parole"}
	ch["text"] = "<at>Parole</at>&nbsp;ask <at>Pranav Smith</at> about hours"
	ch["entities"] = []any{
		map[string]any{"type": "mention", "text": "<at>Parole</at>", "mentioned": map[string]any{"id": testBotID, "name": "Parole"}},
		map[string]any{"type": "mention", "text": "<at>Pranav Smith</at>", "mentioned": map[string]any{"id": "29:08q2j2o3jc09au90eucae", "name": "Pranav Smith"}},
	}
	expectOK(t, bf.deliver(t, c, ch))
	bf.takeCalls()
	s, ev := h.last()
	if s.ConversationID != "teams:"+channelID || s.Channel != "teams" || s.ChannelUserID != "29:9e52142b-5e5e-4d7b-bb3e-e82dcf620000" || s.Locale != "fr-FR" {
		t.Fatalf("session %+v", s)
	}
	if ev.Type != dialog.EventText || ev.Text != "ask Pranav Smith about hours" {
		t.Fatalf("event %+v", ev)
	}
	want := map[string]string{"teams.activity_id": "42", "teams.conversation_type": "channel", "teams.tenant_id": testTenant,
		"teams.team_id": "19:693ecdb923ac4458a5c23661b505fc84@thread.skype", "teams.channel_id": "19:693ecdb923ac4458a5c23661b505fc84@thread.skype",
		"teams.user_name": "Jane Smith"}
	for k, v := range want {
		if ev.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, ev.Metadata[k], v)
		}
	}
	// The documented personal message: locale and clientInfo.
	expectOK(t, bf.deliver(t, c, fixture(t, "personal_message.json", bf.serviceURL("amer"))))
	bf.takeCalls()
	s, ev = h.last()
	if s.ConversationID != "teams:"+personalID || s.ChannelUserID != megan || s.Locale != "en-US" || ev.Text != "Hello Teams TestBot" ||
		ev.Metadata["teams.timezone"] != "America/Los_Angeles" || ev.Metadata["teams.aad_object_id"] != "7faf8ab2-3d56-4244-b585-20c8a42ed2b8" {
		t.Fatalf("personal: %+v %+v", s, ev)
	}
}

// slowBot holds its answer until release is closed.
type slowBot struct{ release chan struct{} }

func (b slowBot) Handle(ctx context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	if ev.Type == dialog.EventText {
		<-b.release
	}
	return dialog.Say("done"), nil
}

// TestTypingWhileDialogWorks: typing activities repeat while the dialog
// works and stop before the answer.
func TestTypingWhileDialogWorks(t *testing.T) {
	bf := newFakeBF(t)
	bot := slowBot{release: make(chan struct{})}
	c := bf.connector(t, bot, func(c *Config) { c.TypingInterval = 10 * time.Millisecond })
	amer := bf.serviceURL("amer")
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- bf.deliver(t, c, personalMessage(t, amer, "s1", "think hard")) }()
	typings := func() int {
		bf.mu.Lock()
		defer bf.mu.Unlock()
		n := 0
		for _, call := range bf.calls {
			if call.Activity != nil && call.Activity.Type == TypeTyping {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for typings() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(bot.release)
	expectOK(t, <-done)
	calls := bf.takeCalls()
	if n := len(calls); n < 5 || calls[n-1].Activity.Text != "done" {
		t.Fatalf("calls %d, last %+v", n, calls[n-1].Activity)
	}
	for _, call := range calls[:len(calls)-2] { // welcome (start) and typings before the answer
		if call.Activity.Type != TypeTyping && call.Activity.Text != "done" {
			t.Fatalf("unexpected %+v", call.Activity)
		}
	}
	if calls[len(calls)-2].Activity.Type != TypeMessage {
		t.Fatalf("typing after the answer began: %+v", calls[len(calls)-2].Activity)
	}
}

// savedRefs is a RefStore that records what it is given.
type savedRefs struct {
	*MemoryRefs
	mu    sync.Mutex
	saved []ConversationRef
}

func (s *savedRefs) SaveRef(ctx context.Context, r ConversationRef) error {
	s.mu.Lock()
	s.saved = append(s.saved, r)
	s.mu.Unlock()
	return s.MemoryRefs.SaveRef(ctx, r)
}

// TestRefStore: references go to the configured store, a personal chat's
// reference is kept over a channel's, and Notify reads them back.
func TestRefStore(t *testing.T) {
	bf := newFakeBF(t)
	refs := &savedRefs{MemoryRefs: NewMemoryRefs(10)}
	c := bf.connector(t, &recorder{}, nil, WithRefStore(refs))
	amer := bf.serviceURL("amer")
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "x1", "hi")))
	ch := fixture(t, "channel_mention.json", amer)
	ch["from"] = map[string]any{"id": megan, "name": "Megan Bowen"}
	ch["recipient"] = map[string]any{"id": testBotID}
	ch["entities"] = []any{map[string]any{"type": "mention", "mentioned": map[string]any{"id": testBotID}}}
	ch["id"] = "x2"
	expectOK(t, bf.deliver(t, c, ch))
	bf.takeCalls()
	r, err := refs.Ref(context.Background(), megan)
	if err != nil || r.ConversationID != personalID || r.ConversationType != ConversationPersonal || r.TenantID != testTenant ||
		r.Bot.ID != testBotID || r.ServiceURL != amer || r.UserName != "Megan Bowen" || len(refs.saved) != 2 {
		t.Fatalf("ref %+v, %v, %d saves", r, err, len(refs.saved))
	}
	if _, err := c.Notify(context.Background(), "29:stranger", dialog.Say("x")); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("stranger: %v", err)
	}
	// The LRU forgets the oldest past its size.
	small := NewMemoryRefs(2)
	for _, k := range []string{"a", "b", "c"} {
		small.SaveRef(context.Background(), ConversationRef{UserKey: k})
	}
	if _, err := small.Ref(context.Background(), "a"); !errors.Is(err, ErrUnknownUser) || small.Len() != 2 {
		t.Fatalf("LRU kept a: %v", err)
	}
}

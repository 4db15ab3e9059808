package alexa

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
)

const sessionConv = ConversationPrefix + "amzn1.echo-api.session.0000000-0000-0000-0000-00000000000"

// TestRequestTypes runs every request type through the demo flow: a
// launch, the raw utterance of a catch-all slot, a precomputed intent
// with a slot value, Alexa's help, stop and fallback built-ins, and the
// end of the session.
func TestRequestTypes(t *testing.T) {
	ctx := context.Background()
	g := newRig(t, Config{})

	launch := answer(t, g.post(t, fixture(t, "launch.json", nil)))
	out := launch.Response
	if out.OutputSpeech == nil || out.OutputSpeech.Type != "SSML" ||
		out.OutputSpeech.SSML != "<speak>Welcome to the Parole demo line. Say opening hours, or press 1. Say appointment, or press 2. Say operator, or press 0.</speak>" {
		t.Fatalf("launch speech = %+v", out.OutputSpeech)
	}
	if out.ShouldEndSession == nil || *out.ShouldEndSession {
		t.Fatal("launch ends the session")
	}
	if out.Reprompt == nil || out.Reprompt.OutputSpeech.SSML != "<speak>Say opening hours, or press 1. Say appointment, or press 2. Say operator, or press 0.</speak>" {
		t.Fatalf("launch reprompt = %+v", out.Reprompt)
	}
	if out.Card == nil || out.Card.Type != "Simple" || out.Card.Title != DefaultCardTitle || !strings.HasPrefix(out.Card.Content, "Welcome to the Parole demo line.") {
		t.Fatalf("launch card = %+v", out.Card)
	}
	if string(launch.SessionAttributes["key"]) != `"string value"` {
		t.Fatalf("session attributes not carried: %v", launch.SessionAttributes)
	}

	// Alexa's help, then the raw utterance through parole's matching.
	help := answer(t, g.post(t, intentBody(t, "AMAZON.HelpIntent", nil, nil))).Response
	if !strings.Contains(help.OutputSpeech.SSML, "You can ask for our opening hours") || *help.ShouldEndSession {
		t.Fatalf("help = %+v", help.OutputSpeech)
	}
	book := answer(t, g.post(t, fixture(t, "intent.json", nil))).Response
	if book.OutputSpeech.SSML != "<speak>Which day would you like to come?</speak>" {
		t.Fatalf("after 'book an appointment': %+v", book.OutputSpeech)
	}
	// A fallback is a no-match: the step's retry prompt.
	fb := answer(t, g.post(t, intentBody(t, "AMAZON.FallbackIntent", nil, nil))).Response
	if !strings.Contains(fb.OutputSpeech.SSML, "Please say a date") {
		t.Fatalf("fallback = %+v", fb.OutputSpeech)
	}
	// A precomputed intent with an AMAZON.DATE slot fills the date.
	date := answer(t, g.post(t, intentBody(t, "DateIntent", map[string]string{"date": "2026-12-01"}, nil))).Response
	if date.OutputSpeech.SSML != "<speak>What phone number can we reach you on?</speak>" {
		t.Fatalf("after the date: %+v", date.OutputSpeech)
	}
	conv, _, err := g.st.Load(ctx, sessionConv)
	if err != nil || conv.Slots["date"] != "2026-12-01" || conv.Channel != Channel || !conv.Voice || conv.Locale != "en-US" {
		t.Fatalf("conversation = %+v, %v", conv, err)
	}
	// Stop says goodbye and ends the session.
	stop := answer(t, g.post(t, intentBody(t, "AMAZON.StopIntent", nil, nil))).Response
	if stop.OutputSpeech.SSML != "<speak>Thank you for calling. Goodbye!</speak>" || !*stop.ShouldEndSession || stop.Reprompt != nil {
		t.Fatalf("stop = %+v", stop)
	}

	// A new launch and the end of its session mark the conversation ended,
	// with an empty response (Alexa takes no speech there).
	answer(t, g.post(t, fixture(t, "launch.json", nil)))
	w := g.post(t, fixture(t, "session_ended.json", nil))
	ended := answer(t, w)
	if ended.Response.OutputSpeech != nil || ended.Response.ShouldEndSession != nil || ended.Version != "1.0" {
		t.Fatalf("session ended response = %s", w.Body)
	}
	conv, _, err = g.st.Load(ctx, sessionConv)
	if err != nil || !conv.Ended {
		t.Fatalf("conversation after SessionEndedRequest = %+v, %v", conv, err)
	}
	tr, err := g.r.Transcript(ctx, sessionConv)
	if err != nil {
		t.Fatal(err)
	}
	last := tr[len(tr)-2].Event
	if last.Type != dialog.EventEnd || last.Metadata["alexa.reason"] != "USER_INITIATED" {
		t.Fatalf("last event = %+v", last)
	}
}

// TestEventMapping checks the event each kind of intent becomes.
func TestEventMapping(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	g := newRigWith(t, h, nil, Config{TextSlots: []string{"Utterance"}, Intents: map[string]string{"AMAZON.StopIntent": "end"}})
	cases := []struct {
		body []byte
		want dialog.Event
	}{
		{intentBody(t, "Anything", map[string]string{"utterance": "opening hours"}, nil), dialog.Event{Type: dialog.EventText, Text: "opening hours", Confidence: 1}},
		{intentBody(t, "book", nil, nil), dialog.Event{Type: dialog.EventChoice, Choice: "book"}},
		{intentBody(t, "PhoneIntent", map[string]string{"phone": "0612345678"}, nil), dialog.Event{Type: dialog.EventChoice, Choice: "0612345678"}},
		{intentBody(t, "AMAZON.RepeatIntent", nil, nil), dialog.Event{Type: dialog.EventChoice, Choice: "global:repeat"}},
		{intentBody(t, "AMAZON.CancelIntent", nil, nil), dialog.Event{Type: dialog.EventChoice, Choice: "global:cancel"}},
		{intentBody(t, "AMAZON.NavigateHomeIntent", nil, nil), dialog.Event{Type: dialog.EventChoice, Choice: "global:cancel"}},
		{intentBody(t, "AMAZON.YesIntent", nil, nil), dialog.Event{Type: dialog.EventChoice, Choice: "yes"}},
		{intentBody(t, "AMAZON.StopIntent", nil, nil), dialog.Event{Type: dialog.EventEnd}},
		{intentBody(t, "AMAZON.FallbackIntent", nil, nil), dialog.Event{Type: dialog.EventNoMatch}},
		{intentBody(t, "ColorIntent", nil, func(m map[string]any) {
			obj(m, "request", "intent")["slots"] = map[string]any{"color": map[string]any{
				"name": "color", "value": "crimson",
				"resolutions": map[string]any{"resolutionsPerAuthority": []any{map[string]any{
					"authority": "amzn1.er-authority.echo-sdk.x.Color", "status": map[string]any{"code": "ER_SUCCESS_MATCH"},
					"values": []any{map[string]any{"value": map[string]any{"name": "red", "id": "RED"}}},
				}}},
			}}
		}), dialog.Event{Type: dialog.EventChoice, Choice: "red"}},
	}
	for i, tc := range cases {
		if w := g.post(t, tc.body); w.Code != http.StatusOK {
			t.Fatalf("case %d: status %d: %s", i, w.Code, w.Body)
		}
		got := h.events[len(h.events)-1]
		if got.Type != tc.want.Type || got.Text != tc.want.Text || got.Choice != tc.want.Choice || got.Confidence != tc.want.Confidence {
			t.Errorf("case %d: event = %+v, want %+v", i, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	s := h.sessions[0]
	if s.ConversationID != sessionConv || s.Channel != Channel || s.ChannelUserID != "amzn1.ask.account.AM3B00000000000000000000000" || !s.Voice || s.Locale != "en-US" || s.UserID != "" {
		t.Fatalf("session = %+v", s)
	}
	if h.events[2].Metadata["alexa.slot.phone"] != "0612345678" || h.events[2].Metadata["alexa.intent"] != "PhoneIntent" || h.events[2].Metadata["alexa.attr.key"] != "string value" {
		t.Fatalf("metadata = %v", h.events[2].Metadata)
	}
}

// TestBadRequests: oversized, malformed, mistyped and unknown requests get
// a 4xx and never reach the dialog.
func TestBadRequests(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, nil, Config{MaxBodyBytes: 4096})
	big := fixture(t, "launch.json", func(m map[string]any) {
		obj(m, "session", "attributes")["pad"] = strings.Repeat("x", 5000)
	})
	cases := []struct {
		name string
		body []byte
		want int
	}{
		{"oversized", big, http.StatusRequestEntityTooLarge},
		{"not JSON", []byte(`{"version": "1.0", "request": {`), http.StatusBadRequest},
		{"no request type", []byte(`{"version":"1.0","session":{"sessionId":"s"},"request":{"timestamp":"2026-11-25T10:00:00Z"}}`), http.StatusBadRequest},
		{"unknown request type", fixture(t, "launch.json", func(m map[string]any) { obj(m, "request")["type"] = "Poke" }), http.StatusBadRequest},
		{"intent without name", intentBody(t, "", nil, nil), http.StatusBadRequest},
		{"no session", fixture(t, "launch.json", func(m map[string]any) { delete(m, "session") }), http.StatusBadRequest},
		{"bad timestamp", fixture(t, "launch.json", func(m map[string]any) { obj(m, "request")["timestamp"] = "yesterday" }), http.StatusBadRequest},
		{"wrong JSON type", fixture(t, "launch.json", func(m map[string]any) { obj(m, "session")["sessionId"] = 42 }), http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if w := g.post(t, tc.body); w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
	req := httptest.NewRequest(http.MethodPost, DefaultPath, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	g.c.ServeHTTP(w, req)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: status %d", w.Code)
	}
	w = httptest.NewRecorder()
	g.c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, DefaultPath, nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d", w.Code)
	}
	if h.count() != 0 {
		t.Fatalf("%d bad requests reached the dialog", h.count())
	}
}

// TestAccountLinking: a valid access token names the parole user; an
// invalid or expired one, or none when an account is required, gets a
// LinkAccount card and never reaches the dialog.
func TestAccountLinking(t *testing.T) {
	secret := []byte("account-secret")
	good, _ := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: testNow.Add(time.Hour).Unix()}, secret)
	expired, _ := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: testNow.Add(-time.Hour).Unix()}, secret)
	forged, _ := web.SignJWT(web.Claims{Subject: "alice"}, []byte("other"))
	h := &recorder{reply: dialog.Say("hi")}
	g := newRigWith(t, h, nil, Config{AccountJWTSecret: string(secret), RequireAccount: true})

	answer(t, g.post(t, fixture(t, "launch.json", withToken(good))))
	if h.count() != 1 || h.sessions[0].UserID != "alice" {
		t.Fatalf("sessions = %+v", h.sessions)
	}
	for name, tok := range map[string]string{"expired": expired, "forged": forged, "not a JWT": "Atza|AAAA", "none": ""} {
		out := answer(t, g.post(t, fixture(t, "launch.json", withToken(tok)))).Response
		if out.Card == nil || out.Card.Type != "LinkAccount" || !*out.ShouldEndSession || !strings.Contains(out.OutputSpeech.SSML, "link your account") {
			t.Fatalf("%s token: response %+v", name, out)
		}
	}
	if h.count() != 1 {
		t.Fatalf("%d events reached the dialog, want 1", h.count())
	}
	if _, err := New(h, Config{SkillID: testSkill, RequireAccount: true}); !errors.Is(err, ErrConfig) {
		t.Fatalf("require_account without a resolver: %v", err)
	}
}

func TestRender(t *testing.T) {
	r := dialog.Reply{
		Messages: []dialog.Message{
			{Text: "Tom & Jerry <3"},
			{Text: "ignored", SSML: `<speak>Hi <foo bar="1">there</foo> <break time="1s"/><amazon:effect name="whispered">psst</amazon:effect> <say-as interpret-as="digits">42</say-as></speak>`},
			{Audio: &dialog.Audio{URL: "https://example.com/a.mp3", Text: "a tune"}},
			{Audio: &dialog.Audio{URL: "/var/lib/parole/b.wav", Text: "a local tune"}},
			{Text: "Pick one", Choices: []dialog.Choice{{Title: "Yes"}, {Title: "No"}}},
		},
		Hangup: true,
	}
	out := Render(r, "Demo")
	want := `<speak>Tom &amp; Jerry &lt;3 Hi there <break time="1s"/><amazon:effect name="whispered">psst</amazon:effect> <say-as interpret-as="digits">42</say-as> <audio src="https://example.com/a.mp3"/> a local tune Pick one</speak>`
	if out.OutputSpeech.SSML != want {
		t.Fatalf("ssml\n got %s\nwant %s", out.OutputSpeech.SSML, want)
	}
	if !*out.ShouldEndSession || out.Reprompt != nil {
		t.Fatalf("hangup: end %v reprompt %+v", *out.ShouldEndSession, out.Reprompt)
	}
	if out.Card.Title != "Demo" || !strings.Contains(out.Card.Content, "• Yes\n• No") || !strings.HasPrefix(out.Card.Content, "Tom & Jerry <3") {
		t.Fatalf("card = %+v", out.Card)
	}
	// Malformed SSML falls back to the message's text.
	out = Render(dialog.Reply{Messages: []dialog.Message{{Text: "fallback", SSML: "<speak><p>unclosed</speak>"}}, Gather: &dialog.Gather{Speech: true}}, "x")
	if out.OutputSpeech.SSML != "<speak>fallback</speak>" || *out.ShouldEndSession || out.Reprompt == nil {
		t.Fatalf("malformed SSML: %+v", out)
	}
	// Nothing to say, nothing sent.
	if out := Render(dialog.Reply{}, "x"); out.OutputSpeech != nil || out.Card != nil {
		t.Fatalf("empty reply: %+v", out)
	}
}

func TestFilterSSML(t *testing.T) {
	cases := map[string]string{
		`<speak xmlns="http://www.w3.org/2001/10/synthesis" version="1.0" xml:lang="en-US"><p>One</p><s>two</s></speak>`:            `<p>One</p><s>two</s>`,
		`<speak><lang xml:lang="fr-FR">bonjour</lang></speak>`:                                                                      `<lang xml:lang="fr-FR">bonjour</lang>`,
		`<speak><mark name="x"/>a<emphasis level="strong">b</emphasis><audio src="https://x/y.mp3">alt</audio></speak>`:             `a<emphasis level="strong">b</emphasis><audio src="https://x/y.mp3">alt</audio>`,
		`plain &amp; fragment <sub alias="World Wide Web">WWW</sub>`:                                                                `plain &amp; fragment <sub alias="World Wide Web">WWW</sub>`,
		`<speak><prosody rate="slow" pitch="x&quot;y">p</prosody><voice name="Celine"><w role="amazon:VB">read</w></voice></speak>`: `<prosody rate="slow" pitch="x&#34;y">p</prosody><voice name="Celine"><w role="amazon:VB">read</w></voice>`,
	}
	for in, want := range cases {
		got, err := FilterSSML(in)
		if err != nil || got != want {
			t.Errorf("FilterSSML(%s)\n got %s, %v\nwant %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"<speak>", "<a></b>", "<speak>&nope;</speak>"} {
		if _, err := FilterSSML(bad); err == nil {
			t.Errorf("FilterSSML(%q) accepted malformed SSML", bad)
		}
	}
}

func TestConfig(t *testing.T) {
	h := &recorder{}
	for name, cfg := range map[string]Config{
		"no skill id":   {},
		"bad path":      {SkillID: testSkill, Path: "io/alexa"},
		"negative body": {SkillID: testSkill, MaxBodyBytes: -1},
		"empty intent":  {SkillID: testSkill, Intents: map[string]string{"AMAZON.StopIntent": ""}},
	} {
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(nil, Config{SkillID: testSkill}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil handler: %v", err)
	}
	c, err := New(h, Config{SkillID: testSkill, Path: "/alexa"})
	if err != nil || len(c.Routes()) != 1 || c.Routes()[0] != "POST /alexa" {
		t.Fatalf("routes = %v, %v", c, err)
	}
}

package googleassistant

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/parole-voice/parole/dialog"
)

// TestHTTPErrors: oversized bodies 413, other media types 415, malformed
// or incomplete JSON 400, other methods 405, unknown paths 404 — on every
// route, and none reaches the dialog.
func TestHTTPErrors(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, Config{MaxBodyBytes: 4096})
	auth := map[string][]string{
		DefaultAssistantPath:  {HeaderAuthorization, "Bearer " + goodToken(t)},
		DefaultActionsPath:    {HeaderActionsSignature, goodToken(t)},
		DefaultDialogflowPath: {"Authorization", "Basic cGFyb2xlOnMzY3JldA=="}, // parole:s3cret
	}
	bad := map[string][]string{
		DefaultAssistantPath: {
			`{"conversation":{"conversationId":"1"},"inputs":[]}`,                                                         // no input
			`{"conversation":{},"inputs":[{"intent":"actions.intent.MAIN"}]}`,                                             // no id
			`{"conversation":{"conversationId":"1","conversationToken":"x"},"inputs":[{"intent":"actions.intent.TEXT"}]}`, // foreign token
			`{"conversation":{"conversationId":"` + strings.Repeat("a", 600) + `"},"inputs":[{"intent":"actions.intent.MAIN"}]}`,
		},
		DefaultActionsPath: {
			`{"handler":{},"session":{"id":"s"}}`,
			`{"handler":{"name":"h"},"session":{}}`,
			`{"handler":{"name":"h"},"session":{"id":"s","params":{"parole_choices":"x"}}}`,
			`{"handler":{"name":"h"},"session":{"id":"s"},"user":{"params":{"parole_user":3}}}`,
		},
		DefaultDialogflowPath: {
			`{"session":"projects/p/agent/sessions/s"}`,
			`{"session":"not-a-session","queryResult":{}}`,
			`{"session":"projects/p/agent/sessions/s","queryResult":{"speechRecognitionConfidence":2}}`,
			`{"session":"projects/p/agent/sessions/s","queryResult":{},"originalDetectIntentRequest":{"source":"google","payload":{"inputs":"x"}}}`,
		},
	}
	for path, hdr := range auth {
		cases := []struct {
			name   string
			body   string
			ctype  string
			method string
			want   int
		}{
			{"too large", `{"x":"` + strings.Repeat("a", 5000) + `"}`, "application/json", http.MethodPost, http.StatusRequestEntityTooLarge},
			{"form", `a=b`, "application/x-www-form-urlencoded", http.MethodPost, http.StatusUnsupportedMediaType},
			{"no content type", `{}`, "", http.MethodPost, http.StatusUnsupportedMediaType},
			{"bad json", `{"conversation":`, "application/json", http.MethodPost, http.StatusBadRequest},
			{"two values", `{} {}`, "application/json", http.MethodPost, http.StatusBadRequest},
			{"wrong types", `{"inputs":"x","session":3,"queryResult":[]}`, "application/json", http.MethodPost, http.StatusBadRequest},
			{"get", ``, "", http.MethodGet, http.StatusMethodNotAllowed},
		}
		for i, b := range bad[path] {
			cases = append(cases, struct {
				name   string
				body   string
				ctype  string
				method string
				want   int
			}{"incomplete " + string(rune('a'+i)), b, "application/json", http.MethodPost, http.StatusBadRequest})
		}
		for _, tc := range cases {
			req := request(path, []byte(tc.body), hdr...)
			req.Method = tc.method
			req.Header.Set("Content-Type", tc.ctype)
			if w := g.do(req); w.Code != tc.want {
				t.Errorf("%s %s: status %d, want %d: %s", path, tc.name, w.Code, tc.want, w.Body)
			}
		}
	}
	if w := g.do(request("/io/google/other", []byte(`{}`))); w.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", w.Code)
	}
	if h.count() != 0 {
		t.Fatalf("%d bad requests reached the dialog", h.count())
	}
}

func TestNewConfig(t *testing.T) {
	h := &recorder{}
	for name, cfg := range map[string]Config{
		"nothing enabled":   {},
		"relative path":     {ProjectID: "p", ActionsPath: "io"},
		"same paths":        {ProjectID: "p", ActionsPath: DefaultAssistantPath},
		"negative body":     {ProjectID: "p", MaxBodyBytes: -1},
		"skew too large":    {ProjectID: "p", ClockSkew: 1 << 40},
		"user without pass": {DialogflowUsername: "u"},
		"empty header":      {DialogflowHeaders: map[string]string{"X-A": ""}},
		"empty intent":      {ProjectID: "p", Intents: map[string]string{"x": ""}},
		"bad jwks url":      {ProjectID: "p", JWKSURL: "ftp://x"},
	} {
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(nil, Config{ProjectID: "p"}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil handler: %v", err)
	}
	c, err := New(h, Config{ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Routes(), ","); got != "POST /io/google/assistant,POST /io/google/actions" {
		t.Errorf("routes %s", got)
	}
	// The Dialogflow route is off without its credentials.
	if w := (&rig{c: c}).do(request(DefaultDialogflowPath, []byte(`{}`))); w.Code != http.StatusNotFound {
		t.Errorf("dialogflow without credentials: %d", w.Code)
	}
	c, _ = New(h, Config{DialogflowHeaders: map[string]string{"X-Token": "t"}})
	if got := strings.Join(c.Routes(), ","); got != "POST /io/google/dialogflow" {
		t.Errorf("routes %s", got)
	}
}

// TestConversationEvents: the intents of the conversation webhook map to
// dialog events, with the session the docs' fields give.
func TestConversationEvents(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	g := newRigWith(t, h, Config{Intents: map[string]string{"com.example.HELP": "global:help"}})
	cases := []struct {
		name string
		body []byte
		want dialog.Event
	}{
		{"main", fixture(t, "conversation_main.json", nil), dialog.Event{Type: dialog.EventStart}},
		{"text", fixture(t, "conversation_text.json", nil), dialog.Event{Type: dialog.EventText, Text: "book an appointment", Confidence: 1}},
		{"option", fixture(t, "conversation_option.json", nil), dialog.Event{Type: dialog.EventChoice, Choice: "hours"}},
		{"chip", fixture(t, "conversation_text.json", func(m map[string]any) {
			obj(m, "conversation")["conversationToken"] = `{"choices":{"opening hours":"hours"}}`
			m["inputs"].([]any)[0].(map[string]any)["rawInputs"] = []any{map[string]any{"inputType": "TOUCH", "query": "Opening  Hours"}}
		}), dialog.Event{Type: dialog.EventChoice, Choice: "hours"}},
		{"cancel", fixture(t, "conversation_text.json", func(m map[string]any) {
			m["inputs"] = []any{map[string]any{"intent": "actions.intent.CANCEL", "rawInputs": []any{map[string]any{"query": "cancel"}}}}
		}), dialog.Event{Type: dialog.EventEnd}},
		{"no input", fixture(t, "conversation_text.json", func(m map[string]any) {
			m["inputs"] = []any{map[string]any{"intent": "actions.intent.NO_INPUT", "arguments": []any{map[string]any{"name": "REPROMPT_COUNT", "intValue": "1"}}}}
		}), dialog.Event{Type: dialog.EventNoInput}},
		{"mapped", fixture(t, "conversation_text.json", func(m map[string]any) {
			m["inputs"].([]any)[0].(map[string]any)["intent"] = "com.example.HELP"
		}), dialog.Event{Type: dialog.EventChoice, Choice: "global:help"}},
		{"precomputed", fixture(t, "conversation_text.json", func(m map[string]any) {
			m["inputs"].([]any)[0].(map[string]any)["intent"] = "com.example.BOOK"
		}), dialog.Event{Type: dialog.EventChoice, Choice: "com.example.BOOK", Text: "book an appointment"}},
		{"empty text", fixture(t, "conversation_text.json", func(m map[string]any) {
			m["inputs"].([]any)[0].(map[string]any)["rawInputs"] = []any{}
		}), dialog.Event{Type: dialog.EventNoMatch}},
	}
	for _, tc := range cases {
		var resp AppResponse
		decode(t, g.conversation(t, tc.body), &resp)
		s, ev := h.last(t)
		if ev.Type != tc.want.Type || ev.Text != tc.want.Text || ev.Choice != tc.want.Choice || ev.Confidence != tc.want.Confidence {
			t.Errorf("%s: event %+v, want %+v", tc.name, ev, tc.want)
		}
		if s.ConversationID != "googleassistant:1521651608253" || s.Channel != ChannelAssistant || s.ChannelUserID != "u-1234" || s.Locale != "en-US" || s.Voice {
			t.Errorf("%s: session %+v", tc.name, s)
		}
		if ev.Metadata["google.intent"] == "" || ev.Time != testNow {
			t.Errorf("%s: metadata %v, time %v", tc.name, ev.Metadata, ev.Time)
		}
	}
	// A final reprompt ends the conversation whatever the dialog says.
	body := fixture(t, "conversation_text.json", func(m map[string]any) {
		m["inputs"] = []any{map[string]any{"intent": "actions.intent.NO_INPUT", "arguments": []any{
			map[string]any{"name": "REPROMPT_COUNT", "intValue": "2"}, map[string]any{"name": "IS_FINAL_REPROMPT", "boolValue": true}}}}
	})
	var resp AppResponse
	decode(t, g.conversation(t, body), &resp)
	if resp.ExpectUserResponse || resp.FinalResponse == nil {
		t.Errorf("final reprompt: %+v", resp)
	}
}

// TestConversationUserStorage: without a user id Google's way, a parole
// id is kept in userStorage and read back.
func TestConversationUserStorage(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	g := newRigWith(t, h, Config{})
	var resp AppResponse
	decode(t, g.conversation(t, fixture(t, "conversation_main.json", func(m map[string]any) { delete(obj(m, "user"), "userStorage") })), &resp)
	s, _ := h.last(t)
	if len(s.ChannelUserID) != 32 || !strings.Contains(resp.UserStorage, s.ChannelUserID) {
		t.Fatalf("user %q, storage %q", s.ChannelUserID, resp.UserStorage)
	}
	storage := resp.UserStorage
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", func(m map[string]any) { obj(m, "user")["userStorage"] = storage })), &resp)
	if s2, _ := h.last(t); s2.ChannelUserID != s.ChannelUserID || resp.UserStorage != storage {
		t.Fatalf("second turn user %q storage %q", s2.ChannelUserID, resp.UserStorage)
	}
	// A user id Google still sends is used as is; storage not owned is kept.
	decode(t, g.conversation(t, fixture(t, "conversation_main.json", func(m map[string]any) {
		obj(m, "user")["userId"] = "ABwppHE"
		obj(m, "user")["userStorage"] = "their own"
	})), &resp)
	if s3, _ := h.last(t); s3.ChannelUserID != "ABwppHE" || resp.UserStorage != "their own" {
		t.Fatalf("user %q storage %q", s3.ChannelUserID, resp.UserStorage)
	}
}

// speakDocs checks that each SSML of a rich response is one well-formed
// <speak> document.
func speakDocs(t *testing.T, rich RichResponse) {
	t.Helper()
	for i, it := range rich.Items {
		if it.SimpleResponse == nil || it.SimpleResponse.SSML == "" {
			continue
		}
		checkSpeak(t, it.SimpleResponse.SSML)
		if it.SimpleResponse.TextToSpeech != "" {
			t.Errorf("item %d has both ssml and textToSpeech", i)
		}
	}
}

func checkSpeak(t *testing.T, s string) {
	t.Helper()
	if strings.Count(s, "<speak") != 1 || !strings.HasPrefix(s, "<speak>") || !strings.HasSuffix(s, "</speak>") {
		t.Errorf("not one <speak> document: %s", s)
	}
	var v struct {
		XMLName xml.Name `xml:"speak"`
	}
	if err := xml.Unmarshal([]byte(s), &v); err != nil {
		t.Errorf("SSML %s: %v", s, err)
	}
}

// TestLimits: five messages, twelve choices with long titles, SSML and
// hints — merged and cut within the platform's limits in every format.
func TestLimits(t *testing.T) {
	long := "Book an appointment with our nicest advisor"
	reply := dialog.Reply{
		Messages: []dialog.Message{
			{Text: "One & two."},
			{Text: "Three.", SSML: `<speak>Three <break time="200ms"/> <foo>three</foo>.</speak>`},
			{Text: "Four."},
			{Audio: &dialog.Audio{URL: "https://example.com/a.mp3?x=1&y=2", Text: "A jingle."}},
			{Text: "Five?", Choices: []dialog.Choice{{Title: long, Payload: "book"}, {Title: "Help", Payload: "global:help"}, {Title: "help", Payload: "dup"}}},
		},
		Gather: &dialog.Gather{Speech: true, Hints: []string{"yes", "Yes", " no ", "maybe"}},
	}
	for i := range 10 {
		reply.Messages[4].Choices = append(reply.Messages[4].Choices, dialog.Choice{Title: "Choice " + string(rune('A'+i))})
	}
	h := &recorder{reply: reply}
	g := newRigWith(t, h, Config{})

	var app AppResponse
	decode(t, g.conversation(t, fixture(t, "conversation_main.json", nil)), &app)
	if !app.ExpectUserResponse || len(app.ExpectedInputs) != 1 {
		t.Fatalf("response %+v", app)
	}
	in := app.ExpectedInputs[0]
	rich := in.InputPrompt.RichInitialPrompt
	if len(rich.Items) != 2 {
		t.Fatalf("%d items, want 2 simple responses", len(rich.Items))
	}
	speakDocs(t, rich)
	first, second := rich.Items[0].SimpleResponse, rich.Items[1].SimpleResponse
	wantFirst := `<speak>One &amp; two. Three <break time="200ms"/> three. Four. <audio src="https://example.com/a.mp3?x=1&amp;y=2">A jingle.</audio></speak>`
	if first.SSML != wantFirst || first.DisplayText != "One & two. Three. Four. A jingle." {
		t.Errorf("first bubble %+v\nwant ssml %s", first, wantFirst)
	}
	if second.TextToSpeech != "Five?" || second.SSML != "" {
		t.Errorf("second bubble %+v", second)
	}
	if len(rich.Suggestions) != MaxSuggestions {
		t.Fatalf("%d suggestions, want %d", len(rich.Suggestions), MaxSuggestions)
	}
	for _, s := range rich.Suggestions {
		if n := len([]rune(s.Title)); n > MaxSuggestionTitle {
			t.Errorf("suggestion %q has %d characters", s.Title, n)
		}
	}
	if rich.Suggestions[0].Title != "Book an appointment with…" || rich.Suggestions[1].Title != "Help" || rich.Suggestions[2].Title != "Choice A" {
		t.Errorf("suggestions %+v", rich.Suggestions)
	}
	if got := strings.Join(in.SpeechBiasingHints, ","); got != "yes,no,maybe" {
		t.Errorf("hints %q", got)
	}
	if len(in.PossibleIntents) != 1 || in.PossibleIntents[0].Intent != "actions.intent.TEXT" {
		t.Errorf("possible intents %+v", in.PossibleIntents)
	}
	// The truncated chip comes back as its choice.
	tok := app.ConversationToken
	h.reply = dialog.Say("ok")
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", func(m map[string]any) {
		obj(m, "conversation")["conversationToken"] = tok
		m["inputs"].([]any)[0].(map[string]any)["rawInputs"] = []any{map[string]any{"inputType": "TOUCH", "query": "Book an appointment with…"}}
	})), &app)
	if _, ev := h.last(t); ev.Type != dialog.EventChoice || ev.Choice != "book" {
		t.Errorf("chip round trip: %+v", ev)
	}

	// Actions Builder: firstSimple and lastSimple, expected speech.
	h.reply = reply
	var b HandlerResponse
	decode(t, g.builder(t, fixture(t, "builder_main.json", nil)), &b)
	if b.Prompt == nil || b.Prompt.FirstSimple == nil || b.Prompt.LastSimple == nil {
		t.Fatalf("prompt %+v", b.Prompt)
	}
	checkSpeak(t, b.Prompt.FirstSimple.Speech)
	if b.Prompt.FirstSimple.Speech != wantFirst || b.Prompt.LastSimple.Speech != "Five?" || len(b.Prompt.Suggestions) != MaxSuggestions {
		t.Errorf("builder prompt %+v / %+v", b.Prompt.FirstSimple, b.Prompt.LastSimple)
	}
	if b.Expected == nil || len(b.Expected.Speech) != 3 || b.Scene != nil {
		t.Errorf("expected %+v scene %+v", b.Expected, b.Scene)
	}
	if c, ok := b.Session.Params[ParamChoices].(map[string]any); !ok || c["book an appointment with…"] != "book" {
		t.Errorf("session params %v", b.Session.Params)
	}

	// Dialogflow: text messages, quick replies, SSML in payload.google.
	var df WebhookResponse
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", nil)), &df)
	if df.Payload == nil || df.Payload.Google == nil || len(df.Payload.Google.RichResponse.Items) != 2 {
		t.Fatalf("payload %+v", df.Payload)
	}
	speakDocs(t, df.Payload.Google.RichResponse)
	if len(df.FulfillmentMessages) != 2 || df.FulfillmentMessages[1].QuickReplies == nil || len(df.FulfillmentMessages[1].QuickReplies.QuickReplies) != MaxSuggestions {
		t.Errorf("fulfillment messages %+v", df.FulfillmentMessages)
	}
	if df.FulfillmentText != "One & two. Three. Four. A jingle.\nFive?" {
		t.Errorf("fulfillment text %q", df.FulfillmentText)
	}
}

// TestManyHints: at most 1000 biasing hints go out.
func TestManyHints(t *testing.T) {
	g := &dialog.Gather{Speech: true}
	for i := range 1500 {
		g.Hints = append(g.Hints, "phrase "+strings.Repeat("x", i%40)+string(rune('a'+i%26))+string(rune('a'+i/26%26)))
	}
	rd := layout(dialog.Reply{Messages: []dialog.Message{{Text: "Say something."}}, Gather: g})
	if len(rd.hints) != MaxSpeechBiasingHints {
		t.Fatalf("%d hints", len(rd.hints))
	}
}

// TestBadSSML: SSML that is not one well-formed document is spoken as its
// text, never passed on.
func TestBadSSML(t *testing.T) {
	for _, s := range []string{
		`<speak>open <emphasis>never closed</speak>`,
		`<speak>one</speak><speak>two</speak>`,
		`<speak>one</speak> trailing`,
		`<p><speak>nested</speak></p>`,
		`<!DOCTYPE x><speak>x</speak>`,
	} {
		p, ok := partOf(dialog.Message{Text: "Fallback text.", SSML: s})
		if !ok || p.ssml || p.speech != "Fallback text." {
			t.Errorf("%s: %+v", s, p)
		}
	}
	p, _ := partOf(dialog.Message{SSML: `<speak><p>Hello <say-as interpret-as="characters">SSML</say-as></p><lang xml:lang="fr">oui</lang></speak>`})
	if !p.ssml || p.speech != `<p>Hello <say-as interpret-as="characters">SSML</say-as></p>oui` || p.display != "Hello SSML oui" {
		t.Errorf("filtered %+v", p)
	}
}

// TestEndings: hangup and transfer end the conversation in each format;
// CANCEL ends it with an empty final response.
func TestEndings(t *testing.T) {
	h := &recorder{reply: dialog.Reply{Messages: []dialog.Message{{Text: "Please hold."}}, Transfer: &dialog.Transfer{Target: "+33123456789"}}}
	g := newRigWith(t, h, Config{DialogflowV2Beta1: true})
	var app AppResponse
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", nil)), &app)
	if app.ExpectUserResponse || app.FinalResponse == nil || len(app.ExpectedInputs) != 0 ||
		app.FinalResponse.RichResponse.Items[0].SimpleResponse.TextToSpeech != "Please hold." {
		t.Errorf("v2 final %+v", app)
	}
	var b HandlerResponse
	decode(t, g.builder(t, fixture(t, "builder_nomatch.json", nil)), &b)
	if b.Scene == nil || b.Scene.Next == nil || b.Scene.Next.Name != SceneEndConversation || b.Expected != nil {
		t.Errorf("builder end %+v", b.Scene)
	}
	var df WebhookResponse
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_telephony.json", nil)), &df)
	if !df.EndInteraction || df.Payload.Google.ExpectUserResponse {
		t.Errorf("dialogflow end %+v", df)
	}
	var transfer, speech bool
	for _, m := range df.FulfillmentMessages {
		if m.TelephonyTransferCall != nil && m.TelephonyTransferCall.PhoneNumber == "+33123456789" && m.Platform == PlatformTelephony {
			transfer = true
		}
		if m.TelephonySynthesizeSpeech != nil && m.TelephonySynthesizeSpeech.SSML == "<speak>Please hold.</speak>" {
			speech = true
		}
	}
	if !transfer || !speech {
		t.Errorf("telephony messages %+v", df.FulfillmentMessages)
	}
	s, _ := h.last(t)
	if s.ChannelUserID != "+33612345678" || !s.Voice || s.Channel != ChannelDialogflow {
		t.Errorf("telephony session %+v", s)
	}

	h.reply = dialog.Reply{}
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", func(m map[string]any) {
		m["inputs"] = []any{map[string]any{"intent": "actions.intent.CANCEL"}}
	})), &app)
	if app.ExpectUserResponse || app.FinalResponse != nil {
		t.Errorf("cancel %+v", app)
	}
	// The v2 end event carries the goodbye.
	h.reply = dialog.Reply{Messages: []dialog.Message{{Text: "Bye."}}, Hangup: true}
	g2 := newRigWith(t, h, Config{DialogflowEndEvent: "PAROLE_END"})
	decode(t, g2.dialogflow(t, fixture(t, "dialogflow_fallback.json", nil)), &df)
	if df.FollowupEventInput == nil || df.FollowupEventInput.Name != "PAROLE_END" || df.FollowupEventInput.Parameters["ssml"] != "<speak>Bye.</speak>" || df.EndInteraction {
		t.Errorf("end event %+v", df.FollowupEventInput)
	}
}

// TestHealthCheck: Actions Builder's health check is answered {} without
// the dialog.
func TestHealthCheck(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, Config{})
	w := g.builder(t, []byte(`{"handler":{"name":"actions.handler.HEALTH_CHECK"},"session":{"id":"x"}}`))
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "{}" || h.count() != 0 {
		t.Fatalf("status %d body %s events %d", w.Code, w.Body, h.count())
	}
}

// TestCardsAndLinks: a card becomes a basic card (v2) and a content card
// (Builder) on screens, a link choice a link-out; neither on speakers.
func TestCardsAndLinks(t *testing.T) {
	h := &recorder{reply: dialog.Reply{Messages: []dialog.Message{
		{Text: "Our shop.", Card: &dialog.Card{Title: "Shop", Subtitle: "Open 9-18", ImageURL: "https://example.com/shop.png",
			Buttons: []dialog.Choice{{Title: "Map", URL: "https://maps.example.com"}}}},
		{Text: "Anything else?", Choices: []dialog.Choice{{Title: "Website", URL: "https://example.com"}, {Title: "No", Payload: "no"}}},
	}}}
	g := newRigWith(t, h, Config{})
	var app AppResponse
	decode(t, g.conversation(t, fixture(t, "conversation_main.json", nil)), &app)
	rich := app.ExpectedInputs[0].InputPrompt.RichInitialPrompt
	if len(rich.Items) != 3 || rich.Items[2].BasicCard == nil || rich.Items[2].BasicCard.Image.URL != "https://example.com/shop.png" ||
		rich.Items[2].BasicCard.Buttons[0].OpenURLAction.URL != "https://maps.example.com" {
		t.Errorf("items %+v", rich.Items)
	}
	if rich.LinkOutSuggestion == nil || rich.LinkOutSuggestion.OpenURLAction.URL != "https://maps.example.com" {
		t.Errorf("link out %+v", rich.LinkOutSuggestion)
	}
	var b HandlerResponse
	decode(t, g.builder(t, fixture(t, "builder_main.json", nil)), &b)
	if b.Prompt.Content == nil || b.Prompt.Content.Card.Title != "Shop" || b.Prompt.Content.Card.Button.Open.URL != "https://maps.example.com" {
		t.Errorf("builder card %+v", b.Prompt.Content)
	}
	// Speaker: no card, no chips.
	decode(t, g.conversation(t, fixture(t, "conversation_main.json", func(m map[string]any) {
		m["surface"] = map[string]any{"capabilities": []any{map[string]any{"name": CapabilityAudio}}}
	})), &app)
	rich = app.ExpectedInputs[0].InputPrompt.RichInitialPrompt
	if len(rich.Items) != 2 || rich.Suggestions != nil || rich.LinkOutSuggestion != nil || app.ConversationToken != "" {
		t.Errorf("speaker %+v", app)
	}
	if s, _ := h.last(t); !s.Voice {
		t.Errorf("speaker session not voice")
	}
}

// TestAccountLinking: the linked user's token becomes Session.UserID in
// the three formats; a bad token leaves the user anonymous.
func TestAccountLinking(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	g := newRigWith(t, h, Config{AccountJWTSecret: "linking-secret"})
	tok := hs256(t, "linking-secret", "alice")
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", func(m map[string]any) { obj(m, "user")["accessToken"] = tok })), &AppResponse{})
	if s, _ := h.last(t); s.UserID != "alice" {
		t.Errorf("v2 user %q", s.UserID)
	}
	decode(t, g.builder(t, fixture(t, "builder_main.json", nil), "Authorization", "Bearer "+tok), &HandlerResponse{})
	if s, _ := h.last(t); s.UserID != "alice" {
		t.Errorf("builder user %q", s.UserID)
	}
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
		m["originalDetectIntentRequest"] = map[string]any{"source": "google", "version": "2", "payload": map[string]any{
			"user": map[string]any{"accessToken": tok, "locale": "en-US"}, "conversation": map[string]any{"conversationId": "c"},
			"surface": map[string]any{"capabilities": []any{map[string]any{"name": CapabilityAudio}}},
		}}
	})), &WebhookResponse{})
	if s, _ := h.last(t); s.UserID != "alice" || !s.Voice {
		t.Errorf("dialogflow session %+v", s)
	}
	decode(t, g.conversation(t, fixture(t, "conversation_text.json", func(m map[string]any) {
		obj(m, "user")["accessToken"] = hs256(t, "other-secret", "mallory")
	})), &AppResponse{})
	if s, _ := h.last(t); s.UserID != "" {
		t.Errorf("forged linking token gave user %q", s.UserID)
	}
}

// TestDialogflowEvents: welcome, fallback, precomputed and mapped intents,
// quick reply round trip through the choices context.
func TestDialogflowEvents(t *testing.T) {
	h := &recorder{reply: dialog.Reply{Messages: []dialog.Message{{Text: "Pick one.", Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}}}}, Gather: &dialog.Gather{Speech: true}}}
	g := newRigWith(t, h, Config{Intents: map[string]string{"Help": "global:help"}})
	var df WebhookResponse
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_welcome.json", nil)), &df)
	s, ev := h.last(t)
	if ev.Type != dialog.EventStart || s.ConversationID != "dialogflow:projects/your-agents-project-id/agent/sessions/88d13aa8-2999-4f71-b233-39cbf3a824a0" || s.Voice || s.Locale != "en" {
		t.Errorf("welcome %+v %+v", ev, s)
	}
	var ctx *Context
	for i, c := range df.OutputContexts {
		if strings.HasSuffix(c.Name, "/contexts/"+ContextChoices) {
			ctx = &df.OutputContexts[i]
		}
	}
	if ctx == nil || ctx.LifespanCount != 1 {
		t.Fatalf("contexts %+v", df.OutputContexts)
	}
	// The user taps the quick reply: Dialogflow matches nothing, the
	// context comes back.
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
		qr := obj(m, "queryResult")
		qr["queryText"] = "Opening hours"
		ctxs := qr["outputContexts"].([]any)
		qr["outputContexts"] = append(ctxs, map[string]any{"name": ctx.Name, "lifespanCount": 1, "parameters": ctx.Parameters})
	})), &df)
	if _, ev := h.last(t); ev.Type != dialog.EventChoice || ev.Choice != "hours" {
		t.Errorf("quick reply %+v", ev)
	}
	// The agent's own context is kept.
	if len(df.OutputContexts) != 2 || !strings.HasSuffix(df.OutputContexts[0].Name, "/contexts/generic") {
		t.Errorf("contexts %+v", df.OutputContexts)
	}
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
		qr := obj(m, "queryResult")
		qr["action"] = "book.appointment"
		qr["parameters"] = map[string]any{"date": "2026-12-01T12:00:00+01:00", "count": 2}
		qr["intent"] = map[string]any{"name": "projects/p/agent/intents/1", "displayName": "book"}
		qr["speechRecognitionConfidence"] = 0.8
	})), &df)
	if _, ev := h.last(t); ev.Type != dialog.EventChoice || ev.Choice != "book" || ev.Metadata["dialogflow.param.date"] != "2026-12-01T12:00:00+01:00" ||
		ev.Metadata["dialogflow.param.count"] != "2" || ev.Metadata["dialogflow.action"] != "book.appointment" {
		t.Errorf("precomputed %+v", ev)
	}
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
		obj(m, "queryResult")["intent"] = map[string]any{"displayName": "Help"}
		obj(m, "queryResult")["action"] = ""
	})), &df)
	if _, ev := h.last(t); ev.Type != dialog.EventChoice || ev.Choice != "global:help" {
		t.Errorf("mapped %+v", ev)
	}
	decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
		obj(m, "queryResult")["speechRecognitionConfidence"] = 0.42
	})), &df)
	if _, ev := h.last(t); ev.Type != dialog.EventText || ev.Confidence != 0.42 || ev.Text != "book an appointment" {
		t.Errorf("fallback %+v", ev)
	}
}

// TestBuilderEvents: Actions Builder intents map to events; session and
// user params carry parole's state.
func TestBuilderEvents(t *testing.T) {
	h := &recorder{reply: dialog.Say("ok")}
	g := newRigWith(t, h, Config{})
	var b HandlerResponse
	decode(t, g.builder(t, fixture(t, "builder_main.json", nil)), &b)
	s, ev := h.last(t)
	if ev.Type != dialog.EventStart || s.ConversationID != "googleassistant:ABwppHEF9x7DJxnL0tEA" || s.Voice || s.Locale != "en-US" {
		t.Errorf("main %+v %+v", ev, s)
	}
	if b.User == nil || b.User.Params[ParamUser] != s.ChannelUserID || b.Session.ID != "ABwppHEF9x7DJxnL0tEA" {
		t.Fatalf("user %+v session %+v", b.User, b.Session)
	}
	for name, want := range map[string]dialog.Event{
		"actions.intent.NO_MATCH_1":     {Type: dialog.EventText, Text: "when are you open"},
		"actions.intent.NO_INPUT_1":     {Type: dialog.EventNoInput},
		"actions.intent.CANCEL":         {Type: dialog.EventEnd},
		"book_appointment":              {Type: dialog.EventChoice, Choice: "book_appointment", Text: "when are you open"},
		"actions.intent.NO_INPUT_FINAL": {Type: dialog.EventNoInput},
	} {
		decode(t, g.builder(t, fixture(t, "builder_nomatch.json", func(m map[string]any) {
			obj(m, "intent")["name"] = name
			obj(m, "user", "params")[ParamUser] = "u-9"
		})), &b)
		s, ev := h.last(t)
		if ev.Type != want.Type || ev.Text != want.Text || ev.Choice != want.Choice || s.ChannelUserID != "u-9" || !s.Voice {
			t.Errorf("%s: %+v %+v", name, ev, s)
		}
		if b.User != nil {
			t.Errorf("%s: user params rewritten", name)
		}
		end := b.Scene != nil && b.Scene.Next.Name == SceneEndConversation
		if end != (name == "actions.intent.CANCEL" || name == "actions.intent.NO_INPUT_FINAL") {
			t.Errorf("%s: scene %+v", name, b.Scene)
		}
	}
}

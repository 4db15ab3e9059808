package flow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/intent"
)

func demoEngine(t *testing.T) *Engine {
	t.Helper()
	f, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 24 November 2026: dates in prompts are said without the year.
	now := func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }
	e, err := New(f, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// chat runs events through e and returns the replies, failing on errors and
// on invalid replies.
type chat struct {
	t    *testing.T
	e    *Engine
	conv *dialog.Conversation
}

func newChat(t *testing.T, e *Engine, locale string, voice bool) *chat {
	return &chat{t: t, e: e, conv: &dialog.Conversation{ID: "c1", Channel: "test", Locale: locale, Voice: voice}}
}

func (c *chat) send(ev dialog.Event) dialog.Reply {
	c.t.Helper()
	r, err := c.e.Handle(context.Background(), c.conv, ev)
	if err != nil {
		c.t.Fatalf("Handle(%+v): %v", ev, err)
	}
	if err := r.Validate(); err != nil {
		c.t.Fatalf("Handle(%+v) returned an invalid reply: %v\n%+v", ev, err, r)
	}
	return r
}

func (c *chat) say(text string) dialog.Reply { c.t.Helper(); return c.send(dialog.Text(text)) }

func (c *chat) expect(r dialog.Reply, step string, texts ...string) {
	c.t.Helper()
	if c.conv.Step != step {
		c.t.Fatalf("step = %q, want %q (reply %q)", c.conv.Step, step, r.Text())
	}
	for _, want := range texts {
		if !strings.Contains(r.Text(), want) {
			c.t.Fatalf("reply %q does not contain %q", r.Text(), want)
		}
	}
}

func TestDemoOpeningHoursEnglish(t *testing.T) {
	c := newChat(t, demoEngine(t), "en-US", false)
	r := c.send(dialog.Event{Type: dialog.EventStart})
	c.expect(r, "menu", "Welcome to the Parole demo line.", "What would you like?")
	if r.Gather == nil || r.Gather.Language != "en" {
		t.Fatalf("menu gather = %+v", r.Gather)
	}
	last := r.Messages[len(r.Messages)-1]
	titles := []string{}
	for _, ch := range last.Choices {
		titles = append(titles, ch.Title+"="+ch.Value())
	}
	if got := strings.Join(titles, ","); got != "Opening hours=hours,Book an appointment=book" {
		t.Fatalf("menu choices = %s", got)
	}
	r = c.say("When are you open?")
	c.expect(r, "anything_else", "Monday to Friday", "anything else")
	r = c.say("no thanks")
	c.expect(r, "goodbye", "Goodbye")
	if !r.Hangup || !c.conv.Ended {
		t.Fatalf("goodbye: hangup %v ended %v", r.Hangup, c.conv.Ended)
	}
	// A message after the end starts the conversation again.
	r = c.say("hello")
	c.expect(r, "menu", "Welcome")
	if c.conv.Ended {
		t.Fatal("conversation still marked ended after restarting")
	}
}

func TestDemoBookingFrench(t *testing.T) {
	c := newChat(t, demoEngine(t), "fr-FR", false)
	c.expect(c.send(dialog.Event{Type: dialog.EventStart}), "menu", "Bienvenue", "Que souhaitez-vous")
	c.expect(c.say("je voudrais prendre un rendez vous"), "ask_date", "Quel jour")
	c.expect(c.send(dialog.Event{Type: dialog.EventChoice, Choice: "2026-12-01"}), "ask_phone", "numéro de téléphone")
	r := c.say("zéro six douze trente-quatre cinquante-six soixante-dix-huit")
	c.expect(r, "confirm", "le mardi 1er décembre", "au 0612345678")
	c.expect(c.say("non"), "ask_date")
	c.expect(c.send(dialog.Event{Type: dialog.EventChoice, Choice: "2026-12-02"}), "ask_phone")
	c.expect(c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "0612345678#"}), "confirm", "le mercredi 2 décembre")
	r = c.say("oui c'est bien ça")
	c.expect(r, "anything_else", "Votre rendez-vous est enregistré", "le mercredi 2 décembre")
	want := map[string]string{"date": "2026-12-02", "phone": "0612345678", "confirmed": "yes"}
	for k, v := range want {
		if c.conv.Slots[k] != v {
			t.Errorf("slot %s = %q, want %q (slots %v)", k, c.conv.Slots[k], v, c.conv.Slots)
		}
	}
}

func TestDemoVoiceGather(t *testing.T) {
	c := newChat(t, demoEngine(t), "en-GB", true)
	r := c.send(dialog.Event{Type: dialog.EventStart})
	c.expect(r, "menu")
	var ssml string
	for _, m := range r.Messages {
		if len(m.Choices) > 0 {
			t.Fatalf("voice reply carries buttons: %+v", m)
		}
		ssml += m.SSML
	}
	if !strings.Contains(ssml, "<speak>Say opening hours, or press 1.") {
		t.Fatalf("voice prompt SSML = %q", ssml)
	}
	g := r.Gather
	if g == nil || !g.Speech || !g.BargeIn || g.NoInputTimeout != 6*time.Second || g.EndSilence != 600*time.Millisecond {
		t.Fatalf("gather = %+v", g)
	}
	if g.DTMF == nil || g.DTMF.Options["1"] != "hours" || g.DTMF.Options["2"] != "book" || g.DTMF.Options["0"] != "global:operator" {
		t.Fatalf("gather DTMF = %+v", g.DTMF)
	}
	rules := map[string]string{}
	for _, rule := range g.Grammar.Rules {
		rules[rule.Phrase] = rule.Value
	}
	if rules["when are you open"] != "hours" || rules["appointment"] != "book" || rules["operator"] != "global:operator" {
		t.Fatalf("grammar misses expected phrases: %v", rules)
	}
	if _, ok := rules["horaires"]; ok {
		t.Fatal("English gather carries French phrases")
	}
	if len(g.Hints) != len(g.Grammar.Rules) {
		t.Fatalf("%d hints for %d grammar rules", len(g.Hints), len(g.Grammar.Rules))
	}
	// Keypad: 2 books; the digits slot then accepts keyed digits.
	c.expect(c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "2"}), "ask_date")
	c.expect(c.send(dialog.Event{Type: dialog.EventChoice, Choice: "2026-12-24"}), "ask_phone")
	r = c.conv2reply(t)
	_ = r
}

// conv2reply checks the digits slot's gather.
func (c *chat) conv2reply(t *testing.T) dialog.Reply {
	r := c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "123#"})
	c.expect(r, "ask_phone", "ten-digit")
	g := r.Gather
	if g.DTMF == nil || g.DTMF.MinDigits != 10 || g.DTMF.MaxDigits != 10 || g.DTMF.Terminator != "#" {
		t.Fatalf("digits gather = %+v", g.DTMF)
	}
	if g.Grammar != nil {
		t.Fatal("an open digits slot must not restrict the recognizer with a grammar")
	}
	return r
}

func TestDemoRetriesEscalateThenFail(t *testing.T) {
	c := newChat(t, demoEngine(t), "en", false)
	c.send(dialog.Event{Type: dialog.EventStart})
	r := c.send(dialog.Event{Type: dialog.EventNoInput})
	c.expect(r, "menu", "Sorry, I didn't hear you.", "What would you like?")
	r = c.say("purple elephants dancing")
	c.expect(r, "menu", "Sorry, I still didn't get that.")
	if c.conv.Vars[retriesVar] != "2" {
		t.Fatalf("retries = %q, want 2", c.conv.Vars[retriesVar])
	}
	r = c.send(dialog.Event{Type: dialog.EventNoMatch})
	c.expect(r, "operator", "transferring you")
	if r.Transfer == nil || r.Transfer.Target != "sip:operator@localhost" {
		t.Fatalf("on_fail did not transfer: %+v", r)
	}
}

func TestDemoRetryCounterResetsOnSuccess(t *testing.T) {
	c := newChat(t, demoEngine(t), "en", false)
	c.send(dialog.Event{Type: dialog.EventStart})
	c.send(dialog.Event{Type: dialog.EventNoInput})
	c.send(dialog.Event{Type: dialog.EventNoInput})
	c.expect(c.say("appointment"), "ask_date")
	r := c.send(dialog.Event{Type: dialog.EventNoInput})
	c.expect(r, "ask_date", "Sorry, I didn't hear you.")
}

func TestDemoGlobals(t *testing.T) {
	c := newChat(t, demoEngine(t), "en", false)
	c.send(dialog.Event{Type: dialog.EventStart})
	c.say("appointment")
	r := c.say("help")
	c.expect(r, "ask_date", "You can ask for our opening hours", "Which day")
	r = c.say("can you repeat")
	c.expect(r, "ask_date", "Which day")
	if strings.Contains(r.Text(), "Sorry") {
		t.Fatalf("repeat counted as a retry: %q", r.Text())
	}
	c.expect(c.say("start over"), "menu", "What would you like")
	r = c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "0"})
	c.expect(r, "operator")
	if r.Transfer == nil {
		t.Fatal("operator key did not transfer")
	}
	c2 := newChat(t, demoEngine(t), "fr", false)
	c2.send(dialog.Event{Type: dialog.EventStart})
	r = c2.say("au revoir")
	c2.expect(r, "goodbye", "Au revoir")
	if !r.Hangup {
		t.Fatal("goodbye did not hang up")
	}
}

func TestDemoEndEvent(t *testing.T) {
	c := newChat(t, demoEngine(t), "en", true)
	c.send(dialog.Event{Type: dialog.EventStart})
	r := c.send(dialog.Event{Type: dialog.EventEnd})
	if len(r.Messages) != 0 || !c.conv.Ended {
		t.Fatalf("end: reply %+v, ended %v", r, c.conv.Ended)
	}
}

func TestInvalidEventIsAnError(t *testing.T) {
	e := demoEngine(t)
	conv := &dialog.Conversation{ID: "x"}
	if _, err := e.Handle(context.Background(), conv, dialog.Event{Type: dialog.EventDTMF}); err == nil {
		t.Fatal("want an error for a DTMF event without digits")
	}
}

const webhookFlow = `
name: hook
languages: [en]
start: ask
steps:
  ask:
    say: "Your account number?"
    slot: {name: account, type: digits, min_digits: 4, max_digits: 8}
    goto: lookup
  lookup:
    webhook:
      url: "${HOOK_URL}/lookup"
      timeout: 300ms
      headers: {X-Api-Key: "${HOOK_KEY}"}
      on_error: sorry
    goto: balance
  balance:
    say: "Your balance is {balance} euros."
    hangup: true
  vip:
    say: "Hello {name}, a VIP advisor will call you."
    hangup: true
  sorry:
    say: "Our systems are down, please call later."
    hangup: true
`

func TestWebhook(t *testing.T) {
	type answer struct {
		status int
		body   string
		delay  time.Duration
	}
	tests := []struct {
		name   string
		answer answer
		step   string
		text   string
	}{
		{"fills slots", answer{200, `{"slots":{"balance":"42"}}`, 0}, "balance", "Your balance is 42 euros."},
		{"chooses next and says", answer{200, `{"slots":{"name":"Ada"},"next":"vip","say":"Found you."}`, 0}, "vip", "Found you.\nHello Ada, a VIP advisor will call you."},
		{"empty body keeps goto", answer{204, ``, 0}, "balance", "Your balance is {balance} euros."},
		{"server error", answer{500, `oops`, 0}, "sorry", "Our systems are down, please call later."},
		{"bad json", answer{200, `{"slots":`, 0}, "sorry", "Our systems are down, please call later."},
		{"unknown next", answer{200, `{"next":"nowhere"}`, 0}, "sorry", "Our systems are down, please call later."},
		{"timeout", answer{200, `{}`, 2 * time.Second}, "sorry", "Our systems are down, please call later."},
		{"too large", answer{200, `{"say":"` + strings.Repeat("x", maxWebhookBody) + `"}`, 0}, "sorry", "Our systems are down, please call later."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu                       sync.Mutex
				got                      WebhookRequest
				gotKey, gotPath, gotType string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				gotKey, gotPath, gotType = r.Header.Get("X-Api-Key"), r.URL.Path, r.Header.Get("Content-Type")
				err := json.NewDecoder(r.Body).Decode(&got)
				mu.Unlock()
				if err != nil {
					t.Errorf("webhook body: %v", err)
				}
				select {
				case <-time.After(tt.answer.delay):
				case <-r.Context().Done():
					return
				}
				w.WriteHeader(tt.answer.status)
				io.WriteString(w, tt.answer.body)
			}))
			defer srv.Close()
			env := map[string]string{"HOOK_URL": srv.URL, "HOOK_KEY": "s3cret"}
			f, err := Parse("hook.yaml", []byte(webhookFlow), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			e, err := New(f, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			c := newChat(t, e, "en", true)
			c.expect(c.send(dialog.Event{Type: dialog.EventStart}), "ask", "account number")
			r := c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "123456#"})
			if c.conv.Step != tt.step || r.Text() != tt.text {
				t.Fatalf("after webhook: step %q text %q, want %q %q", c.conv.Step, r.Text(), tt.step, tt.text)
			}
			mu.Lock()
			defer mu.Unlock()
			if gotPath != "/lookup" || gotKey != "s3cret" || gotType != "application/json" {
				t.Fatalf("request path %q key %q content type %q", gotPath, gotKey, gotType)
			}
			if got.Flow != "hook" || got.Step != "lookup" || got.Conversation == nil || got.Conversation.Slots["account"] != "123456" {
				t.Fatalf("webhook request = %+v", got)
			}
		})
	}
}

func TestDateSlotUnderstandsSpokenDates(t *testing.T) {
	f, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 24 November 2026.
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	e, err := New(f, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ locale, said, want string }{
		{"en", "tomorrow", "2026-11-25"},
		{"en", "next monday please", "2026-11-30"},
		{"en", "march 3rd", "2027-03-03"},
		{"fr", "demain", "2026-11-25"},
		{"fr", "le 3 mars", "2027-03-03"},
		{"fr", "2026-12-01", "2026-12-01"},
	} {
		c := newChat(t, e, tt.locale, true)
		c.send(dialog.Event{Type: dialog.EventStart})
		c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "2"})
		c.expect(c.say(tt.said), "ask_phone")
		if got := c.conv.Slots["date"]; got != tt.want {
			t.Errorf("%s %q: date = %s, want %s", tt.locale, tt.said, got, tt.want)
		}
	}
}

const slotsFlow = `
name: slots
languages: [en, fr]
start: size
steps:
  size:
    say: {en: "How many people?", fr: "Combien de personnes ?"}
    slot: {name: people, type: number, min: 1, max: 12}
    goto: drink
  drink:
    say: {en: "Tea, coffee or juice?", fr: "Thé, café ou jus ?"}
    slot:
      name: drink
      type: list
      values:
        tea: {en: [tea, a cup of tea], fr: [thé, un thé]}
        coffee: {en: [coffee, espresso], fr: [café, un expresso]}
        juice: {en: [juice, orange juice], fr: [jus, jus d'orange]}
    when: {tea: note, coffee: note}
    goto: sorry
  sorry:
    say: "Sorry, no juice today."
    goto: note
  note:
    say: {en: "Any note for the kitchen?", fr: "Une remarque pour la cuisine ?"}
    slot: {name: note, type: text}
    goto: done
  done:
    say: {en: "{people} people, {drink}, note: {note}.", fr: "{people} personnes, {drink}, remarque : {note}."}
    hangup: true
`

func TestNumberListAndTextSlots(t *testing.T) {
	f, err := Parse("slots.yaml", []byte(slotsFlow), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(f)
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e, "en", false)
	r := c.send(dialog.Event{Type: dialog.EventStart})
	c.expect(r, "size", "How many people?")
	if r.Gather.DTMF == nil || r.Gather.DTMF.MaxDigits == 0 || r.Gather.Grammar != nil {
		t.Fatalf("number gather = %+v", r.Gather)
	}
	c.expect(c.say("we are thirteen"), "size", "Sorry") // above max
	c.expect(c.say("no idea"), "size", "Sorry")
	c.expect(c.say("we'll be four"), "drink", "Tea, coffee or juice?")
	r = c.say("an espresso please")
	c.expect(r, "note", "Any note")
	c.expect(c.say("  no onions  "), "done", "4 people, coffee, note: no onions.")

	// List choices are buttons on text channels and a grammar on voice ones.
	c = newChat(t, e, "fr", true)
	c.send(dialog.Event{Type: dialog.EventStart})
	r = c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "2#"})
	c.expect(r, "drink", "Thé, café ou jus ?")
	rules := map[string]string{}
	for _, rule := range r.Gather.Grammar.Rules {
		rules[rule.Phrase] = rule.Value
	}
	if rules["jus d'orange"] != "juice" || rules["un thé"] != "tea" {
		t.Fatalf("list grammar = %v", rules)
	}
	c.expect(c.say("un jus d'orange"), "note", "Sorry, no juice today.", "Une remarque")
	c.expect(c.send(dialog.Event{Type: dialog.EventDTMF, Digits: "42"}), "done", "2 personnes, juice, remarque : 42.")

	c = newChat(t, e, "en", false)
	c.send(dialog.Event{Type: dialog.EventStart})
	r = c.say("3")
	var titles []string
	for _, m := range r.Messages {
		for _, ch := range m.Choices {
			titles = append(titles, ch.Title+"="+ch.Value())
		}
	}
	if strings.Join(titles, ",") != "coffee=coffee,tea=tea,juice=juice" && strings.Join(titles, ",") != "coffee=coffee,juice=juice,tea=tea" {
		t.Fatalf("list buttons = %v", titles)
	}
	c.expect(c.send(dialog.Event{Type: dialog.EventChoice, Choice: "wine"}), "drink", "Sorry")
	c.expect(c.say("a glass of wine"), "drink", "Sorry")
	c.expect(c.send(dialog.Event{Type: dialog.EventChoice, Choice: "tea"}), "note")
}

// fakeNLU answers every utterance with one fixed reading, or an error.
type fakeNLU struct {
	res   intent.Result
	err   error
	calls int
}

func (f *fakeNLU) Parse(_ context.Context, text, lang string) (intent.Result, error) {
	f.calls++
	r := f.res
	r.Text = text
	return r, f.err
}

func TestExternalNLU(t *testing.T) {
	f, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	quiet := WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name string
		nlu  *fakeNLU
		said string
		step string
	}{
		// The NLU understands what the built-in matcher cannot.
		{"step intent", &fakeNLU{res: intent.Result{Intent: "book", Confidence: 0.9}}, "I fancy seeing you on a weekday", "ask_date"},
		{"global intent", &fakeNLU{res: intent.Result{Intent: "operator", Confidence: 0.8}}, "put me through to a person", "operator"},
		// A confident step intent wins over the built-in global matcher.
		{"step intent over built-in global", &fakeNLU{res: intent.Result{Intent: "hours", Confidence: 0.9}}, "help", "anything_else"},
		// Low confidence, unknown intents and errors fall back to the built-in matcher.
		{"low confidence", &fakeNLU{res: intent.Result{Intent: "book", Confidence: 0.2}}, "when are you open", "anything_else"},
		{"unknown intent", &fakeNLU{res: intent.Result{Intent: "weather", Confidence: 0.99}}, "when are you open", "anything_else"},
		{"error", &fakeNLU{err: errors.New("rasa is down")}, "when are you open", "anything_else"},
		{"error and nothing matches", &fakeNLU{err: errors.New("rasa is down")}, "purple elephants", "menu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(f, WithNLU(tt.nlu), quiet)
			if err != nil {
				t.Fatal(err)
			}
			c := newChat(t, e, "en", false)
			c.send(dialog.Event{Type: dialog.EventStart})
			c.expect(c.say(tt.said), tt.step)
			if tt.nlu.calls != 1 {
				t.Fatalf("NLU called %d times, want once", tt.nlu.calls)
			}
		})
	}
}

func TestSayDate(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		date, lang, want string
	}{
		{"2026-12-01", "en", "Tuesday, December 1"},
		{"2026-12-01", "fr", "mardi 1er décembre"},
		{"2027-03-03", "en", "Wednesday, March 3, 2027"},
		{"2027-03-03", "fr", "mercredi 3 mars 2027"},
	} {
		d, _ := time.Parse("2006-01-02", tt.date)
		if got := sayDate(d, tt.lang, now); got != tt.want {
			t.Errorf("sayDate(%s, %s) = %q, want %q", tt.date, tt.lang, got, tt.want)
		}
	}
}

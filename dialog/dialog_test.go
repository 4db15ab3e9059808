package dialog

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestEventValidate(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		ok   bool
	}{
		{"start", Event{Type: EventStart}, true},
		{"end", Event{Type: EventEnd}, true},
		{"no input", Event{Type: EventNoInput}, true},
		{"no match", Event{Type: EventNoMatch}, true},
		{"typed text", Text("hello"), true},
		{"recognized text", Event{Type: EventText, Text: "hello", Confidence: 0.42}, true},
		{"confidence above 1", Event{Type: EventText, Text: "x", Confidence: 1.5}, false},
		{"negative confidence", Event{Type: EventText, Text: "x", Confidence: -0.1}, false},
		{"digits", Event{Type: EventDTMF, Digits: "0123456789*#ABCD"}, true},
		{"no digits", Event{Type: EventDTMF}, false},
		{"bad digit", Event{Type: EventDTMF, Digits: "12x"}, false},
		{"lower-case letter digit", Event{Type: EventDTMF, Digits: "a"}, false},
		{"choice", Event{Type: EventChoice, Choice: "sales"}, true},
		{"empty choice", Event{Type: EventChoice}, false},
		{"attachment", Event{Type: EventAttachment, Attachment: &Attachment{URL: "https://x/y.png"}}, true},
		{"attachment without URL", Event{Type: EventAttachment, Attachment: &Attachment{Name: "y.png"}}, false},
		{"attachment missing", Event{Type: EventAttachment}, false},
		{"no type", Event{}, false},
		{"unknown type", Event{Type: "poke"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("Validate() = nil, want an error")
				}
				if !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("error %v does not wrap ErrInvalidEvent", err)
				}
			}
		})
	}
}

func TestReplyValidate(t *testing.T) {
	speech := &Gather{Speech: true}
	tests := []struct {
		name string
		r    Reply
		ok   bool
	}{
		{"empty reply", Reply{}, true},
		{"say", Say("hello", "bye"), true},
		{"ssml only", Reply{Messages: []Message{{SSML: "<speak>hi</speak>"}}}, true},
		{"audio", Reply{Messages: []Message{{Audio: &Audio{URL: "file:///x.wav"}}}}, true},
		{"audio without URL", Reply{Messages: []Message{{Audio: &Audio{Text: "hi"}}}}, false},
		{"empty message", Reply{Messages: []Message{{}}}, false},
		{"choices", Reply{Messages: []Message{{Text: "pick", Choices: []Choice{{Title: "A"}, {Title: "B", Payload: "b"}}}}}, true},
		{"untitled choice", Reply{Messages: []Message{{Choices: []Choice{{Payload: "a"}}}}}, false},
		{"gather", Reply{Gather: speech}, true},
		{"gather nothing", Reply{Gather: &Gather{}}, false},
		{"gather dtmf only", Reply{Gather: &Gather{DTMF: &DTMFOptions{Options: map[string]string{"1": "a", "#": "b"}}}}, true},
		{"gather dtmf two-key option", Reply{Gather: &Gather{DTMF: &DTMFOptions{Options: map[string]string{"12": "a"}}}}, false},
		{"gather dtmf bad key", Reply{Gather: &Gather{DTMF: &DTMFOptions{Options: map[string]string{"x": "a"}}}}, false},
		{"gather dtmf min above max", Reply{Gather: &Gather{DTMF: &DTMFOptions{MinDigits: 5, MaxDigits: 4}}}, false},
		{"gather dtmf min without max", Reply{Gather: &Gather{DTMF: &DTMFOptions{MinDigits: 5}}}, true},
		{"gather bad terminator", Reply{Gather: &Gather{DTMF: &DTMFOptions{Terminator: "##"}}}, false},
		{"gather negative timeout", Reply{Gather: &Gather{Speech: true, NoInputTimeout: -time.Second}}, false},
		{"transfer", Reply{Transfer: &Transfer{Target: "sip:a@b"}}, true},
		{"transfer without target", Reply{Transfer: &Transfer{}}, false},
		{"hangup", Reply{Hangup: true}, true},
		{"record", Reply{Record: &Record{Beep: true}}, true},
		{"gather and hangup", Reply{Gather: speech, Hangup: true}, false},
		{"transfer and record", Reply{Transfer: &Transfer{Target: "+33123"}, Record: &Record{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("Validate() = nil, want an error")
				}
				if !errors.Is(err, ErrInvalidReply) {
					t.Fatalf("error %v does not wrap ErrInvalidReply", err)
				}
			}
		})
	}
}

func TestReplyText(t *testing.T) {
	r := Reply{Messages: []Message{
		{Text: "one"},
		{SSML: "<speak>not shown</speak>"},
		{Audio: &Audio{URL: "x.wav", Text: "two"}},
		{Text: "three", Choices: []Choice{{Title: "A"}}},
	}}
	if got, want := r.Text(), "one\ntwo\nthree"; got != want {
		t.Fatalf("Text() = %q, want %q", got, want)
	}
	if got := (Reply{}).Text(); got != "" {
		t.Fatalf("empty reply Text() = %q", got)
	}
}

func TestChoiceValue(t *testing.T) {
	if v := (Choice{Title: "Sales"}).Value(); v != "Sales" {
		t.Fatalf("Value() = %q, want title", v)
	}
	if v := (Choice{Title: "Sales", Payload: "dept_sales"}).Value(); v != "dept_sales" {
		t.Fatalf("Value() = %q, want payload", v)
	}
}

func TestConversationLanguage(t *testing.T) {
	for locale, want := range map[string]string{"": "en", "fr-FR": "fr", "FR_ca": "fr", "en": "en", "de-DE": "de"} {
		c := Conversation{Locale: locale}
		if got := c.Language(); got != want {
			t.Errorf("Language() of %q = %q, want %q", locale, got, want)
		}
	}
}

// TestJSONRoundTrip checks that events, replies and conversations survive
// the serialisation every store and connector relies on.
func TestJSONRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	values := []any{
		&Event{Type: EventText, Time: now, Text: "book", Confidence: 0.8,
			Alternatives: []Alternative{{Text: "look", Confidence: 0.1}}, Metadata: map[string]string{"from": "+331"}},
		&Event{Type: EventAttachment, Attachment: &Attachment{URL: "u", Name: "n", ContentType: "image/png"}},
		&Reply{
			Messages: []Message{{Text: "hi", SSML: "<speak>hi</speak>", Choices: []Choice{{Title: "a", Payload: "p", URL: "u", ImageURL: "i"}},
				Card: &Card{Title: "t", Subtitle: "s", Buttons: []Choice{{Title: "b"}}}, Audio: &Audio{URL: "x.wav", Text: "x"}}},
			Gather: &Gather{Hints: []string{"a"}, Grammar: &Grammar{Rules: []GrammarRule{{Phrase: "yes", Value: "true"}}},
				DTMF:   &DTMFOptions{Options: map[string]string{"1": "a"}, MaxDigits: 4, Terminator: "#", InterDigitTimeout: time.Second},
				Speech: true, NoInputTimeout: 5 * time.Second, EndSilence: 800 * time.Millisecond, BargeIn: true, Language: "fr-FR"},
		},
		&Conversation{ID: "c", UserID: "u", Channel: "web", Voice: true, Locale: "fr-FR", Step: "s",
			Slots: map[string]string{"date": "2026-12-01"}, Vars: map[string]string{"tries": "2"}, Started: now, Updated: now, Ended: true},
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("round trip of %T changed it:\n%+v\n%+v\njson %s", v, v, back, b)
		}
	}
}

package store

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// TestEntryJSONShapes: appendEntryJSON knows every field of the types it
// writes. When this fails, one of them changed: the store still works
// (entryFast is false, so encoding/json does everything), but
// appendEntryJSON and entryShapes need the change.
func TestEntryJSONShapes(t *testing.T) {
	for typ, want := range entryShapes {
		if got := shapeOf(typ); got != want {
			t.Errorf("%v is now\n\t%s\nappendEntryJSON knows\n\t%s", typ, got, want)
		}
	}
	if !entryFast {
		t.Error("the fast entry encoder is off")
	}
}

// entrySamples are entries for the encoder tests: the fully populated ones
// of the conformance suite, small ones, and values at the edges of what
// json.Marshal writes.
func entrySamples() []Entry {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	odd := "ctl\x00\x01\b\f\n\r\t\x1f \"q\" \\ <b>&amp; \u2028\u2029 é 日本 \xff\xfe end\x7f"
	return []Entry{
		EventEntry("sip", fullEvent(1)),
		ReplyEntry("sip", fullReply(1), t0),
		EventEntry("web", dialog.Text("I would like to book an appointment")),
		EventEntry("", dialog.Event{Type: dialog.EventStart, Time: t0}),
		{Seq: 7, Time: t0.In(time.FixedZone("CET", 3600)), Kind: KindEvent, Event: &dialog.Event{Type: dialog.EventText, Text: odd, Confidence: 0.92,
			Alternatives: []dialog.Alternative{{Text: odd, Confidence: 0}, {Text: "b", Confidence: 1e-6}},
			Metadata:     map[string]string{odd: odd, "": "", "z": "1", "a": "2"}, Attachment: &dialog.Attachment{URL: odd}}},
		ReplyEntry(odd, dialog.Reply{
			Messages: []dialog.Message{{SSML: "<speak>Hello <break time=\"1s\"/> & bye</speak>"}, {Audio: &dialog.Audio{URL: "x.wav"}},
				{Card: &dialog.Card{Title: "t"}}, {Choices: []dialog.Choice{{Title: "a"}}}, {}},
			Gather:   &dialog.Gather{Grammar: &dialog.Grammar{}, DTMF: &dialog.DTMFOptions{}, NoInputTimeout: -time.Second},
			Record:   &dialog.Record{},
			Transfer: &dialog.Transfer{Target: "sip:x", Bridge: true},
		}, t0),
		ReplyEntry("sip", dialog.Reply{Gather: &dialog.Gather{Grammar: &dialog.Grammar{Rules: []dialog.GrammarRule{}}, Speech: true, BargeIn: true}}, t0),
		ReplyEntry("sip", dialog.Reply{Hangup: true}, t0),
		{Kind: "other"},
		// json.Marshal writes these confidences with an exponent, or fails.
		EventEntry("sip", dialog.Event{Type: dialog.EventText, Text: "x", Confidence: 1e-7}),
		EventEntry("sip", dialog.Event{Type: dialog.EventText, Text: "x", Confidence: 1e21}),
		EventEntry("sip", dialog.Event{Type: dialog.EventText, Text: "x", Confidence: math.NaN()}),
		{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), Kind: KindEvent},
	}
}

// TestEntryJSON: the fast encoder writes exactly what json.Marshal writes,
// or declines and leaves dst as it was.
func TestEntryJSON(t *testing.T) {
	fast := 0
	for i, e := range entrySamples() {
		want, wantErr := json.Marshal(e)
		got, ok := appendEntryJSON([]byte("prefix"), &e)
		if !ok {
			if string(got) != "prefix" {
				t.Errorf("sample %d: declined but changed dst to %q", i, got)
			}
			continue
		}
		fast++
		if wantErr != nil {
			t.Errorf("sample %d: encoded what json.Marshal refuses (%v)", i, wantErr)
			continue
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Errorf("sample %d:\nfast %s\njson %s", i, got[len("prefix"):], want)
		}
	}
	if want := len(entrySamples()) - 4; fast != want {
		t.Errorf("fast path took %d samples, want %d", fast, want)
	}
}

// FuzzEntryJSON decodes arbitrary JSON into an Entry with encoding/json
// and holds the fast encoder to json.Marshal on it.
func FuzzEntryJSON(f *testing.F) {
	for _, e := range entrySamples() {
		if b, err := json.Marshal(e); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Entry
		if json.Unmarshal(b, &e) != nil {
			return
		}
		want, wantErr := json.Marshal(e)
		got, ok := appendEntryJSON(nil, &e)
		if ok && (wantErr != nil || !bytes.Equal(got, want)) {
			t.Fatalf("fast %s\njson %s (%v)", got, want, wantErr)
		}
	})
}

// TestJSONString holds appendJSONString to json.Marshal on every byte
// value and on runes at the edges of UTF-8.
func TestJSONString(t *testing.T) {
	var inputs []string
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	inputs = append(inputs, "", "\u2028\u2029", "\U0010ffff", "\xed\xa0\x80", "\xf4\x90\x80\x80", "日本\xe6\x97")
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: fast %s, json %s", s, got, want)
		}
	}
}

package googleassistant

import (
	"context"
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/parole-voice/parole/dialog"
)

func seeds(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"inputs":[{"intent":""}]}`))
}

// fuzzTurn runs a parsed request through the connector's turn with a
// recorder: whatever reaches the handler is a valid event, and the answer
// marshals.
func fuzzTurn(t *testing.T, run func(c *Connector) (any, error)) {
	h := &recorder{reply: dialog.Reply{Messages: []dialog.Message{{Text: "Hi <there> & you", Choices: []dialog.Choice{{Title: "A"}}}}, Gather: &dialog.Gather{Speech: true, Hints: []string{"a"}}}}
	c, err := New(h, Config{InsecureSkipVerify: true}, WithLogger(quiet), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := run(c)
	if err != nil {
		t.Fatalf("turn of a parsed request: %v", err)
	}
	for _, ev := range h.events {
		if err := ev.Validate(); err != nil {
			t.Fatalf("invalid event %+v: %v", ev, err)
		}
	}
	if resp == nil {
		t.Fatal("nil response")
	}
}

// FuzzParseAppRequest: no body makes the conversation webhook parser or
// turn panic, and an accepted body gives a valid event.
func FuzzParseAppRequest(f *testing.F) {
	seeds(f, "conversation_main.json", "conversation_text.json", "conversation_option.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		req, st, err := ParseAppRequest(body)
		if err != nil {
			return
		}
		fuzzTurn(t, func(c *Connector) (any, error) { return c.conversationTurn(context.Background(), req, st) })
	})
}

// FuzzParseHandlerRequest: the same for Actions Builder requests.
func FuzzParseHandlerRequest(f *testing.F) {
	seeds(f, "builder_main.json", "builder_nomatch.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseHandlerRequest(body)
		if err != nil || req.Handler.Name == HandlerHealthCheck {
			return
		}
		fuzzTurn(t, func(c *Connector) (any, error) { return c.builderTurn(context.Background(), req, "") })
	})
}

// FuzzParseWebhookRequest: the same for Dialogflow requests.
func FuzzParseWebhookRequest(f *testing.F) {
	seeds(f, "dialogflow_fallback.json", "dialogflow_welcome.json", "dialogflow_telephony.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseWebhookRequest(body)
		if err != nil {
			return
		}
		fuzzTurn(t, func(c *Connector) (any, error) { return c.dialogflowTurn(context.Background(), req) })
	})
}

// FuzzFilterSSML: what the filter accepts, wrapped in <speak>, is one
// well-formed document; every message renders as one.
func FuzzFilterSSML(f *testing.F) {
	for _, s := range []string{
		`<speak>Hello <break time="1s"/> <emphasis level="strong">world</emphasis></speak>`,
		`plain & text`, `<p>a</p><s>b</s>`, `<speak><unknown>x</unknown></speak>`,
		`<speak>a</speak><speak>b</speak>`, `<audio src="x">y</audio>`, `<x:y a:b="c">z</x:y>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if frag, err := FilterSSML(s); err == nil {
			var v struct {
				XMLName xml.Name `xml:"speak"`
			}
			if err := xml.Unmarshal([]byte("<speak>"+frag+"</speak>"), &v); err != nil {
				t.Fatalf("filtered %q to %q: %v", s, frag, err)
			}
		}
		p, ok := partOf(dialog.Message{Text: "t", SSML: s})
		if !ok {
			t.Fatal("message with text has no part")
		}
		doc := p.speakDoc()
		if strings.Count(doc, "<speak>") != 1 {
			t.Fatalf("%q rendered %q", s, doc)
		}
		var v struct {
			XMLName xml.Name `xml:"speak"`
		}
		if err := xml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("%q rendered %q: %v", s, doc, err)
		}
	})
}

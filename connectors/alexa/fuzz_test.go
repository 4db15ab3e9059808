package alexa

import (
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParse: no body makes the parser or the event mapping panic, and a
// body the parser accepts becomes a valid dialog event.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"launch.json", "intent.json", "session_ended.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"request":{"type":"IntentRequest","timestamp":"2026-11-25T10:00:00Z","intent":{"name":"x","slots":{"a":{"value":"1"},"query":{"value":""}}}},"session":{"sessionId":"s"}}`))
	f.Add([]byte(`{"request":{"type":"LaunchRequest"}}`))
	f.Add([]byte(`null`))
	c, err := New(&recorder{}, Config{InsecureSkipVerify: true}, WithClock(clock))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := Parse(body)
		if err != nil {
			return
		}
		ev, ok := c.event(env)
		if !ok {
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("accepted request gave an invalid event %+v: %v", ev, err)
		}
		if ev.Type == "choice" && ev.Choice == "" {
			t.Fatal("empty choice")
		}
	})
}

// FuzzFilterSSML: any SSML is filtered without panicking, and what comes
// out is well-formed SSML that filters to itself.
func FuzzFilterSSML(f *testing.F) {
	for _, s := range []string{
		`<speak>Hi <break time="1s"/><amazon:effect name="whispered">psst</amazon:effect></speak>`,
		`<speak><foo>bar</foo> &amp; <say-as interpret-as="digits">12</say-as></speak>`,
		`plain text`, `<speak><p>unclosed</speak>`, `<a xmlns:b="u"><b:c/></a>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := FilterSSML(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", in)
		}
		again, err := FilterSSML("<speak>" + out + "</speak>")
		if err != nil {
			t.Fatalf("filtered %q into malformed %q: %v", in, out, err)
		}
		if again != out {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
	})
}

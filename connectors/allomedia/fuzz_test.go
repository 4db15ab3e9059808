package allomedia

import (
	"os"
	"testing"
)

// FuzzParse: no body makes the parser or the event mapping panic, and an
// accepted body gives valid dialog events.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/call.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"session":{"sessionId":"s"},"intent":"hours","text":"x"}`))
	f.Add([]byte(`{"session":{"sessionId":"s","user":null},"text":null}`))
	f.Add([]byte(`{"session":{"sessionId":""}}`))
	f.Add([]byte(`null`))
	c, err := New(&recorder{}, Config{InsecureSkipVerify: true}, WithClock(clock))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Parse(body)
		if err != nil {
			return
		}
		if req.Session.SessionID == "" {
			t.Fatal("accepted a request without a session id")
		}
		for _, first := range []bool{true, false} {
			for _, ev := range c.events(req, first) {
				if err := ev.Validate(); err != nil {
					t.Fatalf("event %+v: %v", ev, err)
				}
			}
		}
	})
}

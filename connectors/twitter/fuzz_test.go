package twitter

import (
	"errors"
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// FuzzParseEvents: any body gives a delivery for an account, or a bad-body
// error; never a panic. Rendering the events' texts does not panic either.
func FuzzParseEvents(f *testing.F) {
	b, err := os.ReadFile("testdata/dm_event.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"for_user_id":"1","direct_message_events":[{"type":"message_create","message_create":null}]}`))
	f.Add([]byte(`{"for_user_id":"1","direct_message_events":[{"type":"message_create","created_timestamp":"x","message_create":{"sender_id":"2","message_data":{"quick_reply_response":{"metadata":""}}}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseEvents(body)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadBody and ErrBadRequest", err)
			}
			return
		}
		if p.ForUserID == "" {
			t.Fatal("accepted without for_user_id")
		}
	})
}

// FuzzVerify: only the exact signature of the body verifies.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"for_user_id":"1"}`), "sha256=abc")
	f.Add([]byte(``), "")
	c := &Connector{cfg: Config{ConsumerSecret: secret}}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		good := sign(body)
		err := c.Verify(body, sig)
		if (err == nil) != (sig == good) {
			t.Fatalf("Verify(%q) = %v", sig, err)
		}
		if err != nil && !errors.Is(err, httpx.ErrUnauthorized) {
			t.Fatalf("error %v does not wrap ErrUnauthorized", err)
		}
	})
}

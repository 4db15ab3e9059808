package messenger

import (
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
)

// FuzzParse feeds arbitrary bodies to the webhook parser and the event
// mapping: no panic, and what the parser accepts has the parties the
// connector addresses its replies to.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"text_message.json", "quick_reply.json", "postback.json", "attachment.json", "echo_and_read.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"postback":{"payload":""}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":null}`))
	f.Add([]byte(`[]`))
	c, err := New(&metatest.Recorder{}, Config{AppSecret: "s", VerifyToken: "v", PageAccessToken: "t"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := Parse(body)
		if err != nil {
			return
		}
		if wh.Object != "page" {
			t.Fatalf("accepted object %q", wh.Object)
		}
		for _, e := range wh.Entry {
			for _, m := range e.Messaging {
				if m.Sender.ID == "" || m.Recipient.ID == "" {
					t.Fatal("accepted an event without its parties")
				}
				ev, _, ok := c.event(e.ID, m)
				if ok {
					if err := ev.Validate(); err != nil {
						t.Fatalf("mapped to an invalid event: %v", err)
					}
				}
			}
		}
	})
}

package whatsapp

import (
	"log/slog"
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
)

// FuzzParse feeds arbitrary bodies to the webhook parser and the event
// mapping: no panic, and what the parser accepts has the sender and ids
// the connector relies on, and maps to valid events.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"text_message.json", "button_reply.json", "list_reply.json", "template_button.json", "status_sent.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"1","id":"w","type":"interactive","interactive":{"type":"button_reply"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"1","id":"w","type":"button","button":{}}]}}]}]}`))
	c, err := New(&metatest.Recorder{}, Config{AppSecret: "s", VerifyToken: "v", AccessToken: "t", PhoneNumberID: "1"}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := Parse(body)
		if err != nil {
			return
		}
		for _, e := range wh.Entry {
			for _, ch := range e.Changes {
				for _, m := range ch.Value.Messages {
					if m.From == "" || m.ID == "" || ch.Value.Metadata.PhoneNumberID == "" {
						t.Fatalf("accepted a message without sender, id or phone number: %+v", m)
					}
					if ev, ok := c.event(e.ID, ch.Value, m); ok {
						if err := ev.Validate(); err != nil {
							t.Fatalf("invalid event: %v", err)
						}
					}
				}
			}
		}
	})
}

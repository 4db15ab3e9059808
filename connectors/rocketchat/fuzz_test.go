package rocketchat

import (
	"errors"
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// FuzzParseWebhook: any body gives a message with a room and a user, or a
// bad-body error; never a panic.
func FuzzParseWebhook(f *testing.F) {
	b, err := os.ReadFile("testdata/outgoing_webhook.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"channel_id":"c","user_id":"u","bot":{"i":"x"}}`))
	f.Add([]byte(`{"channel_id":"c","user_id":"u","timestamp":5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadBody and ErrBadRequest", err)
			}
			return
		}
		if m.ChannelID == "" || m.UserID == "" {
			t.Fatalf("accepted without room or user: %+v", m)
		}
		m.IsBot()
	})
}

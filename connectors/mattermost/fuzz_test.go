package mattermost

import (
	"errors"
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// FuzzParseWebhook: any body gives a webhook with a channel and a user, or
// a bad-body error; never a panic.
func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"outgoing_webhook.json", "outgoing_webhook.form"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name == "outgoing_webhook.form")
	}
	f.Add([]byte(`{"channel_id":"c","user_id":"u","timestamp":1445532266000}`), false)
	f.Add([]byte(`channel_id=c&user_id=u&text=%ZZ`), true)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		mt := "application/json"
		if form {
			mt = "application/x-www-form-urlencoded"
		}
		p, err := ParseWebhook(body, mt)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadBody and ErrBadRequest", err)
			}
			return
		}
		if p.ChannelID == "" || p.UserID == "" {
			t.Fatalf("accepted without channel or user: %+v", p)
		}
	})
}

// FuzzParseAction: a button action parses with its payload or fails cleanly.
func FuzzParseAction(f *testing.F) {
	f.Add([]byte(`{"user_id":"u","channel_id":"c","post_id":"p","context":{"payload":"hours","sig":"00"}}`))
	f.Add([]byte(`{"context":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAction(body)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) {
				t.Fatalf("error %v does not wrap ErrBadBody", err)
			}
			return
		}
		if a.Context.Payload == "" || a.ChannelID == "" || a.UserID == "" {
			t.Fatalf("accepted incomplete action: %+v", a)
		}
	})
}

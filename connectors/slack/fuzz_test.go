package slack

import (
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
)

// FuzzParseEnvelope feeds arbitrary Events API bodies to the parser and
// the event mapping: no panic, and what is accepted maps to valid events
// with a conversation and a channel to answer in.
func FuzzParseEnvelope(f *testing.F) {
	for _, name := range []string{"url_verification.json", "message_im.json", "app_mention.json", "bot_message.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"event_callback","event_id":"E","event":{"type":"app_mention","user":"U","channel":"C","text":"<@U1|x"}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"E","event":{"type":"message","channel_type":"im","user":"U","channel":"D","ts":"99999999999999999999.1"}}`))
	c, err := New(&metatest.Recorder{}, Config{SigningSecret: "s", BotToken: "xoxb"}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := ParseEnvelope(body)
		if err != nil || env.Type != TypeEventCallback {
			return
		}
		tr, ok := c.fromEvent(env)
		if !ok {
			return
		}
		if err := tr.ev.Validate(); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
		if tr.channel == "" || tr.sess.ChannelUserID == "" {
			t.Fatalf("turn without channel or user: %+v", tr)
		}
	})
}

// FuzzParseInteraction feeds arbitrary form bodies to the interactive
// payload parser: no panic, and an accepted block_actions names its team,
// user and channel.
func FuzzParseInteraction(f *testing.F) {
	b, err := os.ReadFile("testdata/block_actions.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("payload=" + url.QueryEscape(string(b))))
	f.Add([]byte("payload=%7B%22type%22%3A%22view_submission%22%7D"))
	f.Add([]byte("payload=&payload=x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ParseInteraction(body)
		if err != nil {
			return
		}
		if in.Type == TypeBlockActions && (in.Team.ID == "" || in.User.ID == "" || in.ChannelID() == "") {
			t.Fatalf("accepted %+v", in)
		}
	})
}

package teams

import (
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParseActivity feeds arbitrary bodies to the activity parser and the
// helpers that read a parsed activity: no panic, and an activity the
// parser accepts has what the connector relies on.
func FuzzParseActivity(f *testing.F) {
	for _, name := range []string{"personal_message.json", "channel_mention.json", "channel_created_channeldata.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"invoke","name":"adaptiveCard/action","serviceUrl":"https://x.example/","from":{"id":"u"},"recipient":{"id":"b"},"conversation":{"id":"c"},"value":{"action":{"verb":"v","data":{"choice":"c"}}}}`))
	f.Add([]byte(`{"type":"message","serviceUrl":"https://x.example/","from":{"id":"u"},"recipient":{"id":"b"},"conversation":{"id":"19:c"},"text":"<at>B</at> hi","entities":[{"type":"mention","text":"<at>B</at>","mentioned":{"id":"b"}}],"value":"x"}`))
	f.Add([]byte(`{"type":"messageReaction"}`))
	f.Add([]byte(`{"type":"message","timestamp":"nope"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseActivity(body)
		if err != nil {
			return
		}
		if a.Type == "" {
			t.Fatal("accepted an activity without a type")
		}
		if a.Type == TypeMessage || a.Type == TypeInvoke {
			if a.From == nil || a.From.ID == "" || a.Conversation == nil || a.Conversation.ID == "" || a.Recipient == nil {
				t.Fatalf("accepted a %s without its parties: %+v", a.Type, a)
			}
			if checkServiceURL(a.ServiceURL) != nil {
				t.Fatalf("accepted serviceUrl %q", a.ServiceURL)
			}
			text := a.cleanText()
			if utf8.ValidString(a.Text) && !utf8.ValidString(text) {
				t.Fatalf("cleanText broke UTF-8: %q", text)
			}
			_ = a.mentionsBot()
			_ = a.choice()
			_ = a.attachment()
			_ = metadata(a)
		}
	})
}

// FuzzTruncateUTF16 checks the truncation's promises on any text.
func FuzzTruncateUTF16(f *testing.F) {
	f.Add("hello 👨‍👩‍👧 🇫🇷🇩🇪 e\u0301", 7)
	f.Add("😀😀😀", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max <= 0 || max > 1<<16 {
			return
		}
		got := TruncateUTF16(s, max)
		if UTF16Len(got) > max && UTF16Len(s) > max {
			t.Fatalf("TruncateUTF16(%q, %d) = %q: %d units", s, max, got, UTF16Len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out: %q", got)
		}
	})
}

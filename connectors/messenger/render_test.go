package messenger

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

func TestRenderLimits(t *testing.T) {
	var choices []dialog.Choice
	for i := 0; i < 20; i++ {
		choices = append(choices, dialog.Choice{Title: fmt.Sprintf("A rather long choice title %d", i), Payload: fmt.Sprintf("p%d", i)})
	}
	long := strings.Repeat("word ", 500) // 2500 runes
	msgs := Render(dialog.Reply{Messages: []dialog.Message{{Text: long, Choices: choices}}})
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the text split in 2", len(msgs))
	}
	for _, m := range msgs {
		if n := utf8.RuneCountInString(m.Text); n == 0 || n > MaxTextRunes {
			t.Fatalf("piece of %d runes", n)
		}
	}
	if msgs[0].QuickReplies != nil || len(msgs[1].QuickReplies) != MaxQuickReplies {
		t.Fatalf("quick replies not on the last piece, or not 13: %d", len(msgs[1].QuickReplies))
	}
	for _, q := range msgs[1].QuickReplies {
		if utf8.RuneCountInString(q.Title) > MaxQuickReplyTitle || q.ContentType != "text" || q.Payload == "" {
			t.Fatalf("quick reply %+v", q)
		}
	}
	if got := msgs[1].QuickReplies[0].Title; got != "A rather long choic…" {
		t.Fatalf("title cut to %q", got)
	}
}

func TestRenderLinksCardsFiles(t *testing.T) {
	msgs := Render(dialog.Reply{Messages: []dialog.Message{
		{Text: "Useful links", Choices: []dialog.Choice{
			{Title: "Website", URL: "https://example.com"}, {Title: "Map", URL: "https://example.com/map"},
			{Title: "FAQ", URL: "https://example.com/faq"}, {Title: "Blog", URL: "https://example.com/blog"},
			{Title: "Yes", Payload: "yes"},
		}},
		{Card: &dialog.Card{Title: "Parole", Subtitle: "Voice and text", ImageURL: "https://example.com/p.png",
			Buttons: []dialog.Choice{{Title: "Book", Payload: "book"}, {Title: "Site", URL: "https://example.com"}}}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/menu.pdf"}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/x", ContentType: "image/png"}},
	}})
	if len(msgs) != 5 {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
	t1, t2 := msgs[0].Attachment.Payload, msgs[1].Attachment.Payload
	if t1.TemplateType != "button" || t1.Text != "Useful links" || len(t1.Buttons) != 3 || t1.Buttons[0].Type != "web_url" ||
		t2.TemplateType != "button" || len(t2.Buttons) != 1 || t2.Text != "Blog" {
		t.Fatalf("button templates %+v %+v", t1, t2)
	}
	if len(msgs[1].QuickReplies) != 1 || msgs[1].QuickReplies[0].Payload != "yes" {
		t.Fatalf("the reply choice is not a quick reply on the last template: %+v", msgs[1])
	}
	card := msgs[2].Attachment.Payload
	if card.TemplateType != "generic" || card.Elements[0].Title != "Parole" || card.Elements[0].Buttons[0].Type != "postback" ||
		card.Elements[0].Buttons[1].Type != "web_url" {
		t.Fatalf("card %+v", card)
	}
	if msgs[3].Attachment.Type != "file" || msgs[4].Attachment.Type != "image" || msgs[4].Attachment.Payload.URL != "https://example.com/x" {
		t.Fatalf("files %+v %+v", msgs[3].Attachment, msgs[4].Attachment)
	}
	// Choices alone still get a message to sit on; audio shows its text.
	msgs = Render(dialog.Reply{Messages: []dialog.Message{{Choices: []dialog.Choice{{Title: "Yes"}}}, {Audio: &dialog.Audio{URL: "a.wav", Text: "Hello"}}}})
	if len(msgs) != 2 || msgs[0].Text != "Yes" || msgs[0].QuickReplies[0].Payload != "Yes" || msgs[1].Text != "Hello" {
		t.Fatalf("%+v", msgs)
	}
}

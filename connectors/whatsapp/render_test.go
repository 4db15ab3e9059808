package whatsapp

import (
	"strings"
	"testing"

	"github.com/parole-voice/parole/dialog"
)

func TestRenderButtons(t *testing.T) {
	msgs := Render(dialog.Reply{Messages: []dialog.Message{{Text: "Anything else?", Choices: []dialog.Choice{
		{Title: "Yes", Payload: "yes"}, {Title: "A very long title for a reply button"}, {Title: "A very long title for a reply button too"},
	}}}}, RenderOptions{})
	if len(msgs) != 1 || msgs[0].Interactive.Type != "button" || msgs[0].Interactive.Body.Text != "Anything else?" {
		t.Fatalf("%+v", msgs)
	}
	b := msgs[0].Interactive.Action.Buttons
	if b[0].Reply.ID != "yes" || b[1].Reply.ID != "A very long title for a reply button" || b[1].Reply.Title != "A very long title f…" {
		t.Fatalf("buttons %+v", b)
	}
	if b[2].Reply.Title == b[1].Reply.Title || len([]rune(b[2].Reply.Title)) > MaxButtonTitle {
		t.Fatalf("titles must be unique and short: %q %q", b[1].Reply.Title, b[2].Reply.Title)
	}
}

func TestRenderLongTextLinksCardsFiles(t *testing.T) {
	long := strings.Repeat("é", 5000)
	msgs := Render(dialog.Reply{Messages: []dialog.Message{
		{Text: long, Choices: []dialog.Choice{{Title: "OK"}}},
		{Text: "Find us", Choices: []dialog.Choice{{Title: "Website", URL: "https://example.com"}}},
		{Card: &dialog.Card{Title: "Parole", Subtitle: "Voice", ImageURL: "https://example.com/p.png", Buttons: []dialog.Choice{{Title: "Book", Payload: "book"}}}},
		{Card: &dialog.Card{Title: "Photo", ImageURL: "https://example.com/q.jpg"}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/menu.pdf?x=1"}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/a", ContentType: "audio/mpeg"}},
	}}, RenderOptions{})
	types := []string{}
	for _, m := range msgs {
		t := m.Type
		if m.Interactive != nil {
			t += "/" + m.Interactive.Type
		}
		types = append(types, t)
	}
	want := "text,text,interactive/button,interactive/cta_url,interactive/button,image,document,audio"
	if strings.Join(types, ",") != want {
		t.Fatalf("types %s, want %s", strings.Join(types, ","), want)
	}
	if n := len([]rune(msgs[0].Text.Body)); n != MaxTextRunes {
		t.Fatalf("first piece %d runes", n)
	}
	if msgs[2].Interactive.Body.Text != "OK" {
		t.Fatalf("choices after a long text take their titles as body: %q", msgs[2].Interactive.Body.Text)
	}
	if p := msgs[3].Interactive.Action.Parameters; p.URL != "https://example.com" || p.DisplayText != "Website" || msgs[3].Interactive.Body.Text != "Find us" {
		t.Fatalf("cta %+v", msgs[3].Interactive)
	}
	if h := msgs[4].Interactive.Header; h == nil || h.Image.Link != "https://example.com/p.png" || msgs[4].Interactive.Body.Text != "Parole\nVoice" {
		t.Fatalf("card %+v", msgs[4].Interactive)
	}
	if msgs[5].Image.Caption != "Photo" || msgs[6].Document.Filename != "menu.pdf" {
		t.Fatalf("media %+v %+v", msgs[5].Image, msgs[6].Document)
	}
}

package slack

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

func TestRenderLimits(t *testing.T) {
	var cs []dialog.Choice
	for i := 0; i < 30; i++ {
		cs = append(cs, dialog.Choice{Title: strings.Repeat("long title ", 10) + fmt.Sprint(i), Payload: fmt.Sprintf("p%d", i)})
	}
	cs = append(cs, dialog.Choice{Title: "Website", URL: "https://example.com"})
	text := strings.Repeat("a&b ", 1000) // 4000 characters, 7000 escaped
	msgs := Render(dialog.Reply{Messages: []dialog.Message{{Text: text, Choices: cs}}})
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if err := checkBlocks(msgs[0].Blocks); err != nil {
		t.Fatalf("Block Kit limits: %v", err)
	}
	var sections, buttons, links int
	var joined strings.Builder
	for _, b := range msgs[0].Blocks {
		switch b.Type {
		case "section":
			sections++
			joined.WriteString(b.Text.Text)
		case "actions":
			for _, e := range b.Elements {
				buttons++
				if e.URL != "" {
					links++
				}
				if utf8.RuneCountInString(e.Text.Text) > MaxButtonText {
					t.Fatal("long button label")
				}
			}
		}
	}
	if sections < 3 || buttons != 31 || links != 1 {
		t.Fatalf("%d sections, %d buttons, %d links", sections, buttons, links)
	}
	if strings.Count(joined.String(), "&amp;") != 1000 || strings.Contains(strings.ReplaceAll(joined.String(), "&amp;", ""), "&") {
		t.Fatal("escaping lost or split an entity")
	}
	if msgs[0].Text != text || utf8.RuneCountInString(msgs[0].Text) > MaxFallbackRunes {
		t.Fatalf("fallback text %d runes", utf8.RuneCountInString(msgs[0].Text))
	}
}

func TestRenderCardsFiles(t *testing.T) {
	msgs := Render(dialog.Reply{Messages: []dialog.Message{
		{Card: &dialog.Card{Title: "Parole <beta>", Subtitle: "Voice & text", ImageURL: "https://example.com/p.png",
			Buttons: []dialog.Choice{{Title: "Book", Payload: "book"}}}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/photo.jpg"}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/menu.pdf", Name: "Menu|v2"}},
		{Choices: []dialog.Choice{{Title: "Yes"}, {Title: "No"}}},
		{Audio: &dialog.Audio{URL: "x.wav", Text: "Hello"}},
		{SSML: "<speak>only voice</speak>"},
	}})
	if len(msgs) != 5 {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
	for _, m := range msgs {
		if err := checkBlocks(m.Blocks); err != nil || m.Text == "" {
			t.Fatalf("%+v: %v", m, err)
		}
	}
	card := msgs[0].Blocks
	if card[0].Text.Text != "*Parole &lt;beta&gt;*\nVoice &amp; text" || card[0].Accessory.ImageURL != "https://example.com/p.png" ||
		card[1].Elements[0].Value != "book" || msgs[0].Text != "Parole <beta>" {
		t.Fatalf("card %+v", card)
	}
	if msgs[1].Blocks[0].Type != "image" || msgs[1].Blocks[0].AltText != "photo.jpg" {
		t.Fatalf("image %+v", msgs[1].Blocks[0])
	}
	// Slack splits a link at its first "|": the rest is the label.
	if got := msgs[2].Blocks[0].Text.Text; got != "<https://example.com/menu.pdf|Menu|v2>" {
		t.Fatalf("file link %q", got)
	}
	if msgs[3].Text != "Yes / No" || msgs[3].Blocks[0].Elements[1].Value != "No" || msgs[4].Text != "Hello" {
		t.Fatalf("choices only / audio: %+v %+v", msgs[3], msgs[4])
	}
}

package web

import (
	"html"
	"strings"

	"github.com/parole-voice/parole/dialog"
)

// Metadata keys the connector sets on a [Response].
const (
	// MetaResponseID names the reply, the same on the POST answer and on
	// the event stream (tock-react-kit's RESPONSE_ID), so a client shows
	// a reply once.
	MetaResponseID = "RESPONSE_ID"
	// MetaEnd is "true" when the bot ended the conversation (hang-up).
	MetaEnd = "end"
	// MetaTransfer is the target the bot handed the conversation to.
	MetaTransfer = "transfer"
)

// Render maps a bot reply to Tock web messages and response metadata; it
// is what the connector answers. The mapping:
//
//   - a message's Text becomes a text message; without Text, Audio.Text is
//     shown, and without either the SSML with its tags removed;
//   - Choices become buttons of that message: quick_reply buttons whose
//     payload is [dialog.Choice.Value], or web_url buttons when the choice
//     has a URL; a message with choices and nothing else to show becomes a
//     message with buttons only;
//   - a Card becomes a card (title, subTitle, its image as an "image"
//     file, its buttons as postback or web_url buttons); two or more
//     cards in a row become one carousel;
//   - an Attachment of an image/* type becomes an image message, any
//     other a card with the file (type "audio", "video" or "file");
//   - Transfer sets metadata "transfer" to the target, and adds the text
//     "Transferring you to TARGET." (in French for a "fr" locale) when the
//     reply has no message of its own;
//   - Hangup sets metadata "end" to "true";
//   - Gather and Record have no web form and are dropped.
//
// The metadata map is never nil.
func Render(r dialog.Reply, locale string) ([]Message, map[string]string) {
	meta := map[string]string{}
	return appendRender(nil, meta, r, locale), meta
}

// appendRender appends the messages of r to dst and sets its metadata in
// meta.
func appendRender(dst []Message, meta map[string]string, r dialog.Reply, locale string) []Message {
	start := len(dst)
	for _, m := range r.Messages {
		dst = appendMessage(dst, m)
	}
	if r.Transfer != nil {
		meta[MetaTransfer] = r.Transfer.Target
		if len(dst) == start {
			dst = append(dst, Message{Text: transferText(locale, r.Transfer.Target), Version: "1"})
		}
	}
	if r.Hangup {
		meta[MetaEnd] = "true"
	}
	return carousels(dst, start)
}

func transferText(locale, target string) string {
	if strings.HasPrefix(strings.ToLower(locale), "fr") {
		return "Je vous transfère vers " + target + "."
	}
	return "Transferring you to " + target + "."
}

// appendMessage appends the web messages of one dialog message.
func appendMessage(dst []Message, m dialog.Message) []Message {
	text := m.Text
	if text == "" && m.Audio != nil {
		text = m.Audio.Text
	}
	if text == "" && m.SSML != "" {
		text = stripSSML(m.SSML)
	}
	buttons := choiceButtons(m.Choices, ButtonQuickReply)
	first := len(dst)
	if text != "" {
		dst = append(dst, Message{Text: text, Buttons: buttons, Version: "1"})
		buttons = nil
	}
	if c := m.Card; c != nil {
		wc := &Card{Title: c.Title, SubTitle: c.Subtitle, Buttons: choiceButtons(c.Buttons, ButtonPostback)}
		if c.ImageURL != "" {
			wc.File = &MediaFile{URL: c.ImageURL, Name: c.Title, Type: "image"}
		}
		dst = append(dst, Message{Card: wc, Version: "1"})
	}
	if a := m.Attachment; a != nil {
		name := a.Name
		if name == "" {
			name = a.URL
		}
		file := MediaFile{URL: a.URL, Name: name, Type: fileType(a.ContentType)}
		if file.Type == "image" {
			dst = append(dst, Message{Image: &Image{File: file, Title: name}, Version: "1"})
		} else {
			dst = append(dst, Message{Card: &Card{Title: name, File: &file}, Version: "1"})
		}
	}
	if len(buttons) > 0 {
		if len(dst) > first {
			dst[first].Buttons = buttons
		} else {
			dst = append(dst, Message{Buttons: buttons, Version: "1"})
		}
	}
	return dst
}

// choiceButtons maps choices to buttons of type kind, or web_url buttons
// for choices with a URL.
func choiceButtons(cs []dialog.Choice, kind ButtonType) []Button {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Button, len(cs))
	for i, c := range cs {
		if c.URL != "" {
			out[i] = Button{Type: ButtonURL, Title: c.Title, URL: c.URL, Target: "_blank", ImageURL: c.ImageURL, Style: "primary"}
			continue
		}
		out[i] = Button{Type: kind, Title: c.Title, Payload: c.Value(), ImageURL: c.ImageURL}
		if kind == ButtonPostback {
			out[i].Style = "primary"
		}
	}
	return out
}

// fileType is Tock's attachment type for a MIME type.
func fileType(contentType string) string {
	ct := strings.ToLower(contentType)
	for _, t := range [...]string{"image", "audio", "video"} {
		if strings.HasPrefix(ct, t+"/") {
			return t
		}
	}
	return "file"
}

// carousels merges runs of two or more card-only messages from index
// start on into one carousel message each.
func carousels(msgs []Message, start int) []Message {
	cardOnly := func(m Message) bool {
		return m.Card != nil && m.Text == "" && len(m.Buttons) == 0 && m.Image == nil && m.Carousel == nil
	}
	out := msgs[:start]
	for i := start; i < len(msgs); {
		j := i
		for j < len(msgs) && cardOnly(msgs[j]) {
			j++
		}
		if j-i >= 2 {
			cards := make([]Card, 0, j-i)
			for _, m := range msgs[i:j] {
				cards = append(cards, *m.Card)
			}
			out = append(out, Message{Carousel: &Carousel{Cards: cards}, Version: "1"})
			i = j
			continue
		}
		out = append(out, msgs[i])
		i++
	}
	return out
}

// stripSSML returns the text of an SSML document or fragment: tags
// removed, entities decoded, white space collapsed.
func stripSSML(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

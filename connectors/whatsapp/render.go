package whatsapp

import (
	"mime"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/dialog"
)

// Limits of the WhatsApp Cloud API.
const (
	MaxTextRunes        = 4096 // text message body
	MaxInteractiveBody  = 1024 // interactive message body
	MaxReplyButtons     = 3    // reply buttons on one message
	MaxButtonTitle      = 20   // reply button title
	MaxButtonID         = 256  // reply button id
	MaxListRows         = 10   // rows of one list
	MaxRowTitle         = 24   // list row title
	MaxRowID            = 200  // list row id
	MaxRowDescription   = 72   // list row description
	MaxListButton       = 20   // the label of the button opening a list
	MaxCTADisplayText   = 20   // call-to-action URL button label
	MaxCaption          = 1024 // media caption
	DefaultListButton   = "Options"
	continuedBodyMarker = "…"
)

// RenderOptions tunes [Render].
type RenderOptions struct {
	// ListButton labels the button that opens a list; default "Options".
	ListButton string
}

// Render turns a reply into Cloud API messages (without recipient), in
// order:
//
//   - text, split at 4096 characters;
//   - up to 3 reply choices as interactive reply buttons (titles cut to
//     20 characters) with the message's text as body; more as interactive
//     lists of up to 10 rows (row titles cut to 24 characters, the full
//     title as description when cut), several lists beyond 10;
//   - link choices (Choice.URL) as call-to-action URL buttons, one each;
//   - a card as reply buttons with an image header (or an image with a
//     caption when it has no buttons);
//   - an attachment as an image, audio, video or document message by link.
//
// Button and row ids are the choices' payloads, which come back in the
// button_reply or list_reply webhook.
func Render(r dialog.Reply, o RenderOptions) []OutMessage {
	if o.ListButton == "" {
		o.ListButton = DefaultListButton
	}
	var out []OutMessage
	for _, m := range r.Messages {
		text := m.Text
		if text == "" && m.Audio != nil {
			text = m.Audio.Text
		}
		var replies, links []dialog.Choice
		for _, c := range m.Choices {
			if c.URL != "" {
				links = append(links, c)
			} else {
				replies = append(replies, c)
			}
		}
		// The text is the body of the choices' message unless it is too
		// long for one: then it goes first on its own.
		body := ""
		if len(m.Choices) > 0 && utf8.RuneCountInString(text) <= MaxInteractiveBody {
			body = text
		} else if text != "" {
			for _, piece := range meta.Split(text, MaxTextRunes) {
				out = append(out, textMessage(piece))
			}
		}
		if len(replies) > 0 {
			b := body
			if b == "" {
				b = titles(replies)
			}
			out = append(out, choiceMessages(b, replies, o)...)
			body = ""
		}
		for _, l := range links {
			lb := body
			if lb == "" {
				lb = l.Title
			}
			body = ""
			out = append(out, OutMessage{Type: "interactive", Interactive: &OutInteractive{Type: "cta_url",
				Body:   BodyText{Text: meta.Truncate(lb, MaxInteractiveBody)},
				Action: Action{Name: "cta_url", Parameters: &CTAParams{DisplayText: meta.Truncate(l.Title, MaxCTADisplayText), URL: l.URL}}}})
		}
		if c := m.Card; c != nil {
			out = append(out, cardMessages(c, o)...)
		}
		if a := m.Attachment; a != nil && a.URL != "" {
			out = append(out, mediaMessage(a))
		}
	}
	return out
}

func textMessage(s string) OutMessage {
	return OutMessage{Type: "text", Text: &OutText{Body: s, PreviewURL: strings.Contains(s, "https://")}}
}

func titles(cs []dialog.Choice) string {
	t := make([]string, len(cs))
	for i, c := range cs {
		t[i] = c.Title
	}
	return meta.Truncate(strings.Join(t, " / "), MaxInteractiveBody)
}

// choiceMessages renders reply choices: buttons up to 3, lists beyond.
func choiceMessages(body string, cs []dialog.Choice, o RenderOptions) []OutMessage {
	if len(cs) <= MaxReplyButtons {
		return []OutMessage{{Type: "interactive", Interactive: &OutInteractive{Type: "button", Body: BodyText{Text: body},
			Action: Action{Buttons: replyButtons(cs)}}}}
	}
	var out []OutMessage
	for i := 0; i < len(cs); i += MaxListRows {
		chunk := cs[i:min(i+MaxListRows, len(cs))]
		rows := make([]Row, 0, len(chunk))
		for _, c := range chunk {
			row := Row{ID: meta.Truncate(c.Value(), MaxRowID), Title: meta.Truncate(c.Title, MaxRowTitle)}
			if row.Title != c.Title {
				row.Description = meta.Truncate(c.Title, MaxRowDescription)
			}
			rows = append(rows, row)
		}
		b := body
		if i > 0 {
			b = continuedBodyMarker
		}
		out = append(out, OutMessage{Type: "interactive", Interactive: &OutInteractive{Type: "list", Body: BodyText{Text: b},
			Action: Action{Button: meta.Truncate(o.ListButton, MaxListButton), Sections: []Section{{Rows: rows}}}}})
	}
	return out
}

// replyButtons makes up to three reply buttons with unique titles.
func replyButtons(cs []dialog.Choice) []OutButton {
	seen := map[string]bool{}
	out := make([]OutButton, 0, len(cs))
	for _, c := range cs[:min(len(cs), MaxReplyButtons)] {
		title := meta.Truncate(c.Title, MaxButtonTitle)
		for n := 2; seen[title]; n++ {
			suffix := " " + string(rune('0'+n))
			title = meta.Truncate(c.Title, MaxButtonTitle-len(suffix)) + suffix
		}
		seen[title] = true
		out = append(out, OutButton{Type: "reply", Reply: Reply{ID: meta.Truncate(c.Value(), MaxButtonID), Title: title}})
	}
	return out
}

func cardMessages(c *dialog.Card, o RenderOptions) []OutMessage {
	text := c.Title
	if c.Subtitle != "" {
		if text != "" {
			text += "\n"
		}
		text += c.Subtitle
	}
	var replies, links []dialog.Choice
	for _, b := range c.Buttons {
		if b.URL != "" {
			links = append(links, b)
		} else {
			replies = append(replies, b)
		}
	}
	var out []OutMessage
	switch {
	case len(replies) > 0 && len(replies) <= MaxReplyButtons:
		in := &OutInteractive{Type: "button", Body: BodyText{Text: meta.Truncate(orTitles(text, replies), MaxInteractiveBody)},
			Action: Action{Buttons: replyButtons(replies)}}
		if c.ImageURL != "" {
			in.Header = &Header{Type: "image", Image: &Media{Link: c.ImageURL}}
		}
		out = append(out, OutMessage{Type: "interactive", Interactive: in})
	case len(replies) > 0:
		if c.ImageURL != "" {
			out = append(out, OutMessage{Type: "image", Image: &Media{Link: c.ImageURL}})
		}
		out = append(out, choiceMessages(meta.Truncate(orTitles(text, replies), MaxInteractiveBody), replies, o)...)
	case c.ImageURL != "":
		out = append(out, OutMessage{Type: "image", Image: &Media{Link: c.ImageURL, Caption: meta.Truncate(text, MaxCaption)}})
	case text != "":
		out = append(out, textMessage(meta.Truncate(text, MaxTextRunes)))
	}
	for _, l := range links {
		out = append(out, OutMessage{Type: "interactive", Interactive: &OutInteractive{Type: "cta_url",
			Body:   BodyText{Text: meta.Truncate(orTitles(text, []dialog.Choice{l}), MaxInteractiveBody)},
			Action: Action{Name: "cta_url", Parameters: &CTAParams{DisplayText: meta.Truncate(l.Title, MaxCTADisplayText), URL: l.URL}}}})
	}
	return out
}

func orTitles(text string, cs []dialog.Choice) string {
	if text != "" {
		return text
	}
	return titles(cs)
}

// mediaMessage sends a file by link as the message type its content type
// (or extension) calls for.
func mediaMessage(a *dialog.Attachment) OutMessage {
	ct := a.ContentType
	name := a.Name
	if name == "" {
		name = a.URL
		if i := strings.IndexAny(name, "?#"); i >= 0 {
			name = name[:i]
		}
		name = path.Base(name)
	}
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	switch {
	case strings.HasPrefix(ct, "image/"):
		return OutMessage{Type: "image", Image: &Media{Link: a.URL}}
	case strings.HasPrefix(ct, "audio/"):
		return OutMessage{Type: "audio", Audio: &Media{Link: a.URL}}
	case strings.HasPrefix(ct, "video/"):
		return OutMessage{Type: "video", Video: &Media{Link: a.URL}}
	}
	return OutMessage{Type: "document", Document: &Media{Link: a.URL, Filename: name}}
}

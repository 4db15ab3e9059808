package messenger

import (
	"mime"
	"path"
	"strings"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/dialog"
)

// Limits of the Messenger Platform.
const (
	MaxTextRunes       = 2000 // message text
	MaxQuickReplies    = 13   // quick replies on one message
	MaxQuickReplyTitle = 20   // quick reply title
	MaxPayload         = 1000 // quick reply and postback payloads
	MaxTemplateButtons = 3    // buttons of a button template or card
	MaxButtonTitle     = 20   // button title
	MaxButtonTextRunes = 640  // button template text
	MaxElementTitle    = 80   // generic template title and subtitle
)

// Render turns a reply into Send API messages, in order:
//
//   - text, split at 2000 characters;
//   - reply choices as quick replies (at most 13, titles cut at 20
//     characters) on the message's last piece;
//   - link choices (Choice.URL) as button templates of web_url buttons,
//     three per template, the message's text as the first template's text;
//   - a card as a generic template (title, subtitle, image, up to three
//     buttons);
//   - an attachment as an image, audio, video or file attachment.
//
// SSML and audio play no part on Messenger; an audio message shows its
// text.
func Render(r dialog.Reply) []OutMessage {
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
		var msgs []OutMessage
		if len(links) > 0 {
			tt := text
			if tt == "" {
				tt = links[0].Title
			}
			for i := 0; i < len(links); i += MaxTemplateButtons {
				chunk := links[i:min(i+MaxTemplateButtons, len(links))]
				if i > 0 {
					tt = chunk[0].Title
				}
				msgs = append(msgs, OutMessage{Attachment: &OutAttachment{Type: "template", Payload: AttachmentBody{
					TemplateType: "button", Text: meta.Truncate(tt, MaxButtonTextRunes), Buttons: buttons(chunk)}}})
			}
		} else if text != "" {
			for _, piece := range meta.Split(text, MaxTextRunes) {
				msgs = append(msgs, OutMessage{Text: piece})
			}
		}
		if c := m.Card; c != nil {
			el := Element{Title: meta.Truncate(c.Title, MaxElementTitle), Subtitle: meta.Truncate(c.Subtitle, MaxElementTitle), ImageURL: c.ImageURL}
			if el.Title == "" {
				el.Title = "-"
			}
			if len(c.Buttons) > 0 {
				el.Buttons = buttons(c.Buttons[:min(len(c.Buttons), MaxTemplateButtons)])
			}
			msgs = append(msgs, OutMessage{Attachment: &OutAttachment{Type: "template", Payload: AttachmentBody{
				TemplateType: "generic", Elements: []Element{el}}}})
		}
		if a := m.Attachment; a != nil && a.URL != "" {
			msgs = append(msgs, OutMessage{Attachment: &OutAttachment{Type: attachmentType(a), Payload: AttachmentBody{URL: a.URL, IsReusable: true}}})
		}
		if len(replies) > 0 {
			if len(msgs) == 0 {
				// Quick replies need a message to sit on.
				msgs = append(msgs, OutMessage{Text: replies[0].Title})
			}
			last := &msgs[len(msgs)-1]
			for _, c := range replies[:min(len(replies), MaxQuickReplies)] {
				last.QuickReplies = append(last.QuickReplies, OutQuickReply{ContentType: "text",
					Title: meta.Truncate(c.Title, MaxQuickReplyTitle), Payload: meta.Truncate(c.Value(), MaxPayload), ImageURL: c.ImageURL})
			}
		}
		out = append(out, msgs...)
	}
	return out
}

func buttons(cs []dialog.Choice) []Button {
	out := make([]Button, 0, len(cs))
	for _, c := range cs {
		b := Button{Title: meta.Truncate(c.Title, MaxButtonTitle)}
		if c.URL != "" {
			b.Type, b.URL = "web_url", c.URL
		} else {
			b.Type, b.Payload = "postback", meta.Truncate(c.Value(), MaxPayload)
		}
		out = append(out, b)
	}
	return out
}

// attachmentType is the Send API attachment type of a file: image, audio,
// video or file, from its content type or its name's extension.
func attachmentType(a *dialog.Attachment) string {
	ct := a.ContentType
	if ct == "" {
		name := a.Name
		if name == "" {
			name = a.URL
			if i := strings.IndexAny(name, "?#"); i >= 0 {
				name = name[:i]
			}
		}
		ct = mime.TypeByExtension(path.Ext(name))
	}
	switch {
	case strings.HasPrefix(ct, "image/"):
		return "image"
	case strings.HasPrefix(ct, "audio/"):
		return "audio"
	case strings.HasPrefix(ct, "video/"):
		return "video"
	}
	return "file"
}

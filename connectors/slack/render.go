package slack

import (
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/dialog"
)

// Block Kit limits.
const (
	MaxSectionText   = 3000 // section text
	MaxButtonText    = 75   // button label
	MaxButtonValue   = 2000 // button value
	MaxURL           = 3000 // button URL
	MaxActions       = 25   // elements of one actions block
	MaxBlocks        = 50   // blocks of one message
	MaxAltText       = 2000 // image alt text
	MaxFallbackRunes = 4000 // the text fallback Slack shows in full
)

// ChoiceActionPrefix starts the action_id of the buttons parole sends for
// choices; a click comes back with the choice's payload as its value.
const ChoiceActionPrefix = "parole_choice_"

// linkActionPrefix starts the action_id of link buttons, whose clicks
// Slack also reports and the connector ignores.
const linkActionPrefix = "parole_link_"

// Render turns a reply into chat.postMessage bodies (without channel), one
// per message: the text as mrkdwn sections (escaped, split at 3000
// characters), choices as buttons in actions blocks (25 a block; the
// button's value is the choice's payload, link choices are URL buttons),
// a card as a section with its image as accessory and its buttons, an
// image attachment as an image block and another file as a link. The
// message's plain text is the notification fallback.
func Render(r dialog.Reply) []PostMessage {
	var out []PostMessage
	for _, m := range r.Messages {
		text := m.Text
		if text == "" && m.Audio != nil {
			text = m.Audio.Text
		}
		var blocks []Block
		fallback := text
		if text != "" {
			for _, piece := range splitEscaped(text) {
				blocks = append(blocks, section(piece))
			}
		}
		blocks = append(blocks, actions(m.Choices, "")...)
		if c := m.Card; c != nil {
			t := "*" + escape(c.Title) + "*"
			if c.Subtitle != "" {
				t += "\n" + escape(c.Subtitle)
			}
			b := section(meta.Truncate(t, MaxSectionText))
			if c.ImageURL != "" {
				b.Accessory = &Element{Type: "image", ImageURL: c.ImageURL, AltText: meta.Truncate(orDefault(c.Title, "image"), MaxAltText)}
			}
			blocks = append(blocks, b)
			blocks = append(blocks, actions(c.Buttons, "card_")...)
			if fallback == "" {
				fallback = c.Title
			}
		}
		if a := m.Attachment; a != nil && a.URL != "" {
			name := orDefault(a.Name, path.Base(strings.SplitN(a.URL, "?", 2)[0]))
			if isImage(a, name) {
				blocks = append(blocks, Block{Type: "image", ImageURL: a.URL, AltText: meta.Truncate(name, MaxAltText)})
			} else {
				blocks = append(blocks, section("<"+escapeURL(a.URL)+"|"+escape(name)+">"))
			}
			if fallback == "" {
				fallback = name
			}
		}
		if fallback == "" && len(m.Choices) > 0 {
			titles := make([]string, len(m.Choices))
			for i, c := range m.Choices {
				titles[i] = c.Title
			}
			fallback = strings.Join(titles, " / ")
		}
		if len(blocks) == 0 {
			continue
		}
		// A message holds 50 blocks: more go in further messages.
		for len(blocks) > 0 {
			n := min(len(blocks), MaxBlocks)
			out = append(out, PostMessage{Text: meta.Truncate(fallback, MaxFallbackRunes), Blocks: blocks[:n]})
			blocks = blocks[n:]
		}
	}
	return out
}

// splitEscaped cuts text into mrkdwn sections of at most 3000
// characters once escaped, never inside an escape.
func splitEscaped(text string) []string {
	var out []string
	for _, piece := range meta.Split(text, MaxSectionText) {
		if e := escape(piece); utf8.RuneCountInString(e) <= MaxSectionText {
			out = append(out, e)
			continue
		}
		// "&amp;" is the longest escape: five characters for one.
		for _, p := range meta.Split(piece, MaxSectionText/5) {
			out = append(out, escape(p))
		}
	}
	return out
}

func section(mrkdwn string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: mrkdwn}}
}

// actions renders choices as buttons, 25 per actions block. Action ids
// are unique within the message.
func actions(cs []dialog.Choice, idPrefix string) []Block {
	var blocks []Block
	for i := 0; i < len(cs); i += MaxActions {
		chunk := cs[i:min(i+MaxActions, len(cs))]
		b := Block{Type: "actions", Elements: make([]Element, 0, len(chunk))}
		for j, c := range chunk {
			n := strconv.Itoa(i + j)
			e := Element{Type: "button", Text: &Text{Type: "plain_text", Text: meta.Truncate(c.Title, MaxButtonText), Emoji: true}}
			if c.URL != "" && len(c.URL) <= MaxURL {
				e.ActionID, e.URL = linkActionPrefix+idPrefix+n, c.URL
			} else {
				e.ActionID, e.Value = ChoiceActionPrefix+idPrefix+n, truncateBytes(c.Value(), MaxButtonValue)
			}
			b.Elements = append(b.Elements, e)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// escape escapes the three characters mrkdwn gives meaning to, as Slack
// documents: &, < and >.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapeURL keeps a URL from closing the <url|text> link early.
func escapeURL(s string) string {
	return strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C").Replace(s)
}

func orDefault(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

func isImage(a *dialog.Attachment, name string) bool {
	ct := a.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	return strings.HasPrefix(ct, "image/")
}

// truncateBytes cuts s to at most n bytes at a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

package teams

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/parole-voice/parole/dialog"
)

// Content types of the attachments the connector sends.
const (
	ContentTypeHeroCard     = "application/vnd.microsoft.card.hero"
	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
)

// Choice styles: how a message's choices are shown.
const (
	// ChoiceHero shows choices as the buttons of a Hero card: messageBack
	// buttons whose value is {"choice": payload}, openUrl for links.
	ChoiceHero = "hero"
	// ChoiceAdaptive shows the message as an Adaptive Card whose actions
	// are Action.Submit with data {"choice": payload}, Action.OpenUrl for
	// links.
	ChoiceAdaptive = "adaptive"
)

// Limits of Teams the renderer applies.
const (
	// DefaultMaxTextUTF16 bounds a message's text in UTF-16 code units:
	// Teams refuses messages over 40 KB counted in UTF-16, cards included.
	DefaultMaxTextUTF16 = 16000
	// MaxCardActions is the most buttons put on one card; more choices
	// are spread over several cards.
	MaxCardActions = 6
	// maxTitleUTF16 bounds card titles and button labels.
	maxTitleUTF16 = 256
)

// RenderOptions configures [Render].
type RenderOptions struct {
	// ChoiceStyle is ChoiceHero (default) or ChoiceAdaptive.
	ChoiceStyle string
	// MaxTextUTF16 bounds texts in UTF-16 code units; DefaultMaxTextUTF16
	// when zero.
	MaxTextUTF16 int
	// Locale picks the language of the connector's own texts ("fr…" for
	// French).
	Locale string
	// CheckImage, when set, vets an image attachment before it is sent as
	// one; an image it refuses is sent as a link instead.
	CheckImage func(url, contentType string) error
}

// Render maps a bot reply to the message activities the bot posts, one per
// dialog message, without addressing (the connector fills in from,
// recipient, conversation and replyToId):
//
//   - Text (else Audio.Text, else the SSML without its tags) is the
//     activity's text, in Teams markdown (textFormat "markdown"), cut to
//     MaxTextUTF16 UTF-16 code units without splitting a surrogate pair or
//     an emoji sequence;
//   - Choices become a Hero card of messageBack buttons (value
//     {"choice": payload}) or, with ChoiceAdaptive, an Adaptive Card 1.4
//     holding the text and Action.Submit actions (data {"choice":
//     payload}); choices with a URL open it; at most MaxCardActions per
//     card;
//   - a Card becomes a Hero card (title, subtitle, image, buttons);
//   - an image Attachment (PNG, JPEG or GIF) becomes an attachment with
//     its contentUrl once CheckImage accepts it; other files, and images
//     it refuses, become a markdown link;
//   - Transfer adds "Transferring you to TARGET." when the reply has no
//     message; Gather, Record and Hangup have no Teams form.
func Render(r dialog.Reply, o RenderOptions) []Activity {
	if o.MaxTextUTF16 <= 0 {
		o.MaxTextUTF16 = DefaultMaxTextUTF16
	}
	var out []Activity
	for _, m := range r.Messages {
		if a, ok := renderMessage(m, o); ok {
			out = append(out, a)
		}
	}
	if r.Transfer != nil && len(out) == 0 {
		t := "Transferring you to " + r.Transfer.Target + "."
		if strings.HasPrefix(strings.ToLower(o.Locale), "fr") {
			t = "Je vous transfère vers " + r.Transfer.Target + "."
		}
		out = append(out, Activity{Type: TypeMessage, TextFormat: "markdown", Text: TruncateUTF16(t, o.MaxTextUTF16)})
	}
	return out
}

func renderMessage(m dialog.Message, o RenderOptions) (Activity, bool) {
	text := m.Text
	if text == "" && m.Audio != nil {
		text = m.Audio.Text
	}
	if text == "" && m.SSML != "" {
		text = stripSSML(m.SSML)
	}
	text = TruncateUTF16(text, o.MaxTextUTF16)
	a := Activity{Type: TypeMessage}
	if len(m.Choices) > 0 {
		if o.ChoiceStyle == ChoiceAdaptive {
			for i, chunk := range chunks(m.Choices) {
				body := ""
				if i == 0 {
					body = text
				}
				a.Attachments = append(a.Attachments, adaptiveCard(body, chunk))
			}
			text = ""
		} else {
			for _, chunk := range chunks(m.Choices) {
				a.Attachments = append(a.Attachments, Attachment{ContentType: ContentTypeHeroCard, Content: HeroCard{Buttons: heroButtons(chunk)}})
			}
		}
	}
	if c := m.Card; c != nil {
		hc := HeroCard{Title: TruncateUTF16(c.Title, maxTitleUTF16), Subtitle: TruncateUTF16(c.Subtitle, maxTitleUTF16), Buttons: heroButtons(c.Buttons)}
		if c.ImageURL != "" {
			hc.Images = []CardImage{{URL: c.ImageURL, Alt: c.Title}}
		}
		a.Attachments = append(a.Attachments, Attachment{ContentType: ContentTypeHeroCard, Content: hc})
	}
	if at := m.Attachment; at != nil {
		name := at.Name
		if name == "" {
			name = at.URL
		}
		if isTeamsImage(at.ContentType) && (o.CheckImage == nil || o.CheckImage(at.URL, at.ContentType) == nil) {
			a.Attachments = append(a.Attachments, Attachment{ContentType: strings.ToLower(at.ContentType), ContentURL: at.URL, Name: at.Name})
		} else {
			link := "[" + escapeMarkdown(name) + "](" + at.URL + ")"
			if text != "" {
				text += "\n\n"
			}
			text += link
		}
	}
	if text != "" {
		a.Text, a.TextFormat = text, "markdown"
	}
	if len(a.Attachments) > 1 {
		a.AttachmentLayout = "list"
	}
	return a, a.Text != "" || len(a.Attachments) > 0
}

// HeroCard is the content of a Hero card attachment.
type HeroCard struct {
	Title    string       `json:"title,omitempty"`
	Subtitle string       `json:"subtitle,omitempty"`
	Text     string       `json:"text,omitempty"`
	Images   []CardImage  `json:"images,omitempty"`
	Buttons  []CardAction `json:"buttons,omitempty"`
}

// CardImage is an image of a card.
type CardImage struct {
	URL string `json:"url"`
	Alt string `json:"alt,omitempty"`
}

// CardAction is a button of a Hero card: messageBack (Text and
// DisplayText shown as the user's message, Value sent to the bot), imBack
// or openUrl (Value is the URL).
type CardAction struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Text        string `json:"text,omitempty"`
	DisplayText string `json:"displayText,omitempty"`
	Value       any    `json:"value,omitempty"`
	Image       string `json:"image,omitempty"`
}

func heroButtons(cs []dialog.Choice) []CardAction {
	if len(cs) == 0 {
		return nil
	}
	out := make([]CardAction, len(cs))
	for i, c := range cs {
		title := TruncateUTF16(c.Title, maxTitleUTF16)
		if c.URL != "" {
			out[i] = CardAction{Type: "openUrl", Title: title, Value: c.URL, Image: c.ImageURL}
			continue
		}
		out[i] = CardAction{Type: "messageBack", Title: title, Text: title, DisplayText: title,
			Value: map[string]string{ChoiceKey: c.Value()}, Image: c.ImageURL}
	}
	return out
}

// adaptiveCard returns an Adaptive Card attachment with text and one
// action per choice.
func adaptiveCard(text string, cs []dialog.Choice) Attachment {
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
	}
	if text != "" {
		card["body"] = []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}}
	}
	actions := make([]any, len(cs))
	for i, c := range cs {
		title := TruncateUTF16(c.Title, maxTitleUTF16)
		if c.URL != "" {
			actions[i] = map[string]any{"type": "Action.OpenUrl", "title": title, "url": c.URL}
			continue
		}
		actions[i] = map[string]any{"type": "Action.Submit", "title": title, "data": map[string]string{ChoiceKey: c.Value()}}
	}
	card["actions"] = actions
	return Attachment{ContentType: ContentTypeAdaptiveCard, Content: card}
}

func chunks(cs []dialog.Choice) [][]dialog.Choice {
	var out [][]dialog.Choice
	for len(cs) > MaxCardActions {
		out = append(out, cs[:MaxCardActions])
		cs = cs[MaxCardActions:]
	}
	return append(out, cs)
}

// isTeamsImage reports whether Teams shows the type inline: PNG, JPEG or
// GIF.
func isTeamsImage(ct string) bool {
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "image/png", "image/jpeg", "image/jpg", "image/gif":
		return true
	}
	return false
}

func escapeMarkdown(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `*`, `\*`, `_`, `\_`).Replace(s)
}

// UTF16Len is the length of s in UTF-16 code units, how Teams counts.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s { // invalid UTF-8 reads as U+FFFD: one unit
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}

// TruncateUTF16 returns s cut to at most max UTF-16 code units, ending in
// "…" when cut. It cuts between whole characters: never inside a
// surrogate pair (an emoji outside the BMP), and never inside an emoji
// sequence joined by U+200D, a flag's pair of regional indicators, or
// before a variation selector, skin-tone modifier or combining mark.
func TruncateUTF16(s string, max int) string {
	if max <= 0 || UTF16Len(s) <= max {
		return s
	}
	runes := []rune(s)
	budget := max - 1 // room for the ellipsis
	n, cut := 0, 0
	for cut < len(runes) {
		w := utf16.RuneLen(runes[cut])
		if w < 0 {
			w = 1
		}
		if n+w > budget {
			break
		}
		n += w
		cut++
	}
	// Back off to a boundary between user-perceived characters.
	for cut > 0 && cut < len(runes) && !boundary(runes, cut) {
		cut--
	}
	return strings.TrimRightFunc(string(runes[:cut]), unicode.IsSpace) + "…"
}

// boundary reports whether a cut between runes[i-1] and runes[i] keeps
// emoji sequences and combining marks whole.
func boundary(runes []rune, i int) bool {
	prev, next := runes[i-1], runes[i]
	switch {
	case prev == 0x200D || next == 0x200D: // zero-width joiner
		return false
	case next >= 0xFE00 && next <= 0xFE0F: // variation selectors
		return false
	case next >= 0x1F3FB && next <= 0x1F3FF: // skin-tone modifiers
		return false
	case next == 0x20E3: // combining enclosing keycap
		return false
	case next >= 0xE0020 && next <= 0xE007F: // tag sequences (subdivision flags)
		return false
	case unicode.Is(unicode.Mn, next) || unicode.Is(unicode.Me, next):
		return false
	case isRegionalIndicator(prev) && isRegionalIndicator(next):
		// A flag is a pair: cut only after an even run.
		run := 0
		for j := i - 1; j >= 0 && isRegionalIndicator(runes[j]); j-- {
			run++
		}
		return run%2 == 0
	}
	return true
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// stripSSML returns the text of an SSML document or fragment.
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

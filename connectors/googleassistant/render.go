package googleassistant

import (
	"strings"

	"github.com/parole-voice/parole/dialog"
)

// The Assistant's limits on one response, from the Conversational Actions
// reference ("Rich responses", "Suggestions").
const (
	// MaxSimpleResponses is how many simple responses (chat bubbles) one
	// response may hold; more messages are merged.
	MaxSimpleResponses = 2
	// MaxSuggestions is how many suggestion chips one response may hold.
	MaxSuggestions = 8
	// MaxSuggestionTitle is the longest suggestion title, in characters.
	MaxSuggestionTitle = 25
	// MaxDisplayText is the longest text of one chat bubble, in characters.
	MaxDisplayText = 640
	// MaxSpeechBiasingHints is how many phrases one response may bias the
	// recognizer towards.
	MaxSpeechBiasingHints = 1000
)

// rendered is a reply laid out within the Assistant's limits, before it is
// written in one of the three formats.
type rendered struct {
	bubbles     []part            // at most MaxSimpleResponses
	suggestions []string          // at most MaxSuggestions titles, each ≤ MaxSuggestionTitle
	choices     map[string]string // normalized suggestion title → choice payload
	link        *dialog.Choice    // the first choice that opens a URL
	card        *dialog.Card      // the first card
	image       *dialog.Attachment
	hints       []string // at most MaxSpeechBiasingHints
	end         bool     // the conversation ends with this response
	transfer    string   // the transfer target when the reply transfers
}

// layout lays r out within the platform's limits: messages merged into at
// most two simple responses (all but the last message in the first, the
// last — usually the question — in the second), choices as suggestion chips
// (deduplicated, titles cut to 25 characters, at most 8), the gather's
// phrase hints as speech biasing hints (deduplicated, at most 1000).
func layout(r dialog.Reply) rendered {
	var out rendered
	var parts []part
	add := func(c dialog.Choice) {
		if c.URL != "" {
			if out.link == nil {
				cc := c
				out.link = &cc
			}
			return
		}
		if len(out.suggestions) == MaxSuggestions {
			return
		}
		title := truncate(strings.TrimSpace(c.Title), MaxSuggestionTitle)
		key := normalize(title)
		if key == "" {
			return
		}
		if _, dup := out.choices[key]; dup {
			return
		}
		if out.choices == nil {
			out.choices = map[string]string{}
		}
		out.choices[key] = c.Value()
		out.suggestions = append(out.suggestions, title)
	}
	for _, m := range r.Messages {
		if p, ok := partOf(m); ok {
			parts = append(parts, p)
		}
		for _, c := range m.Choices {
			add(c)
		}
		if m.Card != nil {
			if out.card == nil {
				out.card = m.Card
			}
			for _, b := range m.Card.Buttons {
				add(b)
			}
		}
		if m.Attachment != nil && out.image == nil && strings.HasPrefix(m.Attachment.ContentType, "image/") {
			out.image = m.Attachment
		}
	}
	switch {
	case len(parts) > MaxSimpleResponses:
		out.bubbles = []part{merge(parts[:len(parts)-1]), parts[len(parts)-1]}
	default:
		out.bubbles = parts
	}
	for i := range out.bubbles {
		out.bubbles[i].display = truncate(out.bubbles[i].display, MaxDisplayText)
	}
	if g := r.Gather; g != nil {
		seen := map[string]bool{}
		for _, h := range g.Hints {
			k := normalize(h)
			if k == "" || seen[k] || len(out.hints) == MaxSpeechBiasingHints {
				continue
			}
			seen[k] = true
			out.hints = append(out.hints, strings.TrimSpace(h))
		}
	}
	if r.Transfer != nil {
		out.end, out.transfer = true, r.Transfer.Target
	}
	if r.Hangup {
		out.end = true
	}
	return out
}

// normalize is how suggestion titles and what the user said are compared:
// case and surrounding or repeated spaces ignored.
func normalize(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

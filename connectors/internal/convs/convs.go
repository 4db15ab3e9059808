// Package convs holds what the webhook channels without server-side
// conversation state share: which conversations have begun (so the bot
// welcomes a user once, even after a restart, when the transcript says so)
// and the choices offered last, bounded in number and time; and how a text
// channel matches a typed answer to those choices and shows a message.
package convs

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
)

// TranscriptReader reads a conversation's transcript; *runner.Runner is
// one. A [Handler] that is also a TranscriptReader tells the connector
// whether a conversation it does not remember (after a restart, or on
// another node) has already begun, so the bot does not welcome the user
// twice.
type TranscriptReader interface {
	Transcript(ctx context.Context, conversationID string) ([]store.Entry, error)
}

// Table remembers, per conversation, that it has begun and the choices
// the bot offered last, bounded in number and time. It is safe for
// concurrent use.
type Table struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	m     map[string]*State
	sweep time.Time
}

// State is what a Table remembers of a conversation.
type State struct {
	// Seen is when the conversation was last put.
	Seen time.Time
	// Started says the conversation has begun (its welcome was sent).
	Started bool
	// Choices are those the bot offered last.
	Choices []dialog.Choice
}

// New returns a table forgetting conversations unseen for ttl and holding
// at most max of them (the least recently seen go first).
func New(ttl time.Duration, max int) *Table {
	return &Table{ttl: ttl, max: max, m: map[string]*State{}}
}

// Get returns what is remembered of id (zero when nothing is).
func (c *Table) Get(id string, now time.Time) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[id]
	if s == nil || now.Sub(s.Seen) > c.ttl {
		return State{}
	}
	return *s
}

// Put records that id has begun (or, ended, that it has not) and the
// choices of its last reply.
func (c *Table) Put(id string, now time.Time, started bool, choices []dialog.Choice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.sweep) > c.ttl/4 {
		for k, s := range c.m {
			if now.Sub(s.Seen) > c.ttl {
				delete(c.m, k)
			}
		}
		c.sweep = now
	}
	s := c.m[id]
	if s == nil {
		if len(c.m) >= c.max {
			var oldest string
			var t time.Time
			for k, s := range c.m {
				if oldest == "" || s.Seen.Before(t) {
					oldest, t = k, s.Seen
				}
			}
			delete(c.m, oldest)
		}
		s = &State{}
		c.m[id] = s
	}
	s.Seen, s.Started, s.Choices = now, started, choices
}

// MatchChoice maps a typed text to one of the offered choices: its title
// (case and surrounding spaces ignored) or its 1-based number.
func MatchChoice(text string, choices []dialog.Choice) (dialog.Choice, bool) {
	t := strings.TrimSpace(text)
	if t == "" {
		return dialog.Choice{}, false
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(t, ".")); err == nil {
		if n >= 1 && n <= len(choices) && choices[n-1].URL == "" {
			return choices[n-1], true
		}
		return dialog.Choice{}, false
	}
	for _, ch := range choices {
		if ch.URL == "" && strings.EqualFold(strings.TrimSpace(ch.Title), t) {
			return ch, true
		}
	}
	return dialog.Choice{}, false
}

// LastChoices returns the reply choices the user can answer next: those
// of the last message of the last reply that offers any.
func LastChoices(replies []dialog.Reply) []dialog.Choice {
	var out []dialog.Choice
	for _, r := range replies {
		for _, m := range r.Messages {
			if len(m.Choices) > 0 {
				out = m.Choices
			}
			if m.Card != nil && len(m.Card.Buttons) > 0 {
				out = m.Card.Buttons
			}
		}
	}
	return out
}

// MessageText is what a text channel shows of m: its text, else the text
// of its audio, else its SSML with the tags removed.
func MessageText(m dialog.Message) string {
	if m.Text != "" {
		return m.Text
	}
	if m.Audio != nil && m.Audio.Text != "" {
		return m.Audio.Text
	}
	if m.SSML != "" {
		return StripTags(m.SSML)
	}
	return ""
}

// StripTags removes markup from an SSML document, keeping its text.
func StripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

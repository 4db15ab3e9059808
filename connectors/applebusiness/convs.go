package applebusiness

import (
	"context"
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

// convs remembers, per conversation, that it has begun and the choices
// the bot offered last, bounded in number and time.
type convs struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	m     map[string]*convState
	sweep time.Time
}

type convState struct {
	seen    time.Time
	started bool
	choices []dialog.Choice
}

func newConvs(ttl time.Duration, max int) *convs {
	return &convs{ttl: ttl, max: max, m: map[string]*convState{}}
}

// get returns what is remembered of id (zero when nothing is).
func (c *convs) get(id string, now time.Time) convState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[id]
	if s == nil || now.Sub(s.seen) > c.ttl {
		return convState{}
	}
	return *s
}

// put records that id has begun (or, ended, that it has not) and the
// choices of its last reply.
func (c *convs) put(id string, now time.Time, started bool, choices []dialog.Choice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.sweep) > c.ttl/4 {
		for k, s := range c.m {
			if now.Sub(s.seen) > c.ttl {
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
				if oldest == "" || s.seen.Before(t) {
					oldest, t = k, s.seen
				}
			}
			delete(c.m, oldest)
		}
		s = &convState{}
		c.m[id] = s
	}
	s.seen, s.started, s.choices = now, started, choices
}

// messageText is what a text channel shows of m: its text, else the text
// of its audio, else its SSML with the tags removed.
func messageText(m dialog.Message) string {
	if m.Text != "" {
		return m.Text
	}
	if m.Audio != nil && m.Audio.Text != "" {
		return m.Audio.Text
	}
	if m.SSML != "" {
		return stripTags(m.SSML)
	}
	return ""
}

// stripTags removes markup from an SSML document, keeping its text.
func stripTags(s string) string {
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

package dialog

import (
	"context"
	"time"
)

// Bot answers the events of a conversation. The YAML flow engine is a Bot,
// and so is any Go type with a Handle method: an operator plugs in a flow
// file, a developer plugs in Go.
//
// Handle is called with the conversation the event belongs to and may change
// its state (Step, Slots, Vars); the caller stores the conversation after
// Handle returns. Handle is called for one conversation at a time, but for
// different conversations from many goroutines at once.
type Bot interface {
	Handle(ctx context.Context, conv *Conversation, ev Event) (Reply, error)
}

// BotFunc adapts an ordinary function to the [Bot] interface.
type BotFunc func(ctx context.Context, conv *Conversation, ev Event) (Reply, error)

// Handle calls f(ctx, conv, ev).
func (f BotFunc) Handle(ctx context.Context, conv *Conversation, ev Event) (Reply, error) {
	return f(ctx, conv, ev)
}

// Conversation is the state of one conversation, kept between events by a
// store. It is plain data so that every store can serialise it.
type Conversation struct {
	// ID names the conversation uniquely across channels.
	ID string `json:"id"`
	// UserID names the user; one user may have conversations on several
	// channels.
	UserID string `json:"user_id,omitempty"`
	// Channel is the channel the conversation runs on: "sip", "webrtc",
	// "web", "teams", …
	Channel string `json:"channel"`
	// Voice says the channel speaks and listens (a phone or browser call, a
	// voice assistant) rather than showing text: bots say SSML there and
	// show buttons elsewhere.
	Voice bool `json:"voice,omitempty"`
	// Locale is the BCP 47 language tag of the conversation, e.g. "en-US".
	Locale string `json:"locale,omitempty"`
	// Step is where the bot is in its flow; its meaning is the bot's.
	Step string `json:"step,omitempty"`
	// Slots are the values the bot has collected, by name.
	Slots map[string]string `json:"slots,omitempty"`
	// Vars are the bot's other working values (retry counters, …).
	Vars map[string]string `json:"vars,omitempty"`
	// Started is when the conversation began; Updated when it last changed.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Ended is set once the conversation is over.
	Ended bool `json:"ended,omitempty"`
}

// SetSlot sets slot name to value, creating the map when needed.
func (c *Conversation) SetSlot(name, value string) {
	if c.Slots == nil {
		c.Slots = make(map[string]string)
	}
	c.Slots[name] = value
}

// SetVar sets the working value name, creating the map when needed.
func (c *Conversation) SetVar(name, value string) {
	if c.Vars == nil {
		c.Vars = make(map[string]string)
	}
	c.Vars[name] = value
}

// Language returns the primary language subtag of the conversation's
// locale, lower-cased ("fr" for "fr-FR"), or "en" when no locale is set.
func (c *Conversation) Language() string {
	l := c.Locale
	for i := 0; i < len(l); i++ {
		if l[i] == '-' || l[i] == '_' {
			l = l[:i]
			break
		}
	}
	if l == "" {
		return "en"
	}
	b := []byte(l)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

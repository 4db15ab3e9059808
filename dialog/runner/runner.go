// Package runner runs a [dialog.Bot] over a conversation store: for each
// event a channel receives it loads (or starts) the conversation, lets the
// bot answer, saves the new state and keeps the transcript.
//
// Channels — the web chat, Teams, a phone call's voice session — call
// [Runner.Handle] and know nothing of stores; bots know nothing of
// channels.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
)

// Session says where an event comes from.
type Session struct {
	// ConversationID is the stable id the channel gives the conversation:
	// the call id of a phone call, "web:"+userId for the web chat.
	ConversationID string
	// Channel names the channel: "web", "sip", "teams", …
	Channel string
	// ChannelUserID is the user's id on the channel (chat user id, caller
	// number); empty when unknown.
	ChannelUserID string
	// Locale is the user's BCP 47 language tag, e.g. "fr-FR"; empty keeps
	// the conversation's.
	Locale string
	// Voice is true on channels that speak and listen.
	Voice bool
}

// Runner runs a bot over a store. It is safe for concurrent use; events of
// one conversation are handled one at a time within a process, and the
// store's optimistic versions keep several processes from losing updates.
type Runner struct {
	bot    dialog.Bot
	store  store.Store
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	locks map[string]*convLock
}

type convLock struct {
	mu   sync.Mutex
	refs int
}

// Option configures a [Runner].
type Option func(*Runner)

// WithLogger sets the runner's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Runner) { r.logger = l } }

// WithClock sets the clock that stamps events and replies (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// New returns a runner answering with bot and keeping conversations in st.
func New(bot dialog.Bot, st store.Store, opts ...Option) *Runner {
	r := &Runner{bot: bot, store: st, logger: slog.Default(), now: time.Now, locks: map[string]*convLock{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// ErrSession is wrapped by the errors of a [Session] that cannot be used.
var ErrSession = errors.New("runner: invalid session")

// maxAttempts bounds the retries of a turn whose save lost a race with
// another parole node.
const maxAttempts = 5

// Handle runs ev through the bot in the conversation s names, creating the
// conversation on first use (linked to the user known for the channel user,
// if any), and saves it with the event and the reply appended to its
// transcript in the same write.
//
// When another node saved the conversation meanwhile, the turn is run again
// on the fresh state; a bot with side effects (webhooks) may then see them
// repeated.
func (r *Runner) Handle(ctx context.Context, s Session, ev dialog.Event) (dialog.Reply, error) {
	if s.ConversationID == "" || s.Channel == "" {
		return dialog.Reply{}, fmt.Errorf("%w: conversation id and channel are required", ErrSession)
	}
	if err := ev.Validate(); err != nil {
		return dialog.Reply{}, err
	}
	if ev.Time.IsZero() {
		ev.Time = r.now()
	}
	unlock := r.lock(s.ConversationID)
	defer unlock()
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		conv, ver, err := r.store.Load(ctx, s.ConversationID)
		if errors.Is(err, store.ErrNotFound) {
			conv, ver, err = r.newConversation(ctx, s)
		}
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: load %s: %w", s.ConversationID, err)
		}
		if s.Locale != "" {
			conv.Locale = s.Locale
		}
		conv.Voice = s.Voice
		reply, err := r.bot.Handle(ctx, conv, ev)
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: bot: %w", err)
		}
		// The new state and its transcript lines are written together.
		entries := []store.Entry{
			{Time: ev.Time, Kind: store.KindEvent, Channel: s.Channel, Event: &ev},
			{Time: r.now(), Kind: store.KindReply, Channel: s.Channel, Reply: &reply},
		}
		_, err = r.store.Save(ctx, conv, ver, entries...)
		if errors.Is(err, store.ErrConflict) {
			lastErr = err
			continue
		}
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: save %s: %w", s.ConversationID, err)
		}
		return reply, nil
	}
	return dialog.Reply{}, fmt.Errorf("runner: %s: gave up after %d conflicting saves: %w", s.ConversationID, maxAttempts, lastErr)
}

// newConversation starts a conversation for s, linked to the user the
// channel user is known as (or a new user named after the channel user).
func (r *Runner) newConversation(ctx context.Context, s Session) (*dialog.Conversation, store.Version, error) {
	conv := &dialog.Conversation{ID: s.ConversationID, Channel: s.Channel, Locale: s.Locale, Voice: s.Voice}
	if s.ChannelUserID == "" {
		return conv, 0, nil
	}
	user, err := r.store.UserID(ctx, s.Channel, s.ChannelUserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		user = s.Channel + ":" + s.ChannelUserID
		if err := r.store.Link(ctx, s.Channel, s.ChannelUserID, user); err != nil {
			return nil, 0, err
		}
	case err != nil:
		return nil, 0, err
	}
	conv.UserID = user
	return conv, 0, nil
}

// lock serialises the events of one conversation within the process.
func (r *Runner) lock(id string) (unlock func()) {
	r.mu.Lock()
	l := r.locks[id]
	if l == nil {
		l = &convLock{}
		r.locks[id] = l
	}
	l.refs++
	r.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		r.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(r.locks, id)
		}
		r.mu.Unlock()
	}
}

// Transcript returns the transcript of a conversation.
func (r *Runner) Transcript(ctx context.Context, conversationID string) ([]store.Entry, error) {
	return r.store.Transcript(ctx, conversationID)
}

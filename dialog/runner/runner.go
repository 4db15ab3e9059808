// Package runner runs a [dialog.Bot] over a conversation store: for each
// event a channel receives it loads (or starts) the conversation, lets the
// bot answer, saves the new state and keeps the transcript.
//
// Channels — the web chat, Teams, a phone call's voice session — call
// [Runner.Handle] and know nothing of stores; bots know nothing of
// channels.
//
// A user known across channels (Session.UserID, set by a channel that
// authenticated the user, or found by the [WithUsers] resolver) has one
// open conversation: started on Alexa, it goes on in the web chat, and its
// transcript records the channel of every entry.
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
	// UserID, when set, is the parole user the channel authenticated (an
	// Alexa or Allo-Media account-linking token, a web chat JWT subject):
	// the event then goes to that user's open conversation, whichever
	// channel started it, and ConversationID only names the conversation
	// created when the user has none open. The channel user is linked to
	// the user when that conversation is created. Empty keeps the
	// conversation ConversationID names (see also [WithUsers]).
	UserID string
}

// UserResolver returns the parole user a session comes from, or "" when
// the session is not tied to a known user; see [WithUsers].
type UserResolver func(ctx context.Context, s Session) (userID string, err error)

// TrustedChannels returns a [UserResolver] for channels whose
// ChannelUserID already is the parole user id because the channel
// authenticates it: the web chat with a JWT secret, whose "sub" claim
// becomes the user id. Use it only for such channels: on others anyone
// could speak for any user by sending their id.
func TrustedChannels(channels ...string) UserResolver {
	set := make(map[string]bool, len(channels))
	for _, c := range channels {
		set[c] = true
	}
	return func(_ context.Context, s Session) (string, error) {
		if set[s.Channel] {
			return s.ChannelUserID, nil
		}
		return "", nil
	}
}

// Runner runs a bot over a store. It is safe for concurrent use; events of
// one conversation are handled one at a time within a process, and the
// store's optimistic versions keep several processes from losing updates.
type Runner struct {
	bot    dialog.Bot
	store  store.Store
	logger *slog.Logger
	now    func() time.Time
	users  UserResolver

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

// WithUsers sets how the runner finds the user of a session that does not
// name one (Session.UserID empty): for instance [TrustedChannels]("web")
// lets the web chat continue the conversation a linked user started on
// Alexa. Without it such sessions keep to their ConversationID.
func WithUsers(resolve UserResolver) Option { return func(r *Runner) { r.users = resolve } }

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
// A session of a known user (Session.UserID, or the runner's [WithUsers]
// resolver) continues the user's open conversation — the most recently
// updated one not ended — whichever channel it runs on, and the transcript
// entries record each event's channel. A start event that arrives on a
// conversation other than its own this way (the user opens the web chat
// while a conversation begun on Alexa waits for an answer) does not restart
// the bot: it is recorded and answered with the conversation's last reply,
// so the user sees the pending question on the new channel.
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
	if s.UserID == "" && r.users != nil {
		u, err := r.users(ctx, s)
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: user of %s: %w", s.ConversationID, err)
		}
		s.UserID = u
	}
	if len(s.UserID) > store.MaxIDLen {
		return dialog.Reply{}, fmt.Errorf("%w: user id longer than %d bytes", ErrSession, store.MaxIDLen)
	}
	id := s.ConversationID
	if s.UserID != "" {
		// The user's lock keeps two channels of one user from opening two
		// conversations at once.
		unlockUser := r.lock("user\x00" + s.UserID)
		defer unlockUser()
		open, err := r.openConversation(ctx, s.UserID)
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: conversations of user %s: %w", s.UserID, err)
		}
		if open != "" {
			id = open
		}
	}
	joined := id != s.ConversationID
	unlock := r.lock(id)
	defer unlock()
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		conv, ver, err := r.store.Load(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			conv, ver, err = r.newConversation(ctx, s)
		}
		if err != nil {
			return dialog.Reply{}, fmt.Errorf("runner: load %s: %w", id, err)
		}
		if s.UserID != "" && conv.UserID == "" {
			conv.UserID = s.UserID
		}
		if s.Locale != "" {
			conv.Locale = s.Locale
		}
		conv.Voice = s.Voice
		var reply dialog.Reply
		if joined && ev.Type == dialog.EventStart && !conv.Ended {
			reply, err = r.lastReply(ctx, id)
		} else {
			reply, err = r.bot.Handle(ctx, conv, ev)
			if err != nil {
				err = fmt.Errorf("runner: bot: %w", err)
			}
		}
		if err != nil {
			return dialog.Reply{}, err
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
			return dialog.Reply{}, fmt.Errorf("runner: save %s: %w", id, err)
		}
		return reply, nil
	}
	return dialog.Reply{}, fmt.Errorf("runner: %s: gave up after %d conflicting saves: %w", id, maxAttempts, lastErr)
}

// openConversation returns the id of the user's most recently updated
// conversation that is not ended, or "" when there is none.
func (r *Runner) openConversation(ctx context.Context, userID string) (string, error) {
	convs, err := r.store.Conversations(ctx, userID)
	if err != nil {
		return "", err
	}
	for _, c := range convs {
		if !c.Ended {
			return c.ID, nil
		}
	}
	return "", nil
}

// lastReply returns the last reply of a conversation's transcript: what
// a user resuming it on another channel is waiting to answer.
func (r *Runner) lastReply(ctx context.Context, id string) (dialog.Reply, error) {
	tr, err := r.store.Transcript(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return dialog.Reply{}, fmt.Errorf("runner: transcript of %s: %w", id, err)
	}
	for i := len(tr) - 1; i >= 0; i-- {
		if tr[i].Kind == store.KindReply && tr[i].Reply != nil {
			return *tr[i].Reply, nil
		}
	}
	return dialog.Reply{}, nil
}

// newConversation starts a conversation for s, linked to s.UserID, or to
// the user the channel user is known as (or a new user named after the
// channel user).
func (r *Runner) newConversation(ctx context.Context, s Session) (*dialog.Conversation, store.Version, error) {
	conv := &dialog.Conversation{ID: s.ConversationID, Channel: s.Channel, Locale: s.Locale, Voice: s.Voice}
	if s.UserID != "" {
		conv.UserID = s.UserID
		if s.ChannelUserID != "" {
			if err := r.store.Link(ctx, s.Channel, s.ChannelUserID, s.UserID); err != nil {
				return nil, 0, err
			}
		}
		return conv, 0, nil
	}
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

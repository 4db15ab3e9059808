package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// Errors callers branch on. Every error a store returns for one of these
// cases wraps the sentinel, so test with [errors.Is].
var (
	// ErrNotFound: the conversation (or the user link) does not exist, or
	// it expired.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: Save was given a version that is not the stored one —
	// someone else saved the conversation since it was loaded, or it was
	// created (version 0 given) by someone else first. Load again, apply
	// the change again and retry, as [Update] does.
	ErrConflict = errors.New("store: version conflict")
	// ErrCorrupt: a stored value cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt stored value")
	// ErrInvalid: an argument is unusable (empty or oversized id, nil
	// conversation, transcript entry of the wrong shape).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// MaxIDLen bounds the length in bytes of every id a store accepts:
// conversation ids, user ids, channel names and channel user ids.
const MaxIDLen = 1024

// Version is the revision of a stored conversation, for optimistic
// concurrency. A conversation that does not exist has version 0; the first
// Save makes it 1 and every later Save adds one.
type Version uint64

// Store keeps conversations, their transcripts and the links between
// channel users and users. It is safe for concurrent use, by goroutines of
// one process and — for the shared stores — by several parole nodes.
//
// # Concurrency
//
// Stores use optimistic concurrency: [Store.Load] returns the conversation
// with its [Version], and [Store.Save] writes it only if the stored version
// is still that one, returning the new version; otherwise it fails with
// [ErrConflict] and writes nothing. Two nodes handling events of one
// conversation therefore never lose an update: the loser loads the winner's
// state and applies its change again. [Update] runs that loop.
//
// # Expiry
//
// With a TTL (see [Options]) a conversation expires when it has not been
// saved for that long; its transcript goes with it. Redis expires keys
// itself; the memory and bbolt stores hide expired conversations at once
// and free their space in Sweep.
type Store interface {
	// Load returns the conversation id and its version. It fails with
	// ErrNotFound when there is none (or it expired), and ErrCorrupt when
	// the stored value cannot be decoded.
	Load(ctx context.Context, id string) (*dialog.Conversation, Version, error)
	// Save stores conv if the stored version is ver (0: it must not exist
	// yet) and returns the new version; otherwise it fails with
	// ErrConflict. Entries, when given, are appended to the transcript in
	// the same atomic write, as by Append: the state of a turn and its
	// transcript lines are stored together or not at all. Save sets
	// conv.Updated to the store's clock, and conv.Started too when it is
	// zero. A conversation's UserID files it under that user for
	// Conversations.
	Save(ctx context.Context, conv *dialog.Conversation, ver Version, entries ...Entry) (Version, error)
	// Delete removes a conversation, its transcript and its place in its
	// user's list. Deleting a conversation that does not exist is not an
	// error.
	Delete(ctx context.Context, id string) error

	// Append adds entries to the transcript of conversation convID, in
	// order, numbering them (Entry.Seq) 1, 2, 3, … over the life of the
	// conversation. An entry without a time gets the store's clock. It
	// fails with ErrNotFound when the conversation does not exist: save it
	// first.
	Append(ctx context.Context, convID string, entries ...Entry) error
	// Transcript returns every entry of the conversation's transcript in
	// the order they were appended (ascending Seq). It fails with
	// ErrNotFound when the conversation does not exist.
	Transcript(ctx context.Context, convID string) ([]Entry, error)

	// Link records that channelUserID on channel (a caller number on
	// "sip", a chat user id on "web") is user userID, replacing an earlier
	// link of that channel user.
	Link(ctx context.Context, channel, channelUserID, userID string) error
	// UserID returns the user linked to channelUserID on channel, or
	// ErrNotFound.
	UserID(ctx context.Context, channel, channelUserID string) (string, error)
	// Conversations returns the live conversations whose UserID is userID,
	// most recently updated first (ties by id), so a bot can resume the
	// last one. A user without conversations gets an empty list, no error.
	Conversations(ctx context.Context, userID string) ([]*dialog.Conversation, error)

	// Close releases the store. Methods called afterwards fail with
	// ErrClosed.
	Close() error
}

// Options configures a store. The zero value is valid: no expiry, the
// system clock, synchronous bbolt commits, the Redis key prefix "parole:".
// Fields a store does not use are ignored.
type Options struct {
	// TTL is how long a conversation lives without being saved; zero keeps
	// conversations until deleted.
	TTL time.Duration
	// Now is the clock of the memory and bbolt stores (for tests); nil
	// means time.Now. Redis expires keys on the server's clock.
	Now func() time.Time
	// NoSync (bbolt) skips the fsync after each commit. A crash of the
	// process loses nothing (the data is in the kernel's page cache), but a
	// crash of the machine or a power cut can lose the last commits and, as
	// bbolt warns, corrupt the file. It buys throughput where fsync is slow:
	// BenchmarkTurn and BenchmarkTurnParallel measure both settings.
	NoSync bool
	// Prefix (Redis) starts every key the store uses; empty means
	// "parole:". Two stores with different prefixes share nothing.
	Prefix string
}

func (o Options) clock() func() time.Time {
	if o.Now != nil {
		return o.Now
	}
	return time.Now
}

// now returns the clock's time in UTC without a monotonic reading, as it
// will read back after a JSON round trip.
func now(clock func() time.Time) time.Time { return clock().Round(0).UTC() }

// Kind says what a transcript entry holds.
type Kind string

// The kinds of transcript entries.
const (
	// KindEvent is an entry holding what the user did (Entry.Event).
	KindEvent Kind = "event"
	// KindReply is an entry holding what the bot answered (Entry.Reply).
	KindReply Kind = "reply"
)

// Entry is one line of a conversation's transcript: an event from the user
// or a reply of the bot, as it happened on a channel.
type Entry struct {
	// Seq numbers the entries of one conversation from 1 in the order they
	// were appended; the store sets it.
	Seq uint64 `json:"seq,omitempty"`
	// Time is when the event arrived or the reply left.
	Time time.Time `json:"time"`
	// Kind says which of Event and Reply is set.
	Kind Kind `json:"kind"`
	// Channel is the channel the entry happened on ("sip", "web", …): a
	// conversation resumed on another channel shows both.
	Channel string `json:"channel,omitempty"`
	// Event is set for KindEvent.
	Event *dialog.Event `json:"event,omitempty"`
	// Reply is set for KindReply.
	Reply *dialog.Reply `json:"reply,omitempty"`
}

// EventEntry returns the transcript entry of ev received on channel, at
// ev.Time.
func EventEntry(channel string, ev dialog.Event) Entry {
	return Entry{Time: ev.Time, Kind: KindEvent, Channel: channel, Event: &ev}
}

// ReplyEntry returns the transcript entry of reply r sent on channel at t.
func ReplyEntry(channel string, r dialog.Reply, t time.Time) Entry {
	return Entry{Time: t, Kind: KindReply, Channel: channel, Reply: &r}
}

// Validate reports whether e has the shape its Kind needs. The error wraps
// [ErrInvalid].
func (e Entry) Validate() error {
	switch e.Kind {
	case KindEvent:
		if e.Event == nil || e.Reply != nil {
			return fmt.Errorf("%w: event entry needs Event and no Reply", ErrInvalid)
		}
	case KindReply:
		if e.Reply == nil || e.Event != nil {
			return fmt.Errorf("%w: reply entry needs Reply and no Event", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: entry kind %q is not %q or %q", ErrInvalid, e.Kind, KindEvent, KindReply)
	}
	return nil
}

// Update loads conversation id, calls fn to change it and saves it,
// starting again from Load when another writer saved first (ErrConflict),
// until it succeeds, fn fails, or ctx ends. When the conversation does not
// exist fn gets a new one with only ID set, and Update creates it. It
// returns the conversation as saved and its version.
//
// fn may run several times, each time on a freshly loaded conversation, so
// it must only change conv (no other side effects that cannot repeat).
func Update(ctx context.Context, s Store, id string, fn func(conv *dialog.Conversation) error) (*dialog.Conversation, Version, error) {
	return update(ctx, s, id, func(conv *dialog.Conversation) ([]Entry, error) { return nil, fn(conv) })
}

// Turn handles event ev of conversation id, arrived on channel, with bot:
// it loads the conversation (a new one on channel when there is none),
// lets bot.Handle change it and saves it together with the event and the
// reply as transcript entries, in one atomic write. On a version conflict
// it starts again from Load, like [Update], so the bot may run more than
// once for one event, each time on the newer state. An event without a
// time gets the current time. Turn returns the reply and the conversation
// as saved.
func Turn(ctx context.Context, s Store, bot dialog.Bot, id, channel string, ev dialog.Event) (dialog.Reply, *dialog.Conversation, error) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	var reply dialog.Reply
	conv, _, err := update(ctx, s, id, func(conv *dialog.Conversation) ([]Entry, error) {
		if conv.Channel == "" {
			conv.Channel = channel
		}
		var err error
		if reply, err = bot.Handle(ctx, conv, ev); err != nil {
			return nil, err
		}
		return []Entry{EventEntry(channel, ev), ReplyEntry(channel, reply, time.Now())}, nil
	})
	if err != nil {
		return dialog.Reply{}, nil, err
	}
	return reply, conv, nil
}

func update(ctx context.Context, s Store, id string, fn func(conv *dialog.Conversation) ([]Entry, error)) (*dialog.Conversation, Version, error) {
	for attempt := 0; ; attempt++ {
		conv, ver, err := s.Load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			conv, ver, err = &dialog.Conversation{ID: id}, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		entries, err := fn(conv)
		if err != nil {
			return nil, 0, err
		}
		if conv.ID != id {
			return nil, 0, fmt.Errorf("%w: update of %q changed the conversation id to %q", ErrInvalid, id, conv.ID)
		}
		nv, err := s.Save(ctx, conv, ver, entries...)
		if err == nil {
			return conv, nv, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, 0, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, 0, fmt.Errorf("store: update %q: %w (last: %w)", id, err, ErrConflict)
		}
	}
}

// backoff waits a random time that grows with the number of conflicts, so
// that writers racing for one conversation spread out.
func backoff(ctx context.Context, attempt int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if attempt < 2 {
		return nil // the first retries go at once: usually one writer just won.
	}
	max := time.Duration(min(attempt, 50)) * 50 * time.Microsecond
	t := time.NewTimer(rand.N(max) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%w: %s of %d bytes, more than %d", ErrInvalid, what, len(id), MaxIDLen)
	}
	return nil
}

func checkConv(conv *dialog.Conversation) error {
	if conv == nil {
		return fmt.Errorf("%w: nil conversation", ErrInvalid)
	}
	if err := checkID("conversation id", conv.ID); err != nil {
		return err
	}
	if conv.UserID != "" {
		return checkID("user id", conv.UserID)
	}
	return nil
}

func checkChannelUser(channel, channelUserID string) error {
	if err := checkID("channel", channel); err != nil {
		return err
	}
	return checkID("channel user id", channelUserID)
}

// stamp sets the times Save promises to set.
func stamp(conv *dialog.Conversation, t time.Time) {
	conv.Updated = t
	if conv.Started.IsZero() {
		conv.Started = t
	}
}

func encodeConv(conv *dialog.Conversation) ([]byte, error) {
	scratch := scratchBufs.Get().(*[]byte)
	defer scratchBufs.Put(scratch)
	b, err := encodeConvJSON((*scratch)[:0], conv)
	if err != nil {
		return nil, fmt.Errorf("store: encode conversation %q: %w", conv.ID, err)
	}
	if cap(b) <= 64<<10 {
		*scratch = b
	}
	return bytes.Clone(b), nil
}

// scratchBufs holds buffers to encode into before copying the result out
// at its exact size.
var scratchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func decodeConv(id string, b []byte) (*dialog.Conversation, error) {
	conv := new(dialog.Conversation)
	if !parseConvJSON(b, conv) {
		*conv = dialog.Conversation{} // the fast path gave up: encoding/json decides
		if err := json.Unmarshal(b, conv); err != nil {
			return nil, fmt.Errorf("%w: conversation %q: %w", ErrCorrupt, id, err)
		}
	}
	if conv.ID != id {
		return nil, fmt.Errorf("%w: conversation %q is stored with id %q", ErrCorrupt, id, conv.ID)
	}
	return conv, nil
}

// prepareEntries validates entries and encodes each with its time set;
// Seq is not stored (the position gives it).
func prepareEntries(entries []Entry, t time.Time) ([][]byte, error) {
	out := make([][]byte, len(entries))
	ends := make([]int, len(entries))
	scratch := scratchBufs.Get().(*[]byte)
	defer scratchBufs.Put(scratch)
	buf := (*scratch)[:0]
	defer func() {
		if cap(buf) <= 64<<10 {
			*scratch = buf
		}
	}()
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if e.Time.IsZero() {
			e.Time = t
		}
		e.Seq = 0
		var err error
		if buf, err = encodeEntryJSON(buf, &e); err != nil {
			return nil, fmt.Errorf("store: encode entry %d: %w", i, err)
		}
		ends[i] = len(buf)
	}
	all := bytes.Clone(buf) // one allocation of the exact size for all
	start := 0
	for i, end := range ends {
		out[i] = all[start:end:end]
		start = end
	}
	return out, nil
}

func decodeEntry(convID string, seq uint64, b []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("%w: transcript of %q entry %d: %w", ErrCorrupt, convID, seq, err)
	}
	if err := e.Validate(); err != nil {
		return Entry{}, fmt.Errorf("%w: transcript of %q entry %d: %v", ErrCorrupt, convID, seq, err)
	}
	e.Seq = seq
	return e, nil
}

// sortRecent orders conversations most recently updated first, ties by id.
func sortRecent(convs []*dialog.Conversation) {
	slices.SortFunc(convs, func(a, b *dialog.Conversation) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Sweeper is implemented by the stores that delete expired conversations
// on request, [Memory] and [Bolt]; Redis expires keys by itself.
type Sweeper interface {
	// Sweep deletes the expired conversations and returns how many.
	Sweep(ctx context.Context) (int, error)
}

// SweepEvery calls s.Sweep every interval until ctx ends (it then returns
// ctx.Err()) or a sweep fails (it returns that error). It blocks: run it in
// a goroutine its owner stops by cancelling ctx.
func SweepEvery(ctx context.Context, s Sweeper, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: sweep interval %v", ErrInvalid, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("store: sweep: %w", err)
			}
		}
	}
}

package live

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Errors of [Hub.Subscribe].
var (
	// ErrClosed: the hub was closed.
	ErrClosed = errors.New("live: hub closed")
	// ErrTooManySubscribers: Config.MaxSubscribers streams are open.
	ErrTooManySubscribers = errors.New("live: too many subscribers")
)

// Option configures a [Hub].
type Option func(*Hub)

// WithLogger sets the hub's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(h *Hub) { h.log = l } }

// WithClock sets the hub's clock (default time.Now), for tests.
func WithClock(now func() time.Time) Option { return func(h *Hub) { h.now = now } }

// Hub holds the conversations of the live view and fans their events out
// to subscribers. It is safe for concurrent use; its methods never block
// on a subscriber. Close it to stop its expiry goroutine and end the
// subscriptions.
type Hub struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	auth authenticator

	mu      sync.Mutex
	convs   map[string]*conv
	seq     uint64
	subs    map[*Subscription]struct{}
	closed  bool
	refused int

	done chan struct{}
	wg   sync.WaitGroup
}

// conv is a conversation and its bounded transcript (a ring).
type conv struct {
	c        Conversation
	fromCall bool // reported by a CallObserver: Wrap leaves it alone
	events   int  // dialog events a wrapped handler got (text turns)
	ring     []Entry
	head, n  int
}

func (c *conv) add(e Entry, max int) {
	if c.ring == nil {
		c.ring = make([]Entry, 0, min(max, 16))
	}
	if c.n < max {
		if len(c.ring) < max {
			c.ring = append(c.ring, e)
		} else {
			c.ring[(c.head+c.n)%max] = e
		}
		c.n++
		return
	}
	c.ring[c.head] = e
	c.head = (c.head + 1) % max
	c.c.Dropped++
}

// snapshot returns a copy of the conversation with its transcript in order.
func (c *conv) snapshot(withTranscript bool) Conversation {
	s := c.c
	s.Transcript = []Entry{}
	if withTranscript && c.n > 0 {
		s.Transcript = make([]Entry, c.n)
		for i := range c.n {
			s.Transcript[i] = c.ring[(c.head+i)%len(c.ring)]
		}
	}
	return s
}

// New validates cfg and returns a running hub.
func New(cfg Config, opts ...Option) (*Hub, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Hub{
		cfg:   cfg,
		log:   slog.Default(),
		now:   time.Now,
		convs: make(map[string]*conv),
		subs:  make(map[*Subscription]struct{}),
		done:  make(chan struct{}),
	}
	h.auth = newAuthenticator(cfg)
	for _, o := range opts {
		o(h)
	}
	h.wg.Add(1)
	go h.janitor()
	return h, nil
}

// Close ends every subscription and stops the hub's goroutine. Reports
// made after Close are ignored.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.done)
	}
	h.mu.Unlock()
	close(h.done)
	h.wg.Wait()
	return nil
}

// sweepPeriod is how often the janitor looks for conversations to end or
// forget.
func (h *Hub) sweepPeriod() time.Duration {
	return max(50*time.Millisecond, min(5*time.Second, min(h.cfg.KeepEnded, h.cfg.IdleTimeout)/4))
}

func (h *Hub) janitor() {
	defer h.wg.Done()
	t := time.NewTicker(h.sweepPeriod())
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			h.sweep()
		}
	}
}

// sweep ends idle text conversations and forgets those ended more than
// KeepEnded ago.
func (h *Hub) sweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for id, c := range h.convs {
		switch {
		case !c.c.Ended.IsZero():
			if now.Sub(c.c.Ended) >= h.cfg.KeepEnded {
				delete(h.convs, id)
				h.emit(Event{Type: EventRemove, ConversationID: id, Time: now, Turn: c.c.Turn})
			}
		case !c.fromCall && now.Sub(c.c.LastEvent) >= h.cfg.IdleTimeout:
			h.endLocked(c, "idle", now)
		}
	}
}

// Snapshot returns the conversations of the view with their transcripts.
func (h *Hub) Snapshot() Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snapshotLocked()
}

func (h *Hub) snapshotLocked() Snapshot {
	s := Snapshot{
		Seq: h.seq, Now: h.now(), MaxTranscript: h.cfg.MaxTranscript, KeepEndedMS: ms(h.cfg.KeepEnded),
		Conversations: make([]Conversation, 0, len(h.convs)),
	}
	for _, c := range h.convs {
		s.Conversations = append(s.Conversations, c.snapshot(true))
	}
	slices.SortFunc(s.Conversations, func(a, b Conversation) int {
		return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.ID, b.ID))
	})
	return s
}

// Refused returns how many conversation starts were not shown because
// Config.MaxConversations were active (a text conversation counts at each
// event until there is room).
func (h *Hub) Refused() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refused
}

// ---- reports ----

// start begins conversation id, replacing an ended one of the same id,
// and returns it, or nil when the hub is closed or full. A conversation
// still active is returned as is.
func (h *Hub) startLocked(id, channel, from, to string, voice, fromCall bool, now time.Time) *conv {
	if h.closed {
		return nil
	}
	if c, ok := h.convs[id]; ok {
		if c.c.Ended.IsZero() {
			return c
		}
		delete(h.convs, id)
		h.emit(Event{Type: EventRemove, ConversationID: id, Time: now, Turn: c.c.Turn})
	}
	if len(h.convs) >= h.cfg.MaxConversations && !h.evictLocked(now) {
		h.refused++
		h.log.Debug("live: too many conversations, not shown", "conversation", id, "channel", channel)
		return nil
	}
	c := &conv{fromCall: fromCall, c: Conversation{
		ID: id, Channel: channel, Voice: voice, From: from, To: to, Started: now, LastEvent: now,
	}}
	h.convs[id] = c
	info := c.snapshot(false)
	h.emit(Event{Type: EventStart, ConversationID: id, Time: now, Conversation: &info})
	return c
}

// evictLocked forgets the conversation that ended first.
func (h *Hub) evictLocked(now time.Time) bool {
	var old *conv
	for _, c := range h.convs {
		if !c.c.Ended.IsZero() && (old == nil || c.c.Ended.Before(old.c.Ended)) {
			old = c
		}
	}
	if old == nil {
		return false
	}
	delete(h.convs, old.c.ID)
	h.emit(Event{Type: EventRemove, ConversationID: old.c.ID, Time: now, Turn: old.c.Turn})
	return true
}

func (h *Hub) addLocked(c *conv, e Entry) {
	c.c.LastEvent = e.Time
	if e.Turn > c.c.Turn {
		c.c.Turn = e.Turn
	}
	if e.Kind == EntryUser || e.Kind == EntryDTMF {
		c.c.Interim = ""
	}
	c.add(e, h.cfg.MaxTranscript)
	h.emit(Event{Type: EventEntry, ConversationID: c.c.ID, Time: e.Time, Entry: &e, Turn: c.c.Turn})
}

func (h *Hub) interimLocked(c *conv, text string, turn int, now time.Time) {
	c.c.LastEvent = now
	if c.c.Interim == text {
		return
	}
	c.c.Interim = text
	h.emit(Event{Type: EventInterim, ConversationID: c.c.ID, Time: now, Text: text, Turn: max(turn, c.c.Turn)})
}

func (h *Hub) endLocked(c *conv, reason string, now time.Time) {
	if !c.c.Ended.IsZero() {
		return
	}
	c.c.Ended, c.c.Reason, c.c.Interim, c.c.LastEvent = now, reason, "", now
	h.emit(Event{Type: EventEnd, ConversationID: c.c.ID, Time: now, Reason: reason, Turn: c.c.Turn})
}

// emit numbers ev and queues it for every subscriber that keeps up. The
// event is encoded once for all of them.
func (h *Hub) emit(ev Event) {
	h.seq++
	ev.Seq = h.seq
	if len(h.subs) == 0 {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil { // cannot happen with these types; never send half an event
		h.log.Error("live: encode event", "error", err)
		data = nil
	}
	u := Update{Event: ev, JSON: data}
	for s := range h.subs {
		if s.lagging {
			continue
		}
		select {
		case s.ch <- u:
		default:
			s.lagging = true
			select {
			case s.lag <- struct{}{}:
			default:
			}
		}
	}
}

// ---- subscriptions ----

// Update is one event for a subscriber, with its JSON encoding.
type Update struct {
	Event Event
	// JSON is Event encoded, shared by all subscribers: do not modify.
	JSON []byte
}

// Subscription receives the hub's events from a snapshot on, through a
// bounded buffer. When it falls behind, the hub stops queueing for it and
// signals Lagged; the subscriber then calls Resync for a fresh snapshot
// and receives the events after it.
type Subscription struct {
	h       *Hub
	ch      chan Update
	lag     chan struct{}
	done    chan struct{}
	lagging bool // under h.mu
}

// Subscribe registers a subscriber and returns it with the snapshot its
// events follow. Errors: [ErrClosed], [ErrTooManySubscribers].
func (h *Hub) Subscribe() (*Subscription, Snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, Snapshot{}, ErrClosed
	}
	if len(h.subs) >= h.cfg.MaxSubscribers {
		return nil, Snapshot{}, fmt.Errorf("%w (%d)", ErrTooManySubscribers, h.cfg.MaxSubscribers)
	}
	s := &Subscription{
		h: h, ch: make(chan Update, h.cfg.SubscriberBuffer),
		lag: make(chan struct{}, 1), done: make(chan struct{}),
	}
	h.subs[s] = struct{}{}
	return s, h.snapshotLocked(), nil
}

// Updates delivers the events in order.
func (s *Subscription) Updates() <-chan Update { return s.ch }

// Lagged is signalled when events were dropped for this subscriber.
func (s *Subscription) Lagged() <-chan struct{} { return s.lag }

// Done is closed when the subscription or the hub is closed.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Resync drops the queued events and returns a snapshot the following
// events continue from.
func (s *Subscription) Resync() Snapshot {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		select {
		case <-s.ch:
			continue
		default:
		}
		break
	}
	select {
	case <-s.lag:
	default:
	}
	s.lagging = false
	return h.snapshotLocked()
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.done)
	}
}

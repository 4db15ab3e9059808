package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// Memory is a [Store] in the process's memory, for tests and for
// `store: memory`: it forgets everything when the process ends and is not
// shared between nodes. Values are kept JSON-encoded, exactly as the other
// stores keep them, so a caller never shares maps with the store.
type Memory struct {
	ttl   time.Duration
	clock func() time.Time

	mu     sync.Mutex
	closed bool
	convs  map[string]*memConv
	users  map[string]map[string]struct{} // user id → conversation ids
	links  map[string]map[string]string   // channel → channel user id → user id
}

type memConv struct {
	ver        Version
	data       []byte
	user       string
	expires    time.Time // zero: never
	transcript [][]byte
}

var (
	_ Store   = (*Memory)(nil)
	_ Sweeper = (*Memory)(nil)
)

// NewMemory returns an empty memory store. It uses opts.TTL and opts.Now.
func NewMemory(opts Options) *Memory {
	return &Memory{
		ttl:   opts.TTL,
		clock: opts.clock(),
		convs: make(map[string]*memConv),
		users: make(map[string]map[string]struct{}),
		links: make(map[string]map[string]string),
	}
}

// begin locks m and checks the context and that m is open.
func (m *Memory) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// live returns the unexpired conversation id; m.mu is held.
func (m *Memory) live(id string, t time.Time) *memConv {
	c := m.convs[id]
	if c == nil || !c.expires.IsZero() && !t.Before(c.expires) {
		return nil
	}
	return c
}

// Load implements [Store.Load].
func (m *Memory) Load(ctx context.Context, id string) (*dialog.Conversation, Version, error) {
	if err := checkID("conversation id", id); err != nil {
		return nil, 0, err
	}
	if err := m.begin(ctx); err != nil {
		return nil, 0, err
	}
	c := m.live(id, now(m.clock))
	if c == nil {
		m.mu.Unlock()
		return nil, 0, fmt.Errorf("conversation %q: %w", id, ErrNotFound)
	}
	ver, data := c.ver, c.data
	m.mu.Unlock()
	conv, err := decodeConv(id, data)
	if err != nil {
		return nil, 0, err
	}
	return conv, ver, nil
}

// Save implements [Store.Save].
func (m *Memory) Save(ctx context.Context, conv *dialog.Conversation, ver Version, entries ...Entry) (Version, error) {
	if err := checkConv(conv); err != nil {
		return 0, err
	}
	t := now(m.clock)
	lines, err := prepareEntries(entries, t)
	if err != nil {
		return 0, err
	}
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	c := m.live(conv.ID, t)
	cur := Version(0)
	if c != nil {
		cur = c.ver
	}
	if cur != ver {
		return 0, fmt.Errorf("save %q at version %d, stored %d: %w", conv.ID, ver, cur, ErrConflict)
	}
	saved := *conv
	stamp(&saved, t)
	data, err := encodeConv(&saved)
	if err != nil {
		return 0, err
	}
	if c == nil {
		m.deleteLocked(conv.ID) // an expired one not swept yet
		c = &memConv{}
		m.convs[conv.ID] = c
	}
	if c.user != saved.UserID {
		m.unindex(c.user, conv.ID)
		if saved.UserID != "" {
			set := m.users[saved.UserID]
			if set == nil {
				set = make(map[string]struct{})
				m.users[saved.UserID] = set
			}
			set[conv.ID] = struct{}{}
		}
	}
	c.ver++
	c.data = data
	c.user = saved.UserID
	c.transcript = append(c.transcript, lines...)
	if m.ttl > 0 {
		c.expires = t.Add(m.ttl)
	}
	*conv = saved
	return c.ver, nil
}

func (m *Memory) unindex(user, id string) {
	if set := m.users[user]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(m.users, user)
		}
	}
}

func (m *Memory) deleteLocked(id string) {
	if c := m.convs[id]; c != nil {
		m.unindex(c.user, id)
		delete(m.convs, id)
	}
}

// Delete implements [Store.Delete].
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := checkID("conversation id", id); err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	m.deleteLocked(id)
	m.mu.Unlock()
	return nil
}

// Append implements [Store.Append].
func (m *Memory) Append(ctx context.Context, convID string, entries ...Entry) error {
	if err := checkID("conversation id", convID); err != nil {
		return err
	}
	t := now(m.clock)
	data, err := prepareEntries(entries, t)
	if err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	c := m.live(convID, t)
	if c == nil {
		return fmt.Errorf("append to conversation %q: %w", convID, ErrNotFound)
	}
	c.transcript = append(c.transcript, data...)
	return nil
}

// Transcript implements [Store.Transcript].
func (m *Memory) Transcript(ctx context.Context, convID string) ([]Entry, error) {
	if err := checkID("conversation id", convID); err != nil {
		return nil, err
	}
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	c := m.live(convID, now(m.clock))
	if c == nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("transcript of conversation %q: %w", convID, ErrNotFound)
	}
	raw := c.transcript[:len(c.transcript):len(c.transcript)]
	m.mu.Unlock()
	out := make([]Entry, len(raw))
	for i, b := range raw {
		e, err := decodeEntry(convID, uint64(i+1), b)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// Link implements [Store.Link].
func (m *Memory) Link(ctx context.Context, channel, channelUserID, userID string) error {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return err
	}
	if err := checkID("user id", userID); err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	byUser := m.links[channel]
	if byUser == nil {
		byUser = make(map[string]string)
		m.links[channel] = byUser
	}
	byUser[channelUserID] = userID
	return nil
}

// UserID implements [Store.UserID].
func (m *Memory) UserID(ctx context.Context, channel, channelUserID string) (string, error) {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return "", err
	}
	if err := m.begin(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	u, ok := m.links[channel][channelUserID]
	if !ok {
		return "", fmt.Errorf("user of %s %q: %w", channel, channelUserID, ErrNotFound)
	}
	return u, nil
}

// Conversations implements [Store.Conversations].
func (m *Memory) Conversations(ctx context.Context, userID string) ([]*dialog.Conversation, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, err
	}
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	t := now(m.clock)
	type raw struct {
		id   string
		data []byte
	}
	var found []raw
	for id := range m.users[userID] {
		if c := m.live(id, t); c != nil {
			found = append(found, raw{id, c.data})
		}
	}
	m.mu.Unlock()
	out := make([]*dialog.Conversation, 0, len(found))
	for _, r := range found {
		conv, err := decodeConv(r.id, r.data)
		if err != nil {
			return nil, err
		}
		out = append(out, conv)
	}
	sortRecent(out)
	return out, nil
}

// Sweep deletes the conversations that have expired, with their
// transcripts, and returns how many it deleted. Expired conversations are
// invisible before Sweep runs; Sweep only frees their memory.
func (m *Memory) Sweep(ctx context.Context) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	t := now(m.clock)
	n := 0
	for id, c := range m.convs {
		if !c.expires.IsZero() && !t.Before(c.expires) {
			m.deleteLocked(id)
			n++
		}
	}
	return n, nil
}

// Close implements [Store.Close]; it drops everything the store holds.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.convs, m.users, m.links = nil, nil, nil
	return nil
}

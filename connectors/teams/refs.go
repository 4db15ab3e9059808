package teams

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrUnknownUser is returned by a [RefStore] (and [Connector.Notify]) for a
// user the bot has never talked with.
var ErrUnknownUser = errors.New("teams: unknown user")

// ConversationRef is what the bot needs to write to a user later
// (proactively): where the user's tenant's Bot Connector is, who the user
// and the bot are, and the last conversation they had.
type ConversationRef struct {
	// UserKey is the user's Teams id (from.id), the key of the reference.
	UserKey string `json:"user_key"`
	// UserName is the user's display name, when Teams gave it.
	UserName string `json:"user_name,omitempty"`
	// AADObjectID is the user's Entra ID object id, when given.
	AADObjectID string `json:"aad_object_id,omitempty"`
	// Bot is the bot's account in that conversation (recipient.id).
	Bot ChannelAccount `json:"bot"`
	// TenantID is the user's tenant.
	TenantID string `json:"tenant_id,omitempty"`
	// ServiceURL is the Bot Connector endpoint of the conversation.
	ServiceURL string `json:"service_url"`
	// ConversationID and ConversationType are the last conversation's.
	ConversationID   string `json:"conversation_id"`
	ConversationType string `json:"conversation_type,omitempty"`
	// Locale is the user's last known locale.
	Locale string `json:"locale,omitempty"`
	// Updated is when the reference was last refreshed.
	Updated time.Time `json:"updated"`
}

// RefStore keeps conversation references by user key, so proactive
// messages can reach users after a restart when it persists them. The
// connector calls SaveRef on every activity of a user; implementations
// must be safe for concurrent use.
type RefStore interface {
	SaveRef(ctx context.Context, ref ConversationRef) error
	// Ref returns the reference of a user, or an error wrapping
	// ErrUnknownUser.
	Ref(ctx context.Context, userKey string) (ConversationRef, error)
}

// MemoryRefs is a RefStore in memory, bounded: past its size the least
// recently updated references are forgotten.
type MemoryRefs struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *ConversationRef, most recent first
	byKey map[string]*list.Element
}

// NewMemoryRefs returns a store keeping at most max references (100000
// when max <= 0).
func NewMemoryRefs(max int) *MemoryRefs {
	if max <= 0 {
		max = 100000
	}
	return &MemoryRefs{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// SaveRef stores ref under its UserKey.
func (m *MemoryRefs) SaveRef(_ context.Context, ref ConversationRef) error {
	if ref.UserKey == "" {
		return fmt.Errorf("teams: reference without a user key")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byKey[ref.UserKey]; ok {
		e.Value = &ref
		m.order.MoveToFront(e)
		return nil
	}
	m.byKey[ref.UserKey] = m.order.PushFront(&ref)
	for m.order.Len() > m.max {
		last := m.order.Back()
		m.order.Remove(last)
		delete(m.byKey, last.Value.(*ConversationRef).UserKey)
	}
	return nil
}

// Ref returns the reference of userKey.
func (m *MemoryRefs) Ref(_ context.Context, userKey string) (ConversationRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byKey[userKey]
	if !ok {
		return ConversationRef{}, fmt.Errorf("%w: %q", ErrUnknownUser, userKey)
	}
	return *e.Value.(*ConversationRef), nil
}

// Len returns how many references are kept.
func (m *MemoryRefs) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

// convState is what the connector remembers of a conversation: where its
// Bot Connector is, the bot's and the last user's accounts, and the last
// activity the bot sent (for edits).
type convState struct {
	id          string
	serviceURL  string
	seen        time.Time // timestamp of the activity that set serviceURL
	bot, user   ChannelAccount
	started     bool
	lastSent    string // id of the last activity the bot sent
	lastUpdated time.Time
}

// conversations is a bounded LRU map of conversation states.
type conversations struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *convState
	byID  map[string]*list.Element
}

func newConversations(max int) *conversations {
	return &conversations{max: max, order: list.New(), byID: map[string]*list.Element{}}
}

// update runs f on the state of conversation id (created if new) under the
// lock and returns a copy of the result.
func (cs *conversations) update(id string, f func(*convState)) convState {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.byID[id]
	if !ok {
		e = cs.order.PushFront(&convState{id: id})
		cs.byID[id] = e
		for cs.order.Len() > cs.max {
			last := cs.order.Back()
			cs.order.Remove(last)
			delete(cs.byID, last.Value.(*convState).id)
		}
	} else {
		cs.order.MoveToFront(e)
	}
	st := e.Value.(*convState)
	f(st)
	return *st
}

// get returns a copy of the state of conversation id.
func (cs *conversations) get(id string) (convState, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.byID[id]
	if !ok {
		return convState{}, false
	}
	return *e.Value.(*convState), true
}

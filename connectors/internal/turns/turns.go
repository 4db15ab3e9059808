// Package turns runs a webhook channel's dialog turns after the webhook has
// been acknowledged, as Slack (3 s) and Meta's platforms (which retry slow
// deliveries) require: a [Pool] runs jobs asynchronously, one at a time and
// in arrival order per conversation, bounded in number; a [Dedup] drops the
// deliveries a platform repeats; a [Starts] tells whether a conversation
// still needs its start event.
//
// It lives under connectors/internal/meta because the Messenger and
// WhatsApp connectors share it with Slack; nothing in it is Meta specific.
package turns

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog/store"
)

// Errors of [Pool.Submit].
var (
	// ErrFull: too many jobs are waiting; the webhook should answer 503 so
	// the platform delivers again later.
	ErrFull = errors.New("turns: too many pending turns")
	// ErrClosed: the pool is closed.
	ErrClosed = errors.New("turns: closed")
)

// Job is one unit of work; ctx is cancelled when the pool is closed and its
// grace period is over.
type Job func(ctx context.Context)

// Pool runs jobs in the background, those of one key (a conversation) one
// at a time in submission order, those of different keys concurrently.
// The zero value is not usable; call [NewPool].
type Pool struct {
	max    int
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	idle    *sync.Cond
	queues  map[string][]Job
	pending int // submitted, not finished
	closed  bool
}

// NewPool returns a pool holding at most maxPending unfinished jobs
// (running or queued); maxPending <= 0 means 1000.
func NewPool(maxPending int) *Pool {
	if maxPending <= 0 {
		maxPending = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{max: maxPending, ctx: ctx, cancel: cancel, queues: map[string][]Job{}}
	p.idle = sync.NewCond(&p.mu)
	return p
}

// Submit queues job behind the other jobs of key. It fails with [ErrFull]
// when maxPending jobs are unfinished and with [ErrClosed] after Close.
func (p *Pool) Submit(key string, job Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.pending >= p.max {
		return ErrFull
	}
	p.pending++
	q, running := p.queues[key]
	p.queues[key] = append(q, job)
	if !running {
		go p.run(key)
	}
	return nil
}

// run drains the queue of key, then forgets it.
func (p *Pool) run(key string) {
	for {
		p.mu.Lock()
		q := p.queues[key]
		if len(q) == 0 {
			delete(p.queues, key)
			p.mu.Unlock()
			return
		}
		job := q[0]
		q[0] = nil
		p.queues[key] = q[1:]
		p.mu.Unlock()

		p.safe(job)

		p.mu.Lock()
		p.pending--
		if p.pending == 0 {
			p.idle.Broadcast()
		}
		p.mu.Unlock()
	}
}

// safe runs job, turning a panic into nothing worse than a lost turn: the
// job's own code logs its errors.
func (p *Pool) safe(job Job) {
	defer func() { _ = recover() }()
	job(p.ctx)
}

// Pending returns the number of unfinished jobs.
func (p *Pool) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending
}

// Wait blocks until no job is unfinished (tests and benchmarks use it to
// wait for the turns a request started).
func (p *Pool) Wait() {
	p.mu.Lock()
	for p.pending > 0 {
		p.idle.Wait()
	}
	p.mu.Unlock()
}

// Close refuses new jobs and waits for the unfinished ones until ctx is
// done, then cancels their context and waits for them to return. It
// returns ctx's error when the jobs had to be cancelled.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return ctx.Err()
	}
}

// Dedup remembers ids (Slack event ids, Meta message ids) for a while to
// drop the deliveries a platform repeats. It is safe for concurrent use.
type Dedup struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	seq   uint64
	seen  map[string]entry
	order []entry // insertion order, for eviction
}

type entry struct {
	id  string
	at  time.Time
	seq uint64 // tells a stale order entry from the id's latest
}

// NewDedup returns a Dedup remembering at most max ids (<= 0: 100000),
// each for ttl (<= 0: 1 h), on the clock now (nil: time.Now).
func NewDedup(ttl time.Duration, max int, now func() time.Time) *Dedup {
	if ttl <= 0 {
		ttl = time.Hour
	}
	if max <= 0 {
		max = 100000
	}
	if now == nil {
		now = time.Now
	}
	return &Dedup{ttl: ttl, max: max, now: now, seen: map[string]entry{}}
}

// Seen records id and reports whether it was recorded before and has not
// expired. An empty id is never seen.
func (d *Dedup) Seen(id string) bool {
	if id == "" {
		return false
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.seen[id]; ok && now.Sub(e.at) < d.ttl {
		return true
	}
	// Drop expired ids from the front, and the oldest beyond max. An
	// entry whose id was seen again later is stale: its id stays.
	for len(d.order) > 0 {
		e := d.order[0]
		cur, ok := d.seen[e.id]
		latest := ok && cur.seq == e.seq
		if latest && now.Sub(e.at) < d.ttl && len(d.seen) < d.max {
			break
		}
		if latest {
			delete(d.seen, e.id)
		}
		d.order[0] = entry{}
		d.order = d.order[1:]
	}
	d.seq++
	e := entry{id: id, at: now, seq: d.seq}
	d.order = append(d.order, e)
	d.seen[id] = e
	return false
}

// Forget removes id, so a delivery whose turn could not be queued is taken
// again when the platform retries it.
func (d *Dedup) Forget(id string) {
	d.mu.Lock()
	delete(d.seen, id)
	d.mu.Unlock()
}

// TranscriptReader reads a conversation's transcript; *runner.Runner is
// one.
type TranscriptReader interface {
	Transcript(ctx context.Context, conversationID string) ([]store.Entry, error)
}

// Starts tells whether a conversation has begun, so that a channel sends a
// start event (and the bot's welcome) before a user's first message: the
// conversations it saw begin are remembered, and after a restart the
// handler's transcript, when it keeps one, says the rest.
type Starts struct {
	tr    TranscriptReader
	begun *Dedup
}

// NewStarts returns a Starts reading transcripts with tr (may be nil) and
// remembering at most max conversations for ttl.
func NewStarts(tr TranscriptReader, ttl time.Duration, max int) *Starts {
	return &Starts{tr: tr, begun: NewDedup(ttl, max, nil)}
}

// Begun reports whether conversation id has begun, and marks it begun:
// the caller sends the start event when it returns false.
func (s *Starts) Begun(ctx context.Context, id string) bool {
	if s.begun.Seen(id) {
		return true
	}
	if s.tr == nil {
		return false
	}
	entries, err := s.tr.Transcript(ctx, id)
	return err == nil && len(entries) > 0
}

// Reset forgets conversation id, so its next event starts it again (after
// a turn failed before the start was handled).
func (s *Starts) Reset(id string) { s.begun.Forget(id) }

package turns

import (
	"context"
	"time"
)

// Queue is what a webhook channel keeps to run its turns after the
// acknowledgement: a [Pool] for the turns, a [Dedup] of the delivery ids
// already taken (kept one hour) and a [Starts] of the conversations begun
// (kept one day). The zero value is not usable; call [NewQueue].
type Queue struct {
	// Pool runs the turns, one at a time per conversation.
	Pool *Pool
	// Dedup drops the deliveries a platform repeats.
	Dedup *Dedup
	// Starts tells whether a conversation needs its start event.
	Starts *Starts
}

// NewQueue returns a Queue holding at most maxPending unfinished turns and
// remembering at most maxConversations delivery ids and conversations, on
// the clock now (nil: time.Now). Conversations begun before a restart are
// told by h's transcript when h is a [TranscriptReader].
func NewQueue(h any, maxPending, maxConversations int, now func() time.Time) *Queue {
	tr, _ := h.(TranscriptReader)
	return &Queue{
		Pool:   NewPool(maxPending),
		Dedup:  NewDedup(time.Hour, maxConversations, now),
		Starts: NewStarts(tr, 24*time.Hour, maxConversations),
	}
}

// Close refuses new turns and waits for the unfinished ones until ctx is
// done, then cancels them; see [Pool.Close].
func (q *Queue) Close(ctx context.Context) error { return q.Pool.Close(ctx) }

// Wait blocks until the turns submitted so far are done.
func (q *Queue) Wait() { q.Pool.Wait() }

// Submit queues job behind the other turns of conversation key, unless
// delivery id was taken before: it reports whether it did not drop the
// delivery as a repeat. When the pool refuses the job, id is forgotten
// (the platform's retry is taken) and the pool's error returned.
func (q *Queue) Submit(key, id string, job Job) (taken bool, err error) {
	if q.Dedup.Seen(id) {
		return false, nil
	}
	if err := q.Pool.Submit(key, job); err != nil {
		q.Dedup.Forget(id)
		return false, err
	}
	return true, nil
}

// Batch submits the turns of one webhook delivery: when one of them cannot
// be queued, the delivery ids of all those submitted before are forgotten
// too, so that the platform's redelivery of the whole batch is taken.
type Batch struct {
	q   *Queue
	ids []string
}

// Batch starts a batch of submissions.
func (q *Queue) Batch() *Batch { return &Batch{q: q} }

// Submit is [Queue.Submit] for a turn of the batch; on error every id the
// batch took is forgotten.
func (b *Batch) Submit(key, id string, job Job) (taken bool, err error) {
	taken, err = b.q.Submit(key, id, job)
	if err != nil {
		for _, q := range b.ids {
			b.q.Dedup.Forget(q)
		}
		b.ids = nil
		return false, err
	}
	if taken {
		b.ids = append(b.ids, id)
	}
	return taken, nil
}

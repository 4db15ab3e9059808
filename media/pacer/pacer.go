// Package pacer plays audio frames out at real-time pace: one frame every
// 20 ms, scheduled on absolute time so that the schedule never drifts, and
// interruptible at once for barge-in.
//
// Frame n of a run is due at start + n×FrameDuration. Waiting for each
// deadline from the clock, rather than sleeping 20 ms after each send, means
// that a late wake-up delays one frame but not the ones after it. A
// [Pacer] holds a queue of frames (the reply being spoken), [Pacer.Run]
// hands them to a sink on schedule, and [Pacer.Interrupt] drops whatever is
// still queued and tells how much of the audio was played, so that the voice
// session can cut the reply text where the caller barged in.
package pacer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/media"
)

// Errors callers branch on.
var (
	// ErrRunning is returned by Run when the pacer is already running.
	ErrRunning = errors.New("pacer: already running")
	// ErrBadFrame is returned by Enqueue for a frame that is nil, empty,
	// without a sample rate or longer than the pacer's frame duration.
	ErrBadFrame = errors.New("pacer: bad frame")
)

// Underrun says what Run does at a deadline when no frame is queued.
type Underrun int

const (
	// SendSilence sends a silent frame, keeping the outgoing stream
	// continuous (what RTP peers without comfort noise expect).
	SendSilence Underrun = iota
	// Skip sends nothing for that slot. The schedule still advances: the
	// next queued frame goes out at its own absolute deadline.
	Skip
)

// DefaultLateAfter is the lateness beyond which a frame counts as late.
const DefaultLateAfter = 10 * time.Millisecond

// Config configures a [Pacer]. The zero value is usable.
type Config struct {
	// Clock is the time source; nil means [RealClock].
	Clock Clock
	// FrameDuration is the schedule's period; 0 means media.FrameDuration.
	FrameDuration time.Duration
	// Underrun chooses silence or skipping when the queue is empty.
	Underrun Underrun
	// Rate is the sample rate of silence frames; 0 means the rate of the
	// last frame sent (media.Rate8k before any).
	Rate int
	// QueueFrames is the queue's capacity in frames; Enqueue blocks while
	// it is full. 0 means 500 (10 s of 20 ms frames).
	QueueFrames int
	// LateAfter is the lateness beyond which a sent frame counts as late;
	// 0 means DefaultLateAfter.
	LateAfter time.Duration
	// OnTick, when set, is called by Run at every slot, before the sink, for
	// metrics. It must not block or call the Pacer.
	OnTick func(Tick)
}

// Tick describes one slot of the schedule, for [Config.OnTick].
type Tick struct {
	// Index is the slot number n in this run of Run.
	Index int64
	// Deadline is start + Index×FrameDuration.
	Deadline time.Time
	// Lateness is how long after Deadline the frame was handed to the sink.
	Lateness time.Duration
	// Kind says what the slot carried.
	Kind Kind
}

// Kind is what a slot of the schedule carried.
type Kind int

// Kinds of slot.
const (
	Audio   Kind = iota // a queued frame
	Silent              // a silence frame, on underrun
	Skipped             // nothing, on underrun with Skip
)

// Stats counts what a Pacer did since it was created.
type Stats struct {
	Sent        int64         // queued frames handed to the sink
	Silence     int64         // silence frames sent on underrun
	Skipped     int64         // empty slots skipped on underrun
	Late        int64         // frames (audio or silence) sent more than LateAfter past their deadline
	Interrupted int64         // queued frames discarded by Interrupt
	MaxLateness time.Duration // the largest lateness of a sent frame
}

// Position locates the pacer in its outgoing audio stream, in audio time
// since the Pacer was created.
type Position struct {
	Played time.Duration // audio of queued frames handed to the sink
	Queued time.Duration // audio waiting in the queue
}

// End is the stream position the next enqueued frame will start at.
func (p Position) End() time.Duration { return p.Played + p.Queued }

// Cut is what an [Pacer.Interrupt] did.
type Cut struct {
	// Played is the stream position reached: all audio handed to the sink
	// so far, including the frame in flight. Subtract the [Position.End]
	// taken before enqueueing a prompt to get how much of that prompt the
	// caller heard.
	Played time.Duration
	// Discarded is the audio dropped from the queue, and Frames its frame
	// count.
	Discarded time.Duration
	Frames    int
}

// Pacer queues frames and plays them out on an absolute 20 ms schedule. Its
// methods are safe for concurrent use: typically one goroutine runs Run,
// the TTS side calls Enqueue and the barge-in detector calls Interrupt.
type Pacer struct {
	clock   Clock
	dur     time.Duration
	late    time.Duration
	policy  Underrun
	rate    int
	onTick  func(Tick)
	running atomic.Bool

	mu     sync.Mutex
	ring   []media.Frame
	head   int
	n      int
	queued time.Duration
	played time.Duration
	stats  Stats
	space  chan struct{} // signalled when the queue gains room
}

// New returns a Pacer configured by cfg.
func New(cfg Config) *Pacer {
	p := &Pacer{
		clock:  cfg.Clock,
		dur:    cfg.FrameDuration,
		late:   cfg.LateAfter,
		policy: cfg.Underrun,
		rate:   cfg.Rate,
		onTick: cfg.OnTick,
		space:  make(chan struct{}, 1),
	}
	if p.clock == nil {
		p.clock = RealClock{}
	}
	if p.dur <= 0 {
		p.dur = media.FrameDuration
	}
	if p.late <= 0 {
		p.late = DefaultLateAfter
	}
	size := cfg.QueueFrames
	if size <= 0 {
		size = 500
	}
	p.ring = make([]media.Frame, size)
	return p
}

// Enqueue copies f to the end of the queue; the caller may reuse f at once.
// It blocks while the queue is full, until Run makes room, Interrupt empties
// it or ctx ends. f must hold at most one FrameDuration of audio.
func (p *Pacer) Enqueue(ctx context.Context, f *media.Frame) error {
	if f == nil || len(f.Samples) == 0 || f.Rate <= 0 || f.Duration() > p.dur {
		return p.badFrame(f)
	}
	for {
		p.mu.Lock()
		if p.n < len(p.ring) {
			p.ring[(p.head+p.n)%len(p.ring)].CopyFrom(f)
			p.n++
			p.queued += f.Duration()
			room := p.n < len(p.ring)
			p.mu.Unlock()
			if room {
				p.signalSpace() // pass the wake-up on to another waiting producer
			}
			return nil
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("pacer: enqueue: %w", ctx.Err())
		case <-p.space:
		}
	}
}

func (p *Pacer) badFrame(f *media.Frame) error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: nil", ErrBadFrame)
	case len(f.Samples) == 0:
		return fmt.Errorf("%w: no samples", ErrBadFrame)
	case f.Rate <= 0:
		return fmt.Errorf("%w: sample rate %d", ErrBadFrame, f.Rate)
	default:
		return fmt.Errorf("%w: %v of audio in a %v slot", ErrBadFrame, f.Duration(), p.dur)
	}
}

func (p *Pacer) signalSpace() {
	select {
	case p.space <- struct{}{}:
	default:
	}
}

// Interrupt discards every queued frame at once (barge-in). At most the frame
// the sink is handling when Interrupt is called still plays. It returns the
// stream position reached and what was discarded.
func (p *Pacer) Interrupt() Cut {
	p.mu.Lock()
	c := Cut{Played: p.played, Discarded: p.queued, Frames: p.n}
	p.head, p.n, p.queued = 0, 0, 0
	p.stats.Interrupted += int64(c.Frames)
	p.mu.Unlock()
	p.signalSpace()
	return c
}

// Position returns the current stream position.
func (p *Pacer) Position() Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Position{Played: p.played, Queued: p.queued}
}

// Stats returns the counters so far.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Run plays the queue out until ctx ends, handing one frame to sink at every
// deadline start + n×FrameDuration, where start is the time Run was called.
// When the queue is empty it sends silence or skips the slot, as configured.
// A frame handed to sink is owned by the pacer and valid only until sink
// returns. Run returns ctx's error when ctx ends, the sink's error (wrapped)
// when the sink fails, and ErrRunning when another Run is in progress. A
// late frame is still sent, at once; the frames after it keep their own
// deadlines, so the pacer catches up instead of drifting.
func (p *Pacer) Run(ctx context.Context, sink func(*media.Frame) error) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)

	timer := p.clock.NewTimer()
	defer timer.Stop()
	var cur media.Frame
	start := p.clock.Now()
	for n := int64(0); ; n++ {
		deadline := start.Add(time.Duration(n) * p.dur)
		if wait := deadline.Sub(p.clock.Now()); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C():
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}

		lateness := p.clock.Now().Sub(deadline)
		kind := p.next(&cur, lateness)
		if p.onTick != nil {
			p.onTick(Tick{Index: n, Deadline: deadline, Lateness: lateness, Kind: kind})
		}
		if kind == Skipped {
			continue
		}
		if err := sink(&cur); err != nil {
			return fmt.Errorf("pacer: sink: %w", err)
		}
	}
}

// next fills cur with the frame for this slot and updates the counters.
func (p *Pacer) next(cur *media.Frame, lateness time.Duration) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	var kind Kind
	switch {
	case p.n > 0:
		f := &p.ring[p.head]
		cur.CopyFrom(f)
		p.head = (p.head + 1) % len(p.ring)
		p.n--
		d := f.Duration()
		p.queued -= d
		p.played += d
		p.stats.Sent++
		if p.n == len(p.ring)-1 {
			p.signalSpace()
		}
		kind = Audio
	case p.policy == Skip:
		p.stats.Skipped++
		return Skipped
	default:
		rate := p.rate
		if rate <= 0 {
			rate = cur.Rate
		}
		if rate <= 0 {
			rate = media.Rate8k
		}
		size := int(int64(rate) * int64(p.dur) / int64(time.Second))
		if cap(cur.Samples) < size {
			cur.Samples = make([]int16, size)
		}
		cur.Samples = cur.Samples[:size]
		cur.Silence()
		cur.Rate = rate
		cur.Time = time.Time{}
		p.stats.Silence++
		kind = Silent
	}
	if lateness > p.late {
		p.stats.Late++
	}
	if lateness > p.stats.MaxLateness {
		p.stats.MaxLateness = lateness
	}
	return kind
}

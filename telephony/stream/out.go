package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/media"
)

// ErrClosed is returned by [Out.Send] once the queue is closed, wrapped
// with the cause given to [Out.Close].
var ErrClosed = errors.New("stream: outbound audio closed")

// DefaultQueueFrames is the outbound queue length when OutConfig.QueueFrames
// is zero: Send runs at most two frames (40 ms) ahead of the wire.
const DefaultQueueFrames = 2

// restart is how late the writer may fall behind its schedule before it
// restarts the schedule at the current time instead of catching up (an idle
// queue, a stalled peer).
const restart = 100 * time.Millisecond

// lateAfter is the lateness beyond which a frame counts as late in
// [OutStats].
const lateAfter = 10 * time.Millisecond

// OutConfig configures an [Out].
type OutConfig struct {
	// Rate is the sample rate of the frames Send takes, in Hz. Required.
	Rate int
	// QueueFrames is how many frames Send may queue ahead of the writer;
	// zero means DefaultQueueFrames.
	QueueFrames int
	// Write puts one frame on the wire (encoding it for the protocol). It
	// is called from the writer goroutine only; the frame is valid until it
	// returns. An error stops the writer and fails later Sends. Required.
	Write func(f *media.Frame) error
	// Drained, when set, is called by the writer goroutine after the last
	// queued frame of a run of audio was written and the queue is empty
	// (the Twilio leg sends a mark there). An error stops the writer.
	Drained func() error
	// Unpaced writes frames as soon as they are queued (benchmarks).
	Unpaced bool
}

// OutStats counts what an [Out] did.
type OutStats struct {
	Written int64         // frames written to the wire
	Cleared int64         // queued frames dropped by Clear
	Late    int64         // frames written more than 10 ms after their slot
	MaxLate time.Duration // the largest lateness of a written frame
}

// Out is a paced outbound audio queue: Send queues a copy of a frame and
// returns once the queue has room, a writer goroutine writes the frames on
// an absolute 20 ms schedule (frame n of a run of audio at start + n×20 ms,
// so that a late wake-up delays one frame and not the ones after it), and
// Clear drops what is queued at once for barge-in. The writer sleeps when
// the queue is empty: an idle call costs no timer wake-ups.
type Out struct {
	cfg  OutConfig
	size int // samples in 20 ms

	mu    sync.Mutex
	ring  []media.Frame
	head  int
	n     int
	err   error
	stats OutStats

	ready chan struct{} // a frame was queued
	space chan struct{} // the queue gained room
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	written atomic.Int64 // mirrors stats.Written for lock-free reads
}

// NewOut starts the writer goroutine of a new queue. Stop it with
// [Out.Close].
func NewOut(cfg OutConfig) (*Out, error) {
	if cfg.Rate <= 0 || cfg.Rate%50 != 0 {
		return nil, fmt.Errorf("%w: outbound rate %d Hz", ErrConfig, cfg.Rate)
	}
	if cfg.Write == nil {
		return nil, fmt.Errorf("%w: outbound Write is required", ErrConfig)
	}
	if cfg.QueueFrames < 0 {
		return nil, fmt.Errorf("%w: QueueFrames %d", ErrConfig, cfg.QueueFrames)
	}
	if cfg.QueueFrames == 0 {
		cfg.QueueFrames = DefaultQueueFrames
	}
	o := &Out{
		cfg: cfg, size: media.SamplesPerFrame(cfg.Rate),
		ring:  make([]media.Frame, cfg.QueueFrames),
		ready: make(chan struct{}, 1), space: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	for i := range o.ring {
		o.ring[i].Samples = make([]int16, 0, o.size)
	}
	o.wg.Add(1)
	go o.run()
	return o, nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Send queues a copy of f (1 to 20 ms of audio at the configured rate),
// waiting while the queue is full, so a caller sending in a loop is paced by
// the writer and never more than QueueFrames frames ahead of the wire. It returns an error wrapping ErrFrame
// for a frame it cannot play, ctx's error, the writer's error, or an error
// wrapping ErrClosed after Close.
func (o *Out) Send(ctx context.Context, f *media.Frame) error {
	if f == nil || f.Rate != o.cfg.Rate || len(f.Samples) == 0 || len(f.Samples) > o.size {
		return fmt.Errorf("%w: want 1-%d samples at %d Hz", ErrFrame, o.size, o.cfg.Rate)
	}
	for {
		o.mu.Lock()
		if o.err != nil {
			err := o.err
			o.mu.Unlock()
			return err
		}
		if o.n < len(o.ring) {
			o.ring[(o.head+o.n)%len(o.ring)].CopyFrom(f)
			o.n++
			o.mu.Unlock()
			signal(o.ready)
			return nil
		}
		o.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.space:
		case <-o.done:
		}
	}
}

// Clear drops every queued frame at once and returns how many it dropped.
// The frame the writer is writing, if any, still goes out.
func (o *Out) Clear() int {
	o.mu.Lock()
	n := o.n
	o.head, o.n = 0, 0
	o.stats.Cleared += int64(n)
	o.mu.Unlock()
	signal(o.space)
	return n
}

// Written returns the number of frames written to the wire so far.
func (o *Out) Written() int64 { return o.written.Load() }

// Stats returns the counters so far.
func (o *Out) Stats() OutStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// Close stops the writer (a frame being written completes) and drops the
// queue; later Sends return an error wrapping ErrClosed and cause. It waits
// for the writer goroutine and is safe to call more than once.
func (o *Out) Close(cause error) {
	o.once.Do(func() {
		o.mu.Lock()
		if o.err == nil {
			if cause != nil {
				o.err = fmt.Errorf("%w: %w", ErrClosed, cause)
			} else {
				o.err = ErrClosed
			}
		}
		o.n = 0
		o.mu.Unlock()
		close(o.done)
		o.wg.Wait()
	})
}

func (o *Out) fail(err error) {
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.n = 0
	o.mu.Unlock()
	signal(o.space)
}

// run is the writer goroutine.
func (o *Out) run() {
	defer o.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	cur := media.Frame{Samples: make([]int16, 0, o.size)}
	var next time.Time // the slot of the next frame
	active := false    // frames were written since the last Drained
	for {
		o.mu.Lock()
		empty := o.n == 0 && o.err == nil
		stop := o.err != nil
		o.mu.Unlock()
		if stop {
			return
		}
		if empty {
			if active && o.cfg.Drained != nil {
				if err := o.cfg.Drained(); err != nil {
					o.fail(fmt.Errorf("stream: writing: %w", err))
					return
				}
			}
			active = false
			select {
			case <-o.ready:
				continue
			case <-o.done:
				return
			}
		}
		now := time.Now()
		if next.IsZero() || now.Sub(next) > restart {
			next = now
		}
		if d := next.Sub(now); d > 0 && !o.cfg.Unpaced {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-o.done:
				return
			}
		}
		o.mu.Lock()
		if o.n == 0 || o.err != nil { // cleared or closed while waiting
			o.mu.Unlock()
			continue
		}
		cur.CopyFrom(&o.ring[o.head])
		o.head = (o.head + 1) % len(o.ring)
		o.n--
		late := time.Since(next)
		o.stats.Written++
		if late > lateAfter {
			o.stats.Late++
		}
		if late > o.stats.MaxLate {
			o.stats.MaxLate = late
		}
		o.mu.Unlock()
		signal(o.space)
		if err := o.cfg.Write(&cur); err != nil {
			o.fail(fmt.Errorf("stream: writing: %w", err))
			return
		}
		o.written.Add(1)
		active = true
		next = next.Add(cur.Duration())
	}
}

// Package pacertest provides a simulated clock for testing code that paces
// audio with media/pacer.
package pacertest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parole-voice/parole/media/pacer"
)

// Clock is a simulated [pacer.Clock]. Time moves only when the test says so:
// with [Clock.Advance], or by itself when the clock runs in auto mode
// ([Clock.SetAuto]), where arming a timer jumps the clock straight to its
// expiry plus an optional simulated wake-up jitter. It is safe for
// concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	jitter func() time.Duration
	timers []*timer
	armed  int
}

// NewClock returns a manual clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// SetAuto switches auto mode on or off. In auto mode a timer armed for d
// fires at once and the clock jumps to now + d + jitter(), simulating a
// scheduler that wakes the waiter late by jitter. jitter may be nil (no
// lateness); it must not return a negative duration.
func (c *Clock) SetAuto(on bool, jitter func() time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auto, c.jitter = on, jitter
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a stopped simulated timer.
func (c *Clock) NewTimer() pacer.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d, firing every timer that expires on
// the way (in order of expiry, the clock reading each expiry time as it
// fires).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for {
		var next *timer
		for _, t := range c.timers {
			if t.armed && !t.when.After(end) && (next == nil || t.when.Before(next.when)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		if next.when.After(c.now) {
			c.now = next.when
		}
		c.fire(next)
	}
	c.now = end
}

// Armed returns how many timers are waiting to fire.
func (c *Clock) Armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed
}

// WaitArmed waits (in real time, polling) until at least n timers are armed,
// which tells a test that the code under test is blocked waiting for time to
// pass. It returns an error when ctx ends first.
func (c *Clock) WaitArmed(ctx context.Context, n int) error {
	for c.Armed() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pacertest: waiting for %d armed timers (have %d): %w", n, c.Armed(), ctx.Err())
		case <-time.After(20 * time.Microsecond):
		}
	}
	return nil
}

// fire delivers t's expiry; c.mu is held.
func (c *Clock) fire(t *timer) {
	t.armed = false
	c.armed--
	select {
	case t.ch <- c.now:
	default:
	}
}

type timer struct {
	c     *Clock
	ch    chan time.Time
	when  time.Time
	armed bool
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Reset(d time.Duration) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	select { // drop a stale expiry, as time.Timer does since Go 1.23
	case <-t.ch:
	default:
	}
	if !t.armed {
		c.armed++
	}
	t.armed = true
	t.when = c.now.Add(d)
	if c.auto || d <= 0 {
		if t.when.After(c.now) {
			c.now = t.when
		}
		if c.auto && c.jitter != nil {
			c.now = c.now.Add(c.jitter())
		}
		c.fire(t)
	}
}

func (t *timer) Stop() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.armed {
		t.armed = false
		c.armed--
	}
	select {
	case <-t.ch:
	default:
	}
}

// Package breaker is the circuit breaker the engine fallbacks share: after a
// threshold of failures in a row the primary engine is skipped for a
// cool-down.
package breaker

import (
	"errors"
	"sync"
	"time"
)

// Defaults of New's zero arguments.
const (
	DefaultFailureThreshold = 3
	DefaultCoolDown         = 30 * time.Second
)

// ErrConfig is returned for a negative threshold or cool-down.
var ErrConfig = errors.New("breaker: negative failure threshold or cool-down")

// Breaker is a circuit breaker: Allow is false for a cool-down after a
// threshold of failures in a row. It is safe for concurrent use.
type Breaker struct {
	mu        sync.Mutex
	threshold int
	coolDown  time.Duration
	fails     int
	openUntil time.Time
	now       func() time.Time
}

// New returns a breaker opening after threshold failures in a row for
// coolDown (zero values take the defaults).
func New(threshold int, coolDown time.Duration) (*Breaker, error) {
	if threshold < 0 || coolDown < 0 {
		return nil, ErrConfig
	}
	if threshold == 0 {
		threshold = DefaultFailureThreshold
	}
	if coolDown == 0 {
		coolDown = DefaultCoolDown
	}
	return &Breaker{threshold: threshold, coolDown: coolDown, now: time.Now}, nil
}

// SetClock replaces the clock (tests).
func (b *Breaker) SetClock(now func() time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = now
}

// Allow reports whether the primary may be tried.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.now().Before(b.openUntil)
}

// Open reports whether the breaker is open (the primary is skipped).
func (b *Breaker) Open() bool { return !b.Allow() }

// Failure counts a failure of the primary.
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails++
	if b.fails >= b.threshold {
		b.openUntil = b.now().Add(b.coolDown)
	}
}

// Success resets the count of failures.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails = 0
}

package pacer

import "time"

// Clock is the pacer's source of time. [RealClock] is the default; tests
// inject a simulated clock (see package pacertest) to play hours of audio in
// milliseconds.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a stopped timer; Run arms it once per frame.
	NewTimer() Timer
}

// Timer is a reusable one-shot timer, like [time.Timer].
type Timer interface {
	// C returns the channel on which the timer delivers its expiry.
	C() <-chan time.Time
	// Reset arms the timer to fire after d, discarding any expiry not yet
	// received.
	Reset(d time.Duration)
	// Stop disarms the timer.
	Stop()
}

// RealClock is the [Clock] of the time package.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a stopped [time.Timer].
func (RealClock) NewTimer() Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return realTimer{t}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }

// Reset relies on the Go 1.23+ timer semantics: no stale expiry survives a
// Reset.
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

package pacertest

import (
	"context"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestManualClock(t *testing.T) {
	c := NewClock(t0)
	a, b := c.NewTimer(), c.NewTimer()
	a.Reset(30 * time.Millisecond)
	b.Reset(10 * time.Millisecond)
	if c.Armed() != 2 {
		t.Fatalf("armed %d, want 2", c.Armed())
	}
	c.Advance(5 * time.Millisecond)
	select {
	case <-b.C():
		t.Fatal("timer fired early")
	default:
	}
	c.Advance(25 * time.Millisecond)
	if got := <-b.C(); !got.Equal(t0.Add(10 * time.Millisecond)) {
		t.Errorf("b fired at %v, want its expiry", got)
	}
	if got := <-a.C(); !got.Equal(t0.Add(30 * time.Millisecond)) {
		t.Errorf("a fired at %v, want its expiry", got)
	}
	if c.Armed() != 0 || !c.Now().Equal(t0.Add(30*time.Millisecond)) {
		t.Errorf("armed %d now %v", c.Armed(), c.Now())
	}

	// Stop disarms; Reset drops an expiry nobody received.
	a.Reset(time.Millisecond)
	a.Stop()
	c.Advance(time.Second)
	select {
	case <-a.C():
		t.Fatal("stopped timer fired")
	default:
	}
	a.Reset(0) // fires at once
	a.Reset(time.Hour)
	select {
	case <-a.C():
		t.Fatal("stale expiry survived Reset")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := c.WaitArmed(ctx, 2); err == nil {
		t.Error("WaitArmed(2) with one armed timer returned nil")
	}
}

func TestAutoClock(t *testing.T) {
	c := NewClock(t0)
	c.SetAuto(true, func() time.Duration { return 3 * time.Millisecond })
	tm := c.NewTimer()
	tm.Reset(20 * time.Millisecond)
	if got := <-tm.C(); !got.Equal(t0.Add(23 * time.Millisecond)) {
		t.Errorf("fired at %v, want expiry + jitter", got)
	}
	if c.Armed() != 0 {
		t.Errorf("armed %d after auto fire", c.Armed())
	}
}

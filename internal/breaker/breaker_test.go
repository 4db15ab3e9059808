package breaker

import (
	"errors"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := New(2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b.SetClock(func() time.Time { return now })
	b.Failure()
	if !b.Allow() {
		t.Fatal("open after one failure of two")
	}
	b.Success()
	b.Failure()
	if !b.Allow() {
		t.Fatal("a success did not reset the count")
	}
	b.Failure()
	if b.Allow() || !b.Open() {
		t.Fatal("not open after two failures in a row")
	}
	now = now.Add(time.Minute)
	if !b.Allow() {
		t.Fatal("still open after the cool-down")
	}
	if _, err := New(-1, 0); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative threshold: %v", err)
	}
}

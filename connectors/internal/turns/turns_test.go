package turns

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPoolOrderPerKey(t *testing.T) {
	p := NewPool(100)
	var mu sync.Mutex
	got := map[string][]int{}
	for i := 0; i < 30; i++ {
		key := []string{"a", "b", "c"}[i%3]
		i := i
		if err := p.Submit(key, func(context.Context) {
			time.Sleep(time.Millisecond)
			mu.Lock()
			got[key] = append(got[key], i)
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	p.Wait()
	for key, seq := range got {
		if len(seq) != 10 {
			t.Fatalf("%s ran %d jobs", key, len(seq))
		}
		for j := 1; j < len(seq); j++ {
			if seq[j] < seq[j-1] {
				t.Fatalf("%s out of order: %v", key, seq)
			}
		}
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit("a", func(context.Context) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}

func TestPoolKeysConcurrent(t *testing.T) {
	p := NewPool(10)
	defer p.Close(context.Background())
	a, b := make(chan struct{}), make(chan struct{})
	p.Submit("a", func(context.Context) { close(a); <-b })
	<-a
	done := make(chan struct{})
	p.Submit("b", func(context.Context) { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("key b waited for key a")
	}
	close(b)
	p.Wait()
}

func TestPoolFullAndClose(t *testing.T) {
	p := NewPool(2)
	started := make(chan struct{})
	p.Submit("a", func(ctx context.Context) { close(started); <-ctx.Done() })
	<-started
	p.Submit("a", func(context.Context) {})
	if err := p.Submit("b", func(context.Context) {}); !errors.Is(err, ErrFull) {
		t.Fatalf("third job: %v", err)
	}
	if p.Pending() != 2 {
		t.Fatalf("pending %d", p.Pending())
	}
	// Close waits, then cancels the job that does not end by itself.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v", err)
	}
	if p.Pending() != 0 {
		t.Fatalf("pending after close %d", p.Pending())
	}
}

func TestPoolPanic(t *testing.T) {
	p := NewPool(0)
	defer p.Close(context.Background())
	ran := false
	p.Submit("a", func(context.Context) { panic("boom") })
	p.Submit("a", func(context.Context) { ran = true })
	p.Wait()
	if !ran {
		t.Fatal("a panicking job stopped its key's queue")
	}
}

func TestDedup(t *testing.T) {
	now := time.Unix(1000, 0)
	d := NewDedup(time.Minute, 3, func() time.Time { return now })
	d.Seen("")
	if d.Seen("") {
		t.Fatal("empty id seen")
	}
	if d.Seen("a") || !d.Seen("a") {
		t.Fatal("a")
	}
	now = now.Add(2 * time.Minute)
	if d.Seen("a") {
		t.Fatal("a not expired")
	}
	d.Seen("b")
	d.Seen("c")
	d.Seen("d") // over max 3: a goes
	if len(d.seen) > 3 {
		t.Fatalf("%d ids kept, max 3", len(d.seen))
	}
	if !d.Seen("d") || !d.Seen("c") {
		t.Fatal("recent ids forgotten")
	}
	d.Forget("d")
	if d.Seen("d") {
		t.Fatal("forgotten id seen")
	}
	for i := 0; i < 1000; i++ {
		now = now.Add(time.Second)
		d.Seen(string(rune('A' + i%50)))
	}
	if len(d.seen) > 3 || len(d.order) > 10 {
		t.Fatalf("grew: %d ids, %d order entries", len(d.seen), len(d.order))
	}
}

func TestStarts(t *testing.T) {
	s := NewStarts(nil, time.Hour, 10)
	ctx := context.Background()
	if s.Begun(ctx, "c1") || !s.Begun(ctx, "c1") {
		t.Fatal("c1")
	}
	s.Reset("c1")
	if s.Begun(ctx, "c1") {
		t.Fatal("reset c1 begun")
	}
}

// TestBatchRollback fills a one-slot pool: the second turn of a batch is
// refused, and both delivery ids are forgotten so a redelivery is taken.
func TestBatchRollback(t *testing.T) {
	q := NewQueue(nil, 1, 10, nil)
	defer q.Close(context.Background())
	release := make(chan struct{})
	b := q.Batch()
	if taken, err := b.Submit("c1", "m1", func(context.Context) { <-release }); err != nil || !taken {
		t.Fatalf("first: taken %v, err %v", taken, err)
	}
	if taken, err := b.Submit("c2", "m2", func(context.Context) {}); !errors.Is(err, ErrFull) || taken {
		t.Fatalf("second: taken %v, err %v, want ErrFull", taken, err)
	}
	close(release)
	q.Wait()
	for _, id := range []string{"m1", "m2"} {
		if q.Dedup.Seen(id) {
			t.Errorf("%s still marked after the rollback", id)
		}
	}
	// Seen above marked m1 again: a repeat is dropped, not an error.
	if taken, err := q.Submit("c1", "m1", func(context.Context) {}); taken || err != nil {
		t.Fatalf("repeat: taken %v, err %v", taken, err)
	}
}

package store

import (
	"context"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

func memoryHarness() harness {
	clock := newFakeClock()
	return harness{
		open: func(t *testing.T, opts Options) Store {
			opts.Now = clock.Now
			m := NewMemory(opts)
			t.Cleanup(func() { m.Close() })
			return m
		},
		advance: func(_ *testing.T, d time.Duration) { clock.Add(d) },
		ttl:     time.Hour,
		corruptConv: func(_ *testing.T, s Store, id string) {
			m := s.(*Memory)
			m.mu.Lock()
			m.convs[id].data = []byte(`{"id":"` + id + `","slots":[1,2]}`)
			m.mu.Unlock()
		},
		corruptEntry: func(_ *testing.T, s Store, id string) {
			m := s.(*Memory)
			m.mu.Lock()
			c := m.convs[id]
			c.transcript = append(c.transcript, []byte(`{"kind":"event","event":`))
			m.mu.Unlock()
		},
	}
}

func TestMemory(t *testing.T) { testStore(t, memoryHarness()) }

// TestSweepEvery runs the sweeper in a goroutine until it has removed an
// expired conversation, then stops it (goleak checks it is gone).
func TestSweepEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := newFakeClock()
	m := NewMemory(Options{TTL: time.Minute, Now: clock.Now})
	defer m.Close()
	_, err := m.Save(ctx, &dialog.Conversation{ID: "old"}, 0)
	must(t, err)
	clock.Add(2 * time.Minute)
	done := make(chan error, 1)
	go func() { done <- SweepEvery(ctx, m, time.Millisecond) }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		m.mu.Lock()
		n := len(m.convs)
		m.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not remove the expired conversation")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wantErr(t, <-done, context.Canceled)
	wantErr(t, SweepEvery(context.Background(), m, 0), ErrInvalid)
	m.Close()
	wantErr(t, SweepEvery(context.Background(), m, time.Millisecond), ErrClosed)
}

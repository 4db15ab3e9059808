package store

import (
	"testing"
	"time"
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

package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
)

// script is one pass through the demo flow's booking path: 7 turns.
var script = []dialog.Event{
	{Type: dialog.EventStart},
	dialog.Text("I would like to book an appointment"),
	{Type: dialog.EventChoice, Choice: "2026-12-01"},
	dialog.Text("zero six one two three four five six seven eight"),
	dialog.Text("yes that's right"),
	dialog.Text("no thanks"),
	{Type: dialog.EventEnd},
}

// BenchmarkTurn runs demo-flow turns through the runner on each store and
// reports turns per second and the 99th percentile turn time. Conversations
// rotate over 1000 ids so the stores hold realistic data.
func BenchmarkTurn(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(*testing.B) store.Store { return store.NewMemory(store.Options{}) }},
		{"bolt-nosync", func(b *testing.B) store.Store {
			s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"bolt-fsync", func(b *testing.B) store.Store {
			s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			defer s.Close()
			r := demoRunner(b, s)
			ctx := context.Background()
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				conv := (i / len(script)) % 1000
				ev := script[i%len(script)]
				t0 := time.Now()
				if _, err := r.Handle(ctx, Session{ConversationID: fmt.Sprint("c", conv), Channel: "bench", Locale: "en"}, ev); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "turns/s")
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkTurnConcurrent runs demo-flow turns of many conversations at
// once, as a busy server does: the bbolt store's group commit then shares
// one commit (and one fsync) among the turns waiting for it. Run it with
// -cpu 1 for the one-core figure.
func BenchmarkTurnConcurrent(b *testing.B) {
	for _, nosync := range []bool{false, true} {
		name := "bolt-fsync"
		if nosync {
			name = "bolt-nosync"
		}
		b.Run(name, func(b *testing.B) {
			s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.Options{NoSync: nosync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			r := demoRunner(b, s)
			ctx := context.Background()
			var next atomic.Int64
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(64)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				conv := fmt.Sprint("c", next.Add(1))
				lat := make([]time.Duration, 0, 1024)
				i := 0
				for pb.Next() {
					t0 := time.Now()
					if _, err := r.Handle(ctx, Session{ConversationID: conv, Channel: "bench", Locale: "en"}, script[i%len(script)]); err != nil {
						b.Error(err)
						return
					}
					if len(lat) < cap(lat) {
						lat = append(lat, time.Since(t0))
					}
					i++
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
			if len(all) > 0 {
				slices.Sort(all)
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkTurnUser runs the same booking script for linked users
// (Session.UserID) on the memory store, half the turns on a second
// channel: the price of finding the user's open conversation each turn.
func BenchmarkTurnUser(b *testing.B) {
	s := store.NewMemory(store.Options{})
	defer s.Close()
	r := demoRunner(b, s)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := i / len(script)
		user := fmt.Sprint("u", n%1000)
		ch := "alexa"
		if i%len(script) >= len(script)/2 {
			ch = "web"
		}
		ev := script[i%len(script)]
		if _, err := r.Handle(ctx, Session{ConversationID: fmt.Sprint(ch, ":", n), Channel: ch, Locale: "en", UserID: user}, ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "turns/s")
}

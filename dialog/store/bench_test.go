package store

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// benchConvs is how many conversations the turns rotate over, so that
// transcripts grow as in a busy system rather than one huge one.
const benchConvs = 1000

// benchStores opens each store kind for a benchmark.
func benchStores(b *testing.B) []struct {
	name string
	open func(b *testing.B) Store
} {
	bolt := func(noSync bool) func(b *testing.B) Store {
		return func(b *testing.B) Store {
			s, err := OpenBolt(filepath.Join(b.TempDir(), "bench.db"), Options{NoSync: noSync})
			must2(b, err)
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	return []struct {
		name string
		open func(b *testing.B) Store
	}{
		{"memory", func(b *testing.B) Store { return NewMemory(Options{}) }},
		{"bolt", bolt(false)},
		{"bolt-nosync", bolt(true)},
		{"redis", func(b *testing.B) Store {
			srv := startRedis(b)
			s, err := NewRedis(context.Background(), srv.url, Options{TTL: time.Hour})
			must2(b, err)
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
}

// turnBot is the bot of the benchmarks: it fills a slot and transfers.
var turnBot = dialog.BotFunc(func(_ context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
	conv.Step = "transfer"
	conv.SetSlot("department", "sales")
	conv.SetVar("last", ev.Text)
	reply := dialog.Say("Connecting you to sales.")
	reply.Transfer = &dialog.Transfer{Target: "sip:sales@pbx.example.com"}
	return reply, nil
})

// turn is what a channel does for one event: Load, the bot, then Save of
// the conversation with the event and the reply in one write (Turn).
func turn(ctx context.Context, s Store, id string, i int) error {
	ev := dialog.Event{Type: dialog.EventText, Time: time.Now(), Text: "I would like to speak to sales", Confidence: 0.92}
	_, _, err := Turn(ctx, s, turnBot, id, "sip", ev)
	return err
}

// turnSeparate is the same turn with the transcript written by a second
// call (Update, then Append): one more write transaction or round trip.
func turnSeparate(ctx context.Context, s Store, id string, i int) error {
	ev := dialog.Event{Type: dialog.EventText, Time: time.Now(), Text: "I would like to speak to sales", Confidence: 0.92}
	var reply dialog.Reply
	_, _, err := Update(ctx, s, id, func(conv *dialog.Conversation) (err error) {
		reply, err = turnBot.Handle(ctx, conv, ev)
		return err
	})
	if err != nil {
		return err
	}
	return s.Append(ctx, id, EventEntry("sip", ev), ReplyEntry("sip", reply, time.Now()))
}

func seed(b *testing.B, s Store, prefix string) []string {
	ctx := context.Background()
	ids := make([]string, benchConvs)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
		c := &dialog.Conversation{ID: ids[i], UserID: "user-" + strconv.Itoa(i%97), Channel: "sip", Locale: "en-US", Step: "start"}
		if _, err := s.Save(ctx, c, 0); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// boltStats starts counting a bbolt store's commits and page writes; the
// function it returns reports them per turn. Other stores report nothing.
func boltStats(s Store) func(b *testing.B, turns int64) {
	bs, ok := s.(*Bolt)
	if !ok {
		return func(*testing.B, int64) {}
	}
	commits, st := bs.commits.Load(), bs.DB().Stats()
	return func(b *testing.B, turns int64) {
		end := bs.DB().Stats()
		d := end.Sub(&st)
		b.ReportMetric(float64(turns)/float64(bs.commits.Load()-commits), "turns/commit")
		b.ReportMetric(float64(d.TxStats.GetWrite())*float64(bs.DB().Info().PageSize)/1024/float64(turns), "KiB-written/turn")
	}
}

// reportTurns reports the wall-clock rate, and the CPU time the process
// spent per turn since cpu0 (see cpuTime) where the system tells it: on a
// machine shared with other work, 1e6 / cpu-µs/turn is the rate one core
// would sustain.
func reportTurns(b *testing.B, turns int64, cpu0 time.Duration) {
	perTurn := float64(b.Elapsed().Nanoseconds()) / float64(turns)
	b.ReportMetric(perTurn, "ns/turn")
	b.ReportMetric(1e9/perTurn, "turns/s")
	if cpu1 := cpuTime(); cpu1 > 0 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(turns), "cpu-µs/turn")
	}
}

// reportP99 reports the 99th percentile of the turn times in lat.
func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkTurn runs turns one after the other: the latency a turn adds.
// "turn" is Load + bot + Save with the transcript entries (Turn);
// "separate" writes the transcript with a second call (Update + Append).
func BenchmarkTurn(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		for _, v := range []struct {
			name string
			fn   func(context.Context, Store, string, int) error
		}{{"turn", turn}, {"separate", turnSeparate}} {
			b.Run(st.name+"/"+v.name, func(b *testing.B) {
				s := st.open(b)
				ids := seed(b, s, "conv-")
				stats := boltStats(s)
				lat := make([]time.Duration, 0, 1<<16)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				i := 0
				for b.Loop() {
					t0 := time.Now()
					if err := v.fn(ctx, s, ids[i%len(ids)], i); err != nil {
						b.Fatal(err)
					}
					if len(lat) < cap(lat) {
						lat = append(lat, time.Since(t0))
					}
					i++
				}
				reportTurns(b, int64(i), cpu0)
				reportP99(b, lat)
				stats(b, int64(i))
			})
		}
	}
}

// BenchmarkTurnParallel runs turns of different conversations from
// GOMAXPROCS×16 goroutines at once, as a node handling many calls does:
// its throughput, and the 99th percentile of a turn's time (queueing for
// the group commit included). For bbolt it also reports how many turns one
// group commit carried.
func BenchmarkTurnParallel(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			ids := seed(b, s, "conv-")
			stats := boltStats(s)
			var (
				next, turns atomic.Int64
				mu          sync.Mutex
				lat         []time.Duration
			)
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				g := int(next.Add(1))
				mine := make([]time.Duration, 0, 4096)
				i := 0
				for pb.Next() {
					// Goroutines mostly work on different conversations;
					// when two meet, Update retries the loser.
					id := ids[(g*131+i)%len(ids)]
					t0 := time.Now()
					if err := turn(ctx, s, id, i); err != nil {
						b.Error(err)
						return
					}
					if len(mine) < cap(mine) {
						mine = append(mine, time.Since(t0))
					}
					i++
				}
				turns.Add(int64(i))
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			reportTurns(b, turns.Load(), cpu0)
			reportP99(b, lat)
			stats(b, turns.Load())
		})
	}
}

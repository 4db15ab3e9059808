package pacer_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/pacer"
	"github.com/parole-voice/parole/media/pacer/pacertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0      = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	errDone = errors.New("done")
)

const frame = 20 * time.Millisecond

// numbered returns an 8 kHz frame whose first sample is i, to identify it.
func numbered(i int) *media.Frame {
	f := media.NewFrame(media.Rate8k)
	f.Samples[0] = int16(i)
	f.Samples[1] = 1 // never silence
	return f
}

func enqueue(t *testing.T, p *pacer.Pacer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := p.Enqueue(context.Background(), numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// runFor plays total slots on an auto-advancing clock and returns every tick
// and the clock time at which the sink received each frame.
func runFor(t *testing.T, clk *pacertest.Clock, cfg pacer.Config, total int) ([]pacer.Tick, []time.Time, *pacer.Pacer) {
	t.Helper()
	ticks := make([]pacer.Tick, 0, total)
	sent := make([]time.Time, 0, total)
	cfg.Clock = clk
	cfg.OnTick = func(tk pacer.Tick) { ticks = append(ticks, tk) }
	p := pacer.New(cfg)
	err := p.Run(context.Background(), func(f *media.Frame) error {
		sent = append(sent, clk.Now())
		if len(sent) == total {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("Run: %v, want the sink's error", err)
	}
	return ticks, sent, p
}

// TestNoDriftTenMinutes simulates ten minutes of playout (30 000 frames) and
// checks that frame n goes out exactly at start + n×20 ms.
func TestNoDriftTenMinutes(t *testing.T) {
	const total = 30000
	clk := pacertest.NewClock(t0)
	clk.SetAuto(true, nil)
	ticks, sent, p := runFor(t, clk, pacer.Config{}, total)
	for n, tk := range ticks {
		want := t0.Add(time.Duration(n) * frame)
		if tk.Index != int64(n) || !tk.Deadline.Equal(want) || !sent[n].Equal(want) || tk.Lateness != 0 {
			t.Fatalf("slot %d: index %d deadline %v sent %v lateness %v, want deadline and send at %v",
				n, tk.Index, tk.Deadline, sent[n], tk.Lateness, want)
		}
	}
	if got, want := sent[total-1].Sub(t0), 10*time.Minute-frame; got != want {
		t.Fatalf("last frame at +%v, want +%v", got, want)
	}
	if s := p.Stats(); s.Silence != total || s.Late != 0 || s.MaxLateness != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestJitterDoesNotAccumulate wakes the pacer late by a random 0–15 ms at
// every frame for ten minutes: each frame is late by its own wake-up delay
// only, and the schedule ends where it should.
func TestJitterDoesNotAccumulate(t *testing.T) {
	const total = 30000
	r := rand.New(rand.NewPCG(7, 8))
	var jitters []time.Duration
	var sum time.Duration
	clk := pacertest.NewClock(t0)
	clk.SetAuto(true, func() time.Duration {
		j := time.Duration(r.Int64N(int64(15*time.Millisecond) + 1))
		jitters = append(jitters, j)
		sum += j
		return j
	})
	ticks, sent, p := runFor(t, clk, pacer.Config{}, total)

	var late int64
	var maxJ time.Duration
	for n := 1; n < total; n++ { // slot 0 is due at once: no wait, no jitter
		j := jitters[n-1]
		want := t0.Add(time.Duration(n) * frame)
		if !ticks[n].Deadline.Equal(want) || ticks[n].Lateness != j || sent[n].Sub(want) != j {
			t.Fatalf("slot %d: deadline %v lateness %v sent +%v, want deadline %v lateness %v",
				n, ticks[n].Deadline, ticks[n].Lateness, sent[n].Sub(want), want, j)
		}
		if j > pacer.DefaultLateAfter {
			late++
		}
		maxJ = max(maxJ, j)
	}
	end := sent[total-1].Sub(t0)
	if end < 10*time.Minute-frame || end > 10*time.Minute-frame+15*time.Millisecond {
		t.Fatalf("last frame at +%v: schedule drifted", end)
	}
	if s := p.Stats(); s.Late != late || s.MaxLateness != maxJ {
		t.Fatalf("stats %+v, want Late %d MaxLateness %v", s, late, maxJ)
	}
	t.Logf("total injected jitter %v (what a sleep(20ms) loop would have drifted); last frame error %v",
		sum, end-(10*time.Minute-frame))
}

// TestCatchUpAfterStall: one wake-up 65 ms late makes that frame and the
// ones already due go out at once, then the schedule resumes on time.
func TestCatchUpAfterStall(t *testing.T) {
	calls := 0
	clk := pacertest.NewClock(t0)
	clk.SetAuto(true, func() time.Duration {
		calls++
		if calls == 5 { // the wait for slot 5
			return 65 * time.Millisecond
		}
		return 0
	})
	ticks, _, p := runFor(t, clk, pacer.Config{}, 12)
	want := []time.Duration{0, 0, 0, 0, 0, 65, 45, 25, 5, 0, 0, 0}
	for n, tk := range ticks {
		if tk.Lateness != want[n]*time.Millisecond {
			t.Errorf("slot %d lateness %v, want %vms", n, tk.Lateness, want[n])
		}
	}
	if s := p.Stats(); s.Late != 3 || s.MaxLateness != 65*time.Millisecond {
		t.Errorf("stats %+v, want 3 late, max 65ms", s)
	}
}

// harness runs a pacer on a manual clock in a goroutine and reports every
// slot on a channel.
type harness struct {
	clk   *pacertest.Clock
	p     *pacer.Pacer
	ticks chan pacer.Tick
	sunk  chan int
	stop  context.CancelFunc
	done  chan error
}

func start(t *testing.T, cfg pacer.Config, sink func(f *media.Frame) error) *harness {
	t.Helper()
	h := &harness{
		clk:   pacertest.NewClock(t0),
		ticks: make(chan pacer.Tick, 1000),
		sunk:  make(chan int, 1000),
		done:  make(chan error, 1),
	}
	cfg.Clock = h.clk
	cfg.OnTick = func(tk pacer.Tick) { h.ticks <- tk }
	h.p = pacer.New(cfg)
	if sink == nil {
		sink = func(f *media.Frame) error {
			if f.Samples[1] == 0 {
				h.sunk <- -1 // silence
			} else {
				h.sunk <- int(f.Samples[0])
			}
			return nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- h.p.Run(ctx, sink) }()
	t.Cleanup(func() {
		cancel()
		if err := <-h.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return h
}

// slot lets one frame period pass (the first slot is due at once) and
// returns its tick.
func (h *harness) slot(t *testing.T, first bool) pacer.Tick {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !first {
		if err := h.clk.WaitArmed(ctx, 1); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(frame)
	}
	select {
	case tk := <-h.ticks:
		return tk
	case <-ctx.Done():
		t.Fatal("no tick")
	}
	return pacer.Tick{}
}

func (h *harness) frame(t *testing.T) int {
	t.Helper()
	select {
	case i := <-h.sunk:
		return i
	case <-time.After(5 * time.Second):
		t.Fatal("no frame reached the sink")
	}
	return 0
}

// TestInterruptStopsQueuedAudio is a barge-in: after a prompt played
// completely, a second prompt is cut after 7 frames; nothing of it plays
// afterwards, and the cut says how much of the second prompt was heard.
func TestInterruptStopsQueuedAudio(t *testing.T) {
	h := start(t, pacer.Config{Underrun: pacer.Skip}, nil)
	enqueue(t, h.p, 0, 5) // prompt 1
	for n := range 5 {
		if tk := h.slot(t, n == 0); tk.Kind != pacer.Audio {
			t.Fatalf("slot %d: %v", n, tk.Kind)
		}
		if got := h.frame(t); got != n {
			t.Fatalf("slot %d sent frame %d", n, got)
		}
	}
	if tk := h.slot(t, false); tk.Kind != pacer.Skipped {
		t.Fatalf("empty queue: slot kind %v, want Skipped", tk.Kind)
	}

	begin := h.p.Position().End()
	enqueue(t, h.p, 100, 150) // prompt 2: 1 s
	if pos := h.p.Position(); pos.Played != 100*time.Millisecond || pos.Queued != time.Second {
		t.Fatalf("position %+v", pos)
	}
	for n := range 7 {
		h.slot(t, false)
		if got := h.frame(t); got != 100+n {
			t.Fatalf("prompt 2 frame %d: sent %d", n, got)
		}
	}
	cut := h.p.Interrupt()
	if heard := cut.Played - begin; heard != 7*frame {
		t.Errorf("heard %v of prompt 2, want %v", heard, 7*frame)
	}
	if cut.Frames != 43 || cut.Discarded != 43*frame {
		t.Errorf("cut %+v, want 43 frames (860ms) discarded", cut)
	}
	for range 10 {
		if tk := h.slot(t, false); tk.Kind != pacer.Skipped {
			t.Fatalf("after Interrupt: slot kind %v, want Skipped", tk.Kind)
		}
	}
	select {
	case i := <-h.sunk:
		t.Fatalf("frame %d sent after Interrupt", i)
	default:
	}
	s := h.p.Stats()
	if s.Sent != 12 || s.Interrupted != 43 || s.Skipped != 11 || s.Silence != 0 {
		t.Errorf("stats %+v", s)
	}
	if pos := h.p.Position(); pos.End() != cut.Played {
		t.Errorf("after Interrupt the stream ends at %v, want %v", pos.End(), cut.Played)
	}
}

// TestInterruptDuringSend: the frame the sink is busy with counts as played
// and is the only one that goes out; the next slots carry silence.
func TestInterruptDuringSend(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []int
	inSink := make(chan int, 100)
	h := start(t, pacer.Config{}, func(f *media.Frame) error {
		i := int(f.Samples[0])
		if f.Samples[1] == 0 {
			i = -1
		}
		if f.Rate != media.Rate8k || len(f.Samples) != 160 {
			t.Errorf("frame rate %d len %d", f.Rate, len(f.Samples))
		}
		mu.Lock()
		got = append(got, i)
		mu.Unlock()
		inSink <- i
		if i == 3 {
			<-gate
		}
		return nil
	})
	enqueue(t, h.p, 0, 20)
	for n := range 4 {
		h.slot(t, n == 0)
		<-inSink
	}
	// The sink now holds frame 3.
	cut := h.p.Interrupt()
	close(gate)
	if cut.Played != 4*frame || cut.Frames != 16 {
		t.Fatalf("cut %+v, want 80ms played (frame in flight included), 16 frames dropped", cut)
	}
	for range 3 {
		if tk := h.slot(t, false); tk.Kind != pacer.Silent {
			t.Fatalf("slot kind %v, want Silent", tk.Kind)
		}
		if i := <-inSink; i != -1 {
			t.Fatalf("sent frame %d after Interrupt, want silence", i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{0, 1, 2, 3, -1, -1, -1}; !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
}

func TestEnqueueBlocksWhenFull(t *testing.T) {
	h := start(t, pacer.Config{QueueFrames: 3, Underrun: pacer.Skip}, nil)
	h.slot(t, true) // slot 0: empty queue, skipped
	enqueue(t, h.p, 0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := h.p.Enqueue(ctx, numbered(3)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enqueue on a full queue: %v, want deadline exceeded", err)
	}
	unblocked := make(chan error, 1)
	go func() { unblocked <- h.p.Enqueue(context.Background(), numbered(3)) }()
	h.slot(t, false) // sends frame 0, making room
	if err := <-unblocked; err != nil {
		t.Fatal(err)
	}
	for want := range 4 {
		if want > 0 {
			h.slot(t, false)
		}
		if got := h.frame(t); got != want {
			t.Fatalf("sent %d, want %d", got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	p := pacer.New(pacer.Config{})
	long := media.NewFrame(media.Rate8k)
	long.Samples = make([]int16, 161)
	for name, f := range map[string]*media.Frame{
		"nil":      nil,
		"empty":    {Rate: media.Rate8k},
		"no rate":  {Samples: make([]int16, 160)},
		"too long": long,
	} {
		if err := p.Enqueue(context.Background(), f); !errors.Is(err, pacer.ErrBadFrame) {
			t.Errorf("%s: %v, want ErrBadFrame", name, err)
		}
	}
	short := &media.Frame{Samples: make([]int16, 80), Rate: media.Rate8k}
	if err := p.Enqueue(context.Background(), short); err != nil {
		t.Errorf("a short last frame is fine: %v", err)
	}
}

func TestRunTwice(t *testing.T) {
	h := start(t, pacer.Config{}, nil)
	h.slot(t, true)
	if err := h.p.Run(context.Background(), func(*media.Frame) error { return nil }); !errors.Is(err, pacer.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}

func TestStopWithinOneFrame(t *testing.T) {
	h := start(t, pacer.Config{}, nil)
	enqueue(t, h.p, 0, 10)
	h.slot(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.clk.WaitArmed(ctx, 1); err != nil {
		t.Fatal(err)
	}
	h.stop() // no clock advance needed: Run returns while waiting
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup check
	case <-ctx.Done():
		t.Fatal("Run did not return after cancel")
	}
}

// TestSteadyStateAllocs plays 10 000 frames, re-enqueueing from the sink, and
// checks that the allocation count does not grow with the frame count.
func TestSteadyStateAllocs(t *testing.T) {
	clk := pacertest.NewClock(t0)
	clk.SetAuto(true, nil)
	p := pacer.New(pacer.Config{Clock: clk, QueueFrames: 8})
	in := numbered(1)
	enqueue(t, p, 0, 4)
	ctx := context.Background()
	count := func(frames int) uint64 {
		var before, after runtime.MemStats
		n := 0
		runtime.ReadMemStats(&before)
		err := p.Run(ctx, func(*media.Frame) error {
			if n++; n == frames {
				return errDone
			}
			return p.Enqueue(ctx, in)
		})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errDone) {
			t.Fatal(err)
		}
		return after.Mallocs - before.Mallocs
	}
	count(100) // warm the ring
	small, large := count(100), count(10100)
	if large > small+5 {
		t.Errorf("%d allocations for 10100 frames vs %d for 100: the per-frame path allocates", large, small)
	}
}

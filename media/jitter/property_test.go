package jitter

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomTrace draws a trace with random impairments.
func randomTrace(rng *rand.Rand) (trace, Config) {
	ptimes := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	clocks := []int{8000, 16000, 48000}
	tr := trace{
		packets: 300 + rng.IntN(700),
		ptime:   ptimes[rng.IntN(len(ptimes))],
		clock:   clocks[rng.IntN(len(clocks))],
		base:    time.Duration(rng.IntN(100)) * time.Millisecond,
		sd:      time.Duration(rng.IntN(40)) * time.Millisecond,
		loss:    rng.Float64() * 0.1,
		reorder: rng.Float64() * 0.1,
		dup:     rng.Float64() * 0.05,
		seq0:    uint16(rng.Uint32()),
		ts0:     rng.Uint32(),
		dtx:     rng.IntN(2) == 0,
		clean:   3,
	}
	if rng.IntN(4) == 0 { // force wraps inside the trace
		tr.seq0 = 65535 - uint16(rng.IntN(100))
		tr.ts0 = math.MaxUint32 - uint32(rng.IntN(20000))
	}
	minD := time.Duration(rng.IntN(60)) * time.Millisecond
	cfg := Config{
		ClockRate:      tr.clock,
		PacketDuration: tr.ptime,
		MinDelay:       minD,
		MaxDelay:       minD + time.Duration(rng.IntN(200))*time.Millisecond,
	}
	if cfg.MinDelay == 0 {
		cfg.MinDelay = time.Millisecond
	}
	cfg.MaxDelay = max(cfg.MaxDelay, cfg.MinDelay)
	cfg.InitialDelay = cfg.MinDelay + (cfg.MaxDelay-cfg.MinDelay)/2
	return tr, cfg
}

// TestPropertyRandomTraces plays many random traces and checks, besides the
// invariants play checks on every pop (at most once, in order, never before
// arrival, right payload, gap-free playout):
//
//   - every sequence number from the first to the last buffered is
//     popped, dropped to shrink, or skipped; every skipped one was lost on
//     the network or arrived late;
//   - the late and duplicate counters equal the errors Push returned;
//   - the RFC 3550 cumulative loss equals the injected loss minus the
//     duplicates received, both counted independently from the trace;
//   - the applied delay stays within [MinDelay, MaxDelay] and no packet
//     waits longer than MaxDelay plus one packet.
func TestPropertyRandomTraces(t *testing.T) {
	trials := 300
	if testing.Short() {
		trials = 50
	}
	for trial := range trials {
		rng := rand.New(rand.NewPCG(uint64(trial), 0x5eed))
		tr, cfg := randomTrace(rng)
		b, err := New(cfg)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		arr, lost, _ := tr.generate(rng)
		r := play(t, b, tr, arr)
		s := r.stats
		if len(r.popped) == 0 {
			t.Fatalf("trial %d: nothing popped", trial)
		}

		// Every accepted packet has been popped or dropped by now.
		first, last := r.startIdx, r.maxAccept
		popped := map[int]bool{}
		for _, i := range r.popped {
			popped[i] = true
		}
		gaps, unexplained := 0, 0
		for i := first; i <= last; i++ {
			if popped[i] {
				continue
			}
			gaps++
			if !lost[i] && r.lateErrs[i] == 0 {
				unexplained++ // buffered, then dropped by Pop
			}
		}
		if uint64(gaps) != s.Missing+s.Dropped || uint64(len(r.popped)) != s.Popped {
			t.Fatalf("trial %d: %d gaps, stats missing %d + dropped %d, popped %d/%d\n%+v\n%+v %+v", trial, gaps, s.Missing, s.Dropped, len(r.popped), s.Popped, s, tr, cfg)
		}
		late := 0
		for _, n := range r.lateErrs {
			late += n
		}
		// Late packets are refused by Push (an ErrLate each) or, when
		// playing them would exceed MaxDelay, dropped by Pop; Pop also
		// drops packets to shrink the delay. Nothing else is skipped.
		popLate := s.Late - uint64(late)
		if uint64(late) > s.Late || uint64(unexplained) != popLate+s.Dropped {
			t.Fatalf("trial %d: %d skipped without cause, late push %d / total %d, dropped %d", trial, unexplained, late, s.Late, s.Dropped)
		}
		if uint64(r.dupErrs) != s.Duplicates || r.pushErrs != 0 {
			t.Fatalf("trial %d: dup %d/%d other %d", trial, r.dupErrs, s.Duplicates, r.pushErrs)
		}

		// RFC 3550: the source validates on its second packet, so base is
		// packet 1 and the highest is the last received.
		maxIdx := 0
		dups := 0
		for _, a := range arr {
			maxIdx = max(maxIdx, a.idx)
			if a.dupe && a.idx >= 1 {
				dups++
			}
		}
		injected := 0
		for i := 1; i <= maxIdx; i++ {
			if lost[i] {
				injected++
			}
		}
		if s.Lost != int64(injected-dups) {
			t.Fatalf("trial %d: RFC lost %d, injected %d − duplicates %d", trial, s.Lost, injected, dups)
		}
		if s.Expected != uint32(maxIdx) || s.ExtendedHighestSeq != uint32(tr.seq0)+uint32(maxIdx) {
			t.Fatalf("trial %d: expected %d ext %d, max index %d", trial, s.Expected, s.ExtendedHighestSeq, maxIdx)
		}

		for _, d := range r.delays {
			if d < cfg.MinDelay || d > cfg.MaxDelay {
				t.Fatalf("trial %d: delay %v outside [%v, %v]", trial, d, cfg.MinDelay, cfg.MaxDelay)
			}
		}
		for i, w := range r.buffered {
			if w > cfg.MaxDelay+tr.ptime {
				t.Fatalf("trial %d: packet %d waited %v", trial, r.popped[i], w)
			}
		}
	}
}

// TestJitterMatchesRFC3550 recomputes the interarrival jitter of §6.4.1
// in floating point, straight from its definition, on random traces and
// compares it with the Buffer's integer A.8 estimator.
func TestJitterMatchesRFC3550(t *testing.T) {
	for trial := range 100 {
		rng := rand.New(rand.NewPCG(uint64(trial), 0xa8))
		tr, cfg := randomTrace(rng)
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		arr, _, _ := tr.generate(rng)
		play(t, b, tr, arr)

		// J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16 with
		// D(i,j) = (Rj - Ri) - (Sj - Si), R in timestamp units, in
		// arrival order.
		var j float64
		epoch := arr[0].at // the Buffer counts arrival from its first packet
		rts := func(a sent) float64 {
			return math.Floor(float64(a.at.Sub(epoch)) / float64(time.Second) * float64(tr.clock))
		}
		for i := 1; i < len(arr); i++ {
			d := (rts(arr[i]) - rts(arr[i-1])) - float64(int32(arr[i].ts-arr[i-1].ts))
			j += (math.Abs(d) - j) / 16
		}
		got := float64(b.Stats().Jitter)
		// The integer A.8 code rounds each step and truncates on output:
		// it stays within 1.5 units of the exact recursion.
		if math.Abs(got-j) > 1.5 {
			t.Fatalf("trial %d: jitter %v, RFC 3550 formula %v", trial, got, j)
		}
		if want := time.Duration(got * float64(time.Second) / float64(tr.clock)); b.Stats().JitterDuration-want > time.Microsecond || want-b.Stats().JitterDuration > time.Microsecond {
			t.Fatalf("trial %d: JitterDuration %v, want %v", trial, b.Stats().JitterDuration, want)
		}
	}
}

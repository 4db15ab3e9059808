package jitter

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// trace describes a simulated network path.
type trace struct {
	packets  int
	ptime    time.Duration
	clock    int
	base     time.Duration // fixed network delay
	sd       time.Duration // |N(0, sd)| added to each packet
	loss     float64
	reorder  float64 // probability a packet is held 1–2 packets longer
	dup      float64
	seq0     uint16
	ts0      uint32
	dtx      bool // talkspurts of ~1 s with ~0.5 s silences, marker bits set
	clean    int  // first packets sent without perturbation
	tickSkew time.Duration
}

type sent struct {
	idx    int // index in send order (extended sequence offset)
	seq    uint16
	ts     uint32
	marker bool
	send   time.Time
	at     time.Time
	dupe   bool
}

// generate returns the arrivals of tr (sorted by arrival) and, per index,
// whether the packet was lost and its send time.
func (tr trace) generate(rng *rand.Rand) (arr []sent, lost []bool, sendAt []time.Time) {
	step := uint32(int64(tr.clock) * int64(tr.ptime) / int64(time.Second))
	ts := tr.ts0
	send := t0
	talk := 0
	for i := range tr.packets {
		marker := i == 0
		if tr.dtx && i > 0 {
			talk++
			if talk >= 50 && rng.IntN(10) == 0 { // silence of 10–40 packets
				gap := 10 + rng.IntN(30)
				ts += uint32(gap) * step
				send = send.Add(time.Duration(gap) * tr.ptime)
				marker, talk = true, 0
			}
		}
		p := sent{idx: i, seq: tr.seq0 + uint16(i), ts: ts, marker: marker, send: send}
		sendAt = append(sendAt, send)
		ts += step
		send = send.Add(tr.ptime)
		if i >= tr.clean && rng.Float64() < tr.loss {
			lost = append(lost, true)
			continue
		}
		lost = append(lost, false)
		d := tr.base
		if i >= tr.clean {
			d += time.Duration(math.Abs(rng.NormFloat64()) * float64(tr.sd))
			if rng.Float64() < tr.reorder {
				d += tr.ptime + time.Duration(rng.Int64N(int64(tr.ptime)))
			}
		}
		p.at = p.send.Add(d)
		arr = append(arr, p)
		if i >= tr.clean && rng.Float64() < tr.dup {
			q := p
			q.dupe = true
			q.at = q.at.Add(time.Duration(rng.Int64N(int64(3 * tr.ptime))))
			arr = append(arr, q)
		}
	}
	slices.SortStableFunc(arr, func(a, b sent) int { return a.at.Compare(b.at) })
	return arr, lost, sendAt
}

func payloadOf(idx int) []byte {
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(idx)*0x9e3779b97f4a7c15)
	return p[:]
}

// run is the outcome of playing a trace through a Buffer.
type run struct {
	popped    []int // indexes in pop order
	popAt     []time.Time
	added     []time.Duration // playout − (send + base)
	buffered  []time.Duration // playout − arrival
	lostRes   int
	lateErrs  map[int]int
	dupErrs   int
	pushErrs  int
	pushes    int
	stats     Stats
	delays    []time.Duration // Stats().Delay after each pop
	firstPlay time.Time
	playTotal time.Duration
	startIdx  int // lowest index pushed before the first result
	maxAccept int // highest index Push accepted
}

// play feeds tr's arrivals to b and pops on a 20 ms tick; it checks the
// invariants that hold for every trace as it goes.
func play(t testing.TB, b *Buffer, tr trace, arr []sent) run {
	r := run{lateErrs: map[int]int{}, startIdx: -1}
	seen := map[int]bool{}
	byIdx := map[int]sent{}
	for _, a := range arr {
		if !a.dupe {
			byIdx[a.idx] = a
		}
	}
	hdr := rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x1234}
	tick := t0.Add(tr.ptime/3 + tr.tickSkew)
	end := arr[len(arr)-1].at.Add(time.Second)
	i := 0
	for ; !tick.After(end); tick = tick.Add(tr.ptime) {
		for i < len(arr) && !arr[i].at.After(tick) {
			a := arr[i]
			hdr.SequenceNumber, hdr.Timestamp, hdr.Marker = a.seq, a.ts, a.marker
			r.pushes++
			if r.firstPlay.IsZero() && (r.startIdx < 0 || a.idx < r.startIdx) {
				r.startIdx = a.idx
			}
			err := b.PushHeader(&hdr, payloadOf(a.idx), a.at)
			switch {
			case err == nil:
				r.maxAccept = max(r.maxAccept, a.idx)
			case isErr(err, ErrLate):
				r.lateErrs[a.idx]++
			case isErr(err, ErrDuplicate):
				r.dupErrs++
			default:
				r.pushErrs++
			}
			i++
		}
		for {
			res := b.Pop(tick)
			if res.Kind == None {
				break
			}
			if r.firstPlay.IsZero() {
				r.firstPlay = res.Playout
			} else if want := r.firstPlay.Add(r.playTotal); !res.Playout.Equal(want) {
				t.Fatalf("playout %v, want continuous %v", res.Playout.Sub(t0), want.Sub(t0))
			}
			r.playTotal += res.Duration
			if res.Playout.After(tick) {
				t.Fatalf("popped audio for %v at %v", res.Playout.Sub(t0), tick.Sub(t0))
			}
			if res.Kind == Lost {
				r.lostRes++
				continue
			}
			idx := int(uint16(res.Packet.SequenceNumber - tr.seq0))
			// unwrap beyond 65536 packets
			for len(r.popped) > 0 && idx < r.popped[len(r.popped)-1] {
				idx += 1 << 16
			}
			if seen[idx] {
				t.Fatalf("packet %d popped twice", idx)
			}
			seen[idx] = true
			if len(r.popped) > 0 && idx <= r.popped[len(r.popped)-1] {
				t.Fatalf("packet %d popped after %d", idx, r.popped[len(r.popped)-1])
			}
			s, ok := byIdx[idx]
			if !ok {
				t.Fatalf("popped packet %d that was never sent", idx)
			}
			if tick.Before(s.at) {
				t.Fatalf("packet %d popped at %v before its arrival %v", idx, tick.Sub(t0), s.at.Sub(t0))
			}
			if string(res.Packet.Payload) != string(payloadOf(idx)) {
				t.Fatalf("packet %d has the payload of another", idx)
			}
			r.popped = append(r.popped, idx)
			r.popAt = append(r.popAt, tick)
			r.added = append(r.added, res.Playout.Sub(s.send.Add(tr.base)))
			r.buffered = append(r.buffered, res.Playout.Sub(s.at))
			r.delays = append(r.delays, b.Stats().Delay)
		}
	}
	r.stats = b.Stats()
	if r.stats.Queued != 0 {
		t.Fatalf("%d packets left in the buffer after the trace", r.stats.Queued)
	}
	return r
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	if len(d) == 0 {
		return 0
	}
	return sum / time.Duration(len(d))
}

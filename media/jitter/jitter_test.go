package jitter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func ms(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }

// tb is a test bench: a Buffer at 8 kHz with 20 ms packets and fixed 40 ms
// delay unless the config says otherwise.
type tb struct {
	t *testing.T
	b *Buffer
}

func newTB(t *testing.T, cfg Config) *tb {
	t.Helper()
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &tb{t, b}
}

func fixed(d time.Duration) Config {
	return Config{ClockRate: 8000, MinDelay: d, MaxDelay: d, InitialDelay: d}
}

func (x *tb) push(seq uint16, ts uint32, atMS float64, opts ...func(*rtp.Header)) error {
	h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 7}
	for _, o := range opts {
		o(&h)
	}
	return x.b.PushHeader(&h, []byte(fmt.Sprint(seq)), ms(atMS))
}

func (x *tb) mustPush(seq uint16, ts uint32, atMS float64, opts ...func(*rtp.Header)) {
	x.t.Helper()
	if err := x.push(seq, ts, atMS, opts...); err != nil {
		x.t.Fatalf("push %d: %v", seq, err)
	}
}

// pops pops at atMS until None and describes the results: "5" for packet 5,
// "L" for a 20 ms loss, "L5ms" for a shorter one.
func (x *tb) pops(atMS float64) string {
	var out []string
	for {
		r := x.b.Pop(ms(atMS))
		switch r.Kind {
		case None:
			return strings.Join(out, " ")
		case Lost:
			if r.Duration == 20*time.Millisecond {
				out = append(out, "L")
			} else {
				out = append(out, "L"+r.Duration.String())
			}
		case Packet:
			if string(r.Packet.Payload) != fmt.Sprint(r.Packet.SequenceNumber) {
				x.t.Fatalf("packet %d carries payload %q", r.Packet.SequenceNumber, r.Packet.Payload)
			}
			out = append(out, fmt.Sprint(r.Packet.SequenceNumber))
		}
		if len(out) > 1000 {
			x.t.Fatal("Pop never returns None")
		}
	}
}

func (x *tb) expect(atMS float64, want string) {
	x.t.Helper()
	if got := x.pops(atMS); got != want {
		x.t.Fatalf("at %vms: popped %q, want %q", atMS, got, want)
	}
}

func marker(h *rtp.Header) { h.Marker = true }

func ssrc(s uint32) func(*rtp.Header) { return func(h *rtp.Header) { h.SSRC = s } }

func TestInOrder(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.expect(0, "")
	x.mustPush(100, 1000, 0)
	x.expect(39, "") // buffering
	x.mustPush(101, 1160, 20)
	x.expect(40, "100")
	x.expect(59, "")
	x.mustPush(102, 1320, 40)
	x.expect(60, "101")
	x.expect(80, "102")
	s := x.b.Stats()
	if s.Popped != 3 || s.Missing != 0 || s.Late != 0 || s.Delay != 40*time.Millisecond {
		t.Fatalf("stats %+v", s)
	}
}

func TestReorder(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.mustPush(3, 480, 41)
	x.mustPush(2, 320, 45) // after 3, before its due time 60
	x.expect(40, "1")
	x.expect(60, "2")
	x.expect(80, "3")
	if s := x.b.Stats(); s.Missing != 0 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReorderBeforeStart(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(2, 320, 0)
	x.mustPush(1, 160, 5)
	x.expect(40, "1 2") // 1 was due at 20+40-20… it plays first
}

func TestDuplicate(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	if err := x.push(1, 160, 1); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("queued copy: %v", err)
	}
	x.mustPush(2, 320, 20)
	x.expect(40, "1")
	if err := x.push(1, 160, 45); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("played copy: %v", err)
	}
	x.expect(60, "2")
	if s := x.b.Stats(); s.Duplicates != 2 || s.Popped != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLossConcealed(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.mustPush(3, 480, 40)
	x.mustPush(4, 640, 60)
	x.expect(40, "1")
	x.expect(60, "L") // 2 never came
	x.expect(80, "3")
	x.expect(100, "4")
	x.expect(120, "L") // stream stopped: keep concealing
	r := x.b.Pop(ms(140))
	if r.Kind != Lost || r.Consecutive != 2 || r.Samples != 160 {
		t.Fatalf("%+v", r)
	}
	if s := x.b.Stats(); s.Missing != 1 || s.Concealed != 3 || s.Popped != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLate(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.mustPush(3, 480, 40)
	x.expect(40, "1")
	x.expect(60, "L")
	if err := x.push(2, 320, 61); !errors.Is(err, ErrLate) {
		t.Fatalf("2 after its slot: %v", err)
	}
	x.expect(80, "3")
	if err := x.push(2, 320, 81); !errors.Is(err, ErrLate) {
		t.Fatalf("2 after its successor: %v", err)
	}
	// A packet whose time was concealed while the buffer was empty.
	x.expect(100, "L")
	if err := x.push(4, 640, 121); !errors.Is(err, ErrLate) {
		t.Fatalf("4 after its concealment: %v", err)
	}
	x.mustPush(5, 800, 122)
	x.expect(120, "5")
	if s := x.b.Stats(); s.Late != 3 || s.Missing != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	seq := uint16(65533)
	ts := uint32(1<<32 - 320)
	var want []string
	for i := range 6 {
		x.mustPush(seq, ts, float64(20*i))
		want = append(want, fmt.Sprint(seq))
		seq++
		ts += 160
	}
	got := x.pops(140)
	if got != strings.Join(want, " ") {
		t.Fatalf("popped %q, want %q", got, want)
	}
	s := x.b.Stats()
	if s.ExtendedHighestSeq != 1<<16+2 || s.Missing != 0 || s.Lost != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSequenceJumpResyncs(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.mustPush(2, 320, 20)
	x.expect(40, "1")
	// One stray packet far ahead is dropped …
	if err := x.push(30000, 999999, 25); !errors.Is(err, ErrJump) {
		t.Fatalf("stray: %v", err)
	}
	x.expect(60, "2")
	// … two in sequence are a restarted stream.
	if err := x.push(5000, 50000, 70); !errors.Is(err, ErrJump) {
		t.Fatalf("jump: %v", err)
	}
	x.mustPush(5001, 50160, 90)
	x.mustPush(5002, 50320, 110)
	x.expect(80, "L")
	x.expect(100, "L")
	x.expect(120, "L10ms") // 5001 arrived at 90: due at 130
	x.expect(130, "5001")
	x.expect(150, "5002")
	if s := x.b.Stats(); s.Jumps != 2 || s.Resyncs != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestTimestampJumpResyncs(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.expect(40, "1")
	// The sender's timestamp leaps an hour ahead with no silence: without a
	// resync packet 2 would wait an hour.
	x.mustPush(2, 160+8000*3600, 20)
	x.mustPush(3, 320+8000*3600, 40)
	x.expect(60, "2")
	x.expect(80, "3")
	// And backwards.
	x.mustPush(4, 480, 60)
	x.expect(100, "4")
	if s := x.b.Stats(); s.Resyncs != 2 || s.Missing != 0 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSSRCChange(t *testing.T) {
	x := newTB(t, fixed(40*time.Millisecond))
	x.mustPush(1, 160, 0)
	x.mustPush(2, 320, 20)
	x.expect(40, "1")
	x.mustPush(900, 7777, 50, ssrc(99))
	if s := x.b.Stats(); s.SSRCChanges != 1 || s.Discarded != 1 || s.SSRC != 99 {
		t.Fatalf("stats %+v", s)
	}
	x.expect(60, "") // buffering the new stream
	x.expect(90, "900")
	x.mustPush(901, 7937, 70, ssrc(99))
	x.expect(110, "901")
}

func TestTalkspurtShrinks(t *testing.T) {
	// Jitter early in the call raises the delay; a calm talkspurt later
	// brings it down at its start, inside the silence.
	x := newTB(t, Config{ClockRate: 8000, MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond})
	seq, ts := uint16(0), uint32(0)
	var now float64
	for i := range 40 {
		at := float64(20 * i)
		if i%5 == 4 {
			at += 90 // every fifth packet 90 ms late
		}
		x.mustPush(seq, ts, at)
		seq++
		ts += 160
		now = float64(20 * i)
		x.pops(now)
	}
	high := x.b.Stats().Delay
	if high < 80*time.Millisecond {
		t.Fatalf("delay %v after 90 ms spikes", high)
	}
	// Talkspurt of calm packets long enough to push the spikes out of the
	// window, but without marker nothing shrinks (the drop needs 2 s).
	for i := range Window {
		now += 20
		x.mustPush(seq, ts, now)
		if i == 0 {
			ts += 160 * 25 // 0.5 s of silence
			now += 500
		}
		seq++
		ts += 160
		x.pops(now)
	}
	before := x.b.Stats()
	// The next talkspurt starts after a silence, with its marker bit.
	now += 1000
	ts += 8000
	x.mustPush(seq, ts, now, marker)
	x.pops(now + 200)
	after := x.b.Stats()
	if after.Delay >= high || after.Delay != after.TargetDelay {
		t.Fatalf("delay %v → %v → %v (target %v)", high, before.Delay, after.Delay, after.TargetDelay)
	}
}

func TestGrowsOnJitter(t *testing.T) {
	x := newTB(t, Config{ClockRate: 8000})
	seq, ts := uint16(0), uint32(0)
	for i := range 200 {
		at := float64(20 * i)
		if i >= 50 && i%3 == 0 {
			at += 70
		}
		x.push(seq, ts, at)
		seq++
		ts += 160
		x.pops(float64(20 * i))
	}
	s := x.b.Stats()
	if s.TargetDelay < 70*time.Millisecond || s.Delay < s.TargetDelay {
		t.Fatalf("stats %+v", s)
	}
	if s.Late > 20 {
		t.Fatalf("%d late packets: delay grew too slowly", s.Late)
	}
}

func TestDelayBounds(t *testing.T) {
	x := newTB(t, Config{ClockRate: 8000, MinDelay: 30 * time.Millisecond, MaxDelay: 60 * time.Millisecond})
	for i := range 300 {
		at := float64(20 * i)
		if i%2 == 0 {
			at += 150 // far beyond MaxDelay
		}
		x.push(uint16(i), uint32(160*i), at)
		x.pops(float64(20 * i))
		s := x.b.Stats()
		if s.TargetDelay < 30*time.Millisecond || s.TargetDelay > 60*time.Millisecond {
			t.Fatalf("target %v outside bounds", s.TargetDelay)
		}
		if s.Delay < 30*time.Millisecond || s.Delay > 60*time.Millisecond {
			t.Fatalf("delay %v outside bounds", s.Delay)
		}
	}
}

func TestVariablePacketDuration(t *testing.T) {
	// 30 ms packets, then 10 ms packets, at 48 kHz.
	x := newTB(t, Config{ClockRate: 48000, MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond, InitialDelay: 40 * time.Millisecond})
	var ts uint32
	var at float64
	seq := uint16(0)
	for range 10 {
		x.mustPush(seq, ts, at)
		seq++
		ts += 1440
		at += 30
	}
	for range 10 {
		x.mustPush(seq, ts, at)
		seq++
		ts += 480
		at += 10
	}
	var got []string
	var total time.Duration
	for now := 0.0; now < 500; now += 20 {
		for {
			r := x.b.Pop(ms(now))
			if r.Kind == None {
				break
			}
			if r.Kind == Lost {
				t.Fatalf("loss at %vms with every packet present", now)
			}
			total += r.Duration
			got = append(got, fmt.Sprint(r.Packet.SequenceNumber))
			if len(got) == 20 {
				break
			}
		}
		if len(got) == 20 {
			break
		}
	}
	if len(got) != 20 || total != 400*time.Millisecond {
		t.Fatalf("popped %v, %v of audio", got, total)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{},
		{ClockRate: -1},
		{ClockRate: 8000, MinDelay: 50 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
		{ClockRate: 8000, InitialDelay: time.Second},
		{ClockRate: 8000, Quantile: 1.5},
		{ClockRate: 8000, PacketDuration: time.Microsecond},
		{ClockRate: 8000, Capacity: 1 << 20},
		{ClockRate: 8000, MaxPayload: -1},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	b, err := New(Config{ClockRate: 48000, Capacity: 100})
	if err != nil {
		t.Fatal(err)
	}
	if c := b.Config(); c.Capacity != 128 || c.PacketDuration != 20*time.Millisecond {
		t.Fatalf("%+v", c)
	}
}

func TestBadInput(t *testing.T) {
	x := newTB(t, Config{ClockRate: 8000, MaxPayload: 4})
	if err := x.b.Push(nil, t0); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if err := x.b.PushRaw([]byte{0x80, 0}, t0); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if err := x.b.Push(&rtp.Packet{Header: rtp.Header{Version: 1}}, t0); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if err := x.b.Push(&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, 5)}, t0); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
	if s := x.b.Stats(); s.Rejected != 4 || s.Pushed != 4 {
		t.Fatalf("stats %+v", s)
	}
	if r := x.b.Pop(t0.Add(time.Hour)); r.Kind != None {
		t.Fatalf("%+v", r)
	}
}

func TestPushRaw(t *testing.T) {
	x := newTB(t, fixed(20*time.Millisecond))
	raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 9, Timestamp: 90, SSRC: 5, PayloadType: 8, Marker: true},
		Payload: []byte("abc")}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := x.b.PushRaw(raw, t0); err != nil {
		t.Fatal(err)
	}
	r := x.b.Pop(ms(20))
	if p := r.Packet; r.Kind != Packet || p.SequenceNumber != 9 || p.Timestamp != 90 || p.SSRC != 5 ||
		p.PayloadType != 8 || !p.Marker || string(p.Payload) != "abc" || !p.Arrival.Equal(t0) || !r.Playout.Equal(ms(20)) {
		t.Fatalf("%+v", r)
	}
}

func TestKindString(t *testing.T) {
	if None.String() != "none" || Packet.String() != "packet" || Lost.String() != "lost" || Kind(9).String() != "Kind(9)" {
		t.Fatal("kind names")
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	b, err := New(Config{ClockRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}).Marshal()
	hdr := rtp.Header{Version: 2, SSRC: 1}
	pl := make([]byte, 160)
	i := 0
	step := func() {
		at := t0.Add(time.Duration(i)*20*time.Millisecond + time.Duration(i*7919%13)*time.Millisecond)
		if i%2 == 0 {
			hdr.SequenceNumber, hdr.Timestamp = uint16(i), uint32(160*i)
			_ = b.PushHeader(&hdr, pl, at)
		} else {
			raw[2], raw[3] = byte(i>>8), byte(i)
			ts := uint32(160 * i)
			raw[4], raw[5], raw[6], raw[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			_ = b.PushRaw(raw, at)
		}
		for b.Pop(at).Kind != None {
		}
		i++
	}
	for range 2000 {
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
	if b.Stats().Popped < 2500 {
		t.Fatalf("only %d popped", b.Stats().Popped)
	}
}

func TestConcealer(t *testing.T) {
	c := NewConcealer(4)
	out := make([]int16, 4)
	if c.Conceal(out); out[0] != 0 {
		t.Fatal("no history must give silence")
	}
	c = NewConcealer(4)
	c.Good([]int16{1000, 2000, 3000, 4000})
	c.Conceal(out)
	if out[0] != 1000 || out[3] <= 2000 || out[3] >= 4000 {
		t.Fatalf("first concealed frame %v", out)
	}
	c.Conceal(out)
	c.Conceal(out)
	if out[3] >= 4000/3 {
		t.Fatalf("third concealed frame not faded: %v", out)
	}
	c.Conceal(out)
	if out != nil && (out[0] != 0 || out[3] != 0) {
		t.Fatalf("after %d frames still %v", FadeFrames, out)
	}
	good := []int16{8000, 8000, 8000, 8000}
	c.Good(good)
	if good[0] >= 8000 {
		t.Fatalf("no ramp-in after loss: %v", good)
	}
	if n := testing.AllocsPerRun(100, func() { c.Conceal(out); c.Good(good) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

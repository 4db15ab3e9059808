// Package jitter implements an adaptive RTP jitter buffer with RFC 3550
// reception statistics.
//
// A telephony leg pushes every received RTP packet into a [Buffer] with its
// arrival time ([Buffer.Push], [Buffer.PushRaw]) and, on its 20 ms playout
// tick, pulls what is due ([Buffer.Pop]): the next packet in sequence order,
// a [Lost] marker telling the caller to run its codec's concealment for the
// given duration, or [None] when nothing is due (before the first packet,
// while buffering, or while the previous audio still plays). Payloads are
// copied into storage preallocated at construction: the steady state
// allocates nothing.
//
// # Playout model
//
// Every packet has a presentation time derived from its RTP timestamp on the
// receiver's clock. Its transit is arrival − presentation time; the buffer
// keeps the transits of the last [Window] packets, the smallest of which is
// the reference (the fastest recent path). A packet is due at presentation
// time + reference + delay. The audio cursor (the playout time of the next
// audio to hand out) advances by the duration of each packet or concealment
// returned, so the caller always gets gap-free, non-overlapping audio.
//
// Packet durations come from the timestamps of consecutive packets, so
// other or varying packet times work; Config.PacketDuration is only the
// fallback and the size of a concealment.
//
// # Adaptive delay
//
// The target delay is the [Config.Quantile] (0.98 by default) of the recent
// transits above the reference, clamped to [MinDelay, MaxDelay]. It grows
// fast and shrinks slowly:
//
//   - Growth is applied at once when the target exceeds the delay by a
//     quarter packet or more: the next packet becomes due later and the
//     caller conceals the inserted time (or it falls into a silence).
//   - Shrinking happens at talkspurt starts (marker bit, or a timestamp gap
//     not explained by missing sequence numbers, i.e. the silence of
//     DTX/VAD): the silence is shortened, nothing audible is cut.
//   - A continuous stream without talkspurts whose delay stays a whole
//     packet above target for Config.ShrinkHold (2 s by default) drops one
//     packet (counted in Stats.Dropped). A negative ShrinkHold disables
//     dropping.
//   - The delay never exceeds MaxDelay when Pop returns: a packet that
//     could only play later than that is dropped as late.
//
// # Discontinuities
//
// Reordering and duplicates are handled within the ring. A packet whose
// sequence number is too far ahead to fit in the ring is held back; if the
// next packet follows it, the stream restarted: the buffer is flushed and
// resumes there. A timestamp whose transit departs from the reference by
// more than [Config.ResyncThreshold] is a timestamp discontinuity: the
// timestamp-to-time mapping is rebased on it. A new SSRC resets the stream.
// Sequence numbers and timestamps are unwrapped to 64 bits, so wrapping at
// 65535 and 2^32 is invisible.
//
// # Statistics
//
// [Buffer.Stats] reports the RFC 3550 figures (A.1 sequence validation with
// probation, A.3 cumulative and extended highest sequence number, A.8
// interarrival jitter) next to the playout counters; [Buffer.ReceptionReport]
// computes the fraction lost since the previous report as A.3 does.
//
// A Buffer is not safe for concurrent use: the leg that owns it serialises
// Push and Pop (or guards them with a mutex).
package jitter

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pion/rtp"
)

// Window is the number of recent packets the delay estimate looks at (about
// 10 s of 20 ms packets).
const Window = 512

// Errors returned by Push. Callers usually only count them; ErrLate and
// ErrDuplicate are normal on real networks.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("jitter: invalid config")
	// ErrMalformed reports a packet that is not RTP version 2 or nil.
	ErrMalformed = errors.New("jitter: malformed RTP packet")
	// ErrTooLarge reports a payload larger than Config.MaxPayload.
	ErrTooLarge = errors.New("jitter: payload too large")
	// ErrDuplicate reports a copy of a packet already buffered or played.
	ErrDuplicate = errors.New("jitter: duplicate packet")
	// ErrLate reports a packet whose playout time has passed.
	ErrLate = errors.New("jitter: late packet")
	// ErrJump reports a packet whose sequence number jumped beyond the
	// buffer; it is dropped unless the next packet confirms the jump.
	ErrJump = errors.New("jitter: sequence number jump")
)

// Config sets up a [Buffer]. Zero fields take the documented defaults.
type Config struct {
	// ClockRate is the RTP clock rate in Hz (8000 for PCMU, PCMA and G.722,
	// 48000 for Opus). Required.
	ClockRate int
	// PacketDuration is the nominal packet time, used before durations can
	// be measured and as the length of a concealment. Default 20 ms.
	PacketDuration time.Duration
	// MinDelay and MaxDelay bound the playout delay. Defaults 20 ms and
	// 200 ms.
	MinDelay, MaxDelay time.Duration
	// InitialDelay is the delay until the estimate has enough packets.
	// Default: MinDelay + 2 packets, at most MaxDelay.
	InitialDelay time.Duration
	// Quantile of the transit distribution the delay covers, in (0,1].
	// Default 0.98.
	Quantile float64
	// ShrinkHold is how long a continuous stream stays a packet above target
	// before one packet is dropped; negative disables it. Default 2 s.
	ShrinkHold time.Duration
	// ResyncThreshold is the transit departure treated as a timestamp
	// discontinuity. Default 2 s + MaxDelay.
	ResyncThreshold time.Duration
	// Capacity is the number of packet slots (rounded up to a power of
	// two). Default: room for 4 × MaxDelay of packets, at least 64.
	Capacity int
	// MaxPayload is the largest payload stored, in bytes. Default 1500.
	MaxPayload int
}

func (c Config) normalized() (Config, error) {
	if c.ClockRate <= 0 || c.ClockRate > 10_000_000 {
		return c, fmt.Errorf("%w: clock rate %d Hz", ErrConfig, c.ClockRate)
	}
	if c.PacketDuration == 0 {
		c.PacketDuration = 20 * time.Millisecond
	}
	if c.MinDelay == 0 {
		c.MinDelay = 20 * time.Millisecond
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 200 * time.Millisecond
	}
	if c.PacketDuration < time.Millisecond || c.PacketDuration > time.Second {
		return c, fmt.Errorf("%w: packet duration %v outside 1ms…1s", ErrConfig, c.PacketDuration)
	}
	if c.MinDelay < 0 || c.MaxDelay < c.MinDelay || c.MaxDelay > 10*time.Second {
		return c, fmt.Errorf("%w: delay bounds %v…%v", ErrConfig, c.MinDelay, c.MaxDelay)
	}
	if c.InitialDelay == 0 {
		c.InitialDelay = min(c.MinDelay+2*c.PacketDuration, c.MaxDelay)
	}
	if c.InitialDelay < c.MinDelay || c.InitialDelay > c.MaxDelay {
		return c, fmt.Errorf("%w: initial delay %v outside %v…%v", ErrConfig, c.InitialDelay, c.MinDelay, c.MaxDelay)
	}
	if c.Quantile == 0 {
		c.Quantile = 0.98
	}
	if !(c.Quantile > 0 && c.Quantile <= 1) {
		return c, fmt.Errorf("%w: quantile %v", ErrConfig, c.Quantile)
	}
	if c.ShrinkHold == 0 {
		c.ShrinkHold = 2 * time.Second
	}
	if c.ResyncThreshold == 0 {
		c.ResyncThreshold = 2*time.Second + c.MaxDelay
	}
	if c.ResyncThreshold <= c.MaxDelay {
		return c, fmt.Errorf("%w: resync threshold %v not above max delay", ErrConfig, c.ResyncThreshold)
	}
	if c.Capacity == 0 {
		c.Capacity = max(64, int(4*c.MaxDelay/c.PacketDuration))
	}
	if c.Capacity < 4 || c.Capacity > 1<<15 {
		return c, fmt.Errorf("%w: capacity %d outside 4…32768", ErrConfig, c.Capacity)
	}
	n := 4
	for n < c.Capacity {
		n <<= 1
	}
	c.Capacity = n
	if c.MaxPayload == 0 {
		c.MaxPayload = 1500
	}
	if c.MaxPayload < 0 || c.MaxPayload > 65536 {
		return c, fmt.Errorf("%w: max payload %d", ErrConfig, c.MaxPayload)
	}
	return c, nil
}

// Kind says what [Buffer.Pop] returned.
type Kind uint8

// The kinds of [Result].
const (
	// None: nothing is due now.
	None Kind = iota
	// Packet: the next packet, in Result.Packet.
	Packet
	// Lost: no packet for this stretch; conceal Result.Duration of audio.
	Lost
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Packet:
		return "packet"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// RTPPacket is a packet handed out by [Buffer.Pop]. Payload points into the
// Buffer and stays valid until the next call to Pop.
type RTPPacket struct {
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	PayloadType    uint8
	Marker         bool
	Payload        []byte
	// Arrival is the arrival time given to Push.
	Arrival time.Time
}

// Result is what [Buffer.Pop] returns.
type Result struct {
	Kind Kind
	// Packet is set when Kind is Packet.
	Packet RTPPacket
	// Playout is when this audio is scheduled to start.
	Playout time.Time
	// Duration is the audio this result covers (packet or concealment).
	Duration time.Duration
	// Samples is Duration in RTP timestamp units.
	Samples int
	// Consecutive counts the Lost results in a row, this one included
	// (0 for a packet). A run that does not end is the silence of a
	// sender that stopped (DTX); concealers fade out after a few frames.
	Consecutive int
}

type slotState uint8

const (
	slotEmpty slotState = iota
	slotQueued
	slotPlayed
)

type slot struct {
	state   slotState
	marker  bool
	pt      uint8
	seq     int64 // extended sequence number
	ts      int64 // extended timestamp
	pts     int64 // presentation time, ns on the local timeline
	arrival int64 // ns since epoch
	rawTS   uint32
	n       int
	buf     []byte
}

// Buffer is an adaptive RTP jitter buffer for one stream. Create it with
// [New]; see the package documentation for the playout model.
type Buffer struct {
	cfg                      Config
	clock                    int64
	nominal, nominalTS       int64 // packet duration in ns and ts units
	minD, maxD, growStep     int64
	shrinkHold, resyncThresh int64

	slots []slot
	mask  int64
	out   []byte
	raw   rtp.Packet

	epoch     time.Time
	haveEpoch bool

	active   bool
	ssrc     uint32
	hiSeq    int64 // highest extended seq stored
	hiTS     int64 // extended ts of hiSeq
	nextSeq  int64
	queued   int
	jumpSeq  int64 // seq that would confirm a jump, -1 if none
	tsBase   int64
	ptsBase  int64
	durTS    int64 // last measured packet duration, ts units
	started  bool
	head     int64 // audio cursor, ns since epoch
	lastSeq  int64 // last played extended seq (-1: none)
	lastEnd  int64 // extended ts where the last played packet ended
	consec   int
	excessAt int64 // when the continuous excess started, -1 if none

	// delay estimator
	win    [Window]int64
	winN   int
	winPos int
	hist   []int32
	bw     int64
	ref    int64
	target int64
	offset int64 // due = pts + offset

	rs     rfcSource
	srNTP  uint32 // middle 32 bits of the last SR's NTP time
	srAt   int64
	haveSR bool
	st     Stats
}

// New returns a Buffer for cfg, with all storage allocated.
func New(cfg Config) (*Buffer, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	b := &Buffer{cfg: c, clock: int64(c.ClockRate)}
	b.nominal = int64(c.PacketDuration)
	b.nominalTS = max(1, b.nsToTS(b.nominal))
	b.minD, b.maxD = int64(c.MinDelay), int64(c.MaxDelay)
	b.growStep = b.nominal / 4
	b.shrinkHold = int64(c.ShrinkHold)
	b.resyncThresh = int64(c.ResyncThreshold)
	b.slots = make([]slot, c.Capacity)
	b.mask = int64(c.Capacity - 1)
	store := make([]byte, c.Capacity*c.MaxPayload)
	for i := range b.slots {
		b.slots[i].buf = store[i*c.MaxPayload : (i+1)*c.MaxPayload : (i+1)*c.MaxPayload]
	}
	b.out = make([]byte, c.MaxPayload)
	b.bw = max(int64(time.Millisecond), b.maxD/1024)
	b.hist = make([]int32, b.maxD/b.bw+2)
	b.raw.CSRC = make([]uint32, 0, 15)
	b.raw.Extensions = make([]rtp.Extension, 0, 16)
	b.reset()
	return b, nil
}

// Config returns the Buffer's configuration with defaults filled in.
func (b *Buffer) Config() Config { return b.cfg }

func (b *Buffer) reset() {
	for i := range b.slots {
		b.slots[i].state = slotEmpty
	}
	b.active = false
	b.queued = 0
	b.jumpSeq = -1
	b.durTS = b.nominalTS
	b.started = false
	b.lastSeq = -1
	b.consec = 0
	b.excessAt = -1
	b.winN, b.winPos = 0, 0
	clear(b.hist)
	b.target = int64(b.cfg.InitialDelay)
	b.haveSR = false
}

// tsToNS converts a timestamp difference to nanoseconds without overflow.
func (b *Buffer) tsToNS(d int64) int64 {
	return d/b.clock*1e9 + d%b.clock*1e9/b.clock
}

// nsToTS converts nanoseconds to timestamp units, rounding to nearest.
func (b *Buffer) nsToTS(ns int64) int64 {
	s, r := ns/1e9, ns%1e9
	return s*b.clock + (r*b.clock+5e8)/1e9
}

func (b *Buffer) ptsOf(ts int64) int64 { return b.ptsBase + b.tsToNS(ts-b.tsBase) }

// Push stores a copy of p's payload, which arrived at arrival. It returns
// nil when the packet was buffered, or an error saying why it was dropped
// (ErrLate, ErrDuplicate, ErrJump, ErrTooLarge, ErrMalformed). p is not
// retained.
func (b *Buffer) Push(p *rtp.Packet, arrival time.Time) error {
	if p == nil {
		b.st.Pushed++
		b.st.Rejected++
		return fmt.Errorf("%w: nil packet", ErrMalformed)
	}
	return b.PushHeader(&p.Header, p.Payload, arrival)
}

// PushRaw parses buf as an RTP packet (without allocating in steady state)
// and pushes it; see [Buffer.Push].
func (b *Buffer) PushRaw(buf []byte, arrival time.Time) error {
	if err := b.raw.Unmarshal(buf); err != nil {
		b.st.Pushed++
		b.st.Rejected++
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b.PushHeader(&b.raw.Header, b.raw.Payload, arrival)
}

// PushHeader is [Buffer.Push] for a header and payload held separately.
func (b *Buffer) PushHeader(h *rtp.Header, payload []byte, arrival time.Time) error {
	b.st.Pushed++
	if h == nil || h.Version != 2 {
		b.st.Rejected++
		return fmt.Errorf("%w: not RTP version 2", ErrMalformed)
	}
	if len(payload) > b.cfg.MaxPayload {
		b.st.Rejected++
		return fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(payload), b.cfg.MaxPayload)
	}
	if !b.haveEpoch {
		b.epoch = arrival
		b.haveEpoch = true
	}
	a := int64(arrival.Sub(b.epoch))

	if b.active && h.SSRC != b.ssrc {
		b.st.SSRCChanges++
		b.st.Discarded += uint64(b.queued)
		b.reset()
	}
	if !b.active {
		b.startStream(h, a)
	}

	// RFC 3550 statistics see every packet of the source.
	b.rs.updateSeq(h.SequenceNumber)
	b.rs.updateJitter(b.arrivalTS(a), h.Timestamp)

	seq := b.hiSeq + int64(int16(h.SequenceNumber-uint16(b.hiSeq)))
	ts := b.hiTS + int64(int32(h.Timestamp-uint32(b.hiTS)))

	if d, n := seq-b.nextSeq, int64(len(b.slots)); d >= n || d <= -n || b.hiSeq-seq >= n {
		// Does not fit: a jump, confirmed only by its successor.
		if b.jumpSeq != seq {
			b.jumpSeq = seq + 1
			b.st.Jumps++
			return fmt.Errorf("%w: %d after %d", ErrJump, h.SequenceNumber, uint16(b.nextSeq))
		}
		b.st.Resyncs++
		b.st.Discarded += uint64(b.queued)
		for i := range b.slots {
			b.slots[i].state = slotEmpty
		}
		b.queued = 0
		b.nextSeq, b.hiSeq, b.hiTS = seq, seq, ts
		b.tsBase, b.ptsBase = ts, a-b.ref
		b.lastSeq = -1
	}
	b.jumpSeq = -1

	pts := b.ptsOf(ts)
	transit := a - pts
	if seq > b.hiSeq && (transit-b.ref > b.resyncThresh || b.ref-transit > b.resyncThresh) {
		// Timestamp discontinuity: rebase the mapping on this packet.
		b.st.Resyncs++
		b.tsBase, b.ptsBase = ts, a-b.ref
		pts, transit = a-b.ref, b.ref
	}

	s := &b.slots[seq&b.mask]
	if s.state != slotEmpty && s.seq == seq {
		b.st.Duplicates++
		return fmt.Errorf("%w: %d", ErrDuplicate, h.SequenceNumber)
	}
	b.addTransit(transit)

	if !b.started && seq < b.nextSeq {
		b.nextSeq = seq // reordered before playout began
	}
	if seq < b.nextSeq || (b.started && pts+b.offset+b.tsToNS(b.durTS) <= b.head) {
		b.st.Late++
		return fmt.Errorf("%w: %d", ErrLate, h.SequenceNumber)
	}

	*s = slot{state: slotQueued, marker: h.Marker, pt: h.PayloadType, seq: seq, ts: ts,
		pts: pts, arrival: a, rawTS: h.Timestamp, n: len(payload), buf: s.buf}
	copy(s.buf, payload)
	b.queued++
	if seq > b.hiSeq {
		b.hiSeq, b.hiTS = seq, ts
	}
	// Measure the packet duration from a consecutive neighbour.
	if p := &b.slots[(seq-1)&b.mask]; p.state != slotEmpty && p.seq == seq-1 && !h.Marker {
		b.noteDuration(ts - p.ts)
	}
	if n := &b.slots[(seq+1)&b.mask]; n.state == slotQueued && n.seq == seq+1 && !n.marker {
		b.noteDuration(n.ts - ts)
	}
	return nil
}

func (b *Buffer) noteDuration(d int64) {
	if d > 0 && d <= 8*b.nominalTS {
		b.durTS = d
	}
}

func (b *Buffer) startStream(h *rtp.Header, a int64) {
	b.active = true
	b.ssrc = h.SSRC
	b.st.SSRC = h.SSRC
	b.hiSeq = int64(h.SequenceNumber)
	b.hiTS = int64(h.Timestamp)
	b.nextSeq = b.hiSeq
	b.tsBase = b.hiTS
	b.ptsBase = a
	b.ref = 0
	b.offset = b.ref + int64(b.cfg.InitialDelay)
	b.rs.start(h.SequenceNumber)
}

// arrivalTS converts an arrival time to RTP timestamp units for A.8.
func (b *Buffer) arrivalTS(a int64) uint32 {
	s, r := a/1e9, a%1e9
	if r < 0 {
		s, r = s-1, r+1e9
	}
	return uint32(s*b.clock + r*b.clock/1e9)
}

// addTransit feeds the delay estimator.
func (b *Buffer) addTransit(t int64) {
	rebuild := false
	if b.winN == Window {
		old := b.win[b.winPos]
		if old <= b.ref {
			rebuild = true
		} else {
			b.hist[b.bucket(old-b.ref)]--
		}
	} else {
		b.winN++
	}
	b.win[b.winPos] = t
	b.winPos = (b.winPos + 1) % Window
	if b.winN == 1 {
		b.ref = t
		b.offset = t + int64(b.cfg.InitialDelay)
		rebuild = true
	} else if t < b.ref {
		rebuild = true
	} else if !rebuild {
		b.hist[b.bucket(t-b.ref)]++
	}
	if rebuild {
		m := int64(math.MaxInt64)
		for i := range b.winN {
			m = min(m, b.win[i])
		}
		b.ref = m
		clear(b.hist)
		for i := range b.winN {
			b.hist[b.bucket(b.win[i]-m)]++
		}
	}
	if b.winN < 16 {
		if d := b.offset - b.ref; d < b.minD || d > b.maxD {
			b.offset = b.ref + min(max(d, b.minD), b.maxD)
		}
		return
	}
	need := int32(math.Ceil(b.cfg.Quantile * float64(b.winN)))
	var cum int32
	k := 0
	for k < len(b.hist)-1 {
		cum += b.hist[k]
		if cum >= need {
			break
		}
		k++
	}
	b.target = min(max(int64(k+1)*b.bw, b.minD), b.maxD)
	if d := b.offset - b.ref; d < b.minD || d > b.maxD || b.target > d+b.growStep {
		b.offset = b.ref + b.target // grow at once, or back into bounds
	}
}

func (b *Buffer) bucket(e int64) int {
	return int(min(e/b.bw, int64(len(b.hist)-1)))
}

// lowest returns the queued packet with the smallest sequence number.
func (b *Buffer) lowest() *slot {
	if b.queued == 0 {
		return nil
	}
	for seq := b.nextSeq; seq <= b.hiSeq; seq++ {
		if s := &b.slots[seq&b.mask]; s.state == slotQueued && s.seq == seq {
			return s
		}
	}
	return nil
}

// Pop returns what is due at now: the next packet, a Lost marker, or None.
// Call it on every playout tick until it returns None.
func (b *Buffer) Pop(now time.Time) Result {
	if !b.active || !b.haveEpoch {
		return Result{}
	}
	n := int64(now.Sub(b.epoch))
	if !b.started {
		p := b.lowest()
		if p == nil || n < p.pts+b.offset {
			return Result{}
		}
		b.started = true
		b.head = p.pts + b.offset
	}
	if b.head > n {
		return Result{}
	}
	p := b.lowest()
	for p != nil && b.head-(p.pts+b.offset) > b.maxD-(b.offset-b.ref) {
		// Playing p now would take the delay beyond MaxDelay: it is late.
		b.st.Late++
		b.st.Missing += uint64(p.seq - b.nextSeq + 1)
		p.state = slotPlayed
		b.queued--
		b.nextSeq = p.seq + 1
		p = b.lowest()
	}
	if p == nil {
		return b.conceal(b.nominal)
	}
	if b.lastSeq >= 0 && (p.marker || p.ts-b.lastEnd > (p.seq-b.lastSeq-1)*b.durTS+b.durTS/2) {
		b.offset = b.ref + b.target // talkspurt start: adapt in the silence
		b.excessAt = -1
	}
	due := p.pts + b.offset
	if due > b.head+int64(time.Millisecond) {
		return b.conceal(min(b.nominal, due-b.head))
	}
	if q := b.shrinkCandidate(p, n); q != nil {
		b.st.Dropped++
		b.offset -= q.pts - p.pts
		b.st.Missing += uint64(p.seq - b.nextSeq)
		p.state = slotPlayed
		b.queued--
		b.nextSeq = p.seq + 1
		b.lastSeq, b.lastEnd = p.seq, q.ts
		p = q
	}
	return b.deliver(p)
}

// shrinkCandidate returns p's successor when p should be dropped to reduce
// a continuous stream's excess delay.
func (b *Buffer) shrinkCandidate(p *slot, n int64) *slot {
	if b.shrinkHold < 0 {
		return nil
	}
	q := &b.slots[(p.seq+1)&b.mask]
	if q.state != slotQueued || q.seq != p.seq+1 || q.marker {
		b.excessAt = -1
		return nil
	}
	d := q.pts - p.pts
	if d <= 0 || d > 8*b.nominal {
		return nil
	}
	if b.offset-b.ref-d < b.target {
		b.excessAt = -1
		return nil
	}
	if b.excessAt < 0 {
		b.excessAt = n
		return nil
	}
	if n-b.excessAt < b.shrinkHold {
		return nil
	}
	b.excessAt = -1
	return q
}

func (b *Buffer) conceal(d int64) Result {
	start := b.head
	b.head += d
	b.consec++
	b.st.Concealed++
	b.st.ConcealedDuration += time.Duration(d)
	samples := b.nominalTS
	if d != b.nominal {
		samples = b.nsToTS(d)
	}
	return Result{Kind: Lost, Playout: b.epoch.Add(time.Duration(start)), Duration: time.Duration(d),
		Samples: int(samples), Consecutive: b.consec}
}

func (b *Buffer) deliver(p *slot) Result {
	dur := b.durTS
	if q := &b.slots[(p.seq+1)&b.mask]; q.state == slotQueued && q.seq == p.seq+1 && !q.marker {
		if d := q.ts - p.ts; d > 0 && d <= 8*b.nominalTS {
			dur = d
		}
	}
	start := b.head
	if phase := b.head - (p.pts + b.offset); phase > 0 {
		b.offset += phase // played late: the delay grew
	}
	durNS := b.tsToNS(dur)
	b.head += durNS
	b.st.Missing += uint64(p.seq - b.nextSeq)
	b.st.Popped++
	b.nextSeq = p.seq + 1
	b.lastSeq, b.lastEnd = p.seq, p.ts+dur
	b.consec = 0
	p.state = slotPlayed
	b.queued--
	m := copy(b.out, p.buf[:p.n])
	return Result{
		Kind: Packet,
		Packet: RTPPacket{SequenceNumber: uint16(p.seq), Timestamp: p.rawTS, SSRC: b.ssrc,
			PayloadType: p.pt, Marker: p.marker, Payload: b.out[:m],
			Arrival: b.epoch.Add(time.Duration(p.arrival))},
		Playout:  b.epoch.Add(time.Duration(start)),
		Duration: time.Duration(durNS),
		Samples:  int(dur),
	}
}

// Stats returns a snapshot of the counters. It does not change them.
func (b *Buffer) Stats() Stats {
	s := b.st
	if b.active {
		s.Received = b.rs.received
		s.ExtendedHighestSeq = b.rs.extendedMax()
		if b.rs.probation == 0 {
			s.Expected = b.rs.expected()
		}
		s.Lost = b.rs.lost()
		s.Jitter = b.rs.jitter >> 4
		s.JitterDuration = time.Duration(b.tsToNS(int64(s.Jitter)))
		s.Delay = time.Duration(b.offset - b.ref)
		s.TargetDelay = time.Duration(b.target)
	}
	s.Queued = b.queued
	return s
}

// NoteSenderReport records an RTCP sender report's NTP timestamp (64-bit
// NTP format) received at at, so the next [Buffer.ReceptionReport] can fill
// LastSenderReport and Delay.
func (b *Buffer) NoteSenderReport(ntpTime uint64, at time.Time) {
	if !b.haveEpoch {
		return
	}
	b.srNTP = uint32(ntpTime >> 16)
	b.srAt = int64(at.Sub(b.epoch))
	b.haveSR = true
}

// ReceptionReport returns an RTCP reception report block for the current
// source as of now and starts a new reporting interval (RFC 3550 A.3).
func (b *Buffer) ReceptionReport(now time.Time) ReceptionReport {
	if !b.active {
		return ReceptionReport{}
	}
	s := &b.rs
	r := ReceptionReport{SSRC: b.ssrc, LastSequenceNumber: s.extendedMax(), Jitter: s.jitter >> 4}
	if s.probation == 0 {
		expected := s.expected()
		lost := int64(expected) - int64(s.received)
		lost = min(max(lost, -0x800000), 0x7fffff)
		r.TotalLost = uint32(lost) & 0xffffff
		expInt := expected - s.expectedPrior
		s.expectedPrior = expected
		recInt := s.received - s.receivedPrior
		s.receivedPrior = s.received
		lostInt := int64(expInt) - int64(recInt)
		if expInt != 0 && lostInt > 0 {
			r.FractionLost = uint8((lostInt << 8) / int64(expInt))
		}
	}
	if b.haveSR {
		r.LastSenderReport = b.srNTP
		if d := int64(now.Sub(b.epoch)) - b.srAt; d > 0 {
			r.Delay = uint32(d * 65536 / 1e9)
		}
	}
	return r
}

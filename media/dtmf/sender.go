package dtmf

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is returned for an invalid configuration or argument: a clock
// rate, interval, duration or repeat count out of range.
var ErrConfig = errors.New("dtmf: invalid configuration")

// maxSegment is the longest duration one RFC 4733 event packet can report.
const maxSegment = 0xffff

// SenderConfig configures a [Sender]. Zero fields take the defaults.
type SenderConfig struct {
	// ClockRate is the RTP clock rate of the telephone-event payload type
	// in Hz (the rate in the SDP rtpmap, "telephone-event/8000"). Default
	// 8000.
	ClockRate int
	// Interval is the time between two update packets. Default 50 ms (the
	// RFC 4733 §2.5.1.2 recommendation); 20 ms is also common.
	Interval time.Duration
	// Volume is the tone level reported in every packet, in -dBm0 (0–63).
	// Default 10 (-10 dBm0). Use [SenderConfig.ZeroVolume] for 0 dBm0.
	Volume uint8
	// ZeroVolume makes a zero Volume mean 0 dBm0 instead of the default.
	ZeroVolume bool
	// EndPackets is how many times the final packet of an event is sent.
	// Default 3 (RFC 4733 §2.5.1.4).
	EndPackets int
}

// Packet is one RTP packet of a telephone event, as produced by a [Sender].
// The RTP leg that sends it adds the header fields it owns (SSRC, sequence
// number, payload type) and sends it At after the start of the event.
type Packet struct {
	// Payload is the telephone-event payload; [Packet.AppendPayload]
	// encodes it.
	Payload Payload
	// Marker is the RTP marker bit, set on the first packet of an event
	// only.
	Marker bool
	// Timestamp is the RTP timestamp: the start of the event, or of the
	// current segment for events longer than 65535 clock ticks.
	Timestamp uint32
	// At is when to send the packet, counted from the start of the event.
	At time.Duration
	// Retransmission marks the repeats of the final packet. RFC 3550 wants
	// a new sequence number on every packet; some senders (sipp) reuse
	// the sequence number of the first end packet. Receivers in this
	// package accept both.
	Retransmission bool
}

// AppendPayload appends the 4-byte payload of p to dst.
func (p Packet) AppendPayload(dst []byte) []byte {
	v := p.Payload
	v.Volume &= 0x3f
	dst, _ = v.Append(dst) // cannot fail: the volume is in range
	return dst
}

// Sender produces the RTP packet sequence of telephone events following
// RFC 4733 §2.5: the first packet carries the marker bit; every packet of
// an event carries the event's start as RTP timestamp; the reported duration
// grows by one interval per packet; the final packet has the E bit and is
// sent three times; events longer than 65535 clock ticks (8.19 s at 8 kHz)
// are split into segments (§2.5.1.3). A Sender does no I/O and keeps no
// state between events, so one Sender may serve many calls at once.
type Sender struct {
	rate     int
	interval uint32 // in clock ticks
	volume   uint8
	ends     int
}

// NewSender returns a Sender for cfg. It fails with an error wrapping
// [ErrConfig] or [ErrVolume] when a field is out of range.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	if cfg.Interval == 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.Volume == 0 && !cfg.ZeroVolume {
		cfg.Volume = 10
	}
	if cfg.EndPackets == 0 {
		cfg.EndPackets = 3
	}
	if cfg.ClockRate < 1000 || cfg.ClockRate > 192000 {
		return nil, fmt.Errorf("%w: clock rate %d Hz", ErrConfig, cfg.ClockRate)
	}
	iv := ticks(cfg.Interval, cfg.ClockRate)
	if cfg.Interval < 0 || iv < 1 || iv > maxSegment {
		return nil, fmt.Errorf("%w: interval %v", ErrConfig, cfg.Interval)
	}
	if cfg.Volume > 63 {
		return nil, fmt.Errorf("%w: %d", ErrVolume, cfg.Volume)
	}
	if cfg.EndPackets < 1 || cfg.EndPackets > 10 {
		return nil, fmt.Errorf("%w: %d end packets", ErrConfig, cfg.EndPackets)
	}
	return &Sender{rate: cfg.ClockRate, interval: uint32(iv), volume: cfg.Volume, ends: cfg.EndPackets}, nil
}

// ticks converts d to clock ticks at rate Hz, rounding to nearest.
func ticks(d time.Duration, rate int) int64 {
	return (int64(d)*int64(rate) + int64(time.Second)/2) / int64(time.Second)
}

// since converts clock ticks at rate Hz to a duration.
func since(t uint64, rate int) time.Duration {
	return time.Duration(t * uint64(time.Second) / uint64(rate))
}

// maxEventTicks bounds one event to about 9 hours at 8 kHz, far beyond any
// real key press, so that a bad duration cannot ask for billions of packets.
const maxEventTicks = 1 << 28

// AppendEvent appends to dst the packets of one event ev of duration d whose
// first packet carries RTP timestamp ts (the RTP clock at the event's
// start, on the stream's timeline). It allocates only when dst is too small.
// A duration shorter than one clock tick or longer than about 9 hours at
// 8 kHz is an error wrapping [ErrConfig].
func (s *Sender) AppendEvent(dst []Packet, ev Event, ts uint32, d time.Duration) ([]Packet, error) {
	total := ticks(d, s.rate)
	if total < 1 || total > maxEventTicks {
		return dst, fmt.Errorf("%w: event duration %v", ErrConfig, d)
	}
	end := uint64(total)
	var segStart uint64 // start of the current segment, ticks since the event start
	first := true
	emit := func(at uint64, dur uint64, isEnd, retrans bool) {
		dst = append(dst, Packet{
			Payload: Payload{Event: ev, End: isEnd, Volume: s.volume, Duration: uint16(dur)},
			Marker:  first && !retrans,
			// RTP timestamps wrap modulo 2^32.
			Timestamp:      ts + uint32(segStart),
			At:             since(at, s.rate),
			Retransmission: retrans,
		})
		first = false
	}
	for e := uint64(s.interval); ; e += uint64(s.interval) {
		last := e >= end
		if last {
			e = end
		}
		// Close full segments (§2.5.1.3): report the maximum duration
		// without the E bit when the segment fills, then go on in a new
		// segment that starts where this one ended, without marker.
		for e-segStart > maxSegment {
			emit(segStart+maxSegment, maxSegment, false, false)
			segStart += maxSegment
		}
		emit(e, e-segStart, last, false)
		if last {
			break
		}
	}
	for k := 1; k < s.ends; k++ {
		emit(end+uint64(k)*uint64(s.interval), end-segStart, true, true)
	}
	return dst, nil
}

// ClockRate returns the RTP clock rate of the sender in Hz.
func (s *Sender) ClockRate() int { return s.rate }

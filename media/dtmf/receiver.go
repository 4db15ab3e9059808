package dtmf

import (
	"fmt"
	"time"

	"github.com/pion/rtp"
)

// ReceiverConfig configures a [Receiver]. Zero fields take the defaults.
type ReceiverConfig struct {
	// ClockRate is the RTP clock rate of the telephone-event payload type
	// in Hz. Default 8000.
	ClockRate int
	// PayloadType is the negotiated telephone-event payload type, used by
	// [Receiver.ReceiveRTP] to skip other packets. Zero accepts every
	// packet handed to it.
	PayloadType uint8
	// Timeout ends an event whose end packets were all lost when no packet
	// of it arrived for this long (see [Receiver.Expire]). Default 250 ms,
	// five times the usual 50 ms update interval.
	Timeout time.Duration
}

// Digit is one telephone event reported by a [Receiver].
type Digit struct {
	// Event is the event code; [Event.Digit] gives the key.
	Event Event
	// Timestamp is the RTP timestamp of the event's start (of its first
	// segment for a long event).
	Timestamp uint32
	// Ticks is the duration of the event in RTP clock ticks, all segments
	// of a long event added up.
	Ticks uint64
	// Duration is Ticks as a time.
	Duration time.Duration
	// Volume is the last reported volume, in -dBm0.
	Volume uint8
	// Ended is true when an end packet (E bit) was received, false when the
	// event was closed by a timeout, by the next event or by
	// [Receiver.Flush].
	Ended bool
}

// Received is one RTP packet handed to a [Receiver]: the header fields it
// uses and the telephone-event payload.
type Received struct {
	// SequenceNumber is the RTP sequence number. It is accepted for
	// logging and future use; ordering decisions use timestamps, because
	// senders differ in whether repeated end packets get new numbers.
	SequenceNumber uint16
	// Timestamp is the RTP timestamp.
	Timestamp uint32
	// Marker is the RTP marker bit.
	Marker bool
	// Payload is the 4-byte telephone-event payload.
	Payload []byte
}

// Receiver turns a stream of RFC 4733 telephone-event packets into events,
// reporting each event exactly once, when it ends: repeated and late packets
// are ignored; an event whose first packets were lost is reported from the
// first packet seen; an event whose end packets were lost is closed by the
// next event or by [Receiver.Expire]; the segments of a long event
// (§2.5.1.3) are merged into one; RTP timestamps are compared modulo 2^32
// (serial number arithmetic), so wrap-around is harmless.
//
// A Receiver serves one RTP stream and is not safe for concurrent use. It
// allocates nothing per packet when the dst slices have room.
type Receiver struct {
	rate    int
	pt      uint8
	timeout time.Duration

	active   bool
	ev       Event
	startTS  uint32 // timestamp of the first segment
	segTS    uint32 // timestamp of the current segment
	segDur   uint16 // longest duration seen in the current segment
	prior    uint64 // ticks of the completed segments
	volume   uint8
	lastSeen time.Time

	haveLast bool
	lastTS   uint32 // newest segment timestamp seen
}

// NewReceiver returns a Receiver for cfg, or an error wrapping [ErrConfig].
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.ClockRate < 1000 || cfg.ClockRate > 192000 {
		return nil, fmt.Errorf("%w: clock rate %d Hz", ErrConfig, cfg.ClockRate)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: timeout %v", ErrConfig, cfg.Timeout)
	}
	return &Receiver{rate: cfg.ClockRate, pt: cfg.PayloadType, timeout: cfg.Timeout}, nil
}

// before reports whether RTP timestamp a is older than b, modulo 2^32.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// ReceiveRTP is [Receiver.Receive] for a pion/rtp packet. Packets of
// another payload type than the configured one are skipped.
func (r *Receiver) ReceiveRTP(dst []Digit, now time.Time, p *rtp.Packet) ([]Digit, error) {
	if r.pt != 0 && p.PayloadType != r.pt {
		return dst, nil
	}
	return r.Receive(dst, now, Received{
		SequenceNumber: p.SequenceNumber,
		Timestamp:      p.Timestamp,
		Marker:         p.Marker,
		Payload:        p.Payload,
	})
}

// Receive takes one packet that arrived at now and appends to dst the
// events it ends: none, one, or two (when a new event ends the previous one
// and is itself already over). A malformed payload is an error wrapping
// [ErrPayloadSize]; the state is then unchanged.
func (r *Receiver) Receive(dst []Digit, now time.Time, p Received) ([]Digit, error) {
	pl, err := DecodeEvent(p.Payload)
	if err != nil {
		return dst, fmt.Errorf("dtmf: packet seq %d ts %d: %w", p.SequenceNumber, p.Timestamp, err)
	}
	ts := p.Timestamp
	switch {
	case r.haveLast && before(ts, r.lastTS):
		// A late packet of an older event or segment.
		return dst, nil
	case r.active && ts == r.segTS:
		if pl.Event != r.ev {
			return dst, nil // same timestamp, other event: ignore
		}
		r.update(now, pl)
		if pl.End {
			dst = r.finish(dst, true)
		}
		return dst, nil
	case !r.active && r.haveLast && ts == r.lastTS:
		// Repeated end packet (or late update) of a reported event.
		return dst, nil
	}
	// A newer timestamp: the next segment of the current event, or a new
	// event.
	if r.active && !p.Marker && pl.Event == r.ev && ts-r.segTS == maxSegment {
		r.prior += maxSegment
		r.segTS, r.segDur = ts, 0
	} else {
		if r.active {
			dst = r.finish(dst, false)
		}
		r.active = true
		r.ev = pl.Event
		r.startTS, r.segTS = ts, ts
		r.segDur, r.prior = 0, 0
	}
	r.haveLast, r.lastTS = true, ts
	r.update(now, pl)
	if pl.End {
		dst = r.finish(dst, true)
	}
	return dst, nil
}

func (r *Receiver) update(now time.Time, pl Payload) {
	r.segDur = max(r.segDur, pl.Duration)
	r.volume = pl.Volume
	r.lastSeen = now
}

func (r *Receiver) finish(dst []Digit, ended bool) []Digit {
	r.active = false
	t := r.prior + uint64(r.segDur)
	return append(dst, Digit{
		Event:     r.ev,
		Timestamp: r.startTS,
		Ticks:     t,
		Duration:  since(t, r.rate),
		Volume:    r.volume,
		Ended:     ended,
	})
}

// Expire closes the current event when no packet of it arrived during the
// configured timeout before now (all its end packets were lost), appending
// it to dst. Call it periodically, for example with every audio frame.
func (r *Receiver) Expire(dst []Digit, now time.Time) []Digit {
	if r.active && now.Sub(r.lastSeen) >= r.timeout {
		dst = r.finish(dst, false)
	}
	return dst
}

// Flush closes the current event, if any, at the end of the stream.
func (r *Receiver) Flush(dst []Digit) []Digit {
	if r.active {
		dst = r.finish(dst, false)
	}
	return dst
}

// Active returns the event in progress, if any: a key held down now.
func (r *Receiver) Active() (Event, bool) { return r.ev, r.active }

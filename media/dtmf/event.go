package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Event is an RFC 4733 telephone-event code. Codes 0–15 are the DTMF digits
// 0–9, *, #, A–D (RFC 4733 §3.2) and 16 is a hook flash; other codes
// (RFC 4734 modem, fax and text-telephony events, …) are carried through
// unchanged.
type Event uint8

// The DTMF events of RFC 4733 §3.2 and the flash event.
const (
	Event0     Event = 0
	Event1     Event = 1
	Event2     Event = 2
	Event3     Event = 3
	Event4     Event = 4
	Event5     Event = 5
	Event6     Event = 6
	Event7     Event = 7
	Event8     Event = 8
	Event9     Event = 9
	EventStar  Event = 10
	EventPound Event = 11
	EventA     Event = 12
	EventB     Event = 13
	EventC     Event = 14
	EventD     Event = 15
	EventFlash Event = 16
)

// digits maps the DTMF events 0–15 to their key.
const digits = "0123456789*#ABCD"

// Errors returned by this package. Callers branch on them with [errors.Is].
var (
	// ErrNotDigit is returned when a rune or an event is not one of the 16
	// DTMF keys.
	ErrNotDigit = errors.New("dtmf: not a DTMF digit")
	// ErrPayloadSize is returned for a telephone-event payload that is not
	// exactly 4 bytes.
	ErrPayloadSize = errors.New("dtmf: telephone-event payload is not 4 bytes")
	// ErrVolume is returned when a volume is above 63 (-63 dBm0).
	ErrVolume = errors.New("dtmf: volume out of range 0-63")
)

// ParseDigit returns the event of a DTMF key: '0'–'9', '*', '#' and 'A'–'D'
// (lower case accepted).
func ParseDigit(r rune) (Event, error) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	for i, d := range digits {
		if d == r {
			return Event(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrNotDigit, r)
}

// Digit returns the key of a DTMF event ('0'–'9', '*', '#', 'A'–'D') and
// false for any other event.
func (e Event) Digit() (byte, bool) {
	if int(e) < len(digits) {
		return digits[e], true
	}
	return 0, false
}

// String returns the key of a DTMF event, "flash" for [EventFlash] and
// "event-N" for other codes.
func (e Event) String() string {
	if d, ok := e.Digit(); ok {
		return string(rune(d))
	}
	if e == EventFlash {
		return "flash"
	}
	return fmt.Sprintf("event-%d", uint8(e))
}

// PayloadSize is the size of one RFC 4733 telephone-event payload.
const PayloadSize = 4

// Payload is one RFC 4733 §2.3 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Payload struct {
	// Event is the event code.
	Event Event
	// End is the E bit: this packet reports the end of the event.
	End bool
	// Reserved is the R bit. Senders set it to zero; receivers ignore it
	// (RFC 4733 §2.3.4). It is kept so that a decoded payload re-encodes
	// to the same bytes.
	Reserved bool
	// Volume is the power level of the tone, 0 to 63, in -dBm0 (10 means
	// -10 dBm0). It is meaningful for DTMF events only.
	Volume uint8
	// Duration is the duration of the event (or of the current segment of
	// a long event) so far, in RTP timestamp units, counted from the RTP
	// timestamp of the packet.
	Duration uint16
}

// DecodeEvent decodes a 4-byte telephone-event payload. A payload of any
// other length is an error wrapping [ErrPayloadSize]; every 4-byte payload
// is valid.
func DecodeEvent(b []byte) (Payload, error) {
	if len(b) != PayloadSize {
		return Payload{}, fmt.Errorf("%w: got %d bytes", ErrPayloadSize, len(b))
	}
	return Payload{
		Event:    Event(b[0]),
		End:      b[1]&0x80 != 0,
		Reserved: b[1]&0x40 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// Append appends the 4-byte encoding of p to dst. A volume above 63 is an
// error wrapping [ErrVolume].
func (p Payload) Append(dst []byte) ([]byte, error) {
	if p.Volume > 63 {
		return dst, fmt.Errorf("%w: %d", ErrVolume, p.Volume)
	}
	b1 := p.Volume
	if p.End {
		b1 |= 0x80
	}
	if p.Reserved {
		b1 |= 0x40
	}
	return append(dst, byte(p.Event), b1, byte(p.Duration>>8), byte(p.Duration)), nil
}

// String formats p like "event 5 volume 10 duration 800 end".
func (p Payload) String() string {
	s := fmt.Sprintf("event %s volume %d duration %d", p.Event, p.Volume, p.Duration)
	if p.End {
		s += " end"
	}
	return s
}

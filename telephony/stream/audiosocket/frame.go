package audiosocket

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/parole-voice/parole/telephony/stream"
)

// Kind is the type byte of an AudioSocket frame.
type Kind byte

// The frame kinds of the AudioSocket protocol (Asterisk's res_audiosocket).
const (
	KindHangup Kind = 0x00 // terminate the connection; no payload
	KindUUID   Kind = 0x01 // the call's UUID, 16 bytes, the first frame
	KindDTMF   Kind = 0x03 // one ASCII DTMF key
	KindSlin   Kind = 0x10 // signed linear 16-bit 8 kHz mono, little-endian
	KindError  Kind = 0xff // an error; payload an optional code
)

// HeaderSize is the size of a frame header: the kind, then the payload
// length as a big-endian uint16.
const HeaderSize = 3

// Asterisk's error codes (the payload of a KindError frame).
const (
	ErrorHangup byte = 0x01 // the calling party hung up
	ErrorFrame  byte = 0x02 // frame forwarding error
	ErrorMemory byte = 0x04 // memory allocation error
)

// ErrFrameKind is wrapped (with stream.ErrProtocol) by the error of
// [ReadFrame] for a kind parole does not take.
var ErrFrameKind = errors.New("audiosocket: unsupported frame kind")

// Frame is one AudioSocket frame; Payload aliases the reader's buffer.
type Frame struct {
	Kind    Kind
	Payload []byte
}

// ReadFrame reads one frame from r into buf's storage (grown as needed) and
// checks it: the payload length must fit the kind (0 for hangup, 16 for the
// UUID, 1 key for DTMF, an even length of at most maxAudio bytes for audio,
// at most 16 bytes for an error). A header or payload cut short is an error
// wrapping stream.ErrProtocol and io.ErrUnexpectedEOF; a clean end before a
// header is io.EOF.
func ReadFrame(r io.Reader, buf []byte, maxAudio int) (Frame, []byte, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Frame{}, buf, fmt.Errorf("%w: audiosocket: truncated header: %w", stream.ErrProtocol, err)
		}
		return Frame{}, buf, err
	}
	k, n := Kind(h[0]), int(binary.BigEndian.Uint16(h[1:]))
	if err := checkLength(k, n, maxAudio); err != nil {
		return Frame{}, buf, err
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, buf, fmt.Errorf("%w: audiosocket: truncated %#02x frame of %d bytes: %w", stream.ErrProtocol, byte(k), n, err)
	}
	f := Frame{Kind: k, Payload: buf}
	if k == KindDTMF && !isKey(buf[0]) {
		return Frame{}, buf, fmt.Errorf("%w: audiosocket: DTMF %q is not a key", stream.ErrProtocol, buf[0])
	}
	return f, buf, nil
}

func checkLength(k Kind, n, maxAudio int) error {
	bad := false
	switch k {
	case KindHangup:
		bad = n != 0
	case KindUUID:
		bad = n != 16
	case KindDTMF:
		bad = n != 1
	case KindSlin:
		if n > maxAudio {
			return fmt.Errorf("%w: %w: audiosocket: audio frame of %d bytes (at most %d)", stream.ErrProtocol, stream.ErrTooLarge, n, maxAudio)
		}
		bad = n%2 != 0
	case KindError:
		bad = n > 16
	default:
		if k >= 0x11 && k <= 0x18 {
			return fmt.Errorf("%w: %w: %#02x (slin above 8 kHz; use the 8 kHz slin format)", stream.ErrProtocol, ErrFrameKind, byte(k))
		}
		return fmt.Errorf("%w: %w: %#02x", stream.ErrProtocol, ErrFrameKind, byte(k))
	}
	if bad {
		return fmt.Errorf("%w: audiosocket: %#02x frame with %d bytes of payload", stream.ErrProtocol, byte(k), n)
	}
	return nil
}

func isKey(c byte) bool {
	return c >= '0' && c <= '9' || c == '*' || c == '#' || c >= 'A' && c <= 'D'
}

// AppendFrame appends a frame's header and payload to dst.
func AppendFrame(dst []byte, k Kind, payload []byte) []byte {
	dst = append(dst, byte(k), byte(len(payload)>>8), byte(len(payload)))
	return append(dst, payload...)
}

// AppendSlin appends an audio frame carrying pcm as little-endian slin.
func AppendSlin(dst []byte, pcm []int16) []byte {
	n := 2 * len(pcm)
	dst = append(dst, byte(KindSlin), byte(n>>8), byte(n))
	for _, v := range pcm {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}

// FormatUUID formats a 16-byte UUID payload in its canonical string form.
func FormatUUID(b []byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return string(s[:])
}

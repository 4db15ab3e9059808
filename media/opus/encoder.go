package opus

/*
#include <opus.h>

static int parole_enc_set(OpusEncoder *e, int req, opus_int32 v) { return opus_encoder_ctl(e, req, v); }
static int parole_enc_get(OpusEncoder *e, int req, opus_int32 *v) { return opus_encoder_ctl(e, req, v); }
static int parole_enc_reset(OpusEncoder *e) { return opus_encoder_ctl(e, OPUS_RESET_STATE); }
*/
import "C"

import (
	"fmt"
	"slices"
	"unsafe"
)

// Encoder encodes mono 16-bit PCM into Opus packets. Create it with
// [NewEncoder] and free it with [Encoder.Close]. It is not safe for
// concurrent use.
type Encoder struct {
	st   *C.OpusEncoder
	rate int
}

// NewEncoder returns a mono encoder for PCM at rate Hz (8000, 12000, 16000,
// 24000 or 48000) tuned for app. Its defaults are libopus's: bitrate chosen
// from the rate, complexity 9 (10 in libopus 1.3 and later), no FEC, no DTX.
func NewEncoder(rate int, app Application) (*Encoder, error) {
	if !validRate(rate) {
		return nil, fmt.Errorf("%w: %d Hz", ErrRate, rate)
	}
	switch app {
	case AppVoIP, AppAudio, AppLowDelay:
	default:
		return nil, fmt.Errorf("opus: new encoder: %w: application %d", ErrBadArg, int(app))
	}
	var code C.int
	st := C.opus_encoder_create(C.opus_int32(rate), 1, C.int(app), &code)
	if code != C.OPUS_OK || st == nil {
		if code == C.OPUS_OK {
			code = C.OPUS_ALLOC_FAIL
		}
		return nil, codeErr("new encoder", code)
	}
	return &Encoder{st: st, rate: rate}, nil
}

// Rate returns the sample rate of the PCM the encoder takes, in Hz.
func (e *Encoder) Rate() int { return e.rate }

// FrameSize returns the number of samples in one 20 ms frame at the
// encoder's rate.
func (e *Encoder) FrameSize() int { return e.rate / 50 }

// Encode encodes pcm, one frame of 20 ms (or another Opus frame duration:
// 2.5, 5, 10, 40, 60, 80, 100 or 120 ms), and appends the packet to dst. When
// cap(dst)-len(dst) is at least [MaxPacketSize] nothing is allocated.
//
// With DTX on, a packet of 2 bytes or less means silence that need not be
// sent (RFC 6716 and the libopus documentation); the receiver conceals it.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if e.st == nil {
		return dst, ErrClosed
	}
	if !validFrameSize(e.rate, len(pcm)) {
		return dst, fmt.Errorf("%w: %d samples at %d Hz", ErrFrameSize, len(pcm), e.rate)
	}
	dst = slices.Grow(dst, MaxPacketSize)
	room := dst[len(dst):cap(dst)]
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&room[0])), C.opus_int32(min(len(room), MaxPacketSize)))
	if n < 0 {
		return dst, codeErr("encode", n)
	}
	return dst[:len(dst)+int(n)], nil
}

func (e *Encoder) set(op string, req C.int, v int) error {
	if e.st == nil {
		return ErrClosed
	}
	if code := C.parole_enc_set(e.st, req, C.opus_int32(v)); code != C.OPUS_OK {
		return fmt.Errorf("opus: %s %d: %w", op, v, Error(code))
	}
	return nil
}

func (e *Encoder) get(op string, req C.int) (int, error) {
	if e.st == nil {
		return 0, ErrClosed
	}
	var v C.opus_int32
	if code := C.parole_enc_get(e.st, req, &v); code != C.OPUS_OK {
		return 0, codeErr(op, code)
	}
	return int(v), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetBitrate sets the target bitrate in bit/s (500 to 512000), or
// [BitrateAuto] or [BitrateMax].
func (e *Encoder) SetBitrate(bps int) error {
	return e.set("set bitrate", C.OPUS_SET_BITRATE_REQUEST, bps)
}

// Bitrate returns the target bitrate in bit/s.
func (e *Encoder) Bitrate() (int, error) { return e.get("get bitrate", C.OPUS_GET_BITRATE_REQUEST) }

// SetComplexity sets the computational complexity, 0 (fastest) to 10 (best).
func (e *Encoder) SetComplexity(c int) error {
	return e.set("set complexity", C.OPUS_SET_COMPLEXITY_REQUEST, c)
}

// Complexity returns the computational complexity (0–10).
func (e *Encoder) Complexity() (int, error) {
	return e.get("get complexity", C.OPUS_GET_COMPLEXITY_REQUEST)
}

// SetInbandFEC turns in-band forward error correction on or off: with it on
// (and a packet loss percentage set with [Encoder.SetPacketLossPerc]) each
// packet also carries a low-bitrate copy of the previous frame that
// [Decoder.DecodeFEC] can recover. FEC only works in the SILK or hybrid
// modes, that is with [AppVoIP] or [AppAudio] at speech bitrates.
func (e *Encoder) SetInbandFEC(on bool) error {
	return e.set("set inband fec", C.OPUS_SET_INBAND_FEC_REQUEST, b2i(on))
}

// InbandFEC reports whether in-band FEC is on.
func (e *Encoder) InbandFEC() (bool, error) {
	v, err := e.get("get inband fec", C.OPUS_GET_INBAND_FEC_REQUEST)
	return v != 0, err
}

// SetPacketLossPerc tells the encoder the expected packet loss, in percent
// (0–100). Higher values make it more robust and spend bits on FEC.
func (e *Encoder) SetPacketLossPerc(p int) error {
	return e.set("set packet loss", C.OPUS_SET_PACKET_LOSS_PERC_REQUEST, p)
}

// PacketLossPerc returns the expected packet loss in percent.
func (e *Encoder) PacketLossPerc() (int, error) {
	return e.get("get packet loss", C.OPUS_GET_PACKET_LOSS_PERC_REQUEST)
}

// SetDTX turns discontinuous transmission on or off: with it on, silence
// is coded as packets of at most 2 bytes that need not be sent.
func (e *Encoder) SetDTX(on bool) error { return e.set("set dtx", C.OPUS_SET_DTX_REQUEST, b2i(on)) }

// DTX reports whether discontinuous transmission is on.
func (e *Encoder) DTX() (bool, error) {
	v, err := e.get("get dtx", C.OPUS_GET_DTX_REQUEST)
	return v != 0, err
}

// Lookahead returns the encoder's algorithmic delay in samples at its rate.
// Ogg Opus files declare it (in 48 kHz samples) as pre-skip.
func (e *Encoder) Lookahead() (int, error) {
	return e.get("get lookahead", C.OPUS_GET_LOOKAHEAD_REQUEST)
}

// Reset returns the encoder to its state after creation, keeping its
// settings, to start a new, independent stream.
func (e *Encoder) Reset() error {
	if e.st == nil {
		return ErrClosed
	}
	if code := C.parole_enc_reset(e.st); code != C.OPUS_OK {
		return codeErr("reset encoder", code)
	}
	return nil
}

// Close frees the encoder's C state. Further calls return [ErrClosed];
// closing twice is harmless.
func (e *Encoder) Close() error {
	if e.st != nil {
		C.opus_encoder_destroy(e.st)
		e.st = nil
	}
	return nil
}

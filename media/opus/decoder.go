package opus

/*
#include <opus.h>

static int parole_dec_reset(OpusDecoder *d) { return opus_decoder_ctl(d, OPUS_RESET_STATE); }
*/
import "C"

import (
	"fmt"
	"slices"
	"unsafe"
)

// Decoder decodes Opus packets into mono 16-bit PCM. Create it with
// [NewDecoder] and free it with [Decoder.Close]. It is not safe for
// concurrent use.
type Decoder struct {
	st   *C.OpusDecoder
	rate int
	// last is the duration, in samples at rate, of the last decoded or
	// concealed frame: the size of the next concealment.
	last int
}

// NewDecoder returns a mono decoder producing PCM at rate Hz (8000, 12000,
// 16000, 24000 or 48000). Any Opus packet decodes at any of these rates,
// whatever rate it was encoded at; stereo packets are downmixed.
func NewDecoder(rate int) (*Decoder, error) {
	if !validRate(rate) {
		return nil, fmt.Errorf("%w: %d Hz", ErrRate, rate)
	}
	var code C.int
	st := C.opus_decoder_create(C.opus_int32(rate), 1, &code)
	if code != C.OPUS_OK || st == nil {
		if code == C.OPUS_OK {
			code = C.OPUS_ALLOC_FAIL
		}
		return nil, codeErr("new decoder", code)
	}
	return &Decoder{st: st, rate: rate, last: rate / 50}, nil
}

// Rate returns the sample rate of the decoded PCM, in Hz.
func (d *Decoder) Rate() int { return d.rate }

// Samples returns the number of samples packet decodes to at the decoder's
// rate, or an error wrapping [ErrInvalidPacket] when its table of contents
// is malformed.
func (d *Decoder) Samples(packet []byte) (int, error) {
	if d.st == nil {
		return 0, ErrClosed
	}
	if len(packet) == 0 {
		return 0, fmt.Errorf("opus: packet size: %w: empty packet", ErrInvalidPacket)
	}
	n := C.opus_decoder_get_nb_samples(d.st, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)))
	if n < 0 {
		return 0, codeErr("packet size", n)
	}
	if n == 0 || int(n) > d.rate*120/1000 {
		return 0, fmt.Errorf("opus: packet size: %w: %d samples", ErrInvalidPacket, int(n))
	}
	return int(n), nil
}

// Decode decodes packet and appends its samples (20 ms worth for a 20 ms
// packet) to dst. An empty or nil packet means the packet was lost: Decode
// then conceals it like [Decoder.DecodeLost]. When dst has room for the
// decoded samples nothing is allocated.
//
// A corrupt packet gives an error wrapping [ErrInvalidPacket] and leaves dst
// as it was.
func (d *Decoder) Decode(dst []int16, packet []byte) ([]int16, error) {
	if len(packet) == 0 {
		return d.DecodeLost(dst)
	}
	n, err := d.Samples(packet)
	if err != nil {
		return dst, err
	}
	return d.decode(dst, packet, n, 0, "decode")
}

// DecodeLost appends the concealment of one lost packet (packet-loss
// concealment), as long as the last decoded frame, to dst.
func (d *Decoder) DecodeLost(dst []int16) ([]int16, error) {
	if d.st == nil {
		return dst, ErrClosed
	}
	return d.decode(dst, nil, d.last, 0, "conceal")
}

// DecodeFEC recovers the frame lost just before next from the in-band FEC
// data next carries (see [Encoder.SetInbandFEC]) and appends it to dst, as
// long as next's frame. Call it when a packet is missing and the following
// one has arrived, then Decode next itself. When next carries no FEC data
// libopus conceals the loss instead, as DecodeLost would.
func (d *Decoder) DecodeFEC(dst []int16, next []byte) ([]int16, error) {
	if len(next) == 0 {
		return d.DecodeLost(dst)
	}
	n, err := d.Samples(next)
	if err != nil {
		return dst, err
	}
	return d.decode(dst, next, n, 1, "decode fec")
}

func (d *Decoder) decode(dst []int16, packet []byte, n int, fec C.int, op string) ([]int16, error) {
	dst = slices.Grow(dst, n)
	room := dst[len(dst) : len(dst)+n]
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	got := C.opus_decode(d.st, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&room[0])), C.int(n), fec)
	if got < 0 {
		return dst, codeErr(op, got)
	}
	d.last = int(got)
	return dst[:len(dst)+int(got)], nil
}

// LastPacketDuration returns the number of samples (at the decoder's rate)
// of the last decoded or concealed frame.
func (d *Decoder) LastPacketDuration() int { return d.last }

// Reset returns the decoder to its state after creation, to start a new,
// independent stream.
func (d *Decoder) Reset() error {
	if d.st == nil {
		return ErrClosed
	}
	if code := C.parole_dec_reset(d.st); code != C.OPUS_OK {
		return codeErr("reset decoder", code)
	}
	d.last = d.rate / 50
	return nil
}

// Close frees the decoder's C state. Further calls return [ErrClosed];
// closing twice is harmless.
func (d *Decoder) Close() error {
	if d.st != nil {
		C.opus_decoder_destroy(d.st)
		d.st = nil
	}
	return nil
}

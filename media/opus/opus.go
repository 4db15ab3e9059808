// Package opus encodes and decodes Opus (RFC 6716) audio through libopus,
// the reference implementation, with cgo.
//
// An [Encoder] turns 20 ms frames of mono 16-bit PCM at 8, 12, 16, 24 or
// 48 kHz into Opus packets; a [Decoder] turns packets back into PCM at any of
// those rates, conceals lost packets (packet-loss concealment, PLC) and can
// recover a lost frame from the in-band forward error correction (FEC) data
// carried by the packet that follows it.
//
// Both hold C memory: call Close when done (there is no finalizer). Neither
// is safe for concurrent use. In steady state Encode and Decode allocate no
// Go memory: PCM and packet slices are handed to libopus directly.
//
// Errors reported by libopus are of type [Error] and compare equal (with
// errors.Is) to the sentinels [ErrBadArg], [ErrInvalidPacket], …; their text
// is libopus's own (opus_strerror). Using a closed Encoder or Decoder gives
// [ErrClosed].
//
// The tests check the decoder sample for sample against FFmpeg's libopus
// decoder on Ogg Opus files (RFC 7845) made both by this Encoder and by
// FFmpeg's libopus encoder, and the quality of decoded speech against its
// input.
//
// Build requirements: cgo, pkg-config and the libopus headers (Debian
// libopus-dev).
package opus

/*
#cgo pkg-config: opus
#include <opus.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
)

// Application tells the encoder which kind of signal to optimise for.
type Application int

// Encoder applications (OPUS_APPLICATION_*).
const (
	// AppVoIP favours speech intelligibility: the choice for calls.
	AppVoIP Application = C.OPUS_APPLICATION_VOIP
	// AppAudio favours faithfulness to the input (music, mixed content).
	AppAudio Application = C.OPUS_APPLICATION_AUDIO
	// AppLowDelay disables the speech-optimised SILK mode to save 4 ms of
	// algorithmic delay.
	AppLowDelay Application = C.OPUS_APPLICATION_RESTRICTED_LOWDELAY
)

// String returns the application's name.
func (a Application) String() string {
	switch a {
	case AppVoIP:
		return "voip"
	case AppAudio:
		return "audio"
	case AppLowDelay:
		return "lowdelay"
	}
	return fmt.Sprintf("Application(%d)", int(a))
}

const (
	// MaxPacketSize is the largest packet one Opus frame can take (RFC 6716
	// §3.4, R2). Encode grows its destination by at most this much.
	MaxPacketSize = 1275
	// MaxFrameDuration is the longest audio one Opus packet can carry.
	MaxFrameDuration = 120 * time.Millisecond
	// BitrateAuto lets the encoder pick the bitrate (OPUS_AUTO).
	BitrateAuto = C.OPUS_AUTO
	// BitrateMax makes the encoder use as many bits as it can (OPUS_BITRATE_MAX).
	BitrateMax = C.OPUS_BITRATE_MAX
)

// Error is an error code returned by libopus. Its text is opus_strerror's.
type Error int

// Error returns libopus's description of the code.
func (e Error) Error() string {
	return "libopus: " + C.GoString(C.opus_strerror(C.int(e)))
}

// libopus error codes, comparable with errors.Is.
const (
	// ErrBadArg: one or more invalid or out of range arguments.
	ErrBadArg Error = C.OPUS_BAD_ARG
	// ErrBufferTooSmall: not enough bytes (or samples) allocated.
	ErrBufferTooSmall Error = C.OPUS_BUFFER_TOO_SMALL
	// ErrInternal: an internal error was detected.
	ErrInternal Error = C.OPUS_INTERNAL_ERROR
	// ErrInvalidPacket: the compressed data passed is corrupted.
	ErrInvalidPacket Error = C.OPUS_INVALID_PACKET
	// ErrUnimplemented: invalid or unsupported request number.
	ErrUnimplemented Error = C.OPUS_UNIMPLEMENTED
	// ErrInvalidState: an encoder or decoder structure is invalid or
	// already freed.
	ErrInvalidState Error = C.OPUS_INVALID_STATE
	// ErrAllocFail: memory allocation has failed.
	ErrAllocFail Error = C.OPUS_ALLOC_FAIL
)

// Errors of this package (not from libopus).
var (
	// ErrClosed is returned when an Encoder or Decoder is used after Close.
	ErrClosed = errors.New("opus: use of closed encoder or decoder")
	// ErrRate is returned for a sample rate Opus does not support (it
	// supports 8000, 12000, 16000, 24000 and 48000 Hz).
	ErrRate = errors.New("opus: unsupported sample rate")
	// ErrFrameSize is returned when the PCM handed to Encode is not one of
	// Opus's frame durations (2.5, 5, 10, 20, 40, 60, 80, 100 or 120 ms).
	ErrFrameSize = errors.New("opus: invalid frame size")
)

// Version returns the version string of the linked libopus, e.g.
// "libopus 1.3.1".
func Version() string { return C.GoString(C.opus_get_version_string()) }

// validRate reports whether Opus supports rate Hz.
func validRate(rate int) bool {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return true
	}
	return false
}

// validFrameSize reports whether n samples at rate Hz is an Opus frame
// duration (a multiple of 2.5 ms among 2.5, 5, 10, 20, 40, …, 120 ms).
func validFrameSize(rate, n int) bool {
	unit := rate / 400 // 2.5 ms
	if n <= 0 || n%unit != 0 {
		return false
	}
	switch n / unit {
	case 1, 2, 4, 8, 16, 24, 32, 40, 48:
		return true
	}
	return false
}

// codeErr turns a negative libopus return value into an error.
func codeErr(op string, code C.int) error {
	return fmt.Errorf("opus: %s: %w", op, Error(code))
}

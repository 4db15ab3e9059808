// Package telephony holds the contract every call leg implements — SIP,
// WebRTC, the SIP-bridge websockets, a WAV file — and, in sub-packages, the
// legs themselves and the voice session that runs a call through
// speech-to-text, the dialog and text-to-speech.
package telephony

import (
	"context"
	"errors"

	"github.com/parole-voice/parole/media"
)

// Errors callers branch on; legs wrap them with %w.
var (
	// ErrHangup: the call is over (the caller hung up, or Hangup was
	// called). Recv returns it once the leg has no more input.
	ErrHangup = errors.New("telephony: call ended")
	// ErrUnsupported: the leg cannot do it (transfer on a file leg, DTMF
	// out on a leg without telephone-event).
	ErrUnsupported = errors.New("telephony: not supported by this call leg")
)

// Info describes a call.
type Info struct {
	// ID is unique among the calls of a parole process.
	ID string
	// Channel names the leg kind: "sip", "webrtc", "twilio", "file", …
	Channel string
	// From and To are the caller and the called number or URI.
	From, To string
	// Rate is the sample rate of the frames the leg delivers and expects,
	// in Hz (8000 for G.711, 16000 for G.722 and wideband legs).
	Rate int
}

// Input is one thing received from the caller: a frame of audio or a DTMF
// key (one of "0123456789*#ABCD").
type Input struct {
	// Frame is 20 ms of the caller's audio at Info.Rate, or nil. It stays
	// valid until the next Recv.
	Frame *media.Frame
	// Digit is a DTMF key, or 0.
	Digit rune
}

// Call is one call leg. Recv is called by one goroutine and Send, Clear,
// SendDTMF, Transfer and Hangup by another; legs make that safe.
type Call interface {
	// Info describes the call.
	Info() Info
	// Recv returns the caller's next input, blocking until it comes. It
	// returns an error wrapping ErrHangup when the call is over.
	Recv(ctx context.Context) (Input, error)
	// Send plays one frame of audio at Info.Rate to the caller. Legs that
	// play in real time pace it: Send returns when the leg can take the
	// next frame, so a caller never queues more than a frame or two ahead.
	// The frame may be reused once Send returns.
	Send(ctx context.Context, f *media.Frame) error
	// Clear drops any audio the leg still buffers for playout, at once
	// (barge-in).
	Clear(ctx context.Context) error
	// SendDTMF plays DTMF keys to the caller (RFC 4733 or in-band).
	SendDTMF(ctx context.Context, digits string) error
	// Transfer hands the call to target, a SIP URI or an E.164 number;
	// bridge asks the leg to call the target itself and relay the audio.
	Transfer(ctx context.Context, target string, bridge bool) error
	// Hangup ends the call. It is safe to call more than once.
	Hangup(ctx context.Context) error
}

package stream

import (
	"context"
	"errors"

	"github.com/parole-voice/parole/telephony"
)

// Errors callers branch on; the legs wrap them with %w.
var (
	// ErrConfig: a leg's Config cannot be used.
	ErrConfig = errors.New("stream: invalid configuration")
	// ErrProtocol: the peer sent something the protocol does not allow (bad
	// JSON, bad base64, an unknown message, a message out of order, a
	// malformed frame). The leg closes the connection.
	ErrProtocol = errors.New("stream: protocol violation")
	// ErrTooLarge: the peer sent a message larger than the leg accepts.
	ErrTooLarge = errors.New("stream: message too large")
	// ErrFrame: a frame given to Send cannot be played on the leg (another
	// sample rate, more than 20 ms, empty).
	ErrFrame = errors.New("stream: frame not playable on this leg")
)

// OnCall runs one call a leg accepted, in the goroutine that serves its
// connection. When it returns the leg hangs up if the peer has not. ctx is
// done when the leg's server shuts down.
type OnCall func(ctx context.Context, call telephony.Call)

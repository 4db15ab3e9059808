package slack

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Headers of Slack's request signing.
const (
	SignatureHeader = "X-Slack-Signature"
	TimestampHeader = "X-Slack-Request-Timestamp"
	RetryNumHeader  = "X-Slack-Retry-Num"
)

// DefaultTolerance is how far a request's timestamp may be from the clock:
// Slack's documentation rejects requests older than five minutes, against
// replays.
const DefaultTolerance = 5 * time.Minute

// Errors of [Verify]; both wrap httpx.ErrUnauthorized (401).
var (
	// ErrSignature: X-Slack-Signature is missing, not v0=, or wrong.
	ErrSignature = errors.New("slack: bad request signature")
	// ErrTimestamp: X-Slack-Request-Timestamp is missing, malformed, or
	// too far from now (a replay).
	ErrTimestamp = errors.New("slack: bad request timestamp")
)

// Verify checks a request as Slack documents: the timestamp within
// tolerance of now, and X-Slack-Signature equal to "v0=" and the hex
// HMAC-SHA256, keyed with the signing secret, of "v0:" + timestamp + ":" +
// the raw body.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(TimestampHeader)
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %w: %s %q", httpx.ErrUnauthorized, ErrTimestamp, TimestampHeader, ts)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %w: %s off by %s", httpx.ErrUnauthorized, ErrTimestamp, TimestampHeader, d.Round(time.Second))
	}
	sig, ok := strings.CutPrefix(h.Get(SignatureHeader), "v0=")
	if !ok {
		return fmt.Errorf("%w: %w: %s missing or not v0=", httpx.ErrUnauthorized, ErrSignature, SignatureHeader)
	}
	if err := httpx.VerifyHMAC("sha256", httpx.Hex, []byte(secret), baseString(ts, body), sig); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

// Sign returns the X-Slack-Signature of body sent at timestamp ts (Unix
// seconds): what Slack sends, and what tests sign their requests with.
func Sign(secret, ts string, body []byte) string {
	return "v0=" + httpx.SignHMAC("sha256", httpx.Hex, []byte(secret), baseString(ts, body))
}

func baseString(ts string, body []byte) []byte {
	b := make([]byte, 0, len(ts)+len(body)+4)
	b = append(b, "v0:"...)
	b = append(b, ts...)
	b = append(b, ':')
	return append(b, body...)
}

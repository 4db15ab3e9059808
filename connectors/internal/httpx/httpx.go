// Package httpx holds what parole's channel connectors share on the HTTP
// side: reading a webhook's body whole and bounded (the raw bytes are what
// signatures cover), decoding it strictly, checking HMAC signatures in
// constant time, answering errors as JSON, and sending to a platform's API
// with bounded retries that honour 429 and Retry-After.
package httpx

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"strings"
)

// DefaultMaxBody is the body limit ReadBody applies when given none: 1 MiB,
// more than any platform sends in one webhook.
const DefaultMaxBody = 1 << 20

// Errors a webhook handler branches on; Status maps them to HTTP codes.
var (
	// ErrTooLarge: the body is over the limit (413).
	ErrTooLarge = errors.New("httpx: request body too large")
	// ErrContentType: the body is not of the expected media type (415).
	ErrContentType = errors.New("httpx: unsupported content type")
	// ErrBadBody: the body could not be read or decoded (400).
	ErrBadBody = errors.New("httpx: malformed request body")
	// ErrUnauthorized: a signature, token or credential is missing or wrong (401).
	ErrUnauthorized = errors.New("httpx: unauthorized")
)

// ReadBody reads r's body whole, refusing more than limit bytes (DefaultMaxBody
// when limit <= 0) with an error wrapping ErrTooLarge. When contentType is not
// empty the request's media type must equal it (parameters such as charset
// are ignored), or the error wraps ErrContentType.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, contentType string) ([]byte, error) {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || !strings.EqualFold(mt, contentType) {
			return nil, fmt.Errorf("%w: want %s, got %q", ErrContentType, contentType, r.Header.Get("Content-Type"))
		}
	}
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, tooBig.Limit)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	return body, nil
}

// DecodeJSON decodes body, one JSON value and nothing after it, into v. Errors
// wrap ErrBadBody.
func DecodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", ErrBadBody)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON value", ErrBadBody)
	}
	return nil
}

// Status is the HTTP status for err: 413, 415, 400 or 401 for the errors of
// this package, 500 otherwise.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrContentType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrBadBody):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// WriteError answers err as {"error": message} with Status(err). A 500's
// message is generic: internal details stay in the logs.
func WriteError(w http.ResponseWriter, err error) {
	code := Status(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error"
	}
	WriteJSON(w, code, map[string]string{"error": msg})
}

// WriteJSON answers v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// Signature encodings of the platforms.
const (
	Hex    = "hex"
	Base64 = "base64"
)

// VerifyHMAC checks that sig, encoded as enc (Hex or Base64), is the HMAC of
// message with key, using SHA-256 (algo "sha256") or SHA-1 ("sha1"). It runs in
// constant time in the signature's content; a wrong or malformed signature
// gives an error wrapping ErrUnauthorized.
func VerifyHMAC(algo, enc string, key, message []byte, sig string) error {
	want := SignHMAC(algo, enc, key, message)
	if want == "" {
		return fmt.Errorf("%w: unknown HMAC %s/%s", ErrUnauthorized, algo, enc)
	}
	if sig == "" {
		return fmt.Errorf("%w: missing signature", ErrUnauthorized)
	}
	if enc == Hex {
		sig = strings.ToLower(sig)
	}
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return fmt.Errorf("%w: signature mismatch", ErrUnauthorized)
	}
	return nil
}

// SignHMAC returns the HMAC of message with key as VerifyHMAC expects it, or
// "" for an unknown algorithm or encoding. Tests and senders use it.
func SignHMAC(algo, enc string, key, message []byte) string {
	var h func() hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New
	case "sha1":
		h = sha1.New
	default:
		return ""
	}
	m := hmac.New(h, key)
	m.Write(message)
	sum := m.Sum(nil)
	switch enc {
	case Hex:
		return hex.EncodeToString(sum)
	case Base64:
		return base64.StdEncoding.EncodeToString(sum)
	}
	return ""
}

// TokenEqual compares a presented token with the configured one in constant
// time; an empty configured token never matches.
func TokenEqual(got, want string) bool {
	if want == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(want))
}

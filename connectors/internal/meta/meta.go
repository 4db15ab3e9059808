// Package meta holds what parole's Messenger and WhatsApp connectors share:
// Meta's Graph API webhooks (the GET verification request with hub.mode,
// hub.verify_token and hub.challenge; the X-Hub-Signature-256 HMAC of the
// raw body with the app secret) and the Graph API client that sends
// messages (JSON POSTs with bounded retries, Graph error objects decoded).
package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Graph API defaults.
const (
	DefaultGraphURL     = "https://graph.facebook.com"
	DefaultGraphVersion = "v24.0"
)

// SignatureHeader is the header carrying the webhook's body signature:
// "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the app
// secret.
const SignatureHeader = "X-Hub-Signature-256"

// Errors of the webhook checks.
var (
	// ErrVerifyToken: a verification request's hub.verify_token is not the
	// configured one (403).
	ErrVerifyToken = errors.New("meta: verify token mismatch")
	// ErrVerifyRequest: a verification request lacks hub.mode=subscribe or
	// hub.challenge (400).
	ErrVerifyRequest = errors.New("meta: malformed verification request")
)

// VerifySubscription checks the GET request Meta sends when a webhook is
// configured (hub.mode=subscribe, hub.verify_token, hub.challenge) and
// returns the challenge to echo back as the response body.
func VerifySubscription(q url.Values, verifyToken string) (string, error) {
	if q.Get("hub.mode") != "subscribe" {
		return "", fmt.Errorf("%w: hub.mode %q, want subscribe", ErrVerifyRequest, q.Get("hub.mode"))
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" || len(challenge) > 1024 {
		return "", fmt.Errorf("%w: missing or oversized hub.challenge", ErrVerifyRequest)
	}
	if !httpx.TokenEqual(q.Get("hub.verify_token"), verifyToken) {
		return "", ErrVerifyToken
	}
	return challenge, nil
}

// ServeVerification answers a verification GET: 200 with the challenge as
// text/plain, 403 for a wrong token, 400 for a malformed request.
func ServeVerification(w http.ResponseWriter, r *http.Request, verifyToken string) error {
	challenge, err := VerifySubscription(r.URL.Query(), verifyToken)
	switch {
	case errors.Is(err, ErrVerifyToken):
		httpx.WriteJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
		return err
	case err != nil:
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(challenge))
	return nil
}

// VerifySignature checks header, the X-Hub-Signature-256 value
// "sha256=<hex>", against the HMAC-SHA256 of body keyed with appSecret.
// Errors wrap httpx.ErrUnauthorized.
func VerifySignature(appSecret string, body []byte, header string) error {
	if appSecret == "" {
		return fmt.Errorf("%w: no app secret configured", httpx.ErrUnauthorized)
	}
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %s missing or not sha256=", httpx.ErrUnauthorized, SignatureHeader)
	}
	return httpx.VerifyHMAC("sha256", httpx.Hex, []byte(appSecret), body, sig)
}

// Sign returns the X-Hub-Signature-256 value of body: what Meta sends, and
// what tests sign their requests with.
func Sign(appSecret string, body []byte) string {
	return "sha256=" + httpx.SignHMAC("sha256", httpx.Hex, []byte(appSecret), body)
}

// ReadWebhook reads a webhook POST: the JSON body (bounded by limit: 413;
// wrong content type: 415) and, unless skipVerify, its signature (401).
func ReadWebhook(w http.ResponseWriter, r *http.Request, limit int64, appSecret string, skipVerify bool) ([]byte, error) {
	body, err := httpx.ReadBody(w, r, limit, "application/json")
	if err != nil {
		return nil, err
	}
	if !skipVerify {
		if err := VerifySignature(appSecret, body, r.Header.Get(SignatureHeader)); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// GraphError is the error object of a Graph API answer.
type GraphError struct {
	Message      string `json:"message"`
	Type         string `json:"type"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	FBTraceID    string `json:"fbtrace_id,omitempty"`
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph error %d (%s): %s", e.Code, e.Type, e.Message)
}

// ErrSend wraps the errors of [Client.Post].
var ErrSend = errors.New("meta: graph request failed")

// Client posts JSON to the Graph API with bounded retries (network errors,
// 429 and 5xx, honouring Retry-After; see httpx.Sender).
type Client struct {
	// BaseURL is the Graph API root, e.g. https://graph.facebook.com.
	BaseURL string
	// Version is the Graph API version, e.g. v24.0.
	Version string
	// Token is the access token.
	Token string
	// TokenInQuery sends the token as the access_token query parameter
	// (Messenger's Send API) rather than as a Bearer header (WhatsApp).
	TokenInQuery bool
	// Sender sends the requests.
	Sender *httpx.Sender
}

// Post sends in as JSON to {BaseURL}/{Version}/{path} and decodes the
// answer into out when not nil. A refused request gives an error wrapping
// ErrSend and, when the answer has one, a *GraphError.
func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%w: encoding: %w", ErrSend, err)
	}
	u := strings.TrimSuffix(c.BaseURL, "/") + "/" + c.Version + "/" + strings.TrimPrefix(path, "/")
	if c.TokenInQuery {
		u += "?access_token=" + url.QueryEscape(c.Token)
	}
	resp, err := c.Sender.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if !c.TokenInQuery {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		return req, nil
	})
	if err != nil {
		var serr *httpx.StatusError
		if errors.As(err, &serr) {
			var ge struct {
				Error *GraphError `json:"error"`
			}
			if json.Unmarshal(serr.Body, &ge) == nil && ge.Error != nil {
				return fmt.Errorf("%w: POST %s: %d: %w", ErrSend, path, serr.StatusCode, ge.Error)
			}
		}
		// The token may sit in the URL: never put the URL in the error.
		return fmt.Errorf("%w: POST %s: %w", ErrSend, path, redact(err, c.Token))
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("%w: POST %s: decoding the answer: %w", ErrSend, path, err)
		}
	}
	return nil
}

// redact replaces the token in err's text.
func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) && !strings.Contains(err.Error(), url.QueryEscape(token)) {
		return err
	}
	s := strings.ReplaceAll(err.Error(), url.QueryEscape(token), "REDACTED")
	return errors.New(strings.ReplaceAll(s, token, "REDACTED"))
}

// Truncate cuts s to at most n characters (runes), ending with "…" when
// cut; n <= 0 returns s.
func Truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return strings.TrimRight(s[:i], " ") + "…"
}

// Split cuts s into pieces of at most n runes, at a line break or space
// when there is one in the second half of a piece.
func Split(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		// byte offset of rune n
		cut := 0
		for i := range s {
			if cut == n {
				cut = i
				break
			}
			cut++
		}
		piece := s[:cut]
		if k := strings.LastIndexAny(piece, "\n "); k > len(piece)/2 {
			piece = s[:k]
			s = s[k+1:]
		} else {
			s = s[cut:]
		}
		out = append(out, piece)
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

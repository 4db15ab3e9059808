package intent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of [Rasa].
var (
	// ErrBadResponse is returned when a server's answer is not a parse
	// result (malformed JSON, wrong shape).
	ErrBadResponse = errors.New("intent: bad NLU response")
	// ErrResponseTooLarge is returned when an answer exceeds
	// [Rasa].MaxResponseBytes.
	ErrResponseTooLarge = errors.New("intent: NLU response too large")
	// ErrConfig is returned for an unusable [Rasa] configuration.
	ErrConfig = errors.New("intent: bad NLU configuration")
)

// StatusError is the error for an HTTP answer outside 2xx.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Message is the start of the body (Rasa's error JSON, usually).
	Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("intent: NLU server answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// DefaultMaxResponseBytes bounds a Rasa answer unless
// [Rasa].MaxResponseBytes says otherwise.
const DefaultMaxResponseBytes = 1 << 20

// Rasa is an [NLU] backed by a Rasa server's HTTP API (rasa run
// --enable-api): it posts {"text", "message_id"} to /model/parse and reads
// the intent, its confidence, the entities and the intent ranking. A Rasa
// model is trained for one language, so the lang argument of Parse is not
// sent.
//
// Entity offsets, which Rasa gives in characters, are turned into byte
// offsets of the text like those of [Matcher].
type Rasa struct {
	// URL is the server's base URL, such as "http://localhost:5005"; a path
	// prefix (behind a reverse proxy) is kept.
	URL string
	// Token, when set, is sent as the token query parameter (Rasa's
	// --auth-token).
	Token string
	// JWT, when set, is sent as a bearer token (Rasa's --jwt-secret).
	JWT string
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Timeout bounds each request in addition to the context; 0 means
	// the context only.
	Timeout time.Duration
	// MaxResponseBytes bounds the answer; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

type rasaRequest struct {
	Text      string `json:"text"`
	MessageID string `json:"message_id,omitempty"`
}

type rasaIntent struct {
	Name       *string  `json:"name"`
	Confidence *float64 `json:"confidence"`
}

type rasaEntity struct {
	Entity     string          `json:"entity"`
	Value      json.RawMessage `json:"value"`
	Start      *int            `json:"start"`
	End        *int            `json:"end"`
	Confidence float64         `json:"confidence_entity"`
	Extractor  string          `json:"extractor"`
}

type rasaResponse struct {
	Text     string       `json:"text"`
	Intent   *rasaIntent  `json:"intent"`
	Entities []rasaEntity `json:"entities"`
	Ranking  []rasaIntent `json:"intent_ranking"`
}

// Parse implements [NLU].
func (r *Rasa) Parse(ctx context.Context, text, lang string) (Result, error) {
	return r.ParseMessage(ctx, text, "")
}

// ParseMessage is Parse with Rasa's optional message_id (omitted when
// empty).
func (r *Rasa) ParseMessage(ctx context.Context, text, messageID string) (Result, error) {
	endpoint, err := r.endpoint()
	if err != nil {
		return Result{}, err
	}
	body, err := json.Marshal(rasaRequest{Text: text, MessageID: messageID})
	if err != nil {
		return Result{}, fmt.Errorf("intent: rasa: encoding request: %w", err)
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.JWT != "" {
		req.Header.Set("Authorization", "Bearer "+r.JWT)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("intent: rasa: %w", err)
	}
	defer resp.Body.Close()
	limit := r.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Result{}, fmt.Errorf("intent: rasa: reading answer: %w", err)
	}
	if int64(len(data)) > limit {
		return Result{}, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := data
		if len(msg) > 512 {
			msg = msg[:512]
		}
		return Result{}, &StatusError{Code: resp.StatusCode, Message: strings.ToValidUTF8(string(msg), "\uFFFD")}
	}
	return decodeRasa(data, text)
}

func (r *Rasa) endpoint() (string, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", fmt.Errorf("%w: URL %q: %w", ErrConfig, r.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%w: URL %q is not an http(s) URL", ErrConfig, r.URL)
	}
	u = u.JoinPath("model", "parse")
	if r.Token != "" {
		q := u.Query()
		q.Set("token", r.Token)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func decodeRasa(data []byte, text string) (Result, error) {
	var rr rasaResponse
	if err := json.Unmarshal(data, &rr); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	res := Result{Text: text}
	if rr.Intent != nil {
		if rr.Intent.Name != nil {
			res.Intent = *rr.Intent.Name
		}
		if rr.Intent.Confidence != nil {
			res.Confidence = *rr.Intent.Confidence
		}
	}
	if res.Confidence < 0 || res.Confidence > 1 {
		return Result{}, fmt.Errorf("%w: confidence %v outside [0,1]", ErrBadResponse, res.Confidence)
	}
	for _, ri := range rr.Ranking {
		if ri.Name == nil || ri.Confidence == nil {
			return Result{}, fmt.Errorf("%w: intent_ranking entry without name or confidence", ErrBadResponse)
		}
		res.Ranking = append(res.Ranking, Scored{Intent: *ri.Name, Score: *ri.Confidence})
	}
	if rr.Text != "" {
		text = rr.Text // offsets refer to the text Rasa parsed
		res.Text = rr.Text
	}
	nchars := utf8.RuneCountInString(text)
	for _, re := range rr.Entities {
		if re.Start == nil || re.End == nil || len(re.Value) == 0 {
			return Result{}, fmt.Errorf("%w: entity %q without start, end or value", ErrBadResponse, re.Entity)
		}
		if *re.Start < 0 || *re.End < *re.Start || *re.End > nchars {
			return Result{}, fmt.Errorf("%w: entity %q span [%d,%d) outside the %d characters of the text",
				ErrBadResponse, re.Entity, *re.Start, *re.End, nchars)
		}
		e := Entity{
			Entity: re.Entity, Confidence: re.Confidence, Extractor: re.Extractor,
			Start: byteOffset(text, *re.Start), End: byteOffset(text, *re.End),
		}
		var s string
		if json.Unmarshal(re.Value, &s) == nil {
			e.Value = s
		} else {
			e.Value = string(re.Value)
		}
		res.Entities = append(res.Entities, e)
	}
	return res, nil
}

// byteOffset returns the byte offset of the n-th character of s (n ≤ the
// number of characters).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

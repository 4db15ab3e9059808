package applebusiness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"github.com/parole-voice/parole/connectors/internal/turns"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Apple Messages for Business conversations.
const Channel = "applebusiness"

// Headers of the HMAC verification.
const (
	SignatureHeader = "X-MSP-Signature"
	TimestampHeader = "X-MSP-Timestamp"
)

// Verification modes of inbound requests.
const (
	AuthHMAC   = "hmac"
	AuthBearer = "bearer"
)

// Handler runs one event of a conversation: *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// TranscriptReader reads a conversation's transcript; *runner.Runner is
// one. A [Handler] that is also a TranscriptReader tells the connector
// whether a conversation it does not remember (after a restart, or on
// another node) has already begun, so the bot does not welcome the user
// twice.
type TranscriptReader = convs.TranscriptReader

// Config configures a [Connector].
type Config struct {
	// Path is where the provider posts inbound messages. Default
	// "/io/applebusiness".
	Path string `yaml:"path"`
	// BusinessID is the Messages for Business account id: inbound
	// messages must be addressed to it, outbound ones come from it.
	BusinessID string `yaml:"business_id"`
	// MSPURL is the provider's API base URL; messages are posted to
	// MSPURL+"/messages".
	MSPURL string `yaml:"msp_url"`
	// APIToken authorizes the outbound calls (Bearer).
	APIToken string `yaml:"api_token"`
	// Auth is how inbound requests are verified: "hmac" (default: the
	// X-MSP-Signature of the timestamp and body with Secret) or "bearer"
	// (Authorization: Bearer InboundToken).
	Auth string `yaml:"auth"`
	// Secret is the HMAC key (auth "hmac").
	Secret string `yaml:"secret"`
	// InboundToken is the expected bearer token (auth "bearer").
	InboundToken string `yaml:"inbound_token"`
	// MaxSkew bounds the age of a signed request's timestamp (replays).
	// Default 5 min.
	MaxSkew time.Duration `yaml:"max_skew"`
	// Locale is the locale when a message gives none.
	Locale string `yaml:"locale"`
	// InsecureSkipVerify accepts unverified requests (local tests only;
	// logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 256 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ConversationTTL is how long a conversation is remembered as begun.
	// Default 24 h.
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	// MaxConversations bounds the conversations (and message ids)
	// remembered. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
}

// Defaults of [Config].
const (
	DefaultPath             = "/io/applebusiness"
	DefaultMaxSkew          = 5 * time.Minute
	DefaultMaxBodyBytes     = 256 << 10
	DefaultConversationTTL  = 24 * time.Hour
	DefaultMaxConversations = 100000
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a bad [Config].
	ErrConfig = errors.New("applebusiness: invalid config")
	// ErrUnauthorized is wrapped by a missing, wrong or stale signature or
	// token (401).
	ErrUnauthorized = errors.New("applebusiness: unauthorized")
	// ErrBadRequest is wrapped by a malformed request (400).
	ErrBadRequest = errors.New("applebusiness: bad request")
)

// Connector is the Apple Messages for Business channel over a messaging
// service provider: an http.Handler to mount on [Connector.Routes].
type Connector struct {
	h     Handler
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	retry httpx.Sender
	tr    TranscriptReader
	convs *convs.Table

	seen *turns.Dedup // event ids handled, to drop redeliveries
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client of the provider's API calls.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.retry.Client = hc } }

// WithRetry sets how API calls are retried: attempts in all, the first
// backoff (doubled each time) and the total wait bound. Default 4, 200 ms,
// 10 s.
func WithRetry(attempts int, backoff, maxWait time.Duration) Option {
	return func(c *Connector) {
		c.retry.Attempts, c.retry.Backoff, c.retry.MaxWait = attempts, backoff, maxWait
	}
}

// New returns a connector passing customers' messages to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if !strings.HasPrefix(cfg.Path, "/") || strings.HasSuffix(cfg.Path, "/") || strings.ContainsAny(cfg.Path, " {}") {
		return nil, fmt.Errorf("%w: path %q must start with /, not end with one, and hold no spaces or braces", ErrConfig, cfg.Path)
	}
	if cfg.BusinessID == "" || cfg.APIToken == "" {
		return nil, fmt.Errorf("%w: business_id and api_token are required", ErrConfig)
	}
	u, err := url.Parse(cfg.MSPURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: msp_url %q is not an http(s) URL", ErrConfig, cfg.MSPURL)
	}
	cfg.MSPURL = strings.TrimSuffix(cfg.MSPURL, "/")
	if cfg.Auth == "" {
		cfg.Auth = AuthHMAC
	}
	switch {
	case cfg.Auth != AuthHMAC && cfg.Auth != AuthBearer:
		return nil, fmt.Errorf("%w: auth %q is not hmac or bearer", ErrConfig, cfg.Auth)
	case cfg.InsecureSkipVerify:
	case cfg.Auth == AuthHMAC && cfg.Secret == "":
		return nil, fmt.Errorf("%w: secret is required with auth hmac (or insecure_skip_verify)", ErrConfig)
	case cfg.Auth == AuthBearer && cfg.InboundToken == "":
		return nil, fmt.Errorf("%w: inbound_token is required with auth bearer (or insecure_skip_verify)", ErrConfig)
	}
	if cfg.MaxSkew < 0 || cfg.MaxBodyBytes < 0 || cfg.ConversationTTL < 0 || cfg.MaxConversations < 0 {
		return nil, fmt.Errorf("%w: negative max_skew, max_body_bytes, conversation_ttl or max_conversations", ErrConfig)
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ConversationTTL == 0 {
		cfg.ConversationTTL = DefaultConversationTTL
	}
	if cfg.MaxConversations == 0 {
		cfg.MaxConversations = DefaultMaxConversations
	}
	c := &Connector{h: h, cfg: cfg, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	c.seen = turns.NewDedup(time.Hour, cfg.MaxConversations, func() time.Time { return c.now() })
	c.tr, _ = h.(TranscriptReader)
	c.convs = convs.New(cfg.ConversationTTL, cfg.MaxConversations)
	if cfg.InsecureSkipVerify {
		c.log.Warn("applebusiness connector: request verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"POST " + c.cfg.Path} }

// Sign returns the X-MSP-Signature of a body sent at timestamp ts (Unix
// seconds, as in X-MSP-Timestamp): "sha256=" and the hex HMAC-SHA256 of
// ts + "." + body keyed with secret. Providers and tests use it.
func Sign(secret string, ts int64, body []byte) string {
	return "sha256=" + httpx.SignHMAC("sha256", httpx.Hex, []byte(secret), signed(ts, body))
}

func signed(ts int64, body []byte) []byte {
	return append([]byte(strconv.FormatInt(ts, 10)+"."), body...)
}

// Verify checks an inbound request's headers for body. Errors wrap
// httpx.ErrUnauthorized and ErrUnauthorized.
func (c *Connector) Verify(h http.Header, body []byte) error {
	if c.cfg.Auth == AuthBearer {
		tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
		if !ok || !httpx.TokenEqual(tok, c.cfg.InboundToken) {
			return fmt.Errorf("%w: %w: bad or missing bearer token", httpx.ErrUnauthorized, ErrUnauthorized)
		}
		return nil
	}
	ts, err := strconv.ParseInt(h.Get(TimestampHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %w: missing or malformed %s", httpx.ErrUnauthorized, ErrUnauthorized, TimestampHeader)
	}
	if d := c.now().Sub(time.Unix(ts, 0)); d > c.cfg.MaxSkew || d < -c.cfg.MaxSkew {
		return fmt.Errorf("%w: %w: timestamp %d is %v away", httpx.ErrUnauthorized, ErrUnauthorized, ts, d.Round(time.Second))
	}
	sig, ok := strings.CutPrefix(h.Get(SignatureHeader), "sha256=")
	if !ok {
		return fmt.Errorf("%w: %w: missing or malformed %s", httpx.ErrUnauthorized, ErrUnauthorized, SignatureHeader)
	}
	if err := httpx.VerifyHMAC("sha256", httpx.Hex, []byte(c.cfg.Secret), signed(ts, body), sig); err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return nil
}

// ServeHTTP answers the provider's inbound messages: 200 once handled.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.cfg.InsecureSkipVerify {
		if err := c.Verify(r.Header, body); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	m, err := ParseInbound(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if m.DestinationID != c.cfg.BusinessID {
		c.fail(w, r, fmt.Errorf("%w: %w: destinationId %q is not this business", httpx.ErrBadBody, ErrBadRequest, m.DestinationID))
		return
	}
	ev, ok, err := c.event(m)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok || c.duplicate(m.ID) {
		httpx.WriteJSON(w, http.StatusOK, struct{}{})
		return
	}
	if err := c.turn(r.Context(), m, ev); err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

// event maps an inbound message: text → text, an interactive reply with a
// list picker selection → choice, close → end; other types are ignored.
func (c *Connector) event(m *Inbound) (dialog.Event, bool, error) {
	meta := map[string]string{"applebusiness.message_id": m.ID}
	switch m.Type {
	case TypeText:
		t := strings.TrimSpace(m.Body)
		if t == "" {
			return dialog.Event{}, false, nil
		}
		ev := dialog.Text(t)
		ev.Metadata = meta
		return ev, true, nil
	case TypeInteractive:
		sel := m.Selected()
		if len(sel) == 0 {
			return dialog.Event{}, false, fmt.Errorf("%w: %w: interactive message without a list picker selection", httpx.ErrBadBody, ErrBadRequest)
		}
		if len(sel) > 1 {
			meta["applebusiness.selected"] = strings.Join(sel, ",")
		}
		return dialog.Event{Type: dialog.EventChoice, Choice: sel[0], Metadata: meta}, true, nil
	case TypeClose:
		return dialog.Event{Type: dialog.EventEnd, Metadata: meta}, true, nil
	}
	return dialog.Event{}, false, nil
}

// duplicate reports whether the message id was handled already, and
// records it.
func (c *Connector) duplicate(id string) bool {
	return id != "" && c.seen.Seen(id)
}

var (
	errDialog = errors.New("applebusiness: dialog failed")
	errSend   = errors.New("applebusiness: sending the reply failed")
)

func (c *Connector) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	level, code := slog.LevelWarn, httpx.Status(err)
	switch {
	case errors.Is(err, errSend):
		level, code = slog.LevelError, http.StatusBadGateway
	case errors.Is(err, errDialog):
		level = slog.LevelError
	}
	c.log.LogAttrs(r.Context(), level, "applebusiness request failed", slog.String("error", err.Error()))
	if code >= 500 {
		httpx.WriteJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return
	}
	httpx.WriteError(w, err)
}

// turn runs ev (preceded by a start event when the conversation is new)
// and sends the replies to the customer.
func (c *Connector) turn(ctx context.Context, m *Inbound, ev dialog.Event) error {
	customer := m.SourceID
	ev.Time = c.now()
	locale := c.cfg.Locale
	if m.Locale != "" {
		locale = strings.ReplaceAll(m.Locale, "_", "-")
	}
	sess := runner.Session{ConversationID: Channel + ":" + customer, Channel: Channel, ChannelUserID: customer, Locale: locale}
	events := []dialog.Event{ev}
	if ev.Type != dialog.EventEnd && !c.convs.Get(customer, ev.Time).Started && !c.hasTranscript(ctx, sess.ConversationID) {
		events = []dialog.Event{{Type: dialog.EventStart, Time: ev.Time, Metadata: ev.Metadata}, ev}
	}
	replies := make([]dialog.Reply, 0, len(events))
	ended := false
	for _, e := range events {
		rep, err := c.h.Handle(ctx, sess, e)
		if err != nil {
			return fmt.Errorf("%w: %w", errDialog, err)
		}
		replies = append(replies, rep)
		ended = ended || rep.Hangup || e.Type == dialog.EventEnd
	}
	c.convs.Put(customer, c.now(), !ended, nil)
	if ev.Type == dialog.EventEnd {
		return nil // the customer closed the conversation
	}
	for _, rep := range replies {
		for _, out := range Render(c.cfg.BusinessID, customer, rep) {
			if err := c.Send(ctx, out); err != nil {
				return fmt.Errorf("%w: %w", errSend, err)
			}
		}
	}
	return nil
}

func (c *Connector) hasTranscript(ctx context.Context, id string) bool {
	if c.tr == nil {
		return false
	}
	entries, err := c.tr.Transcript(ctx, id)
	return err == nil && len(entries) > 0
}

// Send posts one message to the provider: POST {msp_url}/messages with
// "Authorization: Bearer {api_token}", retried on network errors, 429
// (after Retry-After) and 5xx. The message id makes retries idempotent
// for a provider that deduplicates by id.
func (c *Connector) Send(ctx context.Context, m Outbound) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = c.retry.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.MSPURL+"/messages", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIToken)
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	})
	return err
}

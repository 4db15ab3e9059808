package twitter

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"github.com/parole-voice/parole/connectors/internal/turns"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of X direct-message conversations.
const Channel = "twitter"

// SignatureHeader is the header that carries the signature of an event
// delivery.
const SignatureHeader = "X-Twitter-Webhooks-Signature"

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
	// Path is the webhook URL's path: GET for the CRC, POST for events.
	// Default "/io/twitter".
	Path string `yaml:"path"`
	// ConsumerSecret is the app's consumer secret (API key secret): it
	// answers the CRC and verifies the events' signatures. Required.
	ConsumerSecret string `yaml:"consumer_secret"`
	// UserID is the bot account's user id: events for other subscribed
	// accounts and the bot's own messages are ignored. Required.
	UserID string `yaml:"user_id"`
	// AccessToken is the bot account's OAuth 2.0 user access token (scopes
	// dm.write, dm.read, users.read), sent as a Bearer token. Required
	// unless [WithTokenSource] gives the tokens.
	AccessToken string `yaml:"access_token"`
	// APIURL is the X API's base URL. Default "https://api.x.com".
	APIURL string `yaml:"api_url"`
	// Locale is the locale given to the dialog (X sends none); empty keeps
	// the conversation's.
	Locale string `yaml:"locale"`
	// InsecureSkipVerify accepts events without a valid signature (local
	// tests only; logged as a warning). The CRC is answered either way.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ConversationTTL is how long a conversation is remembered (begun,
	// choices offered). Default 24 h.
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	// MaxConversations bounds the conversations remembered (and the event
	// ids kept to drop duplicate deliveries). Default 100000.
	MaxConversations int `yaml:"max_conversations"`
}

// Defaults of [Config].
const (
	DefaultPath             = "/io/twitter"
	DefaultAPIURL           = "https://api.x.com"
	DefaultMaxBodyBytes     = 1 << 20
	DefaultConversationTTL  = 24 * time.Hour
	DefaultMaxConversations = 100000
	// MaxDMLength is the longest direct message X accepts, in characters.
	MaxDMLength = 10000
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a bad [Config].
	ErrConfig = errors.New("twitter: invalid config")
	// ErrUnauthorized is wrapped by a missing or wrong signature (401).
	ErrUnauthorized = errors.New("twitter: unauthorized")
	// ErrBadRequest is wrapped by a malformed request (400).
	ErrBadRequest = errors.New("twitter: bad request")
)

// Connector is the X direct-message channel: an http.Handler to mount on
// [Connector.Routes].
type Connector struct {
	h      Handler
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	retry  httpx.Sender
	tokens oauth2.TokenSource
	tr     TranscriptReader
	convs  *convs.Table

	seen *turns.Dedup // event ids handled, to drop redeliveries
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client of the API calls.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.retry.Client = hc } }

// WithTokenSource gives the OAuth 2.0 user access tokens (for example an
// oauth2.Config's TokenSource, which refreshes them), instead of
// Config.AccessToken.
func WithTokenSource(ts oauth2.TokenSource) Option { return func(c *Connector) { c.tokens = ts } }

// WithRetry sets how API calls are retried: attempts in all, the first
// backoff (doubled each time) and the total wait bound. Default 4, 200 ms,
// 10 s.
func WithRetry(attempts int, backoff, maxWait time.Duration) Option {
	return func(c *Connector) {
		c.retry.Attempts, c.retry.Backoff, c.retry.MaxWait = attempts, backoff, maxWait
	}
}

// New returns a connector passing direct messages to h.
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
	if cfg.ConsumerSecret == "" {
		return nil, fmt.Errorf("%w: consumer_secret is required (it answers the CRC)", ErrConfig)
	}
	if cfg.UserID == "" {
		return nil, fmt.Errorf("%w: user_id is required", ErrConfig)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: api_url %q is not an http(s) URL", ErrConfig, cfg.APIURL)
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if cfg.MaxBodyBytes < 0 || cfg.ConversationTTL < 0 || cfg.MaxConversations < 0 {
		return nil, fmt.Errorf("%w: negative max_body_bytes, conversation_ttl or max_conversations", ErrConfig)
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
	if c.tokens == nil {
		if cfg.AccessToken == "" {
			return nil, fmt.Errorf("%w: access_token is required", ErrConfig)
		}
		c.tokens = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.AccessToken, TokenType: "Bearer"})
	}
	c.retry.Client = withResets(c.retry.Client, c.now)
	c.tr, _ = h.(TranscriptReader)
	c.convs = convs.New(cfg.ConversationTTL, cfg.MaxConversations)
	if cfg.InsecureSkipVerify {
		c.log.Warn("twitter connector: signature verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"GET " + c.cfg.Path, "POST " + c.cfg.Path} }

// ResponseToken is the CRC answer for crcToken: "sha256=" and the base64
// HMAC-SHA256 of the token keyed with the consumer secret.
func ResponseToken(consumerSecret, crcToken string) string {
	m := hmac.New(sha256.New, []byte(consumerSecret))
	m.Write([]byte(crcToken))
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ServeHTTP answers the CRC (GET) and event deliveries (POST).
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		tok := r.URL.Query().Get("crc_token")
		if tok == "" {
			c.fail(w, r, fmt.Errorf("%w: %w: crc_token is required", httpx.ErrBadBody, ErrBadRequest))
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"response_token": ResponseToken(c.cfg.ConsumerSecret, tok)})
	case http.MethodPost:
		c.serveEvents(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET or POST only"})
	}
}

func (c *Connector) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.cfg.InsecureSkipVerify {
		if err := c.Verify(body, r.Header.Get(SignatureHeader)); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	p, err := ParseEvents(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if p.ForUserID != c.cfg.UserID {
		c.log.Debug("twitter: events for another account ignored", "for_user_id", p.ForUserID)
		w.WriteHeader(http.StatusOK)
		return
	}
	for _, e := range p.DirectMessageEvents {
		if e.Type != "message_create" || e.MessageCreate == nil || e.MessageCreate.SenderID == c.cfg.UserID || e.MessageCreate.SenderID == "" {
			continue // the bot's own messages come back as events too
		}
		if c.duplicate(e.ID) {
			continue
		}
		if err := c.turn(r.Context(), &e, p.Users[e.MessageCreate.SenderID]); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// Verify checks an event delivery's signature header: "sha256=" and the
// base64 HMAC-SHA256 of the body keyed with the consumer secret. Errors
// wrap httpx.ErrUnauthorized and ErrUnauthorized.
func (c *Connector) Verify(body []byte, header string) error {
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %w: missing or malformed %s", httpx.ErrUnauthorized, ErrUnauthorized, SignatureHeader)
	}
	if err := httpx.VerifyHMAC("sha256", httpx.Base64, []byte(c.cfg.ConsumerSecret), body, sig); err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return nil
}

// duplicate reports whether the event id was handled already (X may
// deliver an event more than once), and records it.
func (c *Connector) duplicate(id string) bool {
	return id != "" && c.seen.Seen(id)
}

var (
	errDialog = errors.New("twitter: dialog failed")
	errSend   = errors.New("twitter: sending the reply failed")
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
	c.log.LogAttrs(r.Context(), level, "twitter request failed", slog.String("error", err.Error()))
	if code >= 500 {
		httpx.WriteJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return
	}
	httpx.WriteError(w, err)
}

// event maps a message_create to a dialog event: a quick reply's metadata,
// or a typed number or title of the last offered choices, is a choice;
// anything else text.
func (c *Connector) event(e *DMEvent, choices []dialog.Choice) dialog.Event {
	md := e.MessageCreate.MessageData
	text := strings.TrimSpace(md.Text)
	ev := dialog.Text(text)
	if q := md.QuickReplyResponse; q != nil && q.Metadata != "" {
		ev = dialog.Event{Type: dialog.EventChoice, Choice: q.Metadata}
	} else if ch, ok := convs.MatchChoice(text, choices); ok {
		ev = dialog.Event{Type: dialog.EventChoice, Choice: ch.Value()}
	}
	ev.Time = e.time(c.now())
	ev.Metadata = map[string]string{"twitter.event_id": e.ID}
	if text != "" && ev.Type == dialog.EventChoice {
		ev.Metadata["twitter.text"] = text
	}
	return ev
}

// turn runs one message (preceded by a start event when the conversation
// is new) and sends the replies to the sender.
func (c *Connector) turn(ctx context.Context, e *DMEvent, user *User) error {
	sender := e.MessageCreate.SenderID
	now := c.now()
	st := c.convs.Get(sender, now)
	ev := c.event(e, st.Choices)
	if ev.Type == dialog.EventText && ev.Text == "" {
		return nil // a media-only message
	}
	if user != nil && user.ScreenName != "" {
		ev.Metadata["twitter.screen_name"] = user.ScreenName
	}
	sess := runner.Session{ConversationID: Channel + ":" + sender, Channel: Channel, ChannelUserID: sender, Locale: c.cfg.Locale}
	events := []dialog.Event{ev}
	if !st.Started && !c.hasTranscript(ctx, sess.ConversationID) {
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
		ended = ended || rep.Hangup
	}
	c.convs.Put(sender, c.now(), !ended, convs.LastChoices(replies))
	for _, rep := range replies {
		for _, text := range Render(rep) {
			if _, err := c.Send(ctx, sender, text); err != nil {
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

// SentDM is X's answer to a sent message.
type SentDM struct {
	DMConversationID string `json:"dm_conversation_id"`
	DMEventID        string `json:"dm_event_id"`
}

// Send sends a direct message to a user: POST
// {api}/2/dm_conversations/with/{participant_id}/messages with {"text"},
// authorized by the bot's OAuth 2.0 user token, retried on network
// errors, 429 (after Retry-After, else a backoff) and 5xx.
func (c *Connector) Send(ctx context.Context, participantID, text string) (*SentDM, error) {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return nil, err
	}
	tok, err := c.tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	u := c.cfg.APIURL + "/2/dm_conversations/with/" + url.PathEscape(participantID) + "/messages"
	resp, err := c.retry.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		tok.SetAuthHeader(req)
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	var ans struct {
		Data   *SentDM           `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.Data == nil {
		return nil, fmt.Errorf("unexpected answer: %s", bytes.TrimSpace(resp.Body))
	}
	return ans.Data, nil
}

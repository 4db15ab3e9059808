package rocketchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Rocket.Chat conversations.
const Channel = "rocketchat"

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
	// Path is where Rocket.Chat posts the outgoing integration. Default
	// "/io/rocketchat".
	Path string `yaml:"path"`
	// Token is the outgoing integration's token, checked on every
	// request. Required unless InsecureSkipVerify.
	Token string `yaml:"token"`
	// ServerURL is the Rocket.Chat server, e.g. "https://chat.example.com".
	ServerURL string `yaml:"server_url"`
	// AuthToken and UserID are the bot user's REST credentials (a personal
	// access token and its user id), sent as X-Auth-Token and X-User-Id.
	// The bot's own messages (user_id == UserID) are ignored.
	AuthToken string `yaml:"auth_token"`
	UserID    string `yaml:"user_id"`
	// ReplyInThread answers in the thread (tmid) of the user's message.
	ReplyInThread bool `yaml:"reply_in_thread"`
	// Locale is the locale given to the dialog (Rocket.Chat sends none);
	// empty keeps the conversation's.
	Locale string `yaml:"locale"`
	// InsecureSkipVerify accepts requests without a valid token (local
	// tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 256 KiB (Rocket.Chat
	// may include the user and room objects).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ConversationTTL is how long a conversation is remembered (begun,
	// choices offered). Default 24 h.
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	// MaxConversations bounds the conversations remembered. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
}

// Defaults of [Config].
const (
	DefaultPath             = "/io/rocketchat"
	DefaultMaxBodyBytes     = 256 << 10
	DefaultConversationTTL  = 24 * time.Hour
	DefaultMaxConversations = 100000
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a bad [Config].
	ErrConfig = errors.New("rocketchat: invalid config")
	// ErrUnauthorized is wrapped by a wrong or missing token (401).
	ErrUnauthorized = errors.New("rocketchat: unauthorized")
	// ErrBadRequest is wrapped by a malformed request (400).
	ErrBadRequest = errors.New("rocketchat: bad request")
	// ErrRefused is wrapped when chat.postMessage answers success false.
	ErrRefused = errors.New("rocketchat: message refused")
)

// Connector is the Rocket.Chat channel: an http.Handler to mount on
// [Connector.Routes].
type Connector struct {
	h     Handler
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	retry httpx.Sender
	tr    TranscriptReader
	convs *convs.Table
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client of the REST API calls.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.retry.Client = hc } }

// WithRetry sets how API calls are retried: attempts in all, the first
// backoff (doubled each time) and the total wait bound. Default 4, 200 ms,
// 10 s.
func WithRetry(attempts int, backoff, maxWait time.Duration) Option {
	return func(c *Connector) {
		c.retry.Attempts, c.retry.Backoff, c.retry.MaxWait = attempts, backoff, maxWait
	}
}

// New returns a connector passing Rocket.Chat messages to h.
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
	if cfg.Token == "" && !cfg.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: token is required (or insecure_skip_verify)", ErrConfig)
	}
	u, err := url.Parse(cfg.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: server_url %q is not an http(s) URL", ErrConfig, cfg.ServerURL)
	}
	cfg.ServerURL = strings.TrimSuffix(cfg.ServerURL, "/")
	if cfg.AuthToken == "" || cfg.UserID == "" {
		return nil, fmt.Errorf("%w: auth_token and user_id are required", ErrConfig)
	}
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
	c.tr, _ = h.(TranscriptReader)
	c.convs = convs.New(cfg.ConversationTTL, cfg.MaxConversations)
	if cfg.InsecureSkipVerify {
		c.log.Warn("rocketchat connector: token verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"POST " + c.cfg.Path} }

// ServeHTTP answers the outgoing integration's requests.
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
	m, err := ParseWebhook(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.cfg.InsecureSkipVerify && !httpx.TokenEqual(m.Token, c.cfg.Token) {
		c.fail(w, r, fmt.Errorf("%w: %w: bad or missing token", httpx.ErrUnauthorized, ErrUnauthorized))
		return
	}
	text := strings.TrimSpace(m.Text)
	if m.UserID == c.cfg.UserID || m.IsBot() || text == "" {
		httpx.WriteJSON(w, http.StatusOK, struct{}{}) // the bot's own (or another bot's) message, or a file
		return
	}
	key := m.ChannelID + ":" + m.UserID
	ev := dialog.Text(text)
	if ch, ok := convs.MatchChoice(text, c.convs.Get(key, c.now()).Choices); ok {
		ev = dialog.Event{Type: dialog.EventChoice, Choice: ch.Value(), Metadata: map[string]string{"rocketchat.text": text}}
	}
	ev.Time = m.time(c.now())
	if ev.Metadata == nil {
		ev.Metadata = map[string]string{}
	}
	ev.Metadata["rocketchat.message_id"] = m.MessageID
	ev.Metadata["rocketchat.user_name"] = m.UserName
	tmid := ""
	if c.cfg.ReplyInThread {
		tmid = m.MessageID
		if m.TMID != "" {
			tmid = m.TMID
		}
	}
	if err := c.turn(r.Context(), m.ChannelID, m.UserID, tmid, ev); err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

var (
	errDialog = errors.New("rocketchat: dialog failed")
	errSend   = errors.New("rocketchat: posting the reply failed")
)

// fail answers err: 4xx for the request's faults, 500 for the dialog's,
// 502 when Rocket.Chat refused the reply.
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
	c.log.LogAttrs(r.Context(), level, "rocketchat request failed", slog.String("error", err.Error()))
	if code >= 500 {
		httpx.WriteJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return
	}
	httpx.WriteError(w, err)
}

// turn runs ev (preceded by a start event when the conversation is new)
// and posts the replies in the room.
func (c *Connector) turn(ctx context.Context, roomID, userID, tmid string, ev dialog.Event) error {
	key := roomID + ":" + userID
	sess := runner.Session{ConversationID: Channel + ":" + key, Channel: Channel, ChannelUserID: userID, Locale: c.cfg.Locale}
	events := []dialog.Event{ev}
	if !c.convs.Get(key, c.now()).Started && !c.hasTranscript(ctx, sess.ConversationID) {
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
	c.convs.Put(key, c.now(), !ended, convs.LastChoices(replies))
	for _, rep := range replies {
		for _, m := range Render(roomID, tmid, rep) {
			if err := c.Send(ctx, m); err != nil {
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

// Send posts one message with the bot's credentials: POST
// {server}/api/v1/chat.postMessage, retried on network errors, 429 (after
// Retry-After) and 5xx. An answer with "success": false wraps ErrRefused.
func (c *Connector) Send(ctx context.Context, m PostMessage) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	resp, err := c.retry.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ServerURL+"/api/v1/chat.postMessage", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Auth-Token", c.cfg.AuthToken)
		req.Header.Set("X-User-Id", c.cfg.UserID)
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	})
	if err != nil {
		return err
	}
	var ans struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || !ans.Success {
		return fmt.Errorf("%w: %s", ErrRefused, bytes.TrimSpace(resp.Body))
	}
	return nil
}

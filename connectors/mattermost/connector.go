package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Mattermost conversations.
const Channel = "mattermost"

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
	// Path is where Mattermost posts the outgoing webhook; button clicks
	// come to Path+"/actions". Default "/io/mattermost".
	Path string `yaml:"path"`
	// Token is the outgoing webhook's token, checked on every request.
	// Required unless InsecureSkipVerify.
	Token string `yaml:"token"`
	// ServerURL is the Mattermost server, e.g. "https://chat.example.com".
	ServerURL string `yaml:"server_url"`
	// BotToken is the bot account's access token (Bearer) for the REST API.
	BotToken string `yaml:"bot_token"`
	// BotUserID is the bot account's user id: its own posts are ignored.
	BotUserID string `yaml:"bot_user_id"`
	// ActionURL is the public URL of Path+"/actions", as Mattermost reaches
	// it. When set, choices are message buttons; when empty they are
	// listed in the message and the user types one.
	ActionURL string `yaml:"action_url"`
	// ActionSecret keys the HMAC that protects button contexts. Default:
	// Token (or a random key when there is none).
	ActionSecret string `yaml:"action_secret"`
	// ReplyInThread answers in the thread of the user's post.
	ReplyInThread bool `yaml:"reply_in_thread"`
	// Locale is the locale given to the dialog (Mattermost sends none);
	// empty keeps the conversation's.
	Locale string `yaml:"locale"`
	// InsecureSkipVerify accepts requests without a valid token (local
	// tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ConversationTTL is how long a conversation is remembered (begun,
	// choices offered). Default 24 h.
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	// MaxConversations bounds the conversations remembered. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
}

// Defaults of [Config].
const (
	DefaultPath             = "/io/mattermost"
	DefaultMaxBodyBytes     = 64 << 10
	DefaultConversationTTL  = 24 * time.Hour
	DefaultMaxConversations = 100000
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a bad [Config].
	ErrConfig = errors.New("mattermost: invalid config")
	// ErrUnauthorized is wrapped by a wrong or missing token, or a button
	// context whose signature does not match (401).
	ErrUnauthorized = errors.New("mattermost: unauthorized")
	// ErrBadRequest is wrapped by a malformed request (400).
	ErrBadRequest = errors.New("mattermost: bad request")
)

// Connector is the Mattermost channel: an http.Handler to mount on
// [Connector.Routes].
type Connector struct {
	h      Handler
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	retry  httpx.Sender
	secret []byte
	tr     TranscriptReader
	convs  *convs.Table
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client of the REST API calls.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.client = hc } }

// WithRetry sets how API calls are retried: attempts in all, the first
// backoff (doubled each time) and the total wait bound. Default 4, 200 ms,
// 10 s.
func WithRetry(attempts int, backoff, maxWait time.Duration) Option {
	return func(c *Connector) {
		c.retry.Attempts, c.retry.Backoff, c.retry.MaxWait = attempts, backoff, maxWait
	}
}

// New returns a connector passing Mattermost messages to h.
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
	if err := checkURL(cfg.ServerURL); err != nil {
		return nil, fmt.Errorf("%w: server_url: %w", ErrConfig, err)
	}
	cfg.ServerURL = strings.TrimSuffix(cfg.ServerURL, "/")
	if cfg.BotToken == "" {
		return nil, fmt.Errorf("%w: bot_token is required", ErrConfig)
	}
	if cfg.ActionURL != "" {
		if err := checkURL(cfg.ActionURL); err != nil {
			return nil, fmt.Errorf("%w: action_url: %w", ErrConfig, err)
		}
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
	c := &Connector{h: h, cfg: cfg, log: slog.Default(), now: time.Now, client: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	c.retry.Client = c.client
	c.tr, _ = h.(TranscriptReader)
	c.convs = convs.New(cfg.ConversationTTL, cfg.MaxConversations)
	switch {
	case cfg.ActionSecret != "":
		c.secret = []byte(cfg.ActionSecret)
	case cfg.Token != "":
		c.secret = []byte(cfg.Token)
	default:
		c.secret = make([]byte, 32)
		rand.Read(c.secret)
	}
	if cfg.InsecureSkipVerify {
		c.log.Warn("mattermost connector: token verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// Routes returns the mux patterns to mount the connector on: the outgoing
// webhook and the button actions.
func (c *Connector) Routes() []string {
	return []string{"POST " + c.cfg.Path, "POST " + c.cfg.Path + "/actions"}
}

// ServeHTTP answers the outgoing webhook (Path) and button actions
// (Path+"/actions").
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	switch r.URL.Path {
	case c.cfg.Path:
		c.serveWebhook(w, r)
	case c.cfg.Path + "/actions":
		c.serveAction(w, r)
	default:
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

func (c *Connector) serveWebhook(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		c.fail(w, r, fmt.Errorf("%w: content type %q, want application/json or application/x-www-form-urlencoded", httpx.ErrContentType, r.Header.Get("Content-Type")))
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p, err := ParseWebhook(body, mt)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.cfg.InsecureSkipVerify && !httpx.TokenEqual(p.Token, c.cfg.Token) {
		c.fail(w, r, fmt.Errorf("%w: %w: bad or missing token", httpx.ErrUnauthorized, ErrUnauthorized))
		return
	}
	if c.cfg.BotUserID != "" && p.UserID == c.cfg.BotUserID {
		httpx.WriteJSON(w, http.StatusOK, struct{}{}) // the bot's own post
		return
	}
	text := strings.TrimSpace(p.Text)
	if p.TriggerWord != "" {
		// The trigger word starts the message: it addresses the bot.
		if rest, ok := strings.CutPrefix(text, p.TriggerWord); ok {
			text = strings.TrimSpace(rest)
		}
	}
	ev := dialog.Text(text)
	key := p.ChannelID + ":" + p.UserID
	if ch, ok := convs.MatchChoice(text, c.convs.Get(key, c.now()).Choices); ok && c.cfg.ActionURL == "" {
		ev = dialog.Event{Type: dialog.EventChoice, Choice: ch.Value()}
	}
	ev.Time = p.time(c.now())
	ev.Metadata = map[string]string{"mattermost.post_id": p.PostID, "mattermost.team_id": p.TeamID, "mattermost.user_name": p.UserName}
	if ev.Type == dialog.EventText && text == "" {
		httpx.WriteJSON(w, http.StatusOK, struct{}{}) // a file without text
		return
	}
	root := ""
	if c.cfg.ReplyInThread {
		root = p.PostID
	}
	if err := c.turn(r.Context(), p.ChannelID, p.UserID, root, ev); err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

func (c *Connector) serveAction(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a, err := ParseAction(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !hmac.Equal([]byte(a.Context.Sig), []byte(c.sign(a.ChannelID, a.Context.RootID, a.Context.Payload))) {
		c.fail(w, r, fmt.Errorf("%w: %w: button context signature mismatch", httpx.ErrUnauthorized, ErrUnauthorized))
		return
	}
	ev := dialog.Event{Type: dialog.EventChoice, Choice: a.Context.Payload, Time: c.now(),
		Metadata: map[string]string{"mattermost.post_id": a.PostID, "mattermost.user_name": a.UserName}}
	if err := c.turn(r.Context(), a.ChannelID, a.UserID, a.Context.RootID, ev); err != nil {
		c.fail(w, r, err)
		return
	}
	// An empty response leaves the post as it is.
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

var (
	errDialog = errors.New("mattermost: dialog failed")
	errSend   = errors.New("mattermost: posting the reply failed")
)

// fail answers err: 4xx for the request's faults, 500 for the dialog's,
// 502 when Mattermost refused the reply.
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
	c.log.LogAttrs(r.Context(), level, "mattermost request failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	if code >= 500 {
		httpx.WriteJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return
	}
	httpx.WriteError(w, err)
}

// turn runs ev (preceded by a start event when the conversation is new)
// and posts the replies in the channel.
func (c *Connector) turn(ctx context.Context, channelID, userID, rootID string, ev dialog.Event) error {
	key := channelID + ":" + userID
	sess := runner.Session{ConversationID: Channel + ":" + key, Channel: Channel, ChannelUserID: userID, Locale: c.cfg.Locale}
	now := c.now()
	events := []dialog.Event{ev}
	if !c.convs.Get(key, now).Started && !c.hasTranscript(ctx, sess.ConversationID) {
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
		for _, p := range c.Render(channelID, rootID, rep) {
			if err := c.Post(ctx, p); err != nil {
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

// sign is the hex HMAC-SHA256 that binds a button's payload to its
// channel and thread.
func (c *Connector) sign(channelID, rootID, payload string) string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(channelID + "\x00" + rootID + "\x00" + payload))
	return hex.EncodeToString(m.Sum(nil))
}

package googlechat

import (
	"context"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Google Chat conversations.
const Channel = "googlechat"

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
	// Path is the app's HTTP endpoint. Default "/io/googlechat".
	Path string `yaml:"path"`
	// ProjectNumber is the Google Cloud project number of the Chat app:
	// the audience of Chat's bearer tokens (authentication audience
	// "Project Number"). Required unless InsecureSkipVerify.
	ProjectNumber string `yaml:"project_number"`
	// CertsURL publishes the token signing certificates. Default
	// DefaultCertsURL.
	CertsURL string `yaml:"certs_url"`
	// ClockSkew is the tolerance on the tokens' times. Default 1 min.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// Locale is the locale when the event gives none (common.userLocale).
	Locale string `yaml:"locale"`
	// InsecureSkipVerify accepts requests without a valid bearer token
	// (local tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 256 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ConversationTTL is how long a conversation is remembered as begun.
	// Default 24 h.
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	// MaxConversations bounds the conversations remembered. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
}

// Defaults of [Config].
const (
	DefaultPath             = "/io/googlechat"
	DefaultClockSkew        = time.Minute
	DefaultMaxBodyBytes     = 256 << 10
	DefaultConversationTTL  = 24 * time.Hour
	DefaultMaxConversations = 100000
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a bad [Config].
	ErrConfig = errors.New("googlechat: invalid config")
	// ErrUnauthorized is wrapped by a missing or invalid bearer token (401).
	ErrUnauthorized = errors.New("googlechat: unauthorized")
	// ErrBadRequest is wrapped by a malformed event (400).
	ErrBadRequest = errors.New("googlechat: bad request")
)

// Connector is a Google Chat app's HTTP endpoint: an http.Handler to
// mount on [Connector.Routes].
type Connector struct {
	h     Handler
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	keys  KeySource
	hc    *http.Client
	tr    TranscriptReader
	convs *convs.Table
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client that fetches the signing certificates.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.hc = hc } }

// WithKeys sets where the token signing keys come from, instead of the
// certificates at Config.CertsURL.
func WithKeys(ks KeySource) Option { return func(c *Connector) { c.keys = ks } }

// New returns a connector passing Chat events to h.
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
	if cfg.ProjectNumber == "" && !cfg.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: project_number is required (or insecure_skip_verify)", ErrConfig)
	}
	for _, r := range cfg.ProjectNumber {
		if r < '0' || r > '9' {
			return nil, fmt.Errorf("%w: project_number %q is not a number", ErrConfig, cfg.ProjectNumber)
		}
	}
	if cfg.ClockSkew < 0 || cfg.MaxBodyBytes < 0 || cfg.ConversationTTL < 0 || cfg.MaxConversations < 0 {
		return nil, fmt.Errorf("%w: negative clock_skew, max_body_bytes, conversation_ttl or max_conversations", ErrConfig)
	}
	if cfg.CertsURL == "" {
		cfg.CertsURL = DefaultCertsURL
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
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
	if c.keys == nil {
		c.keys = &CertKeys{URL: cfg.CertsURL, Client: c.hc, Now: c.now}
	}
	c.tr, _ = h.(TranscriptReader)
	c.convs = convs.New(cfg.ConversationTTL, cfg.MaxConversations)
	if cfg.InsecureSkipVerify {
		c.log.Warn("googlechat connector: bearer token verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"POST " + c.cfg.Path} }

// ServeHTTP answers one interaction event with the app's message.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	if !c.cfg.InsecureSkipVerify {
		if err := verifyToken(r.Context(), r.Header.Get("Authorization"), c.cfg.ProjectNumber, c.keys, c.cfg.ClockSkew, c.now); err != nil {
			c.fail(w, r, fmt.Errorf("%w: %w: %w", httpx.ErrUnauthorized, ErrUnauthorized, err))
			return
		}
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	e, err := ParseEvent(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if e.User.Type == "BOT" {
		httpx.WriteJSON(w, http.StatusOK, struct{}{})
		return
	}
	evs, err := c.events(e)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(evs) == 0 {
		httpx.WriteJSON(w, http.StatusOK, struct{}{}) // an event the bot does not answer
		return
	}
	resp, err := c.turn(r.Context(), e, evs)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// events maps a Chat event to dialog events.
func (c *Connector) events(e *Event) ([]dialog.Event, error) {
	meta := map[string]string{"googlechat.space": e.Space.Name, "googlechat.user": e.User.Name}
	if e.User.DisplayName != "" {
		meta["googlechat.display_name"] = e.User.DisplayName
	}
	if e.User.Email != "" {
		meta["googlechat.email"] = e.User.Email
	}
	t := c.now()
	if et, err := time.Parse(time.RFC3339Nano, e.EventTime); err == nil {
		t = et
	}
	text := ""
	if e.Message != nil {
		meta["googlechat.message"] = e.Message.Name
		text = strings.TrimSpace(e.Message.ArgumentText)
		if text == "" {
			text = strings.TrimSpace(e.Message.Text)
		}
	}
	textEv := func() dialog.Event {
		ev := dialog.Text(text)
		ev.Time, ev.Metadata = t, meta
		return ev
	}
	switch e.Type {
	case TypeAddedToSpace:
		evs := []dialog.Event{{Type: dialog.EventStart, Time: t, Metadata: meta}}
		if text != "" { // added by a message that mentions the app
			evs = append(evs, textEv())
		}
		return evs, nil
	case TypeMessage:
		if text == "" {
			return nil, nil
		}
		return []dialog.Event{textEv()}, nil
	case TypeCardClicked:
		p := e.payload()
		fn := ""
		if e.Action != nil {
			fn = e.Action.ActionMethodName
		}
		if fn == "" && e.Common != nil {
			fn = e.Common.InvokedFunction
		}
		if fn != ChoiceFunction || p == "" {
			return nil, fmt.Errorf("%w: %w: card click without the %s function and a %s parameter", httpx.ErrBadBody, ErrBadRequest, ChoiceFunction, PayloadParam)
		}
		return []dialog.Event{{Type: dialog.EventChoice, Choice: p, Time: t, Metadata: meta}}, nil
	case TypeRemovedFromSpace:
		return []dialog.Event{{Type: dialog.EventEnd, Time: t, Metadata: meta}}, nil
	}
	return nil, nil
}

var errDialog = errors.New("googlechat: dialog failed")

func (c *Connector) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, errDialog) {
		level = slog.LevelError
	}
	c.log.LogAttrs(r.Context(), level, "googlechat request failed", slog.String("error", err.Error()))
	httpx.WriteError(w, err)
}

// conversation is the conversation id of an event: the space for a direct
// message, the space and user in a shared space (each member has their
// own dialog).
func conversation(e *Event) string {
	if e.Space.IsDM() {
		return Channel + ":" + e.Space.Name
	}
	return Channel + ":" + e.Space.Name + ":" + e.User.Name
}

// turn runs the events (preceded by a start event when the conversation
// is new) and renders the replies as one message.
func (c *Connector) turn(ctx context.Context, e *Event, evs []dialog.Event) (*Response, error) {
	id := conversation(e)
	locale := c.cfg.Locale
	if e.Common != nil && e.Common.UserLocale != "" {
		locale = e.Common.UserLocale
	}
	sess := runner.Session{ConversationID: id, Channel: Channel, ChannelUserID: e.User.Name, Locale: locale}
	now := c.now()
	if evs[0].Type != dialog.EventStart && evs[0].Type != dialog.EventEnd && !c.convs.Get(id, now).Started && !c.hasTranscript(ctx, id) {
		evs = append([]dialog.Event{{Type: dialog.EventStart, Time: evs[0].Time, Metadata: evs[0].Metadata}}, evs...)
	}
	replies := make([]dialog.Reply, 0, len(evs))
	ended := false
	for _, ev := range evs {
		rep, err := c.h.Handle(ctx, sess, ev)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errDialog, err)
		}
		replies = append(replies, rep)
		ended = ended || rep.Hangup || ev.Type == dialog.EventEnd
	}
	c.convs.Put(id, c.now(), !ended, nil)
	if e.Type == TypeRemovedFromSpace {
		return &Response{}, nil // the app can no longer post there
	}
	resp := Render(replies...)
	if e.Type == TypeCardClicked {
		resp.ActionResponse = &ActionResponse{Type: "NEW_MESSAGE"}
	}
	return &resp, nil
}

func (c *Connector) hasTranscript(ctx context.Context, id string) bool {
	if c.tr == nil {
		return false
	}
	entries, err := c.tr.Transcript(ctx, id)
	return err == nil && len(entries) > 0
}

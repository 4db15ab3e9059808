package messenger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/connectors/internal/turns"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of the connector's sessions, and
// ConversationPrefix the prefix of their conversation ids
// ("messenger:"+page id+":"+PSID).
const (
	Channel            = "messenger"
	ConversationPrefix = "messenger:"
)

// Defaults of [Config].
const (
	DefaultPath              = "/io/messenger"
	DefaultGetStartedPayload = "GET_STARTED"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxPending        = 1000
	DefaultMaxConversations  = 100000
)

// Handler runs one event of a conversation and returns the bot's reply:
// *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// Config configures a [Connector]; zero fields take their defaults.
type Config struct {
	// Path is the webhook's path, for both the verification GET and the
	// event POSTs. Default "/io/messenger".
	Path string `yaml:"path"`
	// AppSecret is the Meta app's secret, which signs the webhook bodies
	// (X-Hub-Signature-256). Required unless InsecureSkipVerify.
	AppSecret string `yaml:"app_secret"`
	// VerifyToken is the token typed in the app dashboard's webhook set-up,
	// checked on the verification GET. Required.
	VerifyToken string `yaml:"verify_token"`
	// PageAccessToken is the Page's access token for the Send API.
	// Required.
	PageAccessToken string `yaml:"page_access_token"`
	// GraphURL is the Graph API root; default https://graph.facebook.com.
	GraphURL string `yaml:"graph_url"`
	// GraphVersion is the Graph API version; default v24.0.
	GraphVersion string `yaml:"graph_version"`
	// InsecureSkipVerify accepts event POSTs without checking their
	// signature (local tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// GetStartedPayload is the payload of the Page's Get Started button:
	// its postback starts the conversation. Default "GET_STARTED".
	GetStartedPayload string `yaml:"get_started_payload"`
	// NoTyping turns off the typing_on sender action sent while the
	// dialog works.
	NoTyping bool `yaml:"no_typing"`
	// MaxBodyBytes bounds a webhook body (Meta batches up to 1000 events
	// in one). Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxPending bounds the turns waiting to run; beyond it the webhook
	// answers 503 and Meta delivers again later. Default 1000.
	MaxPending int `yaml:"max_pending"`
	// MaxConversations bounds the conversations and message ids remembered
	// in memory. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
	// DefaultLocale is the locale of the sessions (Messenger webhooks carry
	// none); empty keeps the conversation's.
	DefaultLocale string `yaml:"default_locale"`
}

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("messenger: invalid config")

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.GraphURL == "" {
		c.GraphURL = meta.DefaultGraphURL
	}
	if c.GraphVersion == "" {
		c.GraphVersion = meta.DefaultGraphVersion
	}
	if c.GetStartedPayload == "" {
		c.GetStartedPayload = DefaultGetStartedPayload
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxConversations == 0 {
		c.MaxConversations = DefaultMaxConversations
	}
	return c
}

// Validate reports whether c, with its defaults, is usable. The error
// wraps [ErrConfig].
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	switch {
	case !strings.HasPrefix(c.Path, "/") || len(c.Path) > 1 && strings.HasSuffix(c.Path, "/") || strings.ContainsAny(c.Path, " {}"):
		return fmt.Errorf("%w: path %q must start with /, not end with one, and hold no spaces or braces", ErrConfig, c.Path)
	case c.AppSecret == "" && !c.InsecureSkipVerify:
		return fmt.Errorf("%w: app_secret is required (or insecure_skip_verify)", ErrConfig)
	case c.VerifyToken == "":
		return fmt.Errorf("%w: verify_token is required", ErrConfig)
	case c.PageAccessToken == "":
		return fmt.Errorf("%w: page_access_token is required", ErrConfig)
	case !strings.HasPrefix(c.GraphURL, "https://") && !strings.HasPrefix(c.GraphURL, "http://"):
		return fmt.Errorf("%w: graph_url %q is not an http(s) URL", ErrConfig, c.GraphURL)
	case !strings.HasPrefix(c.GraphVersion, "v") || strings.Contains(c.GraphVersion, "/"):
		return fmt.Errorf("%w: graph_version %q, want e.g. v24.0", ErrConfig, c.GraphVersion)
	case c.MaxBodyBytes < 0 || c.MaxPending < 0 || c.MaxConversations < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	return nil
}

// Option configures a [Connector] beyond its [Config].
type Option func(*Connector)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithHTTPClient sets the client of the Send API calls (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.client = hc } }

// WithClock sets the clock of event times when a webhook gives none
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithRetryWait replaces the waits between the retries of Send API calls
// (tests record them instead of sleeping).
func WithRetryWait(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Connector) { c.sleep = sleep }
}

// Connector is the Facebook Messenger channel: a Page webhook whose
// messages and postbacks run through the dialog, answered with the Send
// API. See the package documentation.
type Connector struct {
	cfg    Config
	h      Handler
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error

	graph *meta.Client
	hook  *meta.Webhook
	turns *turns.Queue
}

// New returns a connector passing Messenger events to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, h: h, log: slog.Default(), client: http.DefaultClient, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	c.graph = &meta.Client{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.PageAccessToken, TokenInQuery: true,
		Sender: &httpx.Sender{Client: c.client, Sleep: c.sleep}}
	c.hook = &meta.Webhook{Name: Channel, Path: cfg.Path, VerifyToken: cfg.VerifyToken, AppSecret: cfg.AppSecret,
		InsecureSkipVerify: cfg.InsecureSkipVerify, MaxBodyBytes: cfg.MaxBodyBytes, Log: c.log}
	c.turns = turns.NewQueue(h, cfg.MaxPending, cfg.MaxConversations, c.now)
	if cfg.InsecureSkipVerify {
		c.log.Warn("messenger: insecure_skip_verify is on: webhook signatures are not checked")
	}
	return c, nil
}

// Path is the webhook's path.
func (c *Connector) Path() string { return c.cfg.Path }

// Routes lists the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return c.hook.Routes() }

// Close stops taking events and waits for the running turns until ctx is
// done, then cancels them.
func (c *Connector) Close(ctx context.Context) error { return c.turns.Close(ctx) }

// Wait blocks until the turns started so far are done (tests, benchmarks).
func (c *Connector) Wait() { c.turns.Wait() }

// ServeHTTP answers the verification GET and the event POSTs: 403 for a
// wrong verify token, 401 for a bad signature, 415, 413 and 400 for a bad
// body, 503 when too many turns wait, and 200 "EVENT_RECEIVED" once the
// events are queued — the dialog runs after the answer.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := c.hook.Read(w, r)
	if !ok {
		return
	}
	wh, err := Parse(body)
	if err != nil {
		c.hook.Refuse(w, err)
		return
	}
	batch := c.turns.Batch()
	for _, e := range wh.Entry {
		for _, m := range e.Messaging {
			ev, id, ok := c.event(e.ID, m)
			if !ok {
				continue
			}
			sess := c.session(e.ID, m.Sender.ID)
			if _, err := batch.Submit(sess.ConversationID, id, func(ctx context.Context) { c.turn(ctx, sess, m.Sender.ID, ev) }); err != nil {
				c.hook.Busy(w, err)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("EVENT_RECEIVED"))
}

func (c *Connector) session(pageID, psid string) runner.Session {
	return runner.Session{ConversationID: ConversationPrefix + pageID + ":" + psid, Channel: Channel,
		ChannelUserID: psid, Locale: c.cfg.DefaultLocale}
}

// event maps a messaging event to a dialog event and its delivery id; ok
// is false for what the dialog does not take (echoes, deliveries, reads,
// reactions, messages with nothing usable).
func (c *Connector) event(pageID string, m Messaging) (ev dialog.Event, id string, ok bool) {
	t := c.now()
	if m.Timestamp > 0 {
		t = time.UnixMilli(m.Timestamp).UTC()
	}
	md := map[string]string{"messenger.page_id": pageID}
	switch {
	case m.Message != nil:
		msg := m.Message
		if msg.IsEcho {
			return ev, "", false
		}
		md["messenger.mid"] = msg.MID
		switch {
		case msg.QuickReply != nil && msg.QuickReply.Payload != "":
			ev = dialog.Event{Type: dialog.EventChoice, Choice: msg.QuickReply.Payload}
		case strings.TrimSpace(msg.Text) != "":
			ev = dialog.Text(msg.Text)
		default:
			for _, a := range msg.Attachments {
				if a.Payload.URL != "" {
					ev = dialog.Event{Type: dialog.EventAttachment, Attachment: &dialog.Attachment{URL: a.Payload.URL, ContentType: contentType(a.Type)}}
					break
				}
			}
			if ev.Type == "" {
				return ev, "", false
			}
		}
		id = msg.MID
	case m.Postback != nil && m.Postback.Payload != "":
		pb := m.Postback
		if pb.Payload == c.cfg.GetStartedPayload {
			ev = dialog.Event{Type: dialog.EventStart}
		} else {
			ev = dialog.Event{Type: dialog.EventChoice, Choice: pb.Payload}
		}
		id = pb.MID
		if id == "" {
			id = fmt.Sprintf("postback:%s:%d:%s", m.Sender.ID, m.Timestamp, pb.Payload)
		}
		md["messenger.mid"] = pb.MID
	default:
		return ev, "", false
	}
	ev.Time, ev.Metadata = t, md
	return ev, id, true
}

// contentType is a generic MIME type for an attachment type.
func contentType(typ string) string {
	switch typ {
	case "image", "audio", "video":
		return typ + "/*"
	}
	return ""
}

// turn runs ev through the dialog (after a start event when the
// conversation is new) and sends the replies to psid.
func (c *Connector) turn(ctx context.Context, sess runner.Session, psid string, ev dialog.Event) {
	log := c.log.With("conversation", sess.ConversationID)
	events := []dialog.Event{ev}
	begun := c.turns.Starts.Begun(ctx, sess.ConversationID)
	if ev.Type != dialog.EventStart && !begun {
		events = []dialog.Event{{Type: dialog.EventStart, Time: ev.Time, Metadata: ev.Metadata}, ev}
	}
	if !c.cfg.NoTyping {
		c.typing(ctx, psid, log)
	}
	for i, e := range events {
		reply, err := c.h.Handle(ctx, sess, e)
		if err != nil {
			log.Error("messenger: dialog failed", "event", e.Type, "err", err)
			if i == 0 && !begun {
				c.turns.Starts.Reset(sess.ConversationID)
			}
			return
		}
		if err := c.Send(ctx, psid, reply); err != nil {
			log.Error("messenger: sending the reply failed", "err", err)
			return
		}
	}
}

// typing sends the typing_on sender action, once: a late indicator is
// worthless, so it is not retried.
func (c *Connector) typing(ctx context.Context, psid string, log *slog.Logger) {
	g := *c.graph
	s := *g.Sender
	s.Attempts = 1
	g.Sender = &s
	if err := g.Post(ctx, "me/messages", SendRequest{Recipient: Party{ID: psid}, SenderAction: "typing_on"}, nil); err != nil {
		log.Debug("messenger: typing indicator", "err", err)
	}
}

// Send renders reply and sends its messages to the user psid with
// messaging_type RESPONSE, in order, stopping at the first failure.
func (c *Connector) Send(ctx context.Context, psid string, reply dialog.Reply) error {
	for _, m := range Render(reply) {
		var res SendResponse
		if err := c.graph.Post(ctx, "me/messages", SendRequest{Recipient: Party{ID: psid}, MessagingType: "RESPONSE", Message: &m}, &res); err != nil {
			return fmt.Errorf("messenger: send: %w", err)
		}
	}
	return nil
}

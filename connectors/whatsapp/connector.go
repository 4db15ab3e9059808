package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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
// ("whatsapp:"+phone number id+":"+wa_id).
const (
	Channel            = "whatsapp"
	ConversationPrefix = "whatsapp:"
)

// Defaults of [Config].
const (
	DefaultPath             = "/io/whatsapp"
	DefaultMaxBodyBytes     = 3 << 20
	DefaultMaxPending       = 1000
	DefaultMaxConversations = 100000
)

// Handler runs one event of a conversation and returns the bot's reply:
// *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// Config configures a [Connector]; zero fields take their defaults.
type Config struct {
	// Path is the webhook's path, for both the verification GET and the
	// event POSTs. Default "/io/whatsapp".
	Path string `yaml:"path"`
	// AppSecret is the Meta app's secret, which signs the webhook bodies
	// (X-Hub-Signature-256). Required unless InsecureSkipVerify.
	AppSecret string `yaml:"app_secret"`
	// VerifyToken is the token typed in the app dashboard's webhook set-up,
	// checked on the verification GET. Required.
	VerifyToken string `yaml:"verify_token"`
	// AccessToken is the system user (or temporary) access token of the
	// Cloud API, sent as a Bearer token. Required.
	AccessToken string `yaml:"access_token"`
	// PhoneNumberID is the business phone number's id: replies are sent
	// from it, and messages to other numbers of the account are ignored.
	// Required.
	PhoneNumberID string `yaml:"phone_number_id"`
	// GraphURL is the Graph API root; default https://graph.facebook.com.
	GraphURL string `yaml:"graph_url"`
	// GraphVersion is the Graph API version; default v24.0.
	GraphVersion string `yaml:"graph_version"`
	// InsecureSkipVerify accepts event POSTs without checking their
	// signature (local tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// NoTyping turns off marking a message read with a typing indicator
	// while the dialog works.
	NoTyping bool `yaml:"no_typing"`
	// ListButton labels the button that opens a list of more than three
	// choices. Default "Options".
	ListButton string `yaml:"list_button"`
	// MaxBodyBytes bounds a webhook body. Default 3 MiB, the largest
	// payload Meta documents for WhatsApp webhooks.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxPending bounds the turns waiting to run; beyond it the webhook
	// answers 503 and Meta delivers again later. Default 1000.
	MaxPending int `yaml:"max_pending"`
	// MaxConversations bounds the conversations and message ids remembered
	// in memory. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
	// DefaultLocale is the locale of the sessions (webhooks carry none);
	// empty keeps the conversation's.
	DefaultLocale string `yaml:"default_locale"`
}

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("whatsapp: invalid config")

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
	if c.ListButton == "" {
		c.ListButton = DefaultListButton
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
	case c.AccessToken == "":
		return fmt.Errorf("%w: access_token is required", ErrConfig)
	case c.PhoneNumberID == "" || strings.ContainsAny(c.PhoneNumberID, "/?#% "):
		return fmt.Errorf("%w: phone_number_id %q is required and must be an id", ErrConfig, c.PhoneNumberID)
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

// WithHTTPClient sets the client of the Cloud API calls (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.client = hc } }

// WithClock sets the clock of event times when a message gives none
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithRetryWait replaces the waits between the retries of Cloud API calls
// (tests record them instead of sleeping).
func WithRetryWait(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Connector) { c.sleep = sleep }
}

// Connector is the WhatsApp channel over the Cloud API: a webhook whose
// messages run through the dialog, answered through the phone number's
// messages endpoint. See the package documentation.
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

// New returns a connector passing WhatsApp messages to h.
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
	c.graph = &meta.Client{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.AccessToken,
		Sender: &httpx.Sender{Client: c.client, Sleep: c.sleep}}
	c.hook = &meta.Webhook{Name: Channel, Path: cfg.Path, VerifyToken: cfg.VerifyToken, AppSecret: cfg.AppSecret,
		InsecureSkipVerify: cfg.InsecureSkipVerify, MaxBodyBytes: cfg.MaxBodyBytes, Log: c.log}
	c.turns = turns.NewQueue(h, cfg.MaxPending, cfg.MaxConversations, c.now)
	if cfg.InsecureSkipVerify {
		c.log.Warn("whatsapp: insecure_skip_verify is on: webhook signatures are not checked")
	}
	return c, nil
}

// Path is the webhook's path.
func (c *Connector) Path() string { return c.cfg.Path }

// Routes lists the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return c.hook.Routes() }

// Close stops taking messages and waits for the running turns until ctx
// is done, then cancels them.
func (c *Connector) Close(ctx context.Context) error { return c.turns.Close(ctx) }

// Wait blocks until the turns started so far are done (tests, benchmarks).
func (c *Connector) Wait() { c.turns.Wait() }

// ServeHTTP answers the verification GET and the event POSTs: 403 for a
// wrong verify token, 401 for a bad signature, 415, 413 and 400 for a bad
// body, 503 when too many turns wait, and 200 once the messages are
// queued — the dialog runs after the answer.
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
		for _, ch := range e.Changes {
			if ch.Field != "messages" || len(ch.Value.Messages) == 0 {
				continue // statuses, account updates, …
			}
			v := ch.Value
			if v.Metadata.PhoneNumberID != c.cfg.PhoneNumberID {
				c.log.Warn("whatsapp: message for another phone number ignored", "phone_number_id", v.Metadata.PhoneNumberID)
				continue
			}
			for _, m := range v.Messages {
				ev, ok := c.event(e.ID, v, m)
				if !ok {
					continue
				}
				sess := runner.Session{ConversationID: ConversationPrefix + v.Metadata.PhoneNumberID + ":" + m.From,
					Channel: Channel, ChannelUserID: m.From, Locale: c.cfg.DefaultLocale}
				if _, err := batch.Submit(sess.ConversationID, m.ID, func(ctx context.Context) { c.turn(ctx, sess, m.From, m.ID, ev) }); err != nil {
					c.hook.Busy(w, err)
					return
				}
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

// event maps a message to a dialog event; ok is false for the types the
// dialog does not take (media, location, reactions, …: logged).
func (c *Connector) event(wabaID string, v Value, m Message) (ev dialog.Event, ok bool) {
	switch {
	case m.Type == "text" && m.Text != nil && strings.TrimSpace(m.Text.Body) != "":
		ev = dialog.Text(m.Text.Body)
	case m.Type == "interactive" && m.Interactive != nil && m.Interactive.ButtonReply != nil && m.Interactive.ButtonReply.ID != "":
		ev = dialog.Event{Type: dialog.EventChoice, Choice: m.Interactive.ButtonReply.ID}
	case m.Type == "interactive" && m.Interactive != nil && m.Interactive.ListReply != nil && m.Interactive.ListReply.ID != "":
		ev = dialog.Event{Type: dialog.EventChoice, Choice: m.Interactive.ListReply.ID}
	case m.Type == "button" && m.Button != nil && (m.Button.Payload != "" || m.Button.Text != ""):
		p := m.Button.Payload
		if p == "" {
			p = m.Button.Text
		}
		ev = dialog.Event{Type: dialog.EventChoice, Choice: p}
	default:
		c.log.Info("whatsapp: message type not handled", "type", m.Type, "id", m.ID)
		return ev, false
	}
	ev.Time = c.now()
	if secs, err := strconv.ParseInt(m.Timestamp, 10, 64); err == nil && secs > 0 {
		ev.Time = time.Unix(secs, 0).UTC()
	}
	ev.Metadata = map[string]string{"whatsapp.message_id": m.ID, "whatsapp.waba_id": wabaID,
		"whatsapp.phone_number_id": v.Metadata.PhoneNumberID}
	for _, ct := range v.Contacts {
		if ct.WaID == m.From && ct.Profile.Name != "" {
			ev.Metadata["whatsapp.profile_name"] = ct.Profile.Name
		}
	}
	return ev, true
}

// turn runs ev through the dialog (after a start event when the
// conversation is new) and sends the replies to the user.
func (c *Connector) turn(ctx context.Context, sess runner.Session, to, msgID string, ev dialog.Event) {
	log := c.log.With("conversation", sess.ConversationID)
	events := []dialog.Event{ev}
	begun := c.turns.Starts.Begun(ctx, sess.ConversationID)
	if !begun {
		events = []dialog.Event{{Type: dialog.EventStart, Time: ev.Time, Metadata: ev.Metadata}, ev}
	}
	if !c.cfg.NoTyping {
		c.typing(ctx, msgID, log)
	}
	for i, e := range events {
		reply, err := c.h.Handle(ctx, sess, e)
		if err != nil {
			log.Error("whatsapp: dialog failed", "event", e.Type, "err", err)
			if i == 0 && !begun {
				c.turns.Starts.Reset(sess.ConversationID)
			}
			return
		}
		if err := c.Send(ctx, to, reply); err != nil {
			log.Error("whatsapp: sending the reply failed", "err", err)
			return
		}
	}
}

// typing marks the received message read and shows a typing indicator,
// once: a late indicator is worthless, so it is not retried.
func (c *Connector) typing(ctx context.Context, msgID string, log *slog.Logger) {
	g := *c.graph
	s := *g.Sender
	s.Attempts = 1
	g.Sender = &s
	in := OutMessage{MessagingProduct: "whatsapp", Status: "read", MessageID: msgID, TypingIndicator: &TypingIndicator{Type: "text"}}
	if err := g.Post(ctx, c.cfg.PhoneNumberID+"/messages", in, nil); err != nil {
		log.Debug("whatsapp: typing indicator", "err", err)
	}
}

// Send renders reply and sends its messages to the WhatsApp user to (a
// wa_id or phone number), in order, stopping at the first failure. Free
// form messages reach a user only within 24 hours of their last message.
func (c *Connector) Send(ctx context.Context, to string, reply dialog.Reply) error {
	for _, m := range Render(reply, RenderOptions{ListButton: c.cfg.ListButton}) {
		m.MessagingProduct, m.RecipientType, m.To = "whatsapp", "individual", to
		var res SendResponse
		if err := c.graph.Post(ctx, c.cfg.PhoneNumberID+"/messages", m, &res); err != nil {
			return fmt.Errorf("whatsapp: send: %w", err)
		}
	}
	return nil
}

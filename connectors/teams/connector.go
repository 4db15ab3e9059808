package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// Channel is the channel name of the connector's sessions, and
// ConversationPrefix the prefix of their conversation ids ("teams:" +
// Teams conversation id).
const (
	Channel            = "teams"
	ConversationPrefix = "teams:"
)

// App types: how the bot's Entra ID app registration is set up, which
// decides the authority of its tokens.
const (
	AppMultiTenant  = "multi_tenant"
	AppSingleTenant = "single_tenant"
)

// Defaults of [Config].
const (
	DefaultPath             = "/io/teams"
	DefaultMaxBodyBytes     = 256 << 10
	DefaultTypingInterval   = 3 * time.Second
	DefaultMaxConversations = 100000
	DefaultKeysTTL          = 24 * time.Hour
	DefaultKeyRefresh       = time.Minute
)

// Handler runs one event of a conversation and returns the bot's reply:
// *runner.Runner is one, tests pass fakes.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// TranscriptReader reads a conversation's transcript; *runner.Runner is
// one. A [Handler] that is also a TranscriptReader tells the connector
// whether a conversation is new after a restart.
type TranscriptReader interface {
	Transcript(ctx context.Context, conversationID string) ([]store.Entry, error)
}

// Config configures a [Connector]; zero fields take their defaults.
type Config struct {
	// Path is the messaging endpoint registered with the Azure Bot:
	// POST Path takes activities, POST Path+"/notify" proactive messages.
	// Default "/io/teams".
	Path string `yaml:"path"`
	// AppID and AppPassword are the bot's Microsoft app id and client
	// secret. Both are required.
	AppID       string `yaml:"app_id"`
	AppPassword string `yaml:"app_password"`
	// AppType is "multi_tenant" (default: tokens from the botframework.com
	// authority) or "single_tenant" (tokens from TenantID's authority).
	AppType string `yaml:"app_type"`
	// TenantID is the bot's tenant, required for single_tenant.
	TenantID string `yaml:"tenant_id"`
	// LoginURL is the Entra ID authority host; default
	// https://login.microsoftonline.com.
	LoginURL string `yaml:"login_url"`
	// OpenIDMetadataURL is the Bot Framework's OpenID metadata document;
	// default https://login.botframework.com/v1/.well-known/openidconfiguration.
	OpenIDMetadataURL string `yaml:"openid_metadata_url"`
	// KeysTTL is how long the signing keys are kept (default 24 h), and
	// KeyRefreshInterval the least time between two refetches prompted by
	// an unknown key id (default 1 min).
	KeysTTL            time.Duration `yaml:"keys_ttl"`
	KeyRefreshInterval time.Duration `yaml:"key_refresh_interval"`
	// InsecureSkipVerify turns off the check of the Bot Connector's tokens.
	// Only for local tests with the Bot Framework Emulator: anyone could
	// then talk as any user and make the bot post to any https URL.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// NotifyToken is the bearer token of POST Path+"/notify"; empty
	// turns the endpoint off.
	NotifyToken string `yaml:"notify_token"`
	// ChoiceStyle is "hero" (default: Hero card buttons) or "adaptive"
	// (Adaptive Cards with Action.Submit).
	ChoiceStyle string `yaml:"choice_style"`
	// MaxBodyBytes bounds an incoming body. Default 256 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TypingInterval is the period of the typing activities sent while
	// the dialog works. Default 3 s; negative sends none.
	TypingInterval time.Duration `yaml:"typing_interval"`
	// MaxTextUTF16 bounds a message's text in UTF-16 code units. Default
	// 16000.
	MaxTextUTF16 int `yaml:"max_text_utf16"`
	// MaxConversations bounds the conversations (service URL, last sent
	// activity) kept in memory. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
	// SkipImageCheck sends image attachments without fetching them to
	// check Teams' limits (PNG/JPEG/GIF, at most 1 MB and 1024×1024).
	SkipImageCheck bool `yaml:"skip_image_check"`
	// DefaultLocale is the locale of activities that give none; empty
	// keeps the conversation's.
	DefaultLocale string `yaml:"default_locale"`
}

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("teams: invalid config")

// Errors of the Go API.
var (
	// ErrNoConversation: the connector knows no service URL for the
	// conversation (it never received an activity of it).
	ErrNoConversation = errors.New("teams: unknown conversation")
	// ErrNothingToSend: the reply renders to no message.
	ErrNothingToSend = errors.New("teams: nothing to send")
	// ErrUpdate: an update must render to exactly one message.
	ErrUpdate = errors.New("teams: an update replaces one message")
)

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.AppType == "" {
		c.AppType = AppMultiTenant
	}
	if c.LoginURL == "" {
		c.LoginURL = DefaultLoginURL
	}
	if c.OpenIDMetadataURL == "" {
		c.OpenIDMetadataURL = DefaultOpenIDMetadataURL
	}
	if c.KeysTTL == 0 {
		c.KeysTTL = DefaultKeysTTL
	}
	if c.KeyRefreshInterval == 0 {
		c.KeyRefreshInterval = DefaultKeyRefresh
	}
	if c.ChoiceStyle == "" {
		c.ChoiceStyle = ChoiceHero
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.TypingInterval == 0 {
		c.TypingInterval = DefaultTypingInterval
	}
	if c.MaxTextUTF16 == 0 {
		c.MaxTextUTF16 = DefaultMaxTextUTF16
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
	case !strings.HasPrefix(c.Path, "/") || len(c.Path) > 1 && strings.HasSuffix(c.Path, "/"):
		return fmt.Errorf("%w: path %q must start with / and not end with one", ErrConfig, c.Path)
	case c.AppID == "":
		return fmt.Errorf("%w: app_id is required", ErrConfig)
	case c.AppPassword == "":
		return fmt.Errorf("%w: app_password is required", ErrConfig)
	case c.AppType != AppMultiTenant && c.AppType != AppSingleTenant:
		return fmt.Errorf("%w: app_type %q, want %s or %s", ErrConfig, c.AppType, AppMultiTenant, AppSingleTenant)
	case c.AppType == AppSingleTenant && c.TenantID == "":
		return fmt.Errorf("%w: single_tenant needs tenant_id", ErrConfig)
	case c.AppType == AppMultiTenant && c.TenantID != "":
		return fmt.Errorf("%w: tenant_id is for single_tenant apps", ErrConfig)
	case c.ChoiceStyle != ChoiceHero && c.ChoiceStyle != ChoiceAdaptive:
		return fmt.Errorf("%w: choice_style %q, want hero or adaptive", ErrConfig, c.ChoiceStyle)
	case c.MaxBodyBytes < 0 || c.MaxTextUTF16 < 0 || c.MaxConversations < 0 || c.KeysTTL < 0 || c.KeyRefreshInterval < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	for name, u := range map[string]string{"login_url": c.LoginURL, "openid_metadata_url": c.OpenIDMetadataURL} {
		if err := checkServiceURL(u); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, name, err)
		}
	}
	return nil
}

// Option configures a [Connector] beyond its [Config].
type Option func(*Connector)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithHTTPClient sets the client of every outgoing call: token endpoint,
// OpenID metadata and keys, Bot Connector API, image checks (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.client = hc } }

// WithClock sets the clock of token expiry and event times (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithRefStore sets where conversation references are kept (default a
// bounded [MemoryRefs]); pass a persistent store to notify users after a
// restart.
func WithRefStore(s RefStore) Option { return func(c *Connector) { c.refs = s } }

// WithSigningKeys makes the connector accept tokens signed with these keys
// only, fetching none (tests, air-gapped set-ups).
func WithSigningKeys(keys ...SigningKey) Option {
	return func(c *Connector) { c.staticKeys = keys }
}

// WithRetryWait replaces the waits between the retries of outgoing calls
// (tests record them instead of sleeping).
func WithRetryWait(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Connector) { c.sleep = sleep }
}

// Connector is the Microsoft Teams channel: the messaging endpoint of an
// Azure Bot, speaking Bot Framework v3 activities. See the package
// documentation.
type Connector struct {
	cfg        Config
	h          Handler
	tr         TranscriptReader
	log        *slog.Logger
	client     *http.Client
	now        func() time.Time
	refs       RefStore
	staticKeys []SigningKey
	sleep      func(ctx context.Context, d time.Duration) error

	verifier *Verifier
	tokens   *tokenSource
	sender   *httpx.Sender
	convs    *conversations

	imgMu  sync.Mutex
	images map[string]error // image check results by URL
}

// New returns a connector passing Teams activities to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, h: h, log: slog.Default(), client: http.DefaultClient, now: time.Now, images: map[string]error{}}
	for _, o := range opts {
		o(c)
	}
	if tr, ok := h.(TranscriptReader); ok {
		c.tr = tr
	}
	if c.refs == nil {
		c.refs = NewMemoryRefs(cfg.MaxConversations)
	}
	c.sender = &httpx.Sender{Client: c.client, Sleep: c.sleep}
	tenant := ""
	if cfg.AppType == AppSingleTenant {
		tenant = cfg.TenantID
	}
	c.tokens = &tokenSource{url: TokenURL(cfg.LoginURL, tenant), clientID: cfg.AppID, secret: cfg.AppPassword, sender: c.sender, now: c.now}
	c.verifier = NewVerifier(cfg.AppID, VerifierOptions{MetadataURL: cfg.OpenIDMetadataURL, Client: c.client, Now: c.now,
		KeysTTL: cfg.KeysTTL, MinRefresh: cfg.KeyRefreshInterval, Keys: c.staticKeys})
	c.convs = newConversations(cfg.MaxConversations)
	if cfg.InsecureSkipVerify {
		c.log.Warn("teams: insecure_skip_verify is on: incoming activities are not authenticated")
	}
	return c, nil
}

// Path is the messaging endpoint's path.
func (c *Connector) Path() string { return c.cfg.Path }

// Routes lists the paths to mount the connector on: the messaging endpoint,
// and the notify endpoint when a notify token is configured.
func (c *Connector) Routes() []string {
	if c.cfg.NotifyToken == "" {
		return []string{c.cfg.Path}
	}
	return []string{c.cfg.Path, c.cfg.Path + "/notify"}
}

// ServeHTTP serves the messaging endpoint and the notify endpoint.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	notify := false
	switch r.URL.Path {
	case c.cfg.Path:
	case c.cfg.Path + "/notify":
		if c.cfg.NotifyToken == "" {
			httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
			return
		}
		notify = true
	default:
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " is not allowed here"})
		return
	}
	if notify {
		c.serveNotify(w, r)
		return
	}
	c.serveActivity(w, r)
}

// serveActivity authenticates, parses and dispatches one activity.
func (c *Connector) serveActivity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	var claims Claims
	var key SigningKey
	if !c.cfg.InsecureSkipVerify {
		claims, key, err = c.verifier.verifyToken(ctx, r.Header.Get("Authorization"))
		if err != nil {
			c.authError(w, err)
			return
		}
	}
	a, err := ParseActivity(body)
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	if !c.cfg.InsecureSkipVerify {
		if err := authorize(claims, key, a.ChannelID, a.ServiceURL); err != nil {
			c.authError(w, err)
			return
		}
	}
	switch a.Type {
	case TypeMessage:
		c.onMessage(ctx, w, a)
	case TypeConversationUpdate:
		c.onConversationUpdate(ctx, w, a)
	case TypeInvoke:
		c.onInvoke(ctx, w, a)
	default:
		// messageReaction, typing, installationUpdate, …: acknowledged,
		// nothing for the dialog.
		w.WriteHeader(http.StatusOK)
	}
}

func (c *Connector) authError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		c.log.Warn("teams: activity refused", "err", err)
		httpx.WriteJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrKeysUnavailable):
		c.log.Error("teams: cannot verify activities", "err", err)
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "signing keys unavailable"})
	default:
		c.log.Warn("teams: unauthenticated activity", "err", err)
		httpx.WriteError(w, err)
	}
}

// remember records the conversation's service URL (when the activity is
// not older than the one that set it), the bot's and user's accounts, and
// the user's conversation reference.
func (c *Connector) remember(ctx context.Context, a *Activity) convState {
	ts := c.now()
	if a.Timestamp != nil {
		ts = *a.Timestamp
	}
	st := c.convs.update(a.Conversation.ID, func(s *convState) {
		if s.serviceURL == "" || !ts.Before(s.seen) {
			if s.serviceURL != "" && s.serviceURL != a.ServiceURL {
				c.log.Info("teams: service URL changed", "conversation", a.Conversation.ID, "from", s.serviceURL, "to", a.ServiceURL)
			}
			s.serviceURL, s.seen = a.ServiceURL, ts
		}
		s.bot = *a.Recipient
		if a.From != nil && a.From.ID != "" && a.From.ID != a.Recipient.ID {
			s.user = *a.From
		}
	})
	if a.From != nil && a.From.ID != "" && a.From.ID != a.Recipient.ID {
		ref := ConversationRef{UserKey: a.From.ID, UserName: a.From.Name, AADObjectID: a.From.AADObjectID,
			Bot: *a.Recipient, TenantID: a.tenantID(), ServiceURL: st.serviceURL,
			ConversationID: a.Conversation.ID, ConversationType: a.conversationType(),
			Locale: a.locale(), Updated: c.now()}
		// A personal chat is the better way back to a user: keep it over a
		// channel's.
		old, err := c.refs.Ref(ctx, a.From.ID)
		if err == nil && ref.TenantID == "" {
			ref.TenantID = old.TenantID
		}
		if err == nil && old.ConversationType == ConversationPersonal && ref.ConversationType != ConversationPersonal {
			old.ServiceURL, old.Updated = ref.ServiceURL, ref.Updated
			if ref.TenantID != "" {
				old.TenantID = ref.TenantID
			}
			if ref.Locale != "" {
				old.Locale = ref.Locale
			}
			ref = old
		}
		if err := c.refs.SaveRef(ctx, ref); err != nil {
			c.log.Error("teams: saving a conversation reference", "user", a.From.ID, "err", err)
		}
	}
	return st
}

// onMessage answers a message activity.
func (c *Connector) onMessage(ctx context.Context, w http.ResponseWriter, a *Activity) {
	st := c.remember(ctx, a)
	choice := a.choice()
	if a.conversationType() != ConversationPersonal && choice == "" && !a.mentionsBot() {
		// In channels and group chats the bot answers only when
		// @mentioned (card actions on its own cards excepted).
		w.WriteHeader(http.StatusOK)
		return
	}
	var ev dialog.Event
	switch text := a.cleanText(); {
	case choice != "":
		ev = dialog.Event{Type: dialog.EventChoice, Choice: choice}
	case text != "":
		ev = dialog.Text(text)
	case a.attachment() != nil:
		at := a.attachment()
		ev = dialog.Event{Type: dialog.EventAttachment, Attachment: &dialog.Attachment{URL: at.ContentURL, Name: at.Name, ContentType: at.ContentType}}
	default:
		w.WriteHeader(http.StatusOK) // nothing the dialog can use
		return
	}
	if _, err := c.turn(ctx, a, st, ev, true); err != nil {
		c.turnError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// onConversationUpdate starts the conversation when the bot is added and
// ends it when the bot is removed.
func (c *Connector) onConversationUpdate(ctx context.Context, w http.ResponseWriter, a *Activity) {
	st := c.remember(ctx, a)
	added, removed := false, false
	for _, m := range a.MembersAdded {
		added = added || m.ID == a.Recipient.ID
	}
	for _, m := range a.MembersRemoved {
		removed = removed || m.ID == a.Recipient.ID
	}
	switch {
	case added && !st.started:
		if _, err := c.turn(ctx, a, st, dialog.Event{Type: dialog.EventStart}, false); err != nil {
			c.turnError(w, err)
			return
		}
	case removed:
		sess := c.session(a)
		if _, err := c.h.Handle(ctx, sess, dialog.Event{Type: dialog.EventEnd, Time: c.eventTime(a), Metadata: metadata(a)}); err != nil {
			c.log.Error("teams: ending the conversation", "conversation", a.Conversation.ID, "err", err)
		}
		c.convs.update(a.Conversation.ID, func(s *convState) { s.started = false })
	}
	w.WriteHeader(http.StatusOK)
}

// onInvoke answers card action invokes: adaptiveCard/action (Action.Execute)
// and Hero card invoke buttons carrying a choice. Others get 501, as the
// Bot Framework SDK answers invokes it does not handle.
func (c *Connector) onInvoke(ctx context.Context, w http.ResponseWriter, a *Activity) {
	st := c.remember(ctx, a)
	choice := a.choice()
	if choice == "" {
		if a.Name == InvokeAdaptiveCardAction {
			httpx.WriteJSON(w, http.StatusOK, InvokeResponse{StatusCode: http.StatusBadRequest, Type: "application/vnd.microsoft.error",
				Value: map[string]string{"code": "BadRequest", "message": "the action carries no choice"}})
			return
		}
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	reply, err := c.turn(ctx, a, st, dialog.Event{Type: dialog.EventChoice, Choice: choice}, true)
	if err != nil {
		c.turnError(w, err)
		return
	}
	if a.Name == InvokeAdaptiveCardAction {
		msg := TruncateUTF16(reply.Text(), 200)
		if msg == "" {
			msg = "OK"
		}
		httpx.WriteJSON(w, http.StatusOK, InvokeResponse{StatusCode: http.StatusOK, Type: "application/vnd.microsoft.activity.message", Value: msg})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{})
}

// errDialog and errSend tell turn's failures apart.
var (
	errDialog = errors.New("teams: dialog failed")
	errSend   = errors.New("teams: sending the reply failed")
)

func (c *Connector) turnError(w http.ResponseWriter, err error) {
	c.log.Error("teams: turn failed", "err", err)
	if errors.Is(err, errSend) {
		httpx.WriteJSON(w, http.StatusBadGateway, map[string]string{"error": "sending the reply failed"})
		return
	}
	httpx.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
}

func (c *Connector) session(a *Activity) runner.Session {
	s := runner.Session{ConversationID: ConversationPrefix + a.Conversation.ID, Channel: Channel, Locale: a.locale()}
	if a.From != nil && a.From.ID != a.Recipient.ID {
		s.ChannelUserID = a.From.ID
	}
	if s.Locale == "" {
		s.Locale = c.cfg.DefaultLocale
	}
	return s
}

func (c *Connector) eventTime(a *Activity) time.Time {
	if a.Timestamp != nil && !a.Timestamp.IsZero() {
		return *a.Timestamp
	}
	return c.now()
}

// metadata returns the Teams facts of an activity for Event.Metadata.
func metadata(a *Activity) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("teams.activity_id", a.ID)
	set("teams.conversation_type", a.conversationType())
	set("teams.tenant_id", a.tenantID())
	if cd := a.ChannelData; cd != nil {
		if cd.Team != nil {
			set("teams.team_id", cd.Team.ID)
		}
		if cd.Channel != nil {
			set("teams.channel_id", cd.Channel.ID)
		}
	}
	if a.From != nil {
		set("teams.user_name", a.From.Name)
		set("teams.aad_object_id", a.From.AADObjectID)
	}
	if ci := a.clientInfo(); ci != nil {
		set("teams.timezone", ci.Timezone)
		set("teams.platform", ci.Platform)
		set("teams.country", ci.Country)
	}
	return m
}

// turn runs ev (preceded by a start event when the conversation is new)
// through the handler while typing activities show, then posts the
// replies in the conversation. It returns the last reply.
func (c *Connector) turn(ctx context.Context, a *Activity, st convState, ev dialog.Event, typing bool) (dialog.Reply, error) {
	sess := c.session(a)
	ev.Time = c.eventTime(a)
	ev.Metadata = metadata(a)
	events := []dialog.Event{ev}
	if ev.Type != dialog.EventStart && !c.started(ctx, st, sess.ConversationID) {
		events = []dialog.Event{{Type: dialog.EventStart, Time: ev.Time, Metadata: ev.Metadata}, ev}
	}
	stop := func() {}
	if typing && c.cfg.TypingInterval > 0 {
		stop = c.startTyping(ctx, a)
	}
	replies := make([]dialog.Reply, 0, len(events))
	for _, e := range events {
		r, err := c.h.Handle(ctx, sess, e)
		if err != nil {
			stop()
			return dialog.Reply{}, fmt.Errorf("%w: %w", errDialog, err)
		}
		replies = append(replies, r)
	}
	stop()
	c.convs.update(a.Conversation.ID, func(s *convState) { s.started = true })
	for _, r := range replies {
		if _, err := c.post(ctx, a, r); err != nil {
			return dialog.Reply{}, fmt.Errorf("%w: %w", errSend, err)
		}
	}
	return replies[len(replies)-1], nil
}

// started reports whether the conversation has begun: known to the
// connector, or with a transcript when the handler keeps them.
func (c *Connector) started(ctx context.Context, st convState, convID string) bool {
	if st.started {
		return true
	}
	if c.tr == nil {
		return false
	}
	entries, err := c.tr.Transcript(ctx, convID)
	return err == nil && len(entries) > 0
}

// startTyping sends a typing activity now and every TypingInterval until
// the returned stop is called; stop waits for the sender to finish.
func (c *Connector) startTyping(ctx context.Context, a *Activity) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.cfg.TypingInterval)
		defer t.Stop()
		for {
			act := Activity{Type: TypeTyping}
			if _, err := c.sendActivity(ctx, a, act, true); err != nil {
				c.log.Debug("teams: typing activity", "err", err)
			}
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// post renders a reply and posts its messages as replies to activity a.
// It returns the ids of the activities created.
func (c *Connector) post(ctx context.Context, a *Activity, r dialog.Reply) ([]string, error) {
	var ids []string
	for _, act := range c.render(ctx, r, a.locale()) {
		id, err := c.sendActivity(ctx, a, act, false)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// sendActivity addresses act to the conversation of a (from the bot to
// the user, in reply to a when it has an id) and posts it to the
// conversation's remembered service URL.
func (c *Connector) sendActivity(ctx context.Context, a *Activity, act Activity, typing bool) (string, error) {
	st, ok := c.convs.get(a.Conversation.ID)
	serviceURL := a.ServiceURL
	if ok && st.serviceURL != "" {
		serviceURL = st.serviceURL
	}
	bot := *a.Recipient
	act.From = &bot
	if a.From != nil && a.From.ID != a.Recipient.ID {
		user := *a.From
		act.Recipient = &user
	}
	act.Conversation = &ConversationAccount{ID: a.Conversation.ID}
	path := "/v3/conversations/" + escapeSegment(a.Conversation.ID) + "/activities"
	if a.ID != "" && a.Type != TypeConversationUpdate {
		act.ReplyToID = a.ID
		path += "/" + escapeSegment(a.ID)
	}
	var res ResourceResponse
	attempts := 0
	if typing {
		attempts = 1 // a late typing indicator is worthless
	}
	if err := c.call(ctx, http.MethodPost, serviceURL, path, act, &res, attempts); err != nil {
		return "", err
	}
	if !typing && res.ID != "" {
		c.convs.update(a.Conversation.ID, func(s *convState) { s.lastSent, s.lastUpdated = res.ID, c.now() })
	}
	return res.ID, nil
}

// render renders a reply with the connector's options, checking images.
func (c *Connector) render(ctx context.Context, r dialog.Reply, locale string) []Activity {
	o := RenderOptions{ChoiceStyle: c.cfg.ChoiceStyle, MaxTextUTF16: c.cfg.MaxTextUTF16, Locale: locale}
	if !c.cfg.SkipImageCheck {
		o.CheckImage = func(url, ct string) error { return c.checkImage(ctx, url, ct) }
	}
	return Render(r, o)
}

// call sends one Bot Connector API request with the bot's token, retrying
// per httpx.Sender (attempts 0 means its default), and once more with a new
// token when the Connector answers 401. out, when not nil, receives the
// JSON answer.
func (c *Connector) call(ctx context.Context, method, serviceURL, path string, in, out any, attempts int) error {
	if err := checkServiceURL(serviceURL); err != nil {
		return err
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	url := strings.TrimSuffix(serviceURL, "/") + path
	sender := c.sender
	if attempts > 0 {
		s := *c.sender
		s.Attempts = attempts
		sender = &s
	}
	for try := 0; ; try++ {
		var used string
		resp, err := sender.Do(ctx, func(ctx context.Context) (*http.Request, error) {
			tok, err := c.tokens.Token(ctx)
			if err != nil {
				return nil, err
			}
			used = tok
			var rd *bytes.Reader
			if body != nil {
				rd = bytes.NewReader(body)
			}
			var req *http.Request
			if rd != nil {
				req, err = http.NewRequestWithContext(ctx, method, url, rd)
			} else {
				req, err = http.NewRequestWithContext(ctx, method, url, nil)
			}
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			if body != nil {
				req.Header.Set("Content-Type", "application/json; charset=utf-8")
			}
			return req, nil
		})
		var serr *httpx.StatusError
		if err != nil && try == 0 && used != "" && errors.As(err, &serr) && serr.StatusCode == http.StatusUnauthorized {
			c.tokens.invalidate(used)
			continue
		}
		if err != nil {
			return fmt.Errorf("teams: %s %s: %w", method, path, err)
		}
		if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
			if err := json.Unmarshal(resp.Body, out); err != nil {
				return fmt.Errorf("teams: %s %s: decoding the answer: %w", method, path, err)
			}
		}
		return nil
	}
}

// escapeSegment escapes a path segment as JavaScript's encodeURIComponent
// does, as the Bot Framework SDKs send conversation and activity ids.
func escapeSegment(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte(keep, ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

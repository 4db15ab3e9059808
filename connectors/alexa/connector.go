package alexa

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Alexa conversations, and
// ConversationPrefix the prefix of their ids ("alexa:"+sessionId).
const (
	Channel            = "alexa"
	ConversationPrefix = "alexa:"
)

// Handler runs one event of a conversation: *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// AccountResolver returns the parole user id an account-linking access
// token stands for. An error means the token is not (or no longer) valid:
// the user is asked to link the account again.
type AccountResolver func(ctx context.Context, accessToken string) (userID string, err error)

// JWTAccounts returns an [AccountResolver] for access tokens that are
// HS256 JWTs signed with secret (checked as the web chat checks its
// tokens: signature, exp, nbf) whose "sub" claim is the user id — the same
// user id the web chat's JWTs carry.
func JWTAccounts(secret []byte, now func() time.Time) AccountResolver {
	return func(_ context.Context, tok string) (string, error) {
		cl, err := web.VerifyJWT(tok, secret, now())
		if err != nil {
			return "", err
		}
		if cl.Subject == "" {
			return "", fmt.Errorf("alexa: access token without sub")
		}
		return cl.Subject, nil
	}
}

// Config configures a [Connector]. The zero value of each field means its
// default, but SkillID is required unless InsecureSkipVerify is set.
type Config struct {
	// Path is where Alexa posts requests. Default "/io/alexa".
	Path string `yaml:"path"`
	// SkillID is the skill's application id
	// ("amzn1.ask.skill.…"); requests for any other skill get 401.
	SkillID string `yaml:"skill_id"`
	// InsecureSkipVerify turns off the signature, timestamp and
	// application id checks (for local tests with a simulator): never in
	// production, Amazon requires them.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 128 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// CardTitle titles the Simple cards shown in the Alexa app.
	// Default "Parole".
	CardTitle string `yaml:"card_title"`
	// TextSlots names the catch-all slots (type AMAZON.SearchQuery) whose
	// value is the user's raw utterance: it goes through parole's own
	// intent matching as text. Compared case-insensitively. Default
	// ["query"].
	TextSlots []string `yaml:"text_slots"`
	// Intents maps Alexa intent names to the parole event they stand for,
	// over [DefaultIntents]: "global:NAME" (a flow's global intent) or any
	// other choice payload sends a choice event; "no_match", "no_input",
	// "start" and "end" send those events.
	Intents map[string]string `yaml:"intents"`
	// AccountJWTSecret, when set, makes account-linking access tokens
	// HS256 JWTs signed with it whose "sub" is the parole user id
	// ([JWTAccounts]); [WithAccounts] sets another resolver.
	AccountJWTSecret string `yaml:"account_jwt_secret"`
	// RequireAccount answers users without a linked account with a
	// LinkAccount card instead of talking to them anonymously.
	RequireAccount bool `yaml:"require_account"`
	// KeepLinkedConversations leaves a linked user's conversation open
	// when their Alexa session ends (the SessionEndedRequest is answered
	// without reaching the dialog), so they can finish it on another
	// channel later; by default the session's end ends the conversation.
	KeepLinkedConversations bool `yaml:"keep_linked_conversations"`
	// LinkAccountText is said with the LinkAccount card. Default "Please
	// link your account in the Alexa app, then try again."
	LinkAccountText string `yaml:"link_account_text"`
}

// DefaultIntents maps Alexa's built-in intents to the global intents of
// parole flows (the demo flow's names) and to dialog events.
var DefaultIntents = map[string]string{
	"AMAZON.HelpIntent":         "global:help",
	"AMAZON.RepeatIntent":       "global:repeat",
	"AMAZON.CancelIntent":       "global:cancel",
	"AMAZON.NavigateHomeIntent": "global:cancel",
	"AMAZON.StopIntent":         "global:goodbye",
	"AMAZON.FallbackIntent":     "no_match",
	"AMAZON.YesIntent":          "yes",
	"AMAZON.NoIntent":           "no",
}

// Defaults of [Config].
const (
	DefaultPath            = "/io/alexa"
	DefaultMaxBodyBytes    = 128 << 10
	DefaultCardTitle       = "Parole"
	DefaultLinkAccountText = "Please link your account in the Alexa app, then try again."
)

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("alexa: invalid config")

// Connector is an Alexa custom-skill endpoint: an http.Handler to mount on
// [Connector.Routes].
type Connector struct {
	h        Handler
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	fetch    CertFetcher
	roots    *x509.CertPool
	verifier *Verifier
	accounts AccountResolver
	intents  map[string]string
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock of timestamp and certificate checks.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client that fetches signing certificates
// (default: one with a 10 s timeout).
func WithHTTPClient(cl *http.Client) Option { return func(c *Connector) { c.client = cl } }

// WithCertFetcher replaces the HTTP fetching of signing certificate chains
// (tests serve their own).
func WithCertFetcher(f CertFetcher) Option { return func(c *Connector) { c.fetch = f } }

// WithRoots sets the roots signing certificates must chain to (default:
// the system's roots, where Amazon's CA is).
func WithRoots(pool *x509.CertPool) Option { return func(c *Connector) { c.roots = pool } }

// WithAccounts sets how account-linking access tokens resolve to parole
// user ids, instead of Config.AccountJWTSecret.
func WithAccounts(r AccountResolver) Option { return func(c *Connector) { c.accounts = r } }

// New returns a connector passing Alexa requests to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if !strings.HasPrefix(cfg.Path, "/") || strings.ContainsAny(cfg.Path, " {}") {
		return nil, fmt.Errorf("%w: path %q must start with / and hold no spaces or braces", ErrConfig, cfg.Path)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: negative max_body_bytes", ErrConfig)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.CardTitle == "" {
		cfg.CardTitle = DefaultCardTitle
	}
	if len(cfg.TextSlots) == 0 {
		cfg.TextSlots = []string{"query"}
	}
	if cfg.LinkAccountText == "" {
		cfg.LinkAccountText = DefaultLinkAccountText
	}
	if !cfg.InsecureSkipVerify && !strings.HasPrefix(cfg.SkillID, "amzn1.") {
		return nil, fmt.Errorf("%w: skill_id %q is not an Alexa application id (amzn1.ask.skill.…)", ErrConfig, cfg.SkillID)
	}
	c := &Connector{h: h, cfg: cfg, log: slog.Default(), now: time.Now, intents: map[string]string{}}
	for k, v := range DefaultIntents {
		c.intents[k] = v
	}
	for k, v := range cfg.Intents {
		if k == "" || v == "" {
			return nil, fmt.Errorf("%w: intents: empty name or event for %q", ErrConfig, k)
		}
		c.intents[k] = v
	}
	for _, o := range opts {
		o(c)
	}
	if c.accounts == nil && cfg.AccountJWTSecret != "" {
		c.accounts = JWTAccounts([]byte(cfg.AccountJWTSecret), c.now)
	}
	if cfg.RequireAccount && c.accounts == nil {
		return nil, fmt.Errorf("%w: require_account without account_jwt_secret or an account resolver", ErrConfig)
	}
	if c.fetch == nil {
		cl := c.client
		if cl == nil {
			cl = &http.Client{Timeout: 10 * time.Second}
		}
		c.fetch = HTTPCertFetcher(cl)
	}
	c.verifier = NewVerifier(c.fetch, c.roots, c.now)
	if cfg.InsecureSkipVerify {
		c.log.Warn("alexa connector: request verification is OFF (insecure_skip_verify); Amazon requires it in production")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"POST " + c.cfg.Path} }

// ServeHTTP answers one Alexa request.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		c.reject(r, err)
		httpx.WriteError(w, err)
		return
	}
	env, err := c.verify(r, body)
	if err != nil {
		c.reject(r, err)
		code := http.StatusBadRequest
		if errors.Is(err, ErrUnauthorized) {
			code = http.StatusUnauthorized
		}
		httpx.WriteJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	resp, err := c.turn(r.Context(), env)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		c.log.LogAttrs(r.Context(), slog.LevelError, "alexa turn failed",
			slog.String("session", env.Session.SessionID), slog.String("error", err.Error()))
		httpx.WriteError(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (c *Connector) reject(r *http.Request, err error) {
	c.log.LogAttrs(r.Context(), slog.LevelWarn, "alexa request rejected",
		slog.String("remote", r.RemoteAddr), slog.String("error", err.Error()))
}

// verify checks the signature over the raw body, then parses it and checks
// its timestamp and application id. Errors wrap [ErrUnauthorized] or
// [ErrInvalidRequest].
func (c *Connector) verify(r *http.Request, body []byte) (*RequestEnvelope, error) {
	if !c.cfg.InsecureSkipVerify {
		if err := c.verifier.Verify(r.Context(), r.Header.Get(HeaderCertURL), r.Header.Get(HeaderSignature), body); err != nil {
			return nil, err
		}
	}
	env, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if c.cfg.InsecureSkipVerify {
		return env, nil
	}
	ts, _ := env.Time() // checked by Parse
	if err := checkTimestamp(ts, c.now()); err != nil {
		return nil, err
	}
	if got := env.ApplicationID(); got != c.cfg.SkillID {
		return nil, fmt.Errorf("%w: %w: %q", ErrUnauthorized, ErrApplicationID, got)
	}
	return env, nil
}

// Parse decodes and checks a request body. Errors wrap
// [ErrInvalidRequest].
func Parse(body []byte) (*RequestEnvelope, error) {
	var env RequestEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := env.check(); err != nil {
		return nil, err
	}
	return &env, nil
}

// turn runs the request through the handler and renders the answer.
func (c *Connector) turn(ctx context.Context, env *RequestEnvelope) (*ResponseEnvelope, error) {
	out := &ResponseEnvelope{Version: "1.0", SessionAttributes: env.Session.Attributes}
	user := env.User()
	sess := runner.Session{
		ConversationID: ConversationPrefix + env.Session.SessionID,
		Channel:        Channel,
		ChannelUserID:  user.UserID,
		Locale:         env.Request.Locale,
		Voice:          true,
	}
	if user.AccessToken != "" && c.accounts != nil {
		id, err := c.accounts(ctx, user.AccessToken)
		if err != nil {
			c.log.LogAttrs(ctx, slog.LevelInfo, "alexa account token refused",
				slog.String("user", user.UserID), slog.String("error", err.Error()))
			return c.linkAccount(env, out), nil
		}
		sess.UserID = id
	} else if c.cfg.RequireAccount {
		return c.linkAccount(env, out), nil
	}
	if env.Request.Type == TypeSessionEnded && sess.UserID != "" && c.cfg.KeepLinkedConversations {
		return out, nil
	}
	ev, ok := c.event(env)
	if !ok {
		return out, nil
	}
	reply, err := c.h.Handle(ctx, sess, ev)
	if err != nil {
		return nil, fmt.Errorf("alexa: %w", err)
	}
	if env.Request.Type == TypeSessionEnded {
		// Alexa ignores (and must not get) speech for a session that ended.
		return out, nil
	}
	out.Response = Render(reply, c.cfg.CardTitle)
	return out, nil
}

// linkAccount asks the user to link their account: a LinkAccount card and
// the end of the session. A SessionEndedRequest gets an empty response.
func (c *Connector) linkAccount(env *RequestEnvelope, out *ResponseEnvelope) *ResponseEnvelope {
	if env.Request.Type == TypeSessionEnded {
		return out
	}
	end := true
	out.Response = Response{
		OutputSpeech:     speak(escape(c.cfg.LinkAccountText)),
		Card:             &Card{Type: "LinkAccount"},
		ShouldEndSession: &end,
	}
	return out
}

// event maps a request to the dialog event it stands for.
func (c *Connector) event(env *RequestEnvelope) (dialog.Event, bool) {
	now := c.now()
	meta := map[string]string{"alexa.request_id": env.Request.RequestID}
	for k, v := range env.Session.Attributes {
		var s string
		if json.Unmarshal(v, &s) == nil && len(k) <= maxIDLen {
			meta["alexa.attr."+k] = s
		}
	}
	switch env.Request.Type {
	case TypeLaunch:
		return dialog.Event{Type: dialog.EventStart, Time: now, Metadata: meta}, true
	case TypeSessionEnded:
		meta["alexa.reason"] = env.Request.Reason
		if e := env.Request.Error; e != nil {
			meta["alexa.error"] = e.Type + ": " + e.Message
		}
		return dialog.Event{Type: dialog.EventEnd, Time: now, Metadata: meta}, true
	}
	in := env.Request.Intent
	meta["alexa.intent"] = in.Name
	names := make([]string, 0, len(in.Slots))
	for name, s := range in.Slots {
		if s.Value != "" {
			names = append(names, name)
			meta["alexa.slot."+name] = s.Resolved()
		}
	}
	slices.Sort(names)
	// The raw utterance of a catch-all slot goes through parole's matching.
	for _, name := range names {
		if slices.ContainsFunc(c.cfg.TextSlots, func(t string) bool { return strings.EqualFold(t, name) }) {
			return dialog.Event{Type: dialog.EventText, Text: in.Slots[name].Value, Confidence: 1, Time: now, Metadata: meta}, true
		}
	}
	if to, ok := c.intents[in.Name]; ok {
		return mapped(to, now, meta), true
	}
	// Another intent is a precomputed intent: its name, or the value of its
	// first filled slot (a date, a phone number, a list value) which the
	// flow's slot steps take as a choice.
	choice := in.Name
	if len(names) > 0 {
		choice = in.Slots[names[0]].Resolved()
	}
	return dialog.Event{Type: dialog.EventChoice, Choice: choice, Time: now, Metadata: meta}, true
}

// mapped returns the event a Config.Intents value names.
func mapped(to string, now time.Time, meta map[string]string) dialog.Event {
	switch to {
	case "no_match":
		return dialog.Event{Type: dialog.EventNoMatch, Time: now, Metadata: meta}
	case "no_input":
		return dialog.Event{Type: dialog.EventNoInput, Time: now, Metadata: meta}
	case "start":
		return dialog.Event{Type: dialog.EventStart, Time: now, Metadata: meta}
	case "end":
		return dialog.Event{Type: dialog.EventEnd, Time: now, Metadata: meta}
	}
	return dialog.Event{Type: dialog.EventChoice, Choice: to, Time: now, Metadata: meta}
}

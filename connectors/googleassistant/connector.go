package googleassistant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel names of the conversations, which are also the prefixes of
// their ids: "googleassistant:"+conversation or session id for the Actions
// formats, "dialogflow:"+session for Dialogflow.
const (
	ChannelAssistant  = "googleassistant"
	ChannelDialogflow = "dialogflow"
)

// Handler runs one event of a conversation: *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// AccountResolver returns the parole user id an account-linking access
// token stands for; an error means the token is not valid (the request
// then goes on as the anonymous channel user).
type AccountResolver func(ctx context.Context, accessToken string) (userID string, err error)

// JWTAccounts returns an [AccountResolver] for access tokens that are HS256
// JWTs signed with secret, checked as the web chat checks its tokens, whose
// "sub" is the parole user id.
func JWTAccounts(secret []byte, now func() time.Time) AccountResolver {
	return func(_ context.Context, tok string) (string, error) {
		cl, err := web.VerifyJWT(tok, secret, now())
		if err != nil {
			return "", err
		}
		if cl.Subject == "" {
			return "", errors.New("googleassistant: access token without sub")
		}
		return cl.Subject, nil
	}
}

// Config configures a [Connector]. Zero values mean the defaults.
type Config struct {
	// AssistantPath is where the Actions on Google conversation webhook
	// (Actions SDK, v2 JSON) is served. Default "/io/google/assistant".
	AssistantPath string `yaml:"assistant_path"`
	// ActionsPath is where the Actions Builder webhook is served. Default
	// "/io/google/actions".
	ActionsPath string `yaml:"actions_path"`
	// DialogflowPath is where the Dialogflow ES fulfillment webhook is
	// served. Default "/io/google/dialogflow".
	DialogflowPath string `yaml:"dialogflow_path"`

	// ProjectID is the Actions project id, the audience of Google's JWTs.
	// The two Actions routes are served only when it is set.
	ProjectID string `yaml:"project_id"`
	// JWKSURL is where the keys signing Google's JWTs are fetched. Default
	// [GoogleJWKSURL].
	JWKSURL string `yaml:"jwks_url"`
	// ClockSkew is the leeway of the JWTs' time claims. Default 60 s, at
	// most 5 min.
	ClockSkew time.Duration `yaml:"clock_skew"`

	// DialogflowUsername and DialogflowPassword are the HTTP Basic
	// credentials set in the agent's fulfillment settings.
	DialogflowUsername string `yaml:"dialogflow_username"`
	DialogflowPassword string `yaml:"dialogflow_password"`
	// DialogflowHeaders are the custom headers (name: value) set in the
	// agent's fulfillment settings; every one must be present and equal.
	// The Dialogflow route is served only when credentials or headers are
	// set.
	DialogflowHeaders map[string]string `yaml:"dialogflow_headers"`
	// DialogflowV2Beta1 adds what only the v2beta1 API accepts:
	// endInteraction when the conversation ends, and TELEPHONY messages
	// (SSML speech, call transfer to an E.164 number) for the phone gateway.
	DialogflowV2Beta1 bool `yaml:"dialogflow_v2beta1"`
	// DialogflowEndEvent, when set, ends a conversation with a followup
	// event of that name (parameters "text" and "ssml" hold the goodbye):
	// an intent of the agent marked "end of conversation" handles it, the
	// v2 way of hanging up the phone gateway.
	DialogflowEndEvent string `yaml:"dialogflow_end_event"`

	// InsecureSkipVerify serves every route without checking requests (a
	// local simulator). Never in production.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 128 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Intents maps platform intent names (Actions intents, Dialogflow
	// display names) to parole events, over [DefaultIntents]: "start",
	// "end", "no_input", "no_match", "text" (the user's words through
	// parole's matching), or any other value: a choice with that payload
	// ("global:help"). An intent not mapped is a precomputed intent: a
	// choice with its name.
	Intents map[string]string `yaml:"intents"`
	// AccountJWTSecret, when set, makes account-linking access tokens HS256
	// JWTs signed with it whose "sub" is the parole user id.
	AccountJWTSecret string `yaml:"account_jwt_secret"`
}

// DefaultIntents maps the platforms' built-in intents to parole events.
var DefaultIntents = map[string]string{
	"actions.intent.MAIN":     "start",
	"actions.intent.TEXT":     "text",
	"actions.intent.CANCEL":   "end",
	"actions.intent.NO_INPUT": "no_input",
	"Default Welcome Intent":  "start",
	"Default Fallback Intent": "text",
}

// Defaults of [Config].
const (
	DefaultAssistantPath  = "/io/google/assistant"
	DefaultActionsPath    = "/io/google/actions"
	DefaultDialogflowPath = "/io/google/dialogflow"
	DefaultMaxBodyBytes   = 128 << 10
	DefaultClockSkew      = time.Minute
)

// Headers carrying Google's JWTs.
const (
	// HeaderActionsSignature carries the JWT of Actions Builder requests.
	HeaderActionsSignature = "Google-Assistant-Signature"
	// HeaderAuthorization carries the JWT of conversation webhook (v2)
	// requests, and the account-linking token of Actions Builder ones.
	HeaderAuthorization = "Authorization"
)

// Errors of [New] and of request parsing.
var (
	// ErrConfig is wrapped by the errors of [New].
	ErrConfig = errors.New("googleassistant: invalid config")
	// ErrInvalidRequest wraps httpx.ErrBadBody (400): a request that does
	// not parse or lacks what the format requires.
	ErrInvalidRequest = fmt.Errorf("googleassistant: invalid request: %w", httpx.ErrBadBody)
)

// maxIDLen bounds the ids (conversation, session, user) a request may carry.
const maxIDLen = 512

// Connector serves the Google webhooks: an http.Handler to mount on each
// of [Connector.Routes].
type Connector struct {
	h        Handler
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	keys     KeySet
	verifier *Verifier
	accounts AccountResolver
	intents  map[string]string
	actions  bool // serve the two Actions routes
	flow     bool // serve the Dialogflow route
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock of the JWT checks and of events.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithHTTPClient sets the client fetching Google's keys.
func WithHTTPClient(cl *http.Client) Option { return func(c *Connector) { c.client = cl } }

// WithKeySet replaces Google's key set (tests, self-hosted gateways).
func WithKeySet(k KeySet) Option { return func(c *Connector) { c.keys = k } }

// WithAccounts sets how account-linking tokens resolve to parole user ids,
// instead of Config.AccountJWTSecret.
func WithAccounts(r AccountResolver) Option { return func(c *Connector) { c.accounts = r } }

// New returns a connector passing Google's requests to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	for _, p := range []struct {
		path *string
		def  string
	}{{&cfg.AssistantPath, DefaultAssistantPath}, {&cfg.ActionsPath, DefaultActionsPath}, {&cfg.DialogflowPath, DefaultDialogflowPath}} {
		if *p.path == "" {
			*p.path = p.def
		}
		if !strings.HasPrefix(*p.path, "/") || strings.ContainsAny(*p.path, " {}") {
			return nil, fmt.Errorf("%w: path %q must start with / and hold no spaces or braces", ErrConfig, *p.path)
		}
	}
	if cfg.AssistantPath == cfg.ActionsPath || cfg.AssistantPath == cfg.DialogflowPath || cfg.ActionsPath == cfg.DialogflowPath {
		return nil, fmt.Errorf("%w: the three paths must differ", ErrConfig)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: negative max_body_bytes", ErrConfig)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > 5*time.Minute {
		return nil, fmt.Errorf("%w: clock_skew %v not within 0..5m", ErrConfig, cfg.ClockSkew)
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = GoogleJWKSURL
	}
	if !strings.HasPrefix(cfg.JWKSURL, "https://") && !strings.HasPrefix(cfg.JWKSURL, "http://") {
		return nil, fmt.Errorf("%w: jwks_url %q is not an http(s) URL", ErrConfig, cfg.JWKSURL)
	}
	if (cfg.DialogflowUsername == "") != (cfg.DialogflowPassword == "") {
		return nil, fmt.Errorf("%w: dialogflow_username and dialogflow_password go together", ErrConfig)
	}
	for k, v := range cfg.DialogflowHeaders {
		if k == "" || v == "" || http.CanonicalHeaderKey(k) == "Authorization" && cfg.DialogflowUsername != "" {
			return nil, fmt.Errorf("%w: dialogflow_headers: empty name or value, or Authorization with basic credentials", ErrConfig)
		}
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
	c.actions = cfg.InsecureSkipVerify || cfg.ProjectID != ""
	c.flow = cfg.InsecureSkipVerify || cfg.DialogflowUsername != "" || len(cfg.DialogflowHeaders) > 0
	if !c.actions && !c.flow {
		return nil, fmt.Errorf("%w: set project_id (Actions), Dialogflow credentials or headers, or insecure_skip_verify", ErrConfig)
	}
	if c.keys == nil {
		c.keys = NewJWKS(cfg.JWKSURL, c.client, c.now)
	}
	c.verifier = NewVerifier(c.keys, cfg.ProjectID, cfg.ClockSkew, c.now)
	if c.accounts == nil && cfg.AccountJWTSecret != "" {
		c.accounts = JWTAccounts([]byte(cfg.AccountJWTSecret), c.now)
	}
	if cfg.InsecureSkipVerify {
		c.log.Warn("googleassistant connector: request verification is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on: the Actions
// routes when a project id is set, the Dialogflow route when its
// credentials are.
func (c *Connector) Routes() []string {
	var r []string
	if c.actions {
		r = append(r, "POST "+c.cfg.AssistantPath, "POST "+c.cfg.ActionsPath)
	}
	if c.flow {
		r = append(r, "POST "+c.cfg.DialogflowPath)
	}
	return r
}

// ServeHTTP answers one webhook request of any of the three formats, by
// path.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request) (any, error)
	switch {
	case c.actions && r.URL.Path == c.cfg.AssistantPath:
		serve = c.serveConversation
	case c.actions && r.URL.Path == c.cfg.ActionsPath:
		serve = c.serveBuilder
	case c.flow && r.URL.Path == c.cfg.DialogflowPath:
		serve = c.serveDialogflow
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	resp, err := serve(w, r)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		level := slog.LevelWarn
		if httpx.Status(err) == http.StatusInternalServerError {
			level = slog.LevelError
		}
		c.log.LogAttrs(r.Context(), level, "google request failed",
			slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.String("error", err.Error()))
		httpx.WriteError(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// readJSON reads and decodes a request body into v.
func (c *Connector) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		return err
	}
	if err := httpx.DecodeJSON(body, v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return nil
}

// account resolves an account-linking token; "" when there is none or it
// does not resolve.
func (c *Connector) account(ctx context.Context, token string) string {
	if token == "" || c.accounts == nil {
		return ""
	}
	id, err := c.accounts(ctx, token)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelInfo, "google account token refused", slog.String("error", err.Error()))
		return ""
	}
	return id
}

// Event kinds a platform intent maps to, besides a choice payload.
const (
	kindStart   = "start"
	kindEnd     = "end"
	kindNoInput = "no_input"
	kindNoMatch = "no_match"
	kindText    = "text"
)

// event returns the event of a platform intent (already mapped to kind
// when the format knows better, else looked up in the intents map) with
// the user's query. A query equal to the title of a suggestion chip the
// last response offered is that chip's choice.
func (c *Connector) event(kind, intent, query string, offered map[string]string, meta map[string]string) dialog.Event {
	now := c.now()
	if kind == "" {
		kind = c.intents[intent]
	}
	ev := dialog.Event{Time: now, Metadata: meta}
	switch kind {
	case kindStart:
		ev.Type = dialog.EventStart
		return ev
	case kindEnd:
		ev.Type = dialog.EventEnd
		return ev
	case kindNoInput:
		ev.Type = dialog.EventNoInput
		return ev
	case kindNoMatch:
		ev.Type = dialog.EventNoMatch
		return ev
	case kindText, "":
	default:
		ev.Type, ev.Choice = dialog.EventChoice, kind
		return ev
	}
	query = strings.TrimSpace(query)
	if p, ok := offered[normalize(query)]; ok && query != "" {
		ev.Type, ev.Choice = dialog.EventChoice, p
		return ev
	}
	if kind == "" && intent != "" {
		// A precomputed intent of the platform's NLU.
		ev.Type, ev.Choice, ev.Text = dialog.EventChoice, intent, query
		return ev
	}
	if query == "" {
		ev.Type = dialog.EventNoMatch
		return ev
	}
	ev.Type, ev.Text, ev.Confidence = dialog.EventText, query, 1
	return ev
}

// paramString renders a parameter value for Event.Metadata.
func paramString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return truncate(string(b), 256)
}

// addParams copies up to 32 parameters into meta under prefix.
func addParams(meta map[string]string, prefix string, params map[string]any) {
	n := 0
	for k, v := range params {
		if n == 32 || len(k) > 64 {
			continue
		}
		if s := paramString(v); s != "" {
			meta[prefix+k] = s
			n++
		}
	}
}

// newUserID returns a random id for a user the platform does not identify.
func newUserID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkID checks an id the request must carry.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: no %s", ErrInvalidRequest, what)
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidRequest, what, maxIDLen)
	}
	return nil
}

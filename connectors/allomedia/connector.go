package allomedia

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of Allo-Media conversations, and
// ConversationPrefix the prefix of their ids ("allomedia:"+sessionId).
const (
	Channel            = "allomedia"
	ConversationPrefix = "allomedia:"
)

// Handler runs one event of a conversation: *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// AccountResolver returns the parole user id an access token stands for;
// an error means the token is not valid (401).
type AccountResolver func(ctx context.Context, accessToken string) (userID string, err error)

// JWTAccounts returns an [AccountResolver] for HS256 JWT access tokens
// signed with secret whose "sub" is the user id, checked as the web chat
// checks its tokens.
func JWTAccounts(secret []byte, now func() time.Time) AccountResolver {
	return func(_ context.Context, tok string) (string, error) {
		cl, err := web.VerifyJWT(tok, secret, now())
		if err != nil {
			return "", err
		}
		if cl.Subject == "" {
			return "", errors.New("allomedia: access token without sub")
		}
		return cl.Subject, nil
	}
}

// Config configures a [Connector]. Username and Password are required
// unless InsecureSkipVerify is set.
type Config struct {
	// Path is the connector's base path; the platform posts to Path+"/call".
	// Default "/io/allomedia".
	Path string `yaml:"path"`
	// Username and Password are the HTTP Basic credentials the platform
	// sends (Tock's allo_media_basic_auth is the resulting header).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// InsecureSkipVerify accepts requests without credentials (local
	// tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// MaxBodyBytes bounds a request body. Default 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DefaultLocale is the locale of calls whose requests give none.
	// Default "fr-FR", as Tock.
	DefaultLocale string `yaml:"default_locale"`
	// AccountJWTSecret, when set, resolves session.user.accessToken as an
	// HS256 JWT whose "sub" is the parole user id ([JWTAccounts]);
	// [WithAccounts] sets another resolver.
	AccountJWTSecret string `yaml:"account_jwt_secret"`
	// SessionTTL is how long the connector remembers a call (to open it
	// with a start event, and its locale). Default 1 h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// MaxSessions bounds the calls remembered at once. Default 100000.
	MaxSessions int `yaml:"max_sessions"`
}

// Defaults of [Config].
const (
	DefaultPath         = "/io/allomedia"
	DefaultMaxBodyBytes = 64 << 10
	DefaultLocale       = "fr-FR"
	DefaultSessionTTL   = time.Hour
	DefaultMaxSessions  = 100000
)

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("allomedia: invalid config")

// ErrUnauthorized is wrapped by authentication failures (401): missing or
// wrong Basic credentials, an access token that does not resolve.
var ErrUnauthorized = errors.New("allomedia: unauthorized")

// Connector answers the Allo-Media voice platform. It is an http.Handler
// to mount on [Connector.Routes].
type Connector struct {
	h        Handler
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	accounts AccountResolver
	auth     string // the expected Authorization header

	mu        sync.Mutex
	sessions  map[string]*call
	lastSweep time.Time
}

// call is what the connector remembers of a call.
type call struct {
	locale string
	seen   time.Time
}

// Option configures a [Connector].
type Option func(*Connector)

// WithLogger sets the connector's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the connector's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithAccounts sets how access tokens resolve to parole user ids, instead
// of Config.AccountJWTSecret.
func WithAccounts(r AccountResolver) Option { return func(c *Connector) { c.accounts = r } }

// New returns a connector passing Allo-Media calls to h.
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
	if !cfg.InsecureSkipVerify && (cfg.Username == "" || cfg.Password == "") {
		return nil, fmt.Errorf("%w: username and password are required (or insecure_skip_verify)", ErrConfig)
	}
	if strings.Contains(cfg.Username, ":") {
		return nil, fmt.Errorf("%w: username may not contain ':'", ErrConfig)
	}
	if cfg.MaxBodyBytes < 0 || cfg.SessionTTL < 0 || cfg.MaxSessions < 0 {
		return nil, fmt.Errorf("%w: negative max_body_bytes, session_ttl or max_sessions", ErrConfig)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DefaultLocale == "" {
		cfg.DefaultLocale = DefaultLocale
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	c := &Connector{h: h, cfg: cfg, log: slog.Default(), now: time.Now, sessions: map[string]*call{}}
	for _, o := range opts {
		o(c)
	}
	if c.accounts == nil && cfg.AccountJWTSecret != "" {
		c.accounts = JWTAccounts([]byte(cfg.AccountJWTSecret), c.now)
	}
	c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	if cfg.InsecureSkipVerify {
		c.log.Warn("allomedia connector: authentication is OFF (insecure_skip_verify)")
	}
	return c, nil
}

// Routes returns the mux patterns to mount the connector on.
func (c *Connector) Routes() []string { return []string{"POST " + c.cfg.Path + "/call"} }

// ServeHTTP answers one request of the platform: 401 for bad credentials,
// 400 for a wrong content type or a malformed body, 413 for an oversized
// one, and 201 with the bot's answer.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	if !c.cfg.InsecureSkipVerify && !httpx.TokenEqual(r.Header.Get("Authorization"), c.auth) {
		c.reject(r, "bad credentials")
		w.Header().Set("WWW-Authenticate", `Basic realm="parole"`)
		httpx.WriteError(w, fmt.Errorf("%w: %w: bad or missing Basic credentials", httpx.ErrUnauthorized, ErrUnauthorized))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		c.reject(r, "content type "+r.Header.Get("Content-Type"))
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "content type must be application/json"})
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "")
	if err != nil {
		c.reject(r, err.Error())
		httpx.WriteError(w, err)
		return
	}
	req, err := Parse(body)
	if err != nil {
		c.reject(r, err.Error())
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	sess := runner.Session{ConversationID: ConversationPrefix + req.Session.SessionID, Channel: Channel, Voice: true}
	if u := req.Session.User; u != nil && str(u.AccessToken) != "" && c.accounts != nil {
		id, err := c.accounts(r.Context(), *u.AccessToken)
		if err != nil {
			c.reject(r, "access token: "+err.Error())
			httpx.WriteError(w, fmt.Errorf("%w: %w: access token not valid", httpx.ErrUnauthorized, ErrUnauthorized))
			return
		}
		sess.UserID = id
	}
	first, locale := c.remember(req)
	sess.Locale = locale
	out := Response{SessionID: req.Session.SessionID}
	var lines []string
	for _, ev := range c.events(req, first) {
		reply, err := c.h.Handle(r.Context(), sess, ev)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			c.log.LogAttrs(r.Context(), slog.LevelError, "allomedia turn failed",
				slog.String("session", req.Session.SessionID), slog.String("error", err.Error()))
			httpx.WriteError(w, err)
			return
		}
		if t := SpeechText(reply); t != "" {
			lines = append(lines, t)
		}
		if reply.Hangup || reply.Transfer != nil {
			out.ConversationEnd = true
		}
	}
	out.OutputText.TextToSpeech = strings.Join(lines, "\n")
	if out.ConversationEnd {
		c.forget(req.Session.SessionID)
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (c *Connector) reject(r *http.Request, why string) {
	c.log.LogAttrs(r.Context(), slog.LevelWarn, "allomedia request rejected",
		slog.String("remote", r.RemoteAddr), slog.String("reason", why))
}

// events maps a request to dialog events: a start event first on a call's
// first request; then a precomputed intent as a choice (parole's matching
// skipped), or the text, or — a request with neither after the first —
// a no-input.
func (c *Connector) events(req *Request, first bool) []dialog.Event {
	now := c.now()
	var evs []dialog.Event
	if first {
		evs = append(evs, dialog.Event{Type: dialog.EventStart, Time: now})
	}
	text := strings.TrimSpace(str(req.Text))
	switch intent := strings.TrimSpace(str(req.Intent)); {
	case intent != "":
		ev := dialog.Event{Type: dialog.EventChoice, Choice: intent, Time: now, Metadata: map[string]string{"allomedia.intent": intent}}
		if text != "" {
			ev.Metadata["allomedia.text"] = text
		}
		evs = append(evs, ev)
	case text != "":
		evs = append(evs, dialog.Event{Type: dialog.EventText, Text: text, Confidence: 1, Time: now})
	case !first:
		evs = append(evs, dialog.Event{Type: dialog.EventNoInput, Time: now})
	}
	return evs
}

// remember records the call, returning whether this is its first request
// and its locale (the request's, else the call's last, else the default).
func (c *Connector) remember(req *Request) (first bool, locale string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) > c.cfg.SessionTTL/4 {
		for id, s := range c.sessions {
			if now.Sub(s.seen) > c.cfg.SessionTTL {
				delete(c.sessions, id)
			}
		}
		c.lastSweep = now
	}
	s := c.sessions[req.Session.SessionID]
	if s == nil {
		first = true
		if len(c.sessions) >= c.cfg.MaxSessions {
			c.evictOldestLocked()
		}
		s = &call{locale: c.cfg.DefaultLocale}
		c.sessions[req.Session.SessionID] = s
	}
	if l := strings.TrimSpace(str(req.Locale)); l != "" {
		s.locale = strings.ReplaceAll(l, "_", "-")
	}
	s.seen = now
	return first, s.locale
}

func (c *Connector) evictOldestLocked() {
	var oldest string
	var t time.Time
	for id, s := range c.sessions {
		if oldest == "" || s.seen.Before(t) {
			oldest, t = id, s.seen
		}
	}
	delete(c.sessions, oldest)
}

func (c *Connector) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sessions, id)
}

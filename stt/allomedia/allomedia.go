package allomedia

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/parole-voice/parole/stt"
)

// Defaults of Config.
const (
	DefaultURL      = "wss://api.uh.live/bots"
	DefaultTokenURL = "https://id.uh.live/realms/uhlive/protocol/openid-connect/token"
	// DefaultGrammar is the free-speech grammar used when the stream has
	// no grammar.
	DefaultGrammar       = "builtin:speech/transcribe"
	DefaultLanguage      = "fr"
	DefaultRefreshBefore = 60 * time.Second
	DefaultOpenTimeout   = 5 * time.Second
	DefaultFinalTimeout  = 5 * time.Second
	DefaultMaxRetries    = 2
	DefaultRetryBackoff  = 100 * time.Millisecond
	// DefaultSpeechComplete is the end-of-speech silence when the stream's
	// Config gives none.
	DefaultSpeechComplete = 800 * time.Millisecond
	// DefaultRecognitionTimeout bounds one recognition.
	DefaultRecognitionTimeout = 30 * time.Second
)

// Errors callers branch on.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("allomedia: invalid configuration")
	// ErrUnauthenticated: no token could be fetched, or the server refused
	// it (HTTP 401/403 on the websocket handshake).
	ErrUnauthenticated = errors.New("allomedia: unauthenticated")
	// ErrUnavailable: the server could not be reached or answered the
	// handshake with 429 or 5xx (after retries).
	ErrUnavailable = errors.New("allomedia: service unavailable")
	// ErrRefused: the server refused a command (METHOD-FAILED,
	// INVALID-PARAM-VALUE, …); the error text carries the event and its
	// completion reason.
	ErrRefused = errors.New("allomedia: command refused")
	// ErrRecognition: the recognition ended with an error cause (Error,
	// GramLoadFailure, GramDefinitionFailure); LanguageUnsupported wraps
	// stt.ErrUnsupported as well.
	ErrRecognition = errors.New("allomedia: recognition failed")
	// ErrProtocol: the server broke the protocol (an unexpected event, a
	// malformed frame, a binary frame, an unexpected close).
	ErrProtocol = errors.New("allomedia: protocol error")
	// ErrTimeout: the server did not answer in time (Config.OpenTimeout
	// for the session set-up, Config.FinalTimeout for the final result).
	ErrTimeout = errors.New("allomedia: timeout")
	// ErrFrame: a frame written does not have the stream's sample rate.
	ErrFrame = errors.New("allomedia: bad frame")
)

// Codec is the audio codec announced in OPEN. uh!live takes 8 kHz audio
// only; frames at other rates are resampled to 8 kHz.
type Codec string

// Codecs of the OPEN command.
const (
	Linear Codec = "linear" // 16-bit little-endian PCM at 8 kHz
	G711A  Codec = "g711a"  // G.711 A-law at 8 kHz
	G711U  Codec = "g711u"  // G.711 μ-law at 8 kHz
)

// Config configures the recognizer.
type Config struct {
	// URL is the websocket endpoint of the voicebot API (DefaultURL).
	URL string `yaml:"url"`
	// ClientID and ClientSecret are the uh!live API credentials, sent to
	// the OpenID Connect token endpoint (client credentials grant, in the
	// form body). Both empty with Token empty means no authentication (a
	// local server).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// TokenURL is the OpenID Connect token endpoint (DefaultTokenURL).
	TokenURL string `yaml:"token_url"`
	// Token is a fixed access token, instead of client credentials.
	Token string `yaml:"token"`
	// RefreshBefore is how long before its expiry a token is replaced
	// (DefaultRefreshBefore).
	RefreshBefore time.Duration `yaml:"refresh_before"`
	// CustomID is sent in OPEN, for uh!live's logs and invoices.
	CustomID string `yaml:"custom_id"`
	// Codec of the audio sent (Linear).
	Codec Codec `yaml:"codec"`
	// Language when stt.Config has none (DefaultLanguage). It is sent as
	// the speech_language parameter: its primary subtag ("fr-FR" → "fr").
	Language string `yaml:"language"`
	// Grammar is the grammar URI used when a stream has neither grammar
	// rules nor grammar URIs in its hints (DefaultGrammar).
	Grammar string `yaml:"grammar"`
	// Hotword selects recognition_mode "hotword" instead of "normal".
	Hotword bool `yaml:"hotword"`
	// HotwordMaxDuration is hotword_max_duration (0: the server's default).
	HotwordMaxDuration time.Duration `yaml:"hotword_max_duration"`
	// StartInputTimers starts the no-input timer with RECOGNIZE. Off by
	// default: the voice session runs its own no-input timer from the end
	// of the prompt, and the stream is opened while the prompt plays.
	StartInputTimers bool `yaml:"start_input_timers"`
	// NoInputTimeout is no_input_timeout, used with StartInputTimers.
	NoInputTimeout time.Duration `yaml:"no_input_timeout"`
	// SpeechIncompleteTimeout is speech_incomplete_timeout (0: default).
	SpeechIncompleteTimeout time.Duration `yaml:"speech_incomplete_timeout"`
	// SpeechNomatchTimeout is speech_nomatch_timeout (0: default).
	SpeechNomatchTimeout time.Duration `yaml:"speech_nomatch_timeout"`
	// RecognitionTimeout is recognition_timeout
	// (DefaultRecognitionTimeout).
	RecognitionTimeout time.Duration `yaml:"recognition_timeout"`
	// ConfidenceThreshold is confidence_threshold (0: default).
	ConfidenceThreshold float64 `yaml:"confidence_threshold"`
	// OpenTimeout bounds the handshake and each set-up command
	// (DefaultOpenTimeout).
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// FinalTimeout bounds the wait for RECOGNITION-COMPLETE after
	// CloseSend (DefaultFinalTimeout).
	FinalTimeout time.Duration `yaml:"final_timeout"`
	// MaxRetries of a connection that failed or got 429/5xx
	// (DefaultMaxRetries; -1: none).
	MaxRetries int `yaml:"max_retries"`
	// RetryBackoff is the first pause between attempts, doubled each time
	// (DefaultRetryBackoff).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
}

func (c *Config) defaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
	if c.RefreshBefore == 0 {
		c.RefreshBefore = DefaultRefreshBefore
	}
	if c.Codec == "" {
		c.Codec = Linear
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.Grammar == "" {
		c.Grammar = DefaultGrammar
	}
	if c.RecognitionTimeout == 0 {
		c.RecognitionTimeout = DefaultRecognitionTimeout
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	if c.FinalTimeout == 0 {
		c.FinalTimeout = DefaultFinalTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
}

func (c *Config) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("%w: url %q is not a ws:// or wss:// URL", ErrConfig, c.URL)
	}
	if (c.ClientID == "") != (c.ClientSecret == "") {
		return fmt.Errorf("%w: client_id and client_secret go together", ErrConfig)
	}
	if c.ClientID != "" && c.Token != "" {
		return fmt.Errorf("%w: token and client credentials are exclusive", ErrConfig)
	}
	if c.ClientID != "" {
		if t, err := url.Parse(c.TokenURL); err != nil || (t.Scheme != "http" && t.Scheme != "https") {
			return fmt.Errorf("%w: token_url %q", ErrConfig, c.TokenURL)
		}
	}
	switch c.Codec {
	case Linear, G711A, G711U:
	default:
		return fmt.Errorf("%w: codec %q (want linear, g711a or g711u)", ErrConfig, c.Codec)
	}
	if !strings.HasPrefix(c.Grammar, "builtin:") && !strings.HasPrefix(c.Grammar, "session:") {
		return fmt.Errorf("%w: grammar %q must start with \"builtin:\" or \"session:\"", ErrConfig, c.Grammar)
	}
	for name, d := range map[string]time.Duration{
		"refresh_before": c.RefreshBefore, "hotword_max_duration": c.HotwordMaxDuration,
		"no_input_timeout": c.NoInputTimeout, "speech_incomplete_timeout": c.SpeechIncompleteTimeout,
		"speech_nomatch_timeout": c.SpeechNomatchTimeout, "recognition_timeout": c.RecognitionTimeout,
		"open_timeout": c.OpenTimeout, "final_timeout": c.FinalTimeout, "retry_backoff": c.RetryBackoff,
	} {
		if d < 0 {
			return fmt.Errorf("%w: negative %s", ErrConfig, name)
		}
	}
	if c.ConfidenceThreshold < 0 || c.ConfidenceThreshold > 1 {
		return fmt.Errorf("%w: confidence_threshold %v outside [0, 1]", ErrConfig, c.ConfidenceThreshold)
	}
	if c.MaxRetries < -1 {
		return fmt.Errorf("%w: max_retries %d", ErrConfig, c.MaxRetries)
	}
	return nil
}

// Recognizer is the uh!live voicebot recognizer. It is safe for
// concurrent use: each stream is its own websocket session.
type Recognizer struct {
	cfg     Config
	ts      oauth2.TokenSource
	fetches atomic.Int64
	dialer  websocket.Dialer
	log     *slog.Logger
}

var _ stt.Recognizer = (*Recognizer)(nil)

// Option tunes New.
type Option func(*Recognizer)

// WithLogger logs retries and failures to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Recognizer) { r.log = l } }

// WithHTTPClient fetches tokens with c (default: a client with a 10 s
// timeout).
func WithHTTPClient(c *http.Client) Option {
	return func(r *Recognizer) { r.ts = r.tokenSource(c) }
}

// New validates cfg and returns a recognizer. No connection is made until
// the first stream.
func New(cfg Config, opts ...Option) (*Recognizer, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Recognizer{cfg: cfg, log: slog.Default()}
	r.dialer = websocket.Dialer{HandshakeTimeout: cfg.OpenTimeout, Proxy: http.ProxyFromEnvironment,
		ReadBufferSize: 4096, WriteBufferSize: 4096}
	r.ts = r.tokenSource(nil)
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

func (r *Recognizer) tokenSource(hc *http.Client) oauth2.TokenSource {
	switch {
	case r.cfg.Token != "":
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: r.cfg.Token})
	case r.cfg.ClientID == "":
		return nil
	}
	cc := &clientcredentials.Config{
		ClientID: r.cfg.ClientID, ClientSecret: r.cfg.ClientSecret,
		TokenURL: r.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams,
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	return oauth2.ReuseTokenSourceWithExpiry(nil, counting{cc.TokenSource(ctx), &r.fetches}, r.cfg.RefreshBefore)
}

// counting counts token fetches from the endpoint.
type counting struct {
	src oauth2.TokenSource
	n   *atomic.Int64
}

func (c counting) Token() (*oauth2.Token, error) {
	c.n.Add(1)
	return c.src.Token()
}

// TokenFetches returns how many tokens were fetched from the token
// endpoint so far.
func (r *Recognizer) TokenFetches() int64 { return r.fetches.Load() }

// dial opens the websocket with the bearer token, retrying connection
// failures and 429/5xx answers with doubling backoff.
func (r *Recognizer) dial(ctx context.Context) (*websocket.Conn, error) {
	backoff := r.cfg.RetryBackoff
	var last error
	for attempt := 0; ; attempt++ {
		h := http.Header{}
		if r.ts != nil {
			tok, err := r.ts.Token()
			if err != nil {
				return nil, fmt.Errorf("%w: fetching token: %w", ErrUnauthenticated, err)
			}
			h.Set("Authorization", "bearer "+tok.AccessToken)
		}
		conn, resp, err := r.dialer.DialContext(ctx, r.cfg.URL, h)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			conn.SetReadLimit(MaxEventSize)
			return conn, nil
		}
		switch {
		case resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
			return nil, fmt.Errorf("%w: handshake: %s", ErrUnauthenticated, resp.Status)
		case resp != nil && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500:
			return nil, fmt.Errorf("%w: handshake: %s", ErrProtocol, resp.Status)
		case resp != nil:
			last = fmt.Errorf("%w: handshake: %s", ErrUnavailable, resp.Status)
		default:
			last = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("allomedia: dial: %w", ctx.Err())
		}
		if r.cfg.MaxRetries < 0 || attempt >= r.cfg.MaxRetries {
			return nil, last
		}
		r.log.Warn("allomedia: connection failed, retrying", "err", last, "attempt", attempt+1, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("allomedia: dial: %w", ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// speechLanguage turns a BCP 47 tag into uh!live's speech_language, its
// primary language subtag ("fr-FR" → "fr").
func speechLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	return tag
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

package nuance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/internal/nuancepb/mix"
	"github.com/parole-voice/parole/stt"
)

// Defaults of Config.
const (
	DefaultEndpoint = "asr.api.nuance.com:443"
	DefaultScope    = "asr"
	DefaultLanguage = "en-US"
	DefaultTopic    = "GEN"
	// DefaultHintEntity is the wordset entity Config.Hints fill.
	DefaultHintEntity = "PAROLE_HINTS"
	// DefaultOpenTimeout bounds the wait for the service's 100 Continue.
	DefaultOpenTimeout = 5 * time.Second
	// DefaultMaxRetries is how many times a failed recognition is
	// restarted while no audio is lost.
	DefaultMaxRetries = 2
	// DefaultRetryBackoff is the first pause before a retry (doubled each
	// time, at most 2 s).
	DefaultRetryBackoff = 100 * time.Millisecond
	// DefaultReplay is how much audio is kept to replay on a retry.
	DefaultReplay = 10 * time.Second
)

// Errors callers branch on. The gRPC ones are the same values as in
// tts/nuance and wrap the gRPC status error.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("nuance: invalid configuration")
	// ErrUnauthenticated: the token was refused or could not be fetched.
	ErrUnauthenticated = mix.ErrUnauthenticated
	// ErrResourceExhausted: quota or capacity exhausted (after retries).
	ErrResourceExhausted = mix.ErrResourceExhausted
	// ErrDeadlineExceeded: the recognition ran out of time.
	ErrDeadlineExceeded = mix.ErrDeadlineExceeded
	// ErrUnavailable: the service could not be reached (after retries).
	ErrUnavailable = mix.ErrUnavailable
	// ErrStatus: the service ended the recognition with a 4xx or 5xx
	// status message (see StatusError).
	ErrStatus = errors.New("nuance: recognition failed")
	// ErrOpenTimeout: the service did not answer the init message with
	// 100 Continue within Config.OpenTimeout.
	ErrOpenTimeout = errors.New("nuance: no answer to the init message")
)

// Encoding is the audio codec sent to the service.
type Encoding string

// Encodings. PCM follows the stream's sample rate (8 or 16 kHz); the G.711
// laws are 8 kHz only.
const (
	PCM  Encoding = "pcm"
	ULaw Encoding = "ulaw"
	ALaw Encoding = "alaw"
)

// Config configures the recognizer. Only the credentials are needed for
// Nuance's hosted service.
type Config struct {
	// Endpoint is the ASRaaS gRPC host:port (DefaultEndpoint).
	Endpoint string `yaml:"endpoint"`
	// ClientID and ClientSecret are the Mix credentials. Both empty means
	// no token (a self-hosted Krypton engine).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// TokenURL is the OAuth2 token endpoint (mix.DefaultTokenURL).
	TokenURL string `yaml:"token_url"`
	// Scope is the OAuth2 scope (DefaultScope).
	Scope string `yaml:"scope"`
	// RefreshBefore is how long before expiry a token is renewed (60 s).
	RefreshBefore time.Duration `yaml:"refresh_before"`
	// Insecure dials without TLS: tests and local engines only.
	Insecure bool `yaml:"insecure"`

	// Language when stt.Config has none (DefaultLanguage).
	Language string `yaml:"language"`
	// Topic is the data pack's language model (DefaultTopic).
	Topic string `yaml:"topic"`
	// Encoding of the audio sent (PCM).
	Encoding Encoding `yaml:"encoding"`
	// DomainLM is the URN of a domain language model, e.g.
	// urn:nuance-mix:tag:model/NAME/mix.asr?=language=eng-USA.
	DomainLM string `yaml:"domain_lm"`
	// HintEntity is the DomainLM entity the stt.Config.Hints wordset
	// fills (DefaultHintEntity).
	HintEntity string `yaml:"hint_entity"`
	// NoInputTimeout ends a recognition that hears no speech (0: the
	// service's default, usually none).
	NoInputTimeout time.Duration `yaml:"no_input_timeout"`
	// RecognitionTimeout bounds one utterance (0: the service's default).
	RecognitionTimeout time.Duration `yaml:"recognition_timeout"`
	// AutoPunctuate asks for punctuation.
	AutoPunctuate bool `yaml:"auto_punctuate"`
	// UserID identifies the caller in Nuance's logs (optional).
	UserID string `yaml:"user_id"`

	// OpenTimeout bounds the wait for the 100 Continue (DefaultOpenTimeout).
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// MaxRetries of a recognition that failed with UNAVAILABLE or
	// RESOURCE_EXHAUSTED before any result (DefaultMaxRetries; -1: none).
	MaxRetries int `yaml:"max_retries"`
	// RetryBackoff is the first pause between attempts (DefaultRetryBackoff).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// Replay is how much audio is kept to resend on a retry
	// (DefaultReplay); past it, a failure is no longer retried.
	Replay time.Duration `yaml:"replay"`
}

func (c *Config) defaults() {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Encoding == "" {
		c.Encoding = PCM
	}
	if c.HintEntity == "" {
		c.HintEntity = DefaultHintEntity
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.Replay == 0 {
		c.Replay = DefaultReplay
	}
}

func (c *Config) conn() mix.Conn {
	return mix.Conn{
		Endpoint: c.Endpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		TokenURL: c.TokenURL, Scope: c.Scope, RefreshBefore: c.RefreshBefore,
		Insecure: c.Insecure,
	}
}

func (c *Config) check() error {
	if err := c.conn().Check(ErrConfig); err != nil {
		return err
	}
	switch c.Encoding {
	case PCM, ULaw, ALaw:
	default:
		return fmt.Errorf("%w: encoding %q (want pcm, ulaw or alaw)", ErrConfig, c.Encoding)
	}
	for name, d := range map[string]time.Duration{
		"no_input_timeout": c.NoInputTimeout, "recognition_timeout": c.RecognitionTimeout,
		"open_timeout": c.OpenTimeout, "retry_backoff": c.RetryBackoff, "replay": c.Replay,
	} {
		if d < 0 {
			return fmt.Errorf("%w: negative %s", ErrConfig, name)
		}
	}
	if c.MaxRetries < -1 {
		return fmt.Errorf("%w: max_retries %d", ErrConfig, c.MaxRetries)
	}
	return nil
}

// Recognizer is the ASRaaS speech recognizer. It is safe for concurrent
// use: each stream is one Recognize RPC on a shared connection.
type Recognizer struct {
	cfg    Config
	cc     *grpc.ClientConn
	client asrpb.RecognizerClient
	log    *slog.Logger
}

var _ stt.Recognizer = (*Recognizer)(nil)

// Option tunes New.
type Option func(*Recognizer)

// WithLogger logs retries and failures to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Recognizer) { r.log = l } }

// New validates cfg and prepares the connection (dialled lazily, on the
// first stream). Errors wrap ErrConfig.
func New(cfg Config, opts ...Option) (*Recognizer, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cc, err := mix.Dial(cfg.conn())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r := &Recognizer{cfg: cfg, cc: cc, client: asrpb.NewRecognizerClient(cc), log: slog.Default()}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Close closes the connection; streams in progress fail.
func (r *Recognizer) Close() error { return r.cc.Close() }

// Stream starts a recognition. It returns at once: audio written before
// the service answers is queued, and sent after its 100 Continue.
func (r *Recognizer) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	init, err := r.initMessage(cfg)
	if err != nil {
		return nil, err
	}
	return r.start(ctx, cfg, init), nil
}

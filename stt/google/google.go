package google

import (
	"context"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/internal/googleopt"
	"log/slog"
	"time"

	speech "cloud.google.com/go/speech/apiv1"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/stt"
)

// Errors callers branch on. Errors from the service wrap one of these and
// the gRPC error itself (status.Code still works on them).
var (
	// ErrConfig: the Config given to New is invalid.
	ErrConfig = errors.New("google stt: invalid configuration")
	// ErrUnauthenticated: the service refused the credentials
	// (Unauthenticated or PermissionDenied).
	ErrUnauthenticated = errors.New("google stt: not authenticated")
	// ErrQuota: the project's quota is exhausted (ResourceExhausted).
	ErrQuota = errors.New("google stt: quota exhausted")
	// ErrDeadline: the service or the adapter's own timeout gave up
	// waiting (DeadlineExceeded, or no final result FinalTimeout after
	// CloseSend).
	ErrDeadline = errors.New("google stt: deadline exceeded")
	// ErrUnavailable: the service stayed unavailable after the retries.
	ErrUnavailable = errors.New("google stt: service unavailable")
	// ErrFrame: a frame at another sample rate than the stream's.
	ErrFrame = errors.New("google stt: frame does not match the stream")
	// ErrBacklog: audio piles up unsent (the service does not take it as
	// fast as it is written) beyond Config.MaxBacklog.
	ErrBacklog = errors.New("google stt: audio backlog too large")
)

// Defaults of Config's zero fields.
const (
	DefaultRotateAfter   = 4*time.Minute + 30*time.Second
	DefaultChunkDuration = 100 * time.Millisecond
	DefaultMaxReplay     = time.Minute
	DefaultFinalTimeout  = 10 * time.Second
	DefaultMaxBacklog    = 10 * time.Second
	DefaultMaxRetries    = 3
	DefaultRetryBackoff  = 200 * time.Millisecond
	DefaultHintBoost     = 10
	DefaultGrammarBoost  = 15
)

// Limits of the Speech-to-Text v1 API (cloud.google.com/speech-to-text/quotas).
const (
	maxStreamDuration = 5 * time.Minute
	maxRequestBytes   = 25000 // audio_content of one StreamingRecognizeRequest
	maxPhraseChars    = 100
	maxPhrases        = 5000
	maxPhraseTotal    = 100000
)

// Config configures the recognizer. The zero value talks to the public
// endpoint with Application Default Credentials and the defaults above.
type Config struct {
	// Endpoint is the service address, host:port; empty means
	// speech.googleapis.com:443.
	Endpoint string `yaml:"endpoint"`
	// CredentialsFile is a service account JSON key; empty means
	// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the
	// metadata server, …).
	CredentialsFile string `yaml:"credentials_file"`
	// APIKey authenticates with an API key instead.
	APIKey string `yaml:"api_key"`
	// Insecure talks plaintext gRPC without credentials (an emulator or a
	// test server on Endpoint).
	Insecure bool `yaml:"insecure"`
	// Model is the recognition model; empty means "phone_call" for 8 kHz
	// streams and "latest_long" otherwise.
	Model string `yaml:"model"`
	// UseEnhanced asks for the enhanced variant of the model.
	UseEnhanced bool `yaml:"use_enhanced"`
	// Encoding of the audio sent: "mulaw" (G.711 μ-law, 8 kHz streams
	// only), "linear16", or empty for μ-law at 8 kHz and LINEAR16
	// otherwise.
	Encoding string `yaml:"encoding"`
	// Punctuation turns on automatic punctuation.
	Punctuation bool `yaml:"punctuation"`
	// HintBoost is the boost of stt.Config.Hints (0…20, default 10);
	// GrammarBoost that of the grammar's phrases (default 15).
	HintBoost    float32 `yaml:"hint_boost"`
	GrammarBoost float32 `yaml:"grammar_boost"`
	// ChunkDuration is the audio per request, 20…250 ms (default 100 ms):
	// far below the 25 KB request limit at every rate.
	ChunkDuration time.Duration `yaml:"chunk_duration"`
	// RotateAfter is when a stream is replaced by a fresh one, before the
	// service's 5-minute limit (default 4m30s): by audio sent on it
	// (replay included) or by wall time, whichever comes first.
	RotateAfter time.Duration `yaml:"rotate_after"`
	// MaxReplay bounds the audio kept since the last final result for
	// replay into the next stream (default 1 min or half of RotateAfter, at most half of
	// RotateAfter); older audio is dropped with a warning.
	MaxReplay time.Duration `yaml:"max_replay"`
	// FinalTimeout is how long to wait for the last results after
	// CloseSend (default 10 s).
	FinalTimeout time.Duration `yaml:"final_timeout"`
	// MaxBacklog is how much written audio may wait unsent before Write
	// fails with ErrBacklog (default 10 s).
	MaxBacklog time.Duration `yaml:"max_backlog"`
	// MaxRetries bounds the reconnections after Unavailable (default 3;
	// negative disables them); RetryBackoff is the first wait, doubled at
	// each retry (default 200 ms).
	MaxRetries   int           `yaml:"max_retries"`
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// Logger receives warnings and debug traces; nil means slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

func (c *Config) fill() error {
	if c.RotateAfter == 0 {
		c.RotateAfter = DefaultRotateAfter
	}
	if c.ChunkDuration == 0 {
		c.ChunkDuration = DefaultChunkDuration
	}
	if c.MaxReplay == 0 {
		c.MaxReplay = min(DefaultMaxReplay, c.RotateAfter/2)
	}
	if c.FinalTimeout == 0 {
		c.FinalTimeout = DefaultFinalTimeout
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = DefaultMaxBacklog
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.HintBoost == 0 {
		c.HintBoost = DefaultHintBoost
	}
	if c.GrammarBoost == 0 {
		c.GrammarBoost = DefaultGrammarBoost
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.RotateAfter < 0 || c.RotateAfter >= maxStreamDuration:
		return fmt.Errorf("%w: rotate_after %v must be below the service's %v limit", ErrConfig, c.RotateAfter, maxStreamDuration)
	case c.ChunkDuration < 20*time.Millisecond || c.ChunkDuration > 250*time.Millisecond:
		return fmt.Errorf("%w: chunk_duration %v outside 20ms…250ms", ErrConfig, c.ChunkDuration)
	case c.MaxReplay < 0 || c.MaxReplay > c.RotateAfter/2:
		return fmt.Errorf("%w: max_replay %v must be between 0 and half of rotate_after", ErrConfig, c.MaxReplay)
	case c.FinalTimeout < 0 || c.MaxBacklog < 0 || c.RetryBackoff < 0:
		return fmt.Errorf("%w: negative timeout", ErrConfig)
	case c.HintBoost < 0 || c.HintBoost > 20 || c.GrammarBoost < 0 || c.GrammarBoost > 20:
		return fmt.Errorf("%w: boosts must be within 0…20", ErrConfig)
	case c.Encoding != "" && c.Encoding != "mulaw" && c.Encoding != "linear16":
		return fmt.Errorf("%w: encoding %q (want mulaw or linear16)", ErrConfig, c.Encoding)
	case c.Insecure && (c.CredentialsFile != "" || c.APIKey != ""):
		return fmt.Errorf("%w: insecure excludes credentials", ErrConfig)
	case c.Insecure && c.Endpoint == "":
		return fmt.Errorf("%w: insecure needs an endpoint", ErrConfig)
	}
	return nil
}

// Recognizer is the Google Cloud Speech-to-Text v1 streaming recognizer.
// It is safe for concurrent use; every stream is one StreamingRecognize
// call (or several, rotated).
type Recognizer struct {
	cfg    Config
	client *speech.Client
}

var _ stt.Recognizer = (*Recognizer)(nil)

// New validates cfg and creates the gRPC client (no request is made yet).
// opts are extra client options, after those derived from cfg.
func New(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Recognizer, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	o := googleopt.ClientOptions(cfg.Endpoint, cfg.CredentialsFile, cfg.APIKey, cfg.Insecure)
	c, err := speech.NewClient(ctx, append(o, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// The stream handles Unavailable itself (re-open and replay); the
	// library's own retry of the stream's opening is turned off.
	c.CallOptions.StreamingRecognize = nil
	return &Recognizer{cfg: cfg, client: c}, nil
}

// Close closes the client's connections. Streams still open fail.
func (r *Recognizer) Close() error { return r.client.Close() }

// mapErr wraps a gRPC error with the sentinel callers branch on.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	case codes.ResourceExhausted:
		return fmt.Errorf("%w: %w", ErrQuota, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w", ErrDeadline, err)
	case codes.Unavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("google stt: %w", err)
}

package google

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/internal/googleopt"
	"log/slog"
	"strings"
	"time"

	texttospeech "cloud.google.com/go/texttospeech/apiv1"
	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/mp3"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

// Errors callers branch on. Errors from the service wrap one of these (or
// tts.ErrUnsupported for InvalidArgument) and the gRPC error itself.
var (
	// ErrConfig: the Config given to New is invalid.
	ErrConfig = errors.New("google tts: invalid configuration")
	// ErrEmpty: a request with neither text nor SSML.
	ErrEmpty = errors.New("google tts: nothing to say")
	// ErrUnauthenticated: the service refused the credentials
	// (Unauthenticated or PermissionDenied).
	ErrUnauthenticated = errors.New("google tts: not authenticated")
	// ErrQuota: the project's quota is exhausted (ResourceExhausted).
	ErrQuota = errors.New("google tts: quota exhausted")
	// ErrDeadline: the request took longer than Config.Timeout
	// (DeadlineExceeded).
	ErrDeadline = errors.New("google tts: deadline exceeded")
	// ErrUnavailable: the service stayed unavailable after the retries.
	ErrUnavailable = errors.New("google tts: service unavailable")
	// ErrAudio: the service's audio could not be decoded, or is not what
	// was asked (another sample rate).
	ErrAudio = errors.New("google tts: bad audio from the service")
	// ErrClosed: Recv after Close.
	ErrClosed = errors.New("google tts: stream closed")
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultSplitAbove   = 200
	DefaultMaxRetries   = 2
	DefaultRetryBackoff = 100 * time.Millisecond
	// ChunkDuration is the audio in each chunk of a unary answer.
	ChunkDuration = 100 * time.Millisecond
)

// Config configures the synthesizer. The zero value talks to the public
// endpoint with Application Default Credentials, LINEAR16, unary requests.
type Config struct {
	// Endpoint is the service address, host:port; empty means
	// texttospeech.googleapis.com:443.
	Endpoint string `yaml:"endpoint"`
	// CredentialsFile is a service account JSON key; empty means
	// Application Default Credentials.
	CredentialsFile string `yaml:"credentials_file"`
	// APIKey authenticates with an API key instead.
	APIKey string `yaml:"api_key"`
	// Insecure talks plaintext gRPC without credentials (an emulator or a
	// test server on Endpoint).
	Insecure bool `yaml:"insecure"`
	// Voices maps a BCP 47 language ("fr-FR") or primary language ("fr")
	// to a voice name ("fr-FR-Neural2-A"); a language without a voice
	// lets the service pick one. tts.Request.Voice overrides it.
	Voices map[string]string `yaml:"voices"`
	// Encoding asked of the service in unary requests: "linear16" (the
	// default; WAV, header stripped), "mulaw" (WAV of G.711 μ-law, 8 kHz
	// requests only: others use linear16) or "mp3" (decoded and resampled
	// by media/mp3).
	Encoding string `yaml:"encoding"`
	// Streaming uses StreamingSynthesize (voices that allow it, such as
	// Chirp 3 HD) for text requests: audio chunks come as the service
	// produces them. SSML requests always go unary (streaming takes no
	// SSML).
	Streaming bool `yaml:"streaming"`
	// SplitAbove: unary texts longer than this many bytes are split into
	// sentences, one request each, so that the first audio comes after the
	// first sentence (default 200; negative: split only what exceeds the
	// service's 5,000 bytes).
	SplitAbove int `yaml:"split_above"`
	// EffectsProfile lists audio profiles applied by the service, such as
	// "telephony-class-application".
	EffectsProfile []string `yaml:"effects_profile"`
	// Timeout bounds each unary request and each streaming call (default
	// 30 s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries bounds the retries after Unavailable before any audio of
	// the request came (default 2; negative: none), the first after
	// RetryBackoff (100 ms), doubling.
	MaxRetries   int           `yaml:"max_retries"`
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

func (c *Config) fill() error {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.SplitAbove == 0 {
		c.SplitAbove = DefaultSplitAbove
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.Encoding != "" && c.Encoding != "linear16" && c.Encoding != "mulaw" && c.Encoding != "mp3":
		return fmt.Errorf("%w: encoding %q (want linear16, mulaw or mp3)", ErrConfig, c.Encoding)
	case c.Timeout < 0 || c.RetryBackoff < 0:
		return fmt.Errorf("%w: negative timeout", ErrConfig)
	case c.Insecure && (c.CredentialsFile != "" || c.APIKey != ""):
		return fmt.Errorf("%w: insecure excludes credentials", ErrConfig)
	case c.Insecure && c.Endpoint == "":
		return fmt.Errorf("%w: insecure needs an endpoint", ErrConfig)
	}
	for lang, v := range c.Voices {
		if lang == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("%w: voices: empty language or voice (%q: %q)", ErrConfig, lang, v)
		}
	}
	return nil
}

// Synthesizer is the Google Cloud Text-to-Speech synthesizer. It is safe
// for concurrent use.
type Synthesizer struct {
	cfg    Config
	client *texttospeech.Client
}

var _ tts.Synthesizer = (*Synthesizer)(nil)

// New validates cfg and creates the gRPC client (no request is made yet).
// opts are extra client options, after those derived from cfg.
func New(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Synthesizer, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	o := googleopt.ClientOptions(cfg.Endpoint, cfg.CredentialsFile, cfg.APIKey, cfg.Insecure)
	c, err := texttospeech.NewClient(ctx, append(o, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// The library's default retries (Unavailable and DeadlineExceeded, up
	// to 300 s) would hide the service's errors behind our Timeout; the
	// adapter retries Unavailable itself, within bounds.
	c.CallOptions.SynthesizeSpeech = nil
	c.CallOptions.StreamingSynthesize = nil
	return &Synthesizer{cfg: cfg, client: c}, nil
}

// Close closes the client's connections.
func (s *Synthesizer) Close() error { return s.client.Close() }

// mapErr wraps a gRPC error with the sentinel callers branch on.
func mapErr(err error) error {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	case codes.ResourceExhausted:
		return fmt.Errorf("%w: %w", ErrQuota, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w", ErrDeadline, err)
	case codes.Unavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %w", tts.ErrUnsupported, err)
	}
	return fmt.Errorf("google tts: %w", err)
}

// decode turns a unary answer into samples at rate.
func decode(enc texttospeechpb.AudioEncoding, b []byte, rate int) ([]int16, error) {
	switch enc {
	case texttospeechpb.AudioEncoding_MP3:
		pcm, err := mp3.Decode(bytes.NewReader(b), rate)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAudio, err)
		}
		return pcm, nil
	case texttospeechpb.AudioEncoding_LINEAR16, texttospeechpb.AudioEncoding_MULAW:
		if !bytes.HasPrefix(b, []byte("RIFF")) {
			// Headerless audio at the rate asked (not what the service
			// documents, but harmless to accept).
			if enc == texttospeechpb.AudioEncoding_MULAW {
				return g711.DecodeUlaw(nil, b), nil
			}
			return pcmLE(nil, b), nil
		}
		pcm, got, err := wav.ReadAll(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAudio, err)
		}
		if got != rate {
			return nil, fmt.Errorf("%w: %d Hz audio for a %d Hz request", ErrAudio, got, rate)
		}
		return pcm, nil
	}
	return nil, fmt.Errorf("%w: encoding %v", ErrAudio, enc)
}

// pcmLE appends the little-endian 16-bit samples of b (an odd last byte
// is ignored) to dst.
func pcmLE(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(uint16(b[i])|uint16(b[i+1])<<8))
	}
	return dst
}

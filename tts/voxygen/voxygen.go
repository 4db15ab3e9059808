package voxygen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/tts"
)

// Defaults of Config.
const (
	DefaultURL      = "https://api.voxygen.fr/tts"
	DefaultLanguage = "fr-FR"
	// DefaultMaxChars is the service's limit on the text of one request.
	DefaultMaxChars      = 2000
	DefaultTimeout       = 5 * time.Second
	DefaultSegmentTime   = 30 * time.Second
	DefaultMaxRetries    = 2
	DefaultRetryBackoff  = 200 * time.Millisecond
	DefaultMaxAudioBytes = 16 << 20
	// maxRetryWait caps the wait a Retry-After header asks for.
	maxRetryWait = 2 * time.Second
)

// Errors callers branch on.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("voxygen: invalid configuration")
	// ErrUnauthorized: the service refused the token (401 or 403).
	ErrUnauthorized = errors.New("voxygen: unauthorized")
	// ErrUnavailable: the service could not be reached, answered 429 or
	// 5xx after the retries, or the audio was cut off.
	ErrUnavailable = errors.New("voxygen: service unavailable")
	// ErrRequest: the service refused the request (another 4xx) or
	// answered something that is not audio.
	ErrRequest = errors.New("voxygen: request refused")
	// ErrAudio: the audio returned cannot be decoded.
	ErrAudio = errors.New("voxygen: bad audio")
	// ErrTooLarge: the audio of one request exceeds Config.MaxAudioBytes.
	ErrTooLarge = errors.New("voxygen: audio too large")
	// ErrTimeout: no answer within Config.Timeout, or one request took
	// longer than Config.SegmentTime.
	ErrTimeout = errors.New("voxygen: timeout")
)

// Coding is the audio format asked of the service.
type Coding string

// Codings: MP3, or 16-bit linear PCM in a WAV stream
// (header=wav-stream-header).
const (
	MP3 Coding = "mp3"
	Lin Coding = "lin"
)

// Config configures the synthesizer.
type Config struct {
	// URL of the TTS resource (DefaultURL); an on-premise server's
	// https://host:port/tts works the same.
	URL string `yaml:"url"`
	// Token is the subscription's access token, sent as
	// "Authorization: Bearer <token>". Required.
	Token string `yaml:"token"`
	// Voice when the request names none and Voices has none for its
	// language.
	Voice string `yaml:"voice"`
	// Voices maps BCP 47 tags or primary languages to voices.
	Voices map[string]string `yaml:"voices"`
	// Language when the request gives none (DefaultLanguage).
	Language string `yaml:"language"`
	// Coding is the audio format asked for (MP3).
	Coding Coding `yaml:"coding"`
	// Frequency is the sample rate asked for; 0 picks one: for MP3 16 kHz
	// when the call's rate is at most 16 kHz, else 24 kHz (MPEG-2 rates,
	// which media/mp3 decodes); for Lin the call's rate. The audio is
	// resampled to the call's rate when they differ.
	Frequency int `yaml:"frequency"`
	// NoSplit sends a text whole instead of sentence by sentence.
	NoSplit bool `yaml:"no_split"`
	// MaxChars bounds the text of one request (DefaultMaxChars); longer
	// sentences are cut at a space.
	MaxChars int `yaml:"max_chars"`
	// Timeout bounds the wait for the answer's headers (DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// SegmentTime bounds one request with its audio (DefaultSegmentTime).
	SegmentTime time.Duration `yaml:"segment_time"`
	// MaxRetries of a request answered 429 or 5xx, or that could not be
	// sent (DefaultMaxRetries; -1: none).
	MaxRetries int `yaml:"max_retries"`
	// RetryBackoff is the first pause between attempts, doubled each time
	// (DefaultRetryBackoff); a Retry-After header is honoured up to 2 s.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// MaxAudioBytes bounds the audio of one request
	// (DefaultMaxAudioBytes).
	MaxAudioBytes int64 `yaml:"max_audio_bytes"`
}

func (c *Config) defaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.Coding == "" {
		c.Coding = MP3
	}
	if c.MaxChars == 0 {
		c.MaxChars = DefaultMaxChars
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.SegmentTime == 0 {
		c.SegmentTime = DefaultSegmentTime
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxAudioBytes == 0 {
		c.MaxAudioBytes = DefaultMaxAudioBytes
	}
}

func (c *Config) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: url %q is not an http(s) URL", ErrConfig, c.URL)
	}
	if c.Token == "" {
		return fmt.Errorf("%w: token is required", ErrConfig)
	}
	switch c.Coding {
	case MP3, Lin:
	default:
		return fmt.Errorf("%w: coding %q (want mp3 or lin)", ErrConfig, c.Coding)
	}
	if c.Frequency < 0 || c.Frequency > 0 && (c.Frequency < 8000 || c.Frequency > 48000) {
		return fmt.Errorf("%w: frequency %d", ErrConfig, c.Frequency)
	}
	if c.Coding == MP3 && c.Frequency > 0 && c.Frequency < 16000 {
		return fmt.Errorf("%w: frequency %d: MP3 below 16 kHz (MPEG-2.5) is not decoded", ErrConfig, c.Frequency)
	}
	if c.MaxChars < 0 || c.MaxRetries < -1 || c.MaxAudioBytes < 0 {
		return fmt.Errorf("%w: negative max_chars, max_audio_bytes or max_retries below -1", ErrConfig)
	}
	for name, d := range map[string]time.Duration{"timeout": c.Timeout, "segment_time": c.SegmentTime, "retry_backoff": c.RetryBackoff} {
		if d < 0 {
			return fmt.Errorf("%w: negative %s", ErrConfig, name)
		}
	}
	return nil
}

// Synthesizer is the Voxygen synthesizer. It is safe for concurrent use.
type Synthesizer struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

var _ tts.Synthesizer = (*Synthesizer)(nil)

// Option tunes New.
type Option func(*Synthesizer)

// WithHTTPClient sends the requests with c (default: a client whose
// transport waits Config.Timeout for the response headers).
func WithHTTPClient(c *http.Client) Option { return func(s *Synthesizer) { s.client = c } }

// WithLogger logs retries to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Synthesizer) { s.log = l } }

// New validates cfg and returns a synthesizer.
func New(cfg Config, opts ...Option) (*Synthesizer, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = cfg.Timeout
	s := &Synthesizer{cfg: cfg, client: &http.Client{Transport: tr}, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// voice picks the voice for a request.
func (s *Synthesizer) voice(req tts.Request, lang string) string {
	if req.Voice != "" {
		return req.Voice
	}
	l := strings.ToLower(lang)
	for k, v := range s.cfg.Voices {
		if strings.ToLower(k) == l {
			return v
		}
	}
	primary, _, _ := strings.Cut(l, "-")
	for k, v := range s.cfg.Voices {
		if strings.ToLower(k) == primary {
			return v
		}
	}
	return s.cfg.Voice
}

// frequency is the rate asked of the service for a call at rate.
func (s *Synthesizer) frequency(rate int) int {
	switch {
	case s.cfg.Frequency > 0:
		return s.cfg.Frequency
	case s.cfg.Coding == Lin:
		return rate
	case rate <= 16000:
		return 16000
	default:
		return 24000
	}
}

// form builds the parameters of one request.
func (s *Synthesizer) form(text, voice, lang string, freq int, rate float64) url.Values {
	v := url.Values{}
	v.Set("text", text)
	v.Set("voice", voice)
	v.Set("language", lang)
	v.Set("coding", string(s.cfg.Coding))
	v.Set("frequency", strconv.Itoa(freq))
	if s.cfg.Coding == Lin {
		v.Set("header", "wav-stream-header")
	}
	if rate > 0 && rate != 1 {
		v.Set("articulation-rate", strconv.Itoa(int(rate*100+0.5))+"%")
	}
	return v
}

// fetch posts one request and returns the response once its headers are
// in, retrying 429, 5xx and connection failures. The body belongs to the
// caller.
func (s *Synthesizer) fetch(ctx context.Context, form url.Values) (*http.Response, error) {
	body := form.Encode()
	backoff := s.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, strings.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRequest, err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "audio/*; q=1.0, application/octet-stream; q=0.8")
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
		resp, err := s.client.Do(req)
		var last error
		wait := backoff
		switch {
		case err != nil && ctx.Err() != nil:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
			}
			return nil, fmt.Errorf("voxygen: %w", ctx.Err())
		case err != nil:
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				last = fmt.Errorf("%w: no answer within %v: %w", ErrTimeout, s.cfg.Timeout, err)
			} else {
				last = fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		case resp.StatusCode == http.StatusOK:
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if !strings.HasPrefix(mt, "audio/") && mt != "application/octet-stream" {
				resp.Body.Close()
				return nil, fmt.Errorf("%w: answer of type %q, not audio", ErrRequest, mt)
			}
			return resp, nil
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			msg := excerpt(resp.Body)
			return nil, fmt.Errorf("%w: %s: %s", ErrUnauthorized, resp.Status, msg)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("%w: %s: %s", ErrUnavailable, resp.Status, excerpt(resp.Body))
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra >= 0 {
				wait = min(time.Duration(ra)*time.Second, maxRetryWait)
			}
		default:
			return nil, fmt.Errorf("%w: %s: %s", ErrRequest, resp.Status, excerpt(resp.Body))
		}
		if s.cfg.MaxRetries < 0 || attempt >= s.cfg.MaxRetries {
			return nil, last
		}
		s.log.Warn("voxygen: request failed, retrying", "err", last, "attempt", attempt+1, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("voxygen: %w", ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryWait)
	}
}

// excerpt reads and closes an error body, returning its start.
func excerpt(r io.ReadCloser) string {
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return strings.TrimSpace(string(b))
}

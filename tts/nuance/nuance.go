// Package nuance is parole's speech synthesizer on Nuance Mix TTSaaS,
// through its gRPC API nuance.tts.v1 Synthesizer/Synthesize (code
// generated in internal/nuancepb/tts). It implements tts.Synthesizer.
//
// A request becomes one SynthesisRequest: the voice (name, model,
// language), the audio parameters (PCM at the request's sample rate, the
// speaking rate factor, the volume) and the input, plain text or SSML. The
// service streams a status and audio buffers; each buffer is delivered as
// a tts.Chunk as soon as it arrives (16-bit little-endian PCM; a byte split
// across buffers is carried to the next). A status of 400 or more ends the
// stream with a StatusError.
//
// Tokens are OAuth2 client credentials from Config.TokenURL, reused until
// Config.RefreshBefore their expiry and sent as a bearer token with each
// RPC. gRPC errors wrap ErrUnauthenticated, ErrResourceExhausted,
// ErrDeadlineExceeded or ErrUnavailable (and the status error). A request
// that fails with UNAVAILABLE or RESOURCE_EXHAUSTED, or gets no answer in
// Config.OpenTimeout, before any audio reached the caller is sent again
// (Config.MaxRetries times, with doubling backoff).
package nuance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/parole-voice/parole/internal/nuancepb/mix"
	ttspb "github.com/parole-voice/parole/internal/nuancepb/tts"
	"github.com/parole-voice/parole/tts"
)

// Defaults of Config.
const (
	DefaultEndpoint     = "tts.api.nuance.com:443"
	DefaultScope        = "tts"
	DefaultLanguage     = "en-US"
	DefaultModel        = "enhanced"
	DefaultSampleRate   = 8000
	DefaultOpenTimeout  = 5 * time.Second
	DefaultMaxRetries   = 2
	DefaultRetryBackoff = 100 * time.Millisecond
)

// Errors callers branch on. The gRPC ones are the same values as in
// stt/nuance and wrap the gRPC status error.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("nuance: invalid configuration")
	// ErrUnauthenticated: the token was refused or could not be fetched.
	ErrUnauthenticated = mix.ErrUnauthenticated
	// ErrResourceExhausted: quota or capacity exhausted (after retries).
	ErrResourceExhausted = mix.ErrResourceExhausted
	// ErrDeadlineExceeded: the synthesis ran out of time.
	ErrDeadlineExceeded = mix.ErrDeadlineExceeded
	// ErrUnavailable: the service could not be reached (after retries).
	ErrUnavailable = mix.ErrUnavailable
	// ErrStatus: the service answered with a 4xx or 5xx status message.
	ErrStatus = errors.New("nuance: synthesis failed")
	// ErrOpenTimeout: no answer within Config.OpenTimeout.
	ErrOpenTimeout = errors.New("nuance: no answer to the synthesis request")
)

// Config configures the synthesizer.
type Config struct {
	// Endpoint is the TTSaaS gRPC host:port (DefaultEndpoint).
	Endpoint string `yaml:"endpoint"`
	// ClientID and ClientSecret are the Mix credentials; both empty means
	// no token (a self-hosted engine).
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

	// Voice is the voice name when the request has none, e.g. "Evan".
	Voice string `yaml:"voice"`
	// Model is the voice model (DefaultModel).
	Model string `yaml:"model"`
	// Language when the request has none (DefaultLanguage).
	Language string `yaml:"language"`
	// Volume in percent of the voice's default (0: the service's 80).
	Volume int `yaml:"volume"`
	// UserID identifies the caller in Nuance's logs (optional).
	UserID string `yaml:"user_id"`

	// OpenTimeout bounds the wait for the first response (DefaultOpenTimeout).
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// MaxRetries before any audio (DefaultMaxRetries; -1: none).
	MaxRetries int `yaml:"max_retries"`
	// RetryBackoff is the first pause between attempts (DefaultRetryBackoff).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
}

// Synthesizer is the TTSaaS synthesizer. It is safe for concurrent use.
type Synthesizer struct {
	cfg    Config
	cc     *grpc.ClientConn
	client ttspb.SynthesizerClient
	log    *slog.Logger
}

var _ tts.Synthesizer = (*Synthesizer)(nil)

// Option tunes New.
type Option func(*Synthesizer)

// WithLogger logs retries to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Synthesizer) { s.log = l } }

// New validates cfg and prepares the connection (dialled lazily). Errors
// wrap ErrConfig.
func New(cfg Config, opts ...Option) (*Synthesizer, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Language == "" {
		cfg.Language = DefaultLanguage
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = DefaultOpenTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	conn := mix.Conn{Endpoint: cfg.Endpoint, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		TokenURL: cfg.TokenURL, Scope: cfg.Scope, RefreshBefore: cfg.RefreshBefore, Insecure: cfg.Insecure}
	if err := conn.Check(ErrConfig); err != nil {
		return nil, err
	}
	switch {
	case cfg.Volume < 0 || cfg.Volume > 100:
		return nil, fmt.Errorf("%w: volume %d%% (0 to 100)", ErrConfig, cfg.Volume)
	case cfg.OpenTimeout < 0 || cfg.RetryBackoff < 0:
		return nil, fmt.Errorf("%w: negative timeout", ErrConfig)
	case cfg.MaxRetries < -1:
		return nil, fmt.Errorf("%w: max_retries %d", ErrConfig, cfg.MaxRetries)
	}
	cc, err := mix.Dial(conn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Synthesizer{cfg: cfg, cc: cc, client: ttspb.NewSynthesizerClient(cc), log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Close closes the connection.
func (s *Synthesizer) Close() error { return s.cc.Close() }

// Request returns the SynthesisRequest for req.
func (s *Synthesizer) Request(req tts.Request) (*ttspb.SynthesisRequest, error) {
	voice := req.Voice
	if voice == "" {
		voice = s.cfg.Voice
	}
	if voice == "" {
		return nil, fmt.Errorf("%w: no voice (set Config.Voice or Request.Voice)", tts.ErrUnsupported)
	}
	lang := req.Language
	if lang == "" {
		lang = s.cfg.Language
	}
	rate := req.SampleRate
	if rate == 0 {
		rate = DefaultSampleRate
	}
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("%w: sample rate %d Hz", tts.ErrUnsupported, rate)
	}
	if req.Rate < 0 {
		return nil, fmt.Errorf("%w: speaking rate %v", tts.ErrUnsupported, req.Rate)
	}
	in := &ttspb.Input{}
	switch {
	case req.SSML != "":
		in.InputData = &ttspb.Input_Ssml{Ssml: &ttspb.SSML{SsmlData: &ttspb.SSML_Text{Text: req.SSML}}}
	case req.Text != "":
		in.InputData = &ttspb.Input_Text{Text: &ttspb.Text{TextData: &ttspb.Text_Text{Text: req.Text}}}
	default:
		return nil, fmt.Errorf("%w: nothing to say", tts.ErrUnsupported)
	}
	return &ttspb.SynthesisRequest{
		Voice: &ttspb.Voice{Name: voice, Model: s.cfg.Model, Language: lang},
		AudioParams: &ttspb.AudioParameters{
			AudioFormat:        &ttspb.AudioFormat{AudioFormatData: &ttspb.AudioFormat_Pcm{Pcm: &ttspb.PCM{SampleRateHz: uint32(rate)}}},
			VolumePercentage:   uint32(s.cfg.Volume),
			SpeakingRateFactor: float32(req.Rate),
		},
		Input:  in,
		UserId: s.cfg.UserID,
	}, nil
}

// Synthesize sends the request; audio is read from the returned stream.
func (s *Synthesizer) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	r, err := s.Request(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return &stream{s: s, req: r, rate: int(r.AudioParams.GetAudioFormat().GetPcm().GetSampleRateHz()), ctx: ctx, cancel: cancel}, nil
}

// StatusError is a status message of 400 or more.
type StatusError struct {
	Code    uint32
	Message string
	Details string
}

func (e *StatusError) Error() string {
	s := "nuance: synthesis status " + strconv.FormatUint(uint64(e.Code), 10) + " " + e.Message
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

type stream struct {
	s    *Synthesizer
	req  *ttspb.SynthesisRequest
	rate int

	ctx    context.Context
	cancel context.CancelFunc

	rpc      ttspb.Synthesizer_SynthesizeClient
	stop     context.CancelFunc // of the current attempt
	opened   *atomic.Bool       // first response of the attempt arrived
	timedOut *atomic.Bool       // the attempt's open timer fired
	timer    *time.Timer
	attempts int
	audio    bool   // audio delivered: no more retries
	odd      []byte // a byte of a sample split across buffers
	err      error  // sticky end
}

// open starts an attempt.
func (st *stream) open() error {
	ctx, cancel := context.WithCancel(st.ctx)
	st.attempts++
	opened, timedOut := new(atomic.Bool), new(atomic.Bool)
	st.opened, st.timedOut = opened, timedOut
	st.timer = time.AfterFunc(st.s.cfg.OpenTimeout, func() {
		if !opened.Load() {
			timedOut.Store(true)
			cancel()
		}
	})
	rpc, err := st.s.client.Synthesize(ctx, st.req)
	if err != nil {
		st.timer.Stop()
		cancel()
		return st.mapErr(err)
	}
	st.rpc, st.stop = rpc, cancel
	return nil
}

func (st *stream) mapErr(err error) error {
	if st.timedOut != nil && st.timedOut.Load() {
		return fmt.Errorf("%w within %v", ErrOpenTimeout, st.s.cfg.OpenTimeout)
	}
	return mix.MapError("synthesize", err)
}

func (st *stream) endAttempt() {
	if st.stop != nil {
		st.timer.Stop()
		st.stop()
		st.stop, st.rpc = nil, nil
	}
}

// Recv returns the next chunk of audio.
func (st *stream) Recv() (tts.Chunk, error) {
	if st.err != nil {
		return tts.Chunk{}, st.err
	}
	for {
		c, err := st.next()
		if err == nil {
			return c, nil
		}
		st.endAttempt()
		if err == io.EOF || st.ctx.Err() != nil || st.audio || st.attempts > st.s.cfg.MaxRetries ||
			!(mix.Retryable(err) || errors.Is(err, ErrOpenTimeout)) {
			if st.ctx.Err() != nil && err != io.EOF {
				err = fmt.Errorf("nuance: synthesis stopped: %w", st.ctx.Err())
			}
			st.err = err
			st.cancel()
			return tts.Chunk{}, err
		}
		d := mix.Backoff(st.s.cfg.RetryBackoff, st.attempts)
		st.s.log.Warn("nuance: synthesis failed, retrying", "err", err, "attempt", st.attempts, "backoff", d)
		if !mix.Sleep(st.ctx, d) {
			st.err = fmt.Errorf("nuance: synthesis stopped: %w", st.ctx.Err())
			return tts.Chunk{}, st.err
		}
	}
}

// next reads the current attempt (opening one if needed) until audio.
func (st *stream) next() (tts.Chunk, error) {
	if st.rpc == nil {
		if err := st.open(); err != nil {
			return tts.Chunk{}, err
		}
	}
	for {
		resp, err := st.rpc.Recv()
		if err == io.EOF {
			return tts.Chunk{}, io.EOF
		}
		if err != nil {
			return tts.Chunk{}, st.mapErr(err)
		}
		if !st.opened.Swap(true) {
			st.timer.Stop()
		}
		switch x := resp.Response.(type) {
		case *ttspb.SynthesisResponse_Status:
			if c := x.Status.GetCode(); c >= 400 {
				return tts.Chunk{}, &StatusError{Code: c, Message: x.Status.GetMessage(), Details: x.Status.GetDetails()}
			}
		case *ttspb.SynthesisResponse_Audio:
			if c, ok := st.chunk(x.Audio); ok {
				st.audio = true
				return c, nil
			}
		}
	}
}

// chunk converts little-endian PCM bytes to samples, carrying an odd byte
// to the next buffer.
func (st *stream) chunk(b []byte) (tts.Chunk, bool) {
	n := (len(st.odd) + len(b)) / 2
	if n == 0 {
		st.odd = append(st.odd, b...)
		return tts.Chunk{}, false
	}
	samples := make([]int16, n)
	i := 0
	if len(st.odd) == 1 {
		samples[0] = int16(uint16(st.odd[0]) | uint16(b[0])<<8)
		b = b[1:]
		i = 1
		st.odd = st.odd[:0]
	}
	for ; i < n; i++ {
		samples[i] = int16(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	st.odd = append(st.odd[:0], b...)
	return tts.Chunk{Samples: samples, Rate: st.rate}, true
}

// Close stops the synthesis.
func (st *stream) Close() error {
	st.cancel()
	st.endAttempt()
	if st.err == nil {
		st.err = fmt.Errorf("nuance: synthesis stopped: %w", context.Canceled)
	}
	return nil
}

// Package fallback is an stt.Recognizer that uses a primary engine (a
// cloud one: Google, Nuance, uh!live) and falls back to a secondary (the
// embedded pocketsphinx) when the primary fails, so that a caller's words
// are not lost because a cloud engine is down.
//
// # When it falls back
//
// A stream goes to the secondary when the primary's Stream fails
// (unreachable, refused token, timeout…), and when the primary's stream
// fails midway (Recv returns an error other than io.EOF, or Write fails):
// a secondary stream is opened with the same stt.Config, the audio of the
// utterance in progress is replayed to it, and it carries on in the same
// stream — results, then the audio still to come. The audio kept for the
// replay starts after the last final result the stream delivered (that
// utterance is done: after its Result.End, or, when the engine gives no
// End, after the audio written when Recv returned it) and is bounded by
// Config.MaxReplay: a longer utterance loses its beginning. If CloseSend was called before the
// failure, the secondary is half-closed after the replay, so it delivers
// its final result.
//
// Errors saying the request itself is wrong (stt.ErrUnsupported) fall
// back too, but do not count as engine failures.
//
// # Circuit breaker
//
// After Config.FailureThreshold failures of the primary in a row, the
// primary is not tried for Config.CoolDown: streams go straight to the
// secondary. After the cool-down the next stream tries the primary again;
// one more failure reopens the breaker, a stream that ends well (io.EOF)
// closes it.
//
// When the secondary fails too, the error wraps ErrBothFailed and the voice
// session says its fallback message and goes on (telephony/session,
// Config.Fallback and MaxFailures): the "apology" path.
package fallback

import (
	"context"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/internal/breaker"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

// Defaults of Config.
const (
	DefaultFailureThreshold = breaker.DefaultFailureThreshold
	DefaultCoolDown         = breaker.DefaultCoolDown
	DefaultMaxReplay        = 15 * time.Second
)

// Errors callers branch on.
var (
	// ErrConfig: an engine is missing or the Config is invalid.
	ErrConfig = errors.New("stt/fallback: invalid configuration")
	// ErrBothFailed: the primary and the secondary failed; the error
	// carries both failures.
	ErrBothFailed = errors.New("stt/fallback: primary and secondary failed")
)

// Config tunes the fallback.
type Config struct {
	// FailureThreshold is how many primary failures in a row open the
	// breaker (DefaultFailureThreshold).
	FailureThreshold int `yaml:"failure_threshold"`
	// CoolDown is how long the breaker stays open (DefaultCoolDown).
	CoolDown time.Duration `yaml:"cool_down"`
	// MaxReplay bounds the audio kept to replay to the secondary
	// (DefaultMaxReplay).
	MaxReplay time.Duration `yaml:"max_replay"`
}

// Recognizer falls back from a primary recognizer to a secondary.
type Recognizer struct {
	primary, secondary stt.Recognizer
	br                 *Breaker
	maxReplay          time.Duration
	log                *slog.Logger
}

var _ stt.Recognizer = (*Recognizer)(nil)

// Option tunes New.
type Option func(*Recognizer)

// WithLogger logs fallbacks to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Recognizer) { r.log = l } }

// WithClock replaces time.Now for the breaker (tests).
func WithClock(now func() time.Time) Option { return func(r *Recognizer) { r.br.SetClock(now) } }

// New returns a recognizer trying primary, then secondary.
func New(primary, secondary stt.Recognizer, cfg Config, opts ...Option) (*Recognizer, error) {
	if primary == nil || secondary == nil {
		return nil, fmt.Errorf("%w: primary and secondary are required", ErrConfig)
	}
	if cfg.MaxReplay < 0 {
		return nil, fmt.Errorf("%w: negative max_replay", ErrConfig)
	}
	if cfg.MaxReplay == 0 {
		cfg.MaxReplay = DefaultMaxReplay
	}
	br, err := NewBreaker(cfg.FailureThreshold, cfg.CoolDown)
	if err != nil {
		return nil, err
	}
	r := &Recognizer{primary: primary, secondary: secondary, br: br, maxReplay: cfg.MaxReplay, log: slog.Default()}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Breaker returns the circuit breaker, for metrics and tests.
func (r *Recognizer) Breaker() *Breaker { return r.br }

// Stream opens a stream on the primary, or on the secondary when the
// breaker is open or the primary fails to start.
func (r *Recognizer) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	if !r.br.Allow() {
		return r.secondary.Stream(ctx, cfg)
	}
	st, err := r.primary.Stream(ctx, cfg)
	if err == nil {
		max := int(r.maxReplay.Seconds() * float64(cfg.SampleRate))
		return &stream{r: r, ctx: ctx, cfg: cfg, cur: st, onPrimary: true, max: max}, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	if !errors.Is(err, stt.ErrUnsupported) {
		r.br.Failure()
	}
	r.log.Warn("stt/fallback: primary failed to start; using the secondary", "err", err)
	st2, err2 := r.secondary.Stream(ctx, cfg)
	if err2 != nil {
		return nil, fmt.Errorf("%w: primary: %w; secondary: %w", ErrBothFailed, err, err2)
	}
	return st2, nil
}

type stream struct {
	r   *Recognizer
	ctx context.Context
	cfg stt.Config

	mu         sync.Mutex // guards everything below; held during Write
	cur        stt.Stream
	onPrimary  bool
	sendClosed bool
	closed     bool
	failed     error // the switch failed: the stream's end
	buf        []int16
	base       int64 // index in the stream's audio of buf[0]
	max        int
	f          media.Frame
}

// Write keeps the frame for a replay and passes it on.
func (s *stream) Write(f *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return stt.ErrClosed
	}
	if s.failed != nil {
		return s.failed
	}
	if s.onPrimary && f != nil && f.Rate == s.cfg.SampleRate {
		s.keep(f.Samples)
	}
	err := s.cur.Write(f)
	if err == nil || !s.onPrimary || errors.Is(err, stt.ErrClosed) || s.ctx.Err() != nil {
		return err
	}
	if f == nil || f.Rate != s.cfg.SampleRate {
		return err // the caller's mistake, not the engine's
	}
	return s.switchLocked(s.cur, err)
}

// keep appends samples to the replay buffer. The buffer may hold up to
// twice the bound before the oldest are dropped (one copy per MaxReplay of
// audio, not one per frame); the replay takes the last MaxReplay.
func (s *stream) keep(samples []int16) {
	s.buf = append(s.buf, samples...)
	if len(s.buf) > 2*s.max {
		s.drop(len(s.buf) - s.max)
	}
}

// drop removes the n oldest kept samples.
func (s *stream) drop(n int) {
	n = min(max(n, 0), len(s.buf))
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	s.base += int64(n)
}

// CloseSend half-closes the current engine's stream.
func (s *stream) CloseSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return stt.ErrClosed
	}
	s.sendClosed = true
	if s.failed != nil {
		return s.failed
	}
	err := s.cur.CloseSend()
	if err == nil || !s.onPrimary || errors.Is(err, stt.ErrClosed) || s.ctx.Err() != nil {
		return err
	}
	return s.switchLocked(s.cur, err)
}

// Recv returns the current engine's next result, switching to the
// secondary when the primary fails.
func (s *stream) Recv() (stt.Result, error) {
	for {
		s.mu.Lock()
		cur, primary, failed := s.cur, s.onPrimary, s.failed
		s.mu.Unlock()
		if failed != nil {
			return stt.Result{}, failed
		}
		res, err := cur.Recv()
		if err == nil {
			if res.Final && primary {
				// That utterance is done: keep only the audio after it.
				s.mu.Lock()
				if s.cur == cur {
					if res.End > 0 {
						end := int64(res.End.Seconds() * float64(s.cfg.SampleRate))
						s.drop(int(end - s.base))
					} else {
						s.drop(len(s.buf))
					}
				}
				s.mu.Unlock()
			}
			return res, nil
		}
		if err == io.EOF {
			if primary {
				s.r.br.Success()
			}
			return res, err
		}
		s.mu.Lock()
		switch {
		case s.cur != cur: // switched by Write meanwhile
			s.mu.Unlock()
			continue
		case !primary || s.closed || s.ctx.Err() != nil:
			s.mu.Unlock()
			return res, err
		}
		serr := s.switchLocked(cur, err)
		s.mu.Unlock()
		if serr != nil {
			return stt.Result{}, serr
		}
	}
}

// switchLocked replaces the failed primary stream by a secondary one fed
// with the kept audio; s.mu is held.
func (s *stream) switchLocked(cur stt.Stream, cause error) error {
	s.r.br.Failure()
	cur.Close()
	s.r.log.Warn("stt/fallback: primary failed midway; replaying to the secondary", "err", cause,
		"replay", time.Duration(len(s.buf))*time.Second/time.Duration(max(1, s.cfg.SampleRate)))
	fail := func(err error) error {
		s.failed = fmt.Errorf("%w: primary: %w; secondary: %w", ErrBothFailed, cause, err)
		s.cur, s.onPrimary = closedStream{}, false
		return s.failed
	}
	sec, err := s.r.secondary.Stream(s.ctx, s.cfg)
	if err != nil {
		return fail(err)
	}
	s.f.Rate = s.cfg.SampleRate
	n := max(1, s.cfg.SampleRate/50)
	s.drop(len(s.buf) - s.max)
	for off := 0; off < len(s.buf); off += n {
		s.f.Samples = append(s.f.Samples[:0], s.buf[off:min(off+n, len(s.buf))]...)
		if err := sec.Write(&s.f); err != nil {
			sec.Close()
			return fail(err)
		}
	}
	if s.sendClosed {
		if err := sec.CloseSend(); err != nil {
			sec.Close()
			return fail(err)
		}
	}
	s.buf = nil
	s.cur, s.onPrimary = sec, false
	return nil
}

// Close closes the current engine's stream.
func (s *stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cur := s.cur
	s.mu.Unlock()
	return cur.Close()
}

type closedStream struct{}

func (closedStream) Write(*media.Frame) error { return stt.ErrClosed }
func (closedStream) CloseSend() error         { return stt.ErrClosed }
func (closedStream) Recv() (stt.Result, error) {
	return stt.Result{}, stt.ErrClosed
}
func (closedStream) Close() error { return nil }

// Breaker is the circuit breaker in front of the primary engine: Allow is
// false for a cool-down after a threshold of failures in a row.
type Breaker = breaker.Breaker

// NewBreaker returns a breaker opening after threshold failures in a row
// for coolDown (zero values take the defaults).
func NewBreaker(threshold int, coolDown time.Duration) (*Breaker, error) {
	b, err := breaker.New(threshold, coolDown)
	if err != nil {
		return nil, fmt.Errorf("%w: negative failure_threshold or cool_down", ErrConfig)
	}
	return b, nil
}

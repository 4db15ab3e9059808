// Package fallback is a tts.Synthesizer that uses a primary engine (a
// cloud one: Voxygen, Google, Nuance) and falls back to a secondary (the
// embedded espeak-ng) when the primary fails, so that a caller never hears
// silence because a cloud engine is down.
//
// # When it falls back
//
// A request goes to the secondary when the primary's Synthesize fails
// (unreachable, refused token, timeout…), and when the primary's stream
// fails midway: the rest of the text is then synthesized by the secondary
// and its audio follows what the primary delivered, in the same stream.
// The rest starts at the primary stream's ResumeOffset (tts/voxygen gives
// the start of the sentence that was cut), else after the last word mark
// the primary delivered, else — no audio delivered, or nothing known of
// the engine's progress — at the start of the request: the whole request
// again. SSML is only resent whole (cutting mark-up is not safe). Marks of
// the secondary are shifted so that offsets point into the original
// request and times follow the audio already delivered.
//
// Errors saying the request itself is wrong (tts.ErrUnsupported,
// tts.ErrBadSSML) fall back too, but do not count as engine failures.
//
// # Circuit breaker
//
// After Config.FailureThreshold failures of the primary in a row, the
// primary is not tried for Config.CoolDown: every request goes straight to
// the secondary. After the cool-down the next request tries the primary
// again; one more failure reopens the breaker, a stream that ends well
// closes it.
//
// When the secondary fails too, the error wraps ErrBothFailed and the
// voice session says its fallback message (or plays a tone) and goes on:
// that is the "apology" path (telephony/session, Config.Fallback and
// MaxFailures).
package fallback

import (
	"context"
	"errors"
	"fmt"
	"github.com/parole-voice/parole/internal/breaker"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/tts"
)

// Defaults of Config.
const (
	DefaultFailureThreshold = breaker.DefaultFailureThreshold
	DefaultCoolDown         = breaker.DefaultCoolDown
)

// Errors callers branch on.
var (
	// ErrConfig: an engine is missing or the Config is invalid.
	ErrConfig = errors.New("tts/fallback: invalid configuration")
	// ErrBothFailed: the primary and the secondary failed; the error
	// carries both failures.
	ErrBothFailed = errors.New("tts/fallback: primary and secondary failed")
)

// Config tunes the fallback.
type Config struct {
	// FailureThreshold is how many primary failures in a row open the
	// breaker (DefaultFailureThreshold).
	FailureThreshold int `yaml:"failure_threshold"`
	// CoolDown is how long the breaker stays open (DefaultCoolDown).
	CoolDown time.Duration `yaml:"cool_down"`
}

// Resumer is implemented by streams that know how far their text has been
// delivered (tts/voxygen): ResumeOffset is the byte offset in the
// request's text (or SSML) from which it has not been entirely delivered.
type Resumer interface {
	ResumeOffset() int
}

// Synthesizer falls back from Primary to Secondary.
type Synthesizer struct {
	primary, secondary tts.Synthesizer
	br                 *Breaker
	log                *slog.Logger
}

var _ tts.Synthesizer = (*Synthesizer)(nil)

// Option tunes New.
type Option func(*Synthesizer)

// WithLogger logs fallbacks to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Synthesizer) { s.log = l } }

// WithClock replaces time.Now for the breaker (tests).
func WithClock(now func() time.Time) Option { return func(s *Synthesizer) { s.br.SetClock(now) } }

// New returns a synthesizer trying primary, then secondary.
func New(primary, secondary tts.Synthesizer, cfg Config, opts ...Option) (*Synthesizer, error) {
	if primary == nil || secondary == nil {
		return nil, fmt.Errorf("%w: primary and secondary are required", ErrConfig)
	}
	br, err := NewBreaker(cfg.FailureThreshold, cfg.CoolDown)
	if err != nil {
		return nil, err
	}
	s := &Synthesizer{primary: primary, secondary: secondary, br: br, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Breaker returns the circuit breaker, for metrics and tests.
func (s *Synthesizer) Breaker() *Breaker { return s.br }

// requestError reports errors about the request, not the engine.
func requestError(err error) bool {
	return errors.Is(err, tts.ErrUnsupported) || errors.Is(err, tts.ErrBadSSML)
}

// Synthesize starts req on the primary, or on the secondary when the
// breaker is open or the primary fails to start.
func (s *Synthesizer) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if !s.br.Allow() {
		return s.secondary.Synthesize(ctx, req)
	}
	st, err := s.primary.Synthesize(ctx, req)
	if err == nil {
		return &stream{s: s, ctx: ctx, req: req, cur: st, onPrimary: true}, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	if !requestError(err) {
		s.br.Failure()
	}
	s.log.Warn("tts/fallback: primary failed to start; using the secondary", "err", err)
	st2, err2 := s.secondary.Synthesize(ctx, req)
	if err2 != nil {
		return nil, fmt.Errorf("%w: primary: %w; secondary: %w", ErrBothFailed, err, err2)
	}
	return st2, nil
}

type stream struct {
	s   *Synthesizer
	ctx context.Context
	req tts.Request

	mu        sync.Mutex
	cur       tts.Stream
	onPrimary bool
	closed    bool

	delivered bool          // the primary delivered audio
	played    time.Duration // audio delivered so far
	lastMark  int           // offset after the last mark delivered (-1: none)
	hasMark   bool
	shift     int           // offset of the secondary's text in the request
	at        time.Duration // time of the secondary's first sample
}

func (st *stream) Recv() (tts.Chunk, error) {
	for {
		st.mu.Lock()
		cur, primary, closed := st.cur, st.onPrimary, st.closed
		st.mu.Unlock()
		if closed {
			return tts.Chunk{}, fmt.Errorf("tts/fallback: %w", io.ErrClosedPipe)
		}
		c, err := cur.Recv()
		if err == nil {
			if primary {
				st.delivered = true
				for _, m := range c.Marks {
					st.lastMark, st.hasMark = m.Offset, true
				}
			} else if st.shift != 0 || st.at != 0 {
				marks := make([]tts.Mark, len(c.Marks))
				for i, m := range c.Marks {
					marks[i] = tts.Mark{Offset: m.Offset + st.shift, Len: m.Len, At: m.At + st.at}
				}
				c.Marks = marks
			}
			if c.Rate > 0 {
				st.played += time.Duration(len(c.Samples)) * time.Second / time.Duration(c.Rate)
			}
			return c, nil
		}
		if err == io.EOF {
			if primary {
				st.s.br.Success()
			}
			return tts.Chunk{}, io.EOF
		}
		if !primary || st.ctx.Err() != nil {
			return tts.Chunk{}, err
		}
		if err2 := st.switchOver(cur, err); err2 != nil {
			return tts.Chunk{}, err2
		}
	}
}

// switchOver replaces the failed primary stream by the secondary on the
// rest of the request.
func (st *stream) switchOver(cur tts.Stream, cause error) error {
	st.s.br.Failure()
	off := 0
	if r, ok := cur.(Resumer); ok {
		off = r.ResumeOffset()
	} else if st.delivered && st.hasMark {
		off = st.lastMark
	}
	rest := st.req
	whole := len(st.req.Text)
	if st.req.SSML != "" {
		off, whole = 0, len(st.req.SSML) // mark-up is resent whole
	} else {
		off = min(max(off, 0), whole)
		rest.Text = st.req.Text[off:]
	}
	cur.Close()
	if st.req.SSML == "" && strings.TrimSpace(rest.Text) == "" {
		st.s.log.Warn("tts/fallback: primary failed after the whole text", "err", cause)
		st.mu.Lock()
		st.cur, st.onPrimary = emptyStream{}, false
		st.mu.Unlock()
		return nil
	}
	st.s.log.Warn("tts/fallback: primary failed midway; the secondary says the rest", "err", cause,
		"offset", off, "of", whole, "delivered", st.played)
	sec, err := st.s.secondary.Synthesize(st.ctx, rest)
	if err != nil {
		return fmt.Errorf("%w: primary: %w; secondary: %w", ErrBothFailed, cause, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		sec.Close()
		return fmt.Errorf("tts/fallback: %w", io.ErrClosedPipe)
	}
	st.cur, st.onPrimary, st.shift, st.at = sec, false, off, st.played
	return nil
}

func (st *stream) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	cur := st.cur
	st.mu.Unlock()
	return cur.Close()
}

// emptyStream ends at once.
type emptyStream struct{}

func (emptyStream) Recv() (tts.Chunk, error) { return tts.Chunk{}, io.EOF }
func (emptyStream) Close() error             { return nil }

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

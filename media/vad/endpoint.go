package vad

import (
	"fmt"
	"time"

	"github.com/parole-voice/parole/media"
)

// DefaultSilence is the EndpointConfig.Silence used when it is zero.
const DefaultSilence = 700 * time.Millisecond

// EndpointConfig sets up an [Endpointer].
type EndpointConfig struct {
	// VAD configures the underlying [Detector].
	VAD Config
	// Silence is how long after the last speech frame the utterance ends.
	// It must be longer than VAD.Hangover, so that SpeechEnd always comes
	// first.
	Silence time.Duration
}

// Endpointer finds the end of a caller's utterance: it reports the
// [Detector]'s SpeechStart and SpeechEnd events and, once Silence has passed
// since the last speech frame, [EndOfUtterance]. Speech that resumes before
// then continues the same utterance.
//
// The no-input timeout is the caller's: after playing a prompt, call
// [Endpointer.NewTurn], and if [Endpointer.Heard] is still false when
// [Endpointer.Elapsed] passes the timeout, the caller said nothing. Counting
// in audio time rather than with a wall-clock timer keeps the decision
// exact when frames arrive in bursts.
type Endpointer struct {
	d         *Detector
	silence   time.Duration
	inUtt     bool
	heard     bool
	turnStart time.Duration
}

// NewEndpointer returns an endpointer for cfg.
func NewEndpointer(cfg EndpointConfig) (*Endpointer, error) {
	d, err := New(cfg.VAD)
	if err != nil {
		return nil, err
	}
	if cfg.Silence < 0 {
		return nil, fmt.Errorf("%w: negative Silence %v", ErrConfig, cfg.Silence)
	}
	if cfg.Silence == 0 {
		cfg.Silence = DefaultSilence
	}
	if cfg.Silence <= d.cfg.Hangover {
		return nil, fmt.Errorf("%w: Silence %v must be longer than Hangover %v", ErrConfig, cfg.Silence, d.cfg.Hangover)
	}
	return &Endpointer{d: d, silence: cfg.Silence}, nil
}

// Process analyses one frame, as [Detector.Process] does, and reports
// SpeechStart, SpeechEnd, EndOfUtterance or None.
func (e *Endpointer) Process(f *media.Frame) (Event, error) {
	ev, err := e.d.Process(f)
	if err != nil {
		return None, err
	}
	switch ev {
	case SpeechStart:
		e.inUtt, e.heard = true, true
		return ev, nil
	case SpeechEnd:
		return ev, nil
	}
	if e.inUtt && !e.d.Speaking() && e.d.Offset()-e.d.End().Offset >= e.silence {
		e.inUtt = false
		return EndOfUtterance, nil
	}
	return None, nil
}

// Detector returns the underlying detector, for its marks and levels.
func (e *Endpointer) Detector() *Detector { return e.d }

// InUtterance reports whether speech has started and its utterance has not
// ended yet.
func (e *Endpointer) InUtterance() bool { return e.inUtt }

// Heard reports whether speech started since NewTurn (or New, or Reset).
func (e *Endpointer) Heard() bool { return e.heard }

// Elapsed returns how much audio has been processed since NewTurn (or New,
// or Reset): the clock for a no-input timeout.
func (e *Endpointer) Elapsed() time.Duration { return e.d.Offset() - e.turnStart }

// NewTurn starts listening for a new utterance, typically when a prompt has
// finished playing. The noise floor is kept. If the caller is already
// speaking, that speech counts as heard and belongs to the new turn.
func (e *Endpointer) NewTurn() {
	e.turnStart = e.d.Offset()
	e.inUtt = e.d.Speaking()
	e.heard = e.inUtt
}

// Reset forgets everything, noise floor included, as if newly created.
func (e *Endpointer) Reset() {
	e.d.Reset()
	e.inUtt, e.heard, e.turnStart = false, false, 0
}

package session

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/media/vad"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/tts"
)

// Defaults used for the zero value of the matching Config field.
const (
	DefaultLanguage      = "en-US"
	DefaultNoInput       = 6 * time.Second
	DefaultEndSilence    = 800 * time.Millisecond
	DefaultMaxUtterance  = 15 * time.Second
	DefaultMinBargeIn    = 250 * time.Millisecond
	DefaultInterDigit    = 3 * time.Second
	DefaultMaxFailures   = 3
	DefaultFallback      = "Sorry, we have a technical problem."
	DefaultResultTimeout = 5 * time.Second
	DefaultMaxRecord     = 60 * time.Second
	DefaultRecordSilence = 3 * time.Second
	DefaultPreRoll       = time.Second
)

// Errors callers branch on.
var (
	// ErrConfig: the Config lacks something the session needs.
	ErrConfig = errors.New("session: invalid configuration")
	// ErrEngine wraps the failures of the recognizer, the synthesizer and
	// the dialog reported to the Observer.
	ErrEngine = errors.New("session: engine failure")
	// ErrRecordUnavailable: the dialog asked to record but Config.RecordDir
	// is not set.
	ErrRecordUnavailable = errors.New("session: recording not configured")
)

// Dialog answers the events of a call; [runner.Runner] implements it, so
// that conversations are stored with their transcripts.
type Dialog interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// Config sets up a session. Dialog, Recognizer and Synthesizer are
// required; zero fields take the matching Default value.
type Config struct {
	// Dialog answers the caller's events.
	Dialog Dialog
	// Recognizer transcribes the caller; one stream per turn.
	Recognizer stt.Recognizer
	// Synthesizer speaks the replies.
	Synthesizer tts.Synthesizer
	// Language is the BCP 47 tag of the call (the conversation's locale,
	// the synthesizer's language, the recognizer's unless a gather says
	// otherwise).
	Language string
	// Voice is the synthesizer voice; empty means the language's default.
	Voice string
	// VAD configures the voice activity detector (barge-in, end of
	// utterance, no-input). Rate is set from the call; calls at rates the
	// detector cannot take (other than 8 and 16 kHz) are resampled to
	// 16 kHz for it.
	VAD vad.Config
	// NoInput is the no-input timeout when the gather gives none, counted
	// from the end of the prompt.
	NoInput time.Duration
	// EndSilence is the pause that ends an utterance when the gather gives
	// none.
	EndSilence time.Duration
	// MaxUtterance bounds an utterance when the gather gives no
	// MaxDuration.
	MaxUtterance time.Duration
	// MinBargeIn is how long the caller must speak over a prompt, with no
	// word recognized, for a real interruption; shorter speech (a cough,
	// "uh-huh") resumes the prompt where it stopped.
	MinBargeIn time.Duration
	// InterDigit ends a DTMF digit string after this pause when the gather
	// gives no InterDigitTimeout.
	InterDigit time.Duration
	// MaxFailures is how many engine failures in a row the call survives;
	// at that many the fallback message is said and the call hung up.
	MaxFailures int
	// Fallback is said when an engine fails; a short tone is played when
	// the synthesizer cannot say it.
	Fallback string
	// PreRoll is how much of the caller's audio from before a recognizer
	// stream opens the stream is given when the caller is already speaking
	// as it opens (a prompt without barge-in that the caller talked over at
	// its end, or speech going on when a reprompt starts): the audio from
	// the voice detector's start of speech, at most PreRoll of it. Zero
	// means DefaultPreRoll; negative disables it.
	PreRoll time.Duration
	// ResultTimeout bounds the wall-clock wait for the recognizer's final
	// result once the caller stopped speaking.
	ResultTimeout time.Duration
	// RecordDir is where the Record action writes its WAV files; empty
	// disables recording (the dialog gets a no-match and the Observer an
	// error wrapping ErrRecordUnavailable).
	RecordDir string
	// MaxRecord and RecordSilence bound a recording when the dialog's
	// Record gives no MaxDuration or EndSilence.
	MaxRecord, RecordSilence time.Duration
	// AudioDir is the directory relative Audio URLs are read from; empty
	// means the working directory.
	AudioDir string
	// InbandDTMF detects DTMF keys in the caller's audio (for legs without
	// RFC 4733 telephone events).
	InbandDTMF bool
	// Lockstep plays one frame per frame received and waits for the
	// engines in between, so that engine time takes no call time. Legs
	// whose time is not the wall clock's (filecall) ask for it by having a
	// Lockstep() bool method that returns true; live legs leave it off.
	Lockstep bool
	// ChannelUserID is the caller's id for the dialog (defaults to the
	// call's From).
	ChannelUserID string
	// Logger logs the session at debug level (latency traces) and its
	// errors; nil means slog.Default().
	Logger *slog.Logger
	// Observer gets the live event stream of the call; nil means none.
	Observer Observer
	// Metrics gets per-stage durations and counts; nil means none.
	Metrics Metrics
}

// Observer receives the events of a call as they happen, from the
// session's goroutine: it must return quickly.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to the [Observer] interface.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Metrics is the hook for a metrics system (Prometheus histograms and
// counters): the session reports each stage's duration of every turn and
// counts what happens. Calls come from the session's goroutine.
type Metrics interface {
	// ObserveStage reports one turn's duration of a stage: "endpointing",
	// "stt", "dialog", "tts", "playout", "total" or "overhead" (see
	// [Trace]).
	ObserveStage(stage string, d time.Duration)
	// Count counts one occurrence of what: "turn", "barge_in",
	// "false_barge_in", "no_input", "no_match", "dtmf", "error_stt",
	// "error_tts", "error_dialog", "error_record", "error_audio",
	// "error_call", "call".
	Count(what string)
}

// EventKind names an Observer event.
type EventKind string

// Observer event kinds.
const (
	// CallStarted: the session began.
	CallStarted EventKind = "call_started"
	// Listening: a prompt ended and the session waits for the caller
	// (Event.Turn is the turn waited for).
	Listening EventKind = "listening"
	// Interim: a partial transcript (Event.Text).
	Interim EventKind = "interim"
	// Final: the final transcript of the caller's utterance (Event.Text,
	// Event.Confidence); Event.Rejected when the recognizer rejected it.
	Final EventKind = "final"
	// Digits: DTMF keys collected (Event.Text).
	Digits EventKind = "dtmf"
	// NoInput: the caller said nothing before the timeout.
	NoInput EventKind = "no_input"
	// NoMatch: the caller's input could not be used.
	NoMatch EventKind = "no_match"
	// Reply: the dialog's answer (Event.Text, Event.Reply).
	Reply EventKind = "reply"
	// BargeIn: the caller interrupted a prompt; Event.Heard is what they
	// heard of it, Event.Cut what they did not.
	BargeIn EventKind = "barge_in"
	// FalseBargeIn: speech over a prompt was too short to be an
	// interruption; the prompt resumed.
	FalseBargeIn EventKind = "false_barge_in"
	// Latency: a turn's latency trace (Event.Trace).
	Latency EventKind = "latency"
	// Recorded: a recording was written (Event.Text is its file:// URL).
	Recorded EventKind = "recorded"
	// Error: an engine or the call failed (Event.Err, Event.Engine); the
	// session says the fallback and goes on, or hangs up.
	Error EventKind = "error"
	// CallEnded: the session is over (Event.Reason, Event.Summary).
	CallEnded EventKind = "call_ended"
)

// Event is one thing that happened in a call, for the live view and logs.
type Event struct {
	Kind EventKind
	// At is the call time, counted in received audio.
	At time.Duration
	// Turn counts the dialog events sent, from 0 for the start.
	Turn int
	// Text is the transcript, the digits, the reply text or the URL.
	Text string
	// Confidence of a final transcript.
	Confidence float64
	// Rejected marks a final transcript the recognizer rejected.
	Rejected bool
	// Heard and Cut split the interrupted prompt's text (BargeIn).
	Heard, Cut string
	// Reply is the dialog's reply (Reply).
	Reply *dialog.Reply
	// Trace is the turn's latency trace (Latency).
	Trace *Trace
	// Engine is "stt", "tts", "dialog", "record", "call" or "audio" (an
	// audio file that could not be played, its text said instead; the call
	// goes on without the fallback) (Error).
	Engine string
	// Err is the failure (Error).
	Err error
	// Reason says why the call ended (CallEnded): "caller hung up",
	// "bot hung up", "transferred", "too many failures" or the context's
	// error.
	Reason string
	// Summary aggregates the latency traces of the call (CallEnded).
	Summary *Summary
}

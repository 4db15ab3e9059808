// Package stt is the speech-to-text contract every recognizer adapter
// implements: a [Recognizer] opens a streaming [Stream] that takes audio
// frames and yields interim and final [Result]s.
//
// Engines live in sub-packages: stt/sphinx (embedded default, pocketsphinx)
// and, later, the cloud adapters. The voice session picks the engine and
// fills [Config] from the dialog's gather action: language, phrase hints,
// grammar, endpointing.
package stt

import (
	"context"
	"errors"
	"time"

	"github.com/parole-voice/parole/media"
)

// Errors callers branch on; engines wrap them with %w.
var (
	// ErrUnsupported: the engine cannot do what the Config asks (a language
	// without a model, a sample rate it cannot take).
	ErrUnsupported = errors.New("stt: unsupported configuration")
	// ErrClosed: the stream was closed or its audio already ended.
	ErrClosed = errors.New("stt: stream closed")
)

// Recognizer opens recognition streams. Implementations are safe for
// concurrent use: one stream per call leg.
type Recognizer interface {
	// Stream starts recognizing audio written to the returned stream. The
	// stream ends when ctx is done, after CloseSend once every result is
	// delivered, or on Close.
	Stream(ctx context.Context, cfg Config) (Stream, error)
}

// Stream is one recognition session.
//
// Write and CloseSend are called by one goroutine (the audio side), Recv by
// another (the results side), like a bidirectional gRPC stream.
type Stream interface {
	// Write sends one frame of audio at Config.SampleRate. The frame may be
	// reused by the caller as soon as Write returns.
	Write(f *media.Frame) error
	// CloseSend says no more audio will come: the engine finishes the
	// utterance in progress and delivers its final result.
	CloseSend() error
	// Recv returns the next result, io.EOF after the last one, or the
	// error that ended the stream.
	Recv() (Result, error)
	// Close ends the stream at once and frees the engine's resources. It
	// is safe to call more than once and after the stream ended.
	Close() error
}

// Config says what to recognize.
type Config struct {
	// Language is the BCP 47 tag of the speech, e.g. "en-US".
	Language string
	// SampleRate of the frames written, in Hz.
	SampleRate int
	// Hints are words and phrases the caller is likely to say, for the
	// engine's phrase boosting or keyword spotting.
	Hints []string
	// Grammar, when set, lists every phrase accepted; engines that support
	// grammars restrict recognition to it and report anything else as a
	// rejected result (Result.Rejected).
	Grammar *Grammar
	// InterimResults asks for partial hypotheses while the caller speaks.
	InterimResults bool
	// SingleUtterance ends the stream after the first final result.
	SingleUtterance bool
	// EndSilence is the pause that ends an utterance (engines with their
	// own endpointing); zero means the engine's default.
	EndSilence time.Duration
	// MaxAlternatives bounds Result.Alternatives; zero means one.
	MaxAlternatives int
}

// Grammar is a list of accepted phrases, each standing for a value (an
// intent name, a slot value).
type Grammar struct {
	Rules []Rule
}

// Rule is one accepted phrase and the value it stands for.
type Rule struct {
	Phrase string
	Value  string
}

// Result is one hypothesis of what was said.
type Result struct {
	// Text is what the engine heard.
	Text string
	// Final is false for interim hypotheses, which later results replace.
	Final bool
	// Rejected marks a final result the engine does not believe, or speech
	// outside the grammar: the dialog gets a no-match. Text may still hold
	// the engine's best guess.
	Rejected bool
	// Value is the grammar value of the matched phrase, when a grammar was
	// used.
	Value string
	// Confidence is from 0 to 1; engines without a measure say 0.
	Confidence float64
	// Alternatives are other hypotheses, best first.
	Alternatives []Alternative
	// Start and End place the utterance in the stream's audio, from its
	// first frame.
	Start, End time.Duration
	// Words carries word timings when the engine gives them.
	Words []Word
}

// Alternative is one other hypothesis.
type Alternative struct {
	Text       string
	Confidence float64
}

// Word is one recognized word and its place in the audio.
type Word struct {
	Text       string
	Start, End time.Duration
	Confidence float64
}

// Package tts is the text-to-speech contract every synthesizer adapter
// implements: a [Synthesizer] turns a [Request] (text or SSML, voice,
// language, sample rate) into a [Stream] of PCM chunks, delivered as soon as
// the engine has them so the first audio leaves before the whole sentence
// is synthesized.
//
// Engines live in sub-packages: tts/espeak (embedded default, espeak-ng)
// and, later, the cloud adapters. tts/cache puts a prompt cache in front of
// any of them.
package tts

import (
	"context"
	"errors"
	"time"
)

// Errors callers branch on; engines wrap them with %w.
var (
	// ErrUnsupported: the engine cannot do what the Request asks (unknown
	// voice or language, sample rate it cannot produce).
	ErrUnsupported = errors.New("tts: unsupported request")
	// ErrBadSSML: the SSML document is malformed.
	ErrBadSSML = errors.New("tts: malformed SSML")
)

// Synthesizer turns text into speech. Implementations are safe for
// concurrent use.
type Synthesizer interface {
	// Synthesize starts synthesizing req. Audio is read from the returned
	// stream; cancelling ctx or closing the stream stops the engine.
	Synthesize(ctx context.Context, req Request) (Stream, error)
}

// Request is what to say and how.
type Request struct {
	// Text is the plain text to say; ignored when SSML is set.
	Text string
	// SSML is an SSML document (<speak>…</speak>) or fragment.
	SSML string
	// Voice names an engine voice; empty means the language's default.
	Voice string
	// Language is the BCP 47 tag, e.g. "fr-FR".
	Language string
	// SampleRate of the audio wanted, in Hz.
	SampleRate int
	// Rate is the speaking rate, 1 for normal; zero means 1.
	Rate float64
}

// Stream yields the synthesized audio in order.
type Stream interface {
	// Recv returns the next chunk of audio, io.EOF after the last, or the
	// error that stopped synthesis.
	Recv() (Chunk, error)
	// Close stops synthesis and frees the engine's resources. It is safe
	// to call more than once and after the stream ended.
	Close() error
}

// Chunk is a piece of synthesized audio.
type Chunk struct {
	// Samples is mono 16-bit PCM at Rate. The slice belongs to the caller.
	Samples []int16
	// Rate is the sample rate in Hz.
	Rate int
	// Marks place words of the request in the audio, for engines that
	// give them: barge-in uses them to tell what the caller heard.
	Marks []Mark
}

// Mark says that the word at Text[Offset:Offset+Len] (of the request's text,
// or of the SSML document) starts at At in the stream's audio.
type Mark struct {
	Offset, Len int
	At          time.Duration
}

// Package espeak is parole's embedded text-to-speech engine: espeak-ng
// (libespeak-ng, through cgo) behind the [tts.Synthesizer] contract.
//
// # Audio
//
// espeak-ng synthesizes at 22050 Hz. Each stream resamples to the request's
// SampleRate with media/resample (any rate that package accepts; 22050 Hz
// passes through) and compensates the resampler's delay, so audio and marks
// share one time line that starts at the stream's first sample. The library
// hands over audio in buffers of 100 ms as it synthesizes, clause by clause;
// every buffer becomes one [tts.Chunk] at once, so the first chunk leaves as
// soon as the first clause has audio, long before the end of the prompt
// (BenchmarkFirstChunk measures both).
//
// # Concurrency
//
// libespeak-ng keeps global state and is not thread-safe. The package owns
// one process-wide engine: a one-slot semaphore serializes every call into
// the library. Each stream runs one goroutine that waits for the engine
// (cancellable by ctx or Close), synthesizes its whole request, releases the
// engine and exits. The library's callback runs on that goroutine; it
// resamples the buffer and appends the chunk to the stream's queue, which
// is unbounded (a prompt is seconds of audio), so a slow reader never holds
// the engine. Synthesize is safe for concurrent use; requests are served one
// after another, so throughput is one core's (see BenchmarkSynthesize8k).
// Cancelling ctx or calling Close aborts at the next buffer (the callback
// tells the library to stop) and Close waits until the goroutine has
// returned.
//
// # Voices and rate
//
// Language picks the espeak-ng voice of that BCP 47 tag ("en-US" →
// English_(America), "en-GB" → English_(Great_Britain), "fr-FR" →
// French_(France)), falling back to the primary language ("fr-CA" → fr);
// empty means en-US. Voice, when set, names an espeak-ng voice by name or
// identifier ("English_(America)", "gmw/en-US") and overrides Language.
// MBROLA voices are not offered (they need the mbrola program). Rate
// multiplies the 175 words per minute of espeak-ng, clamped to its 80…450
// range.
//
// # Text, SSML and marks
//
// Plain Text is spoken as written. Empty or blank text with no SSML is an
// error ([ErrEmpty]); an SSML document with no words (only a break) is
// valid and yields its silence.
//
// SSML is validated with encoding/xml (malformed XML, a root other than one
// <speak>, DTDs and out-of-range values give [tts.ErrBadSSML]) and rewritten
// into the SSML espeak-ng renders well. A fragment without <speak> is
// accepted. The subset:
//
//   - <speak>, <s>, <p>: passed through (sentence and paragraph pauses);
//   - <break time="300ms"|"1.5s"/> (0…10 s) and strength="none|x-weak|weak|
//     medium|strong|x-strong" (0, 100, 200, 400, 700, 1000 ms): the
//     library's own pause, accurate to a few milliseconds (TestBreak);
//   - <say-as interpret-as="digits"> (also "number:digits"): every digit
//     read as a word; "telephone": the same, with a short pause at each
//     separator (space - . ( ) /) and "+" read as plus; "characters" (also
//     "spell-out", "letters"): spelled by the library; other interpret-as
//     values are read as written;
//   - <prosody rate="x-slow|slow|medium|fast|x-fast|N%|+N%|-N%|factor">:
//     the rate (20 %…400 %); other prosody attributes are ignored;
//   - <sub alias="…">: the alias is read instead of the content;
//   - any other element (emphasis, voice, lang, mark, audio, phoneme, …) is
//     dropped and its content read.
//
// Marks come from the library's word events. For plain text their Offset
// and Len are byte offsets into Request.Text; for SSML they are byte offsets
// into Request.SSML, the document as given (a word written with an entity,
// &amp;, covers the entity; a <sub> alias gets one mark covering the <sub>
// start tag; each digit of a say-as digits is its own mark; a word ends at
// a tag, so "<emphasis>now</emphasis>." marks "now"). A number the library
// expands to several words gets one mark. At is the word's start in the
// stream's audio.
package espeak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/tts"
)

// Errors of this package; the contract's errors are tts.ErrUnsupported and
// tts.ErrBadSSML.
var (
	// ErrEmpty: the request has neither text nor SSML to say.
	ErrEmpty = errors.New("espeak: nothing to say")
	// ErrClosed: Recv on a stream that Close stopped.
	ErrClosed = errors.New("espeak: stream closed")
)

// NativeRate is the sample rate espeak-ng synthesizes at, in Hz.
const NativeRate = 22050

// normalWPM is espeak-ng's default speaking rate, for Rate 1.
const normalWPM = 175

// Options configure a [Synthesizer].
type Options struct {
	// Quality of the resampling from 22050 Hz; the zero value is
	// resample.Medium.
	Quality resample.Quality
}

// Synthesizer speaks with espeak-ng. It is safe for concurrent use; all
// Synthesizers share the process-wide engine.
type Synthesizer struct {
	q resample.Quality
}

// New loads espeak-ng (once per process) and returns a Synthesizer.
func New(opts Options) (*Synthesizer, error) {
	if err := initEngine(); err != nil {
		return nil, err
	}
	if _, err := resample.New(NativeRate, 8000, opts.Quality); err != nil {
		return nil, fmt.Errorf("espeak: %w", err)
	}
	if engineRate != NativeRate {
		return nil, fmt.Errorf("espeak: library synthesizes at %d Hz, want %d", engineRate, NativeRate)
	}
	return &Synthesizer{q: opts.Quality}, nil
}

// Voice describes an installed espeak-ng voice.
type Voice struct {
	// Name is the voice's name, e.g. "English_(America)".
	Name string
	// ID is its identifier, e.g. "gmw/en-US".
	ID string
	// Languages are the lower-case tags it speaks, most specific first.
	Languages []string
}

// Voices lists the voices a Request may name (MBROLA voices excluded).
func (s *Synthesizer) Voices() []Voice {
	var out []Voice
	for _, v := range voices {
		if strings.HasPrefix(v.ident, "mb/") {
			continue
		}
		out = append(out, Voice{Name: v.name, ID: v.ident, Languages: append([]string(nil), v.langs...)})
	}
	return out
}

// resolveVoice returns the espeak-ng voice name for req.
func resolveVoice(req tts.Request) (string, error) {
	if req.Voice != "" {
		base, variant, hasVariant := strings.Cut(req.Voice, "+")
		for _, v := range voices {
			if strings.HasPrefix(v.ident, "mb/") {
				continue
			}
			if strings.EqualFold(strings.ReplaceAll(base, "_", " "), v.name) || strings.EqualFold(base, v.ident) {
				if hasVariant {
					return v.name + "+" + variant, nil
				}
				return v.name, nil
			}
		}
		return "", fmt.Errorf("%w: espeak: unknown voice %q", tts.ErrUnsupported, req.Voice)
	}
	lang := strings.ToLower(strings.ReplaceAll(req.Language, "_", "-"))
	if lang == "" {
		lang = "en-us"
	}
	primary, _, _ := strings.Cut(lang, "-")
	for _, want := range []string{lang, primary} {
		best, bestPrio := "", math.MaxInt
		for _, v := range voices {
			if strings.HasPrefix(v.ident, "mb/") || strings.Contains(v.ident, "variant") {
				continue
			}
			for i, l := range v.langs {
				if l == want && i < bestPrio { // the voice's own language first
					best, bestPrio = v.name, i
				}
			}
		}
		if best != "" {
			return best, nil
		}
	}
	return "", fmt.Errorf("%w: espeak: no voice for language %q", tts.ErrUnsupported, req.Language)
}

// wpm converts a Request rate into words per minute.
func wpm(rate float64) (int, error) {
	if rate == 0 {
		rate = 1
	}
	if math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0 {
		return 0, fmt.Errorf("%w: espeak: rate %v", tts.ErrUnsupported, rate)
	}
	return int(math.Round(min(max(normalWPM*rate, 80), 450))), nil
}

// Synthesize starts synthesizing req; see the package documentation for
// the voices, the SSML subset and the marks.
func (s *Synthesizer) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	var sc *script
	switch {
	case req.SSML != "":
		var err error
		if sc, err = ssmlScript(req.SSML); err != nil {
			return nil, err
		}
	case strings.TrimSpace(req.Text) == "":
		return nil, ErrEmpty
	default:
		sc = plainScript(req.Text)
	}
	voice, err := resolveVoice(req)
	if err != nil {
		return nil, err
	}
	w, err := wpm(req.Rate)
	if err != nil {
		return nil, err
	}
	st := &stream{
		ctx:      ctx,
		sc:       sc,
		voice:    voice,
		wpm:      w,
		rate:     req.SampleRate,
		notify:   make(chan struct{}, 1),
		quit:     make(chan struct{}),
		finished: make(chan struct{}),
		lastOff:  -1,
	}
	if req.SampleRate != NativeRate {
		rs, err := resample.New(NativeRate, req.SampleRate, s.q)
		if err != nil {
			return nil, fmt.Errorf("%w: espeak: sample rate %d: %w", tts.ErrUnsupported, req.SampleRate, err)
		}
		st.rs, st.skip = rs, rs.Delay()
	}
	go st.run()
	return st, nil
}

// stream is one synthesis: a worker goroutine fills queue, Recv drains it.
type stream struct {
	ctx      context.Context
	sc       *script
	voice    string
	wpm      int
	rate     int
	notify   chan struct{} // a chunk or the end was queued
	quit     chan struct{} // closed by Close
	quitOnce sync.Once
	finished chan struct{} // closed when the worker returned
	stopped  atomic.Bool   // the worker saw ctx or quit

	mu    sync.Mutex
	queue []tts.Chunk
	head  int
	done  bool
	err   error

	// worker only
	rs      *resample.Resampler
	skip    int // resampler delay still to drop
	lastOff int
}

func (st *stream) run() {
	defer close(st.finished)
	select {
	case engine <- struct{}{}:
	case <-st.ctx.Done():
		st.finish(st.ctx.Err())
		return
	case <-st.quit:
		st.finish(ErrClosed)
		return
	}
	err := synthLocked(st.sc.text, st.sc.ssml, st.voice, st.wpm, st)
	<-engine
	if st.stopped.Load() {
		if err = st.ctx.Err(); err == nil {
			err = ErrClosed
		}
	}
	if err == nil && st.rs != nil {
		if tail := st.rs.Flush(nil); len(tail) > st.skip {
			st.push(tts.Chunk{Samples: tail[st.skip:], Rate: st.rate})
		}
	}
	st.finish(err)
}

// audio is the library callback for this stream (see sink).
func (st *stream) audio(pcm []int16, words []event) bool {
	select {
	case <-st.quit:
		st.stopped.Store(true)
		return false
	default:
	}
	if st.ctx.Err() != nil {
		st.stopped.Store(true)
		return false
	}
	var marks []tts.Mark
	for _, w := range words {
		if w.pos <= 0 {
			continue
		}
		off, n, ok := st.sc.mark(w.pos)
		if !ok || off == st.lastOff {
			continue
		}
		st.lastOff = off
		marks = append(marks, tts.Mark{Offset: off, Len: n, At: time.Duration(w.ms) * time.Millisecond})
	}
	var out []int16
	if st.rs == nil {
		out = append([]int16(nil), pcm...)
	} else if len(pcm) > 0 {
		out = st.rs.Process(make([]int16, 0, resample.OutputLen(NativeRate, st.rate, len(pcm))), pcm)
		d := min(st.skip, len(out))
		out, st.skip = out[d:], st.skip-d
	}
	if len(out) > 0 || len(marks) > 0 {
		st.push(tts.Chunk{Samples: out, Rate: st.rate, Marks: marks})
	}
	return true
}

func (st *stream) push(c tts.Chunk) {
	st.mu.Lock()
	st.queue = append(st.queue, c)
	st.mu.Unlock()
	st.signal()
}

func (st *stream) signal() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

func (st *stream) finish(err error) {
	if err == nil {
		err = io.EOF
	}
	st.mu.Lock()
	st.done, st.err = true, err
	st.mu.Unlock()
	st.signal()
}

// Recv returns the next chunk, io.EOF after the last, ctx's error once ctx
// is cancelled, ErrClosed after Close, or the library's error.
func (st *stream) Recv() (tts.Chunk, error) {
	for {
		select {
		case <-st.quit:
			return tts.Chunk{}, ErrClosed
		default:
		}
		if err := st.ctx.Err(); err != nil {
			return tts.Chunk{}, err
		}
		st.mu.Lock()
		if st.head < len(st.queue) {
			c := st.queue[st.head]
			st.queue[st.head] = tts.Chunk{}
			st.head++
			st.mu.Unlock()
			return c, nil
		}
		if st.done {
			err := st.err
			st.mu.Unlock()
			return tts.Chunk{}, err
		}
		st.mu.Unlock()
		select {
		case <-st.notify:
		case <-st.ctx.Done():
		case <-st.quit:
			return tts.Chunk{}, ErrClosed
		}
	}
}

// Close stops the synthesis, drops the chunks not yet received and waits for the stream's goroutine to
// return. It is safe to call more than once.
func (st *stream) Close() error {
	st.quitOnce.Do(func() { close(st.quit) })
	<-st.finished
	return nil
}

package session_test

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/tts"
)

// wordDur is how long the fake synthesizer says each word.
const wordDur = 200 * time.Millisecond

// fakeTTS says every word of a request as wordDur of a square-ish wave that
// is never zero, with a mark per word, so that the output of a call tells
// exactly how much of a prompt was played.
type fakeTTS struct {
	mu       sync.Mutex
	requests []tts.Request
	samples  int // total samples produced
	// fail, when set, decides whether a request fails to start.
	fail func(req tts.Request) error
	// breakAfter > 0 makes the streams of texts containing breakWord fail
	// after that many chunks.
	breakAfter int
	breakWord  string
}

func (f *fakeTTS) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(req); err != nil {
			return nil, err
		}
	}
	src := req.Text
	if req.SSML != "" {
		src = req.SSML
	}
	words := wordSpans(src)
	if len(words) == 0 {
		return nil, errors.New("fake tts: nothing to say")
	}
	n := int(wordDur) * req.SampleRate / int(time.Second)
	st := &fakeTTSStream{}
	if f.breakAfter > 0 && strings.Contains(src, f.breakWord) {
		st.failAt = f.breakAfter
	}
	for i, w := range words {
		s := make([]int16, n)
		for j := range s {
			v := int16(3000)
			if (j/8)%2 == 1 {
				v = -3000
			}
			s[j] = v
		}
		st.chunks = append(st.chunks, tts.Chunk{Samples: s, Rate: req.SampleRate,
			Marks: []tts.Mark{{Offset: w[0], Len: w[1] - w[0], At: time.Duration(i) * wordDur}}})
	}
	f.mu.Lock()
	f.samples += n * len(words)
	f.mu.Unlock()
	return st, nil
}

func (f *fakeTTS) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if r.SSML != "" {
			out = append(out, r.SSML)
		} else {
			out = append(out, r.Text)
		}
	}
	return out
}

// wordSpans returns the [start, end) byte spans of the words of s outside
// tags.
func wordSpans(s string) [][2]int {
	var out [][2]int
	in, start := false, -1
	for i := 0; i <= len(s); i++ {
		var c byte = ' '
		if i < len(s) {
			c = s[i]
		}
		word := !in && c != ' ' && c != '<' && c != '\n' && c != '\t'
		if word && start < 0 {
			start = i
		}
		if !word && start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
		if c == '<' {
			in = true
		} else if c == '>' {
			in = false
		}
	}
	return out
}

type fakeTTSStream struct {
	mu     sync.Mutex
	chunks []tts.Chunk
	closed bool
	failAt int
	n      int
}

func (s *fakeTTSStream) Recv() (tts.Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return tts.Chunk{}, errors.New("fake tts: closed")
	}
	if len(s.chunks) == 0 {
		return tts.Chunk{}, io.EOF
	}
	if s.n++; s.failAt > 0 && s.n > s.failAt {
		return tts.Chunk{}, errors.New("fake tts: engine crashed")
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *fakeTTSStream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// fakeSTT answers each utterance with the next scripted result, given at
// CloseSend (the session's end of utterance) or, with interimAfter, as an
// interim result once that many loud frames were written.
type fakeSTT struct {
	mu      sync.Mutex
	script  []stt.Result
	configs []stt.Config
	// interimAfter > 0 sends the next script text as an interim result
	// after that many loud frames.
	interimAfter int
	// openErr fails Stream.
	openErr error
	// always answers when the script is used up.
	always string
	// writeErrAfter > 0 fails Write after that many frames.
	writeErrAfter int
	// streams are the streams opened, in order.
	streams []*fakeSTTStream
}

func (f *fakeSTT) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configs = append(f.configs, cfg)
	if f.openErr != nil {
		return nil, f.openErr
	}
	st := &fakeSTTStream{f: f, ctx: ctx, out: make(chan stt.Result, 8), done: make(chan struct{})}
	f.streams = append(f.streams, st)
	return st, nil
}

func (f *fakeSTT) next() (stt.Result, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		if f.always != "" {
			return stt.Result{Text: f.always, Confidence: 1}, true
		}
		return stt.Result{}, false
	}
	r := f.script[0]
	f.script = f.script[1:]
	return r, true
}

func (f *fakeSTT) peek() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		return ""
	}
	return f.script[0].Text
}

type fakeSTTStream struct {
	f       *fakeSTT
	ctx     context.Context
	out     chan stt.Result
	loud    int
	interim bool
	once    sync.Once
	done    chan struct{}
	sent    bool
	frames  int
	// loudTotal counts the loud frames written (read once the call ended)
	loudTotal int
}

func (s *fakeSTTStream) Write(fr *media.Frame) error {
	if s.sent {
		return stt.ErrClosed
	}
	s.frames++
	if n := s.f.writeErrAfter; n > 0 && s.frames > n {
		return errors.New("fake stt: connection reset")
	}
	var e float64
	for _, v := range fr.Samples {
		e += float64(v) * float64(v)
	}
	if math.Sqrt(e/float64(len(fr.Samples))) > 300 {
		s.loud++
		s.loudTotal++
	} else {
		s.loud = 0
	}
	if n := s.f.interimAfter; n > 0 && s.loud >= n && !s.interim {
		s.interim = true
		if t := s.f.peek(); t != "" {
			s.out <- stt.Result{Text: t}
		}
	}
	return nil
}

func (s *fakeSTTStream) CloseSend() error {
	s.sent = true
	if r, ok := s.f.next(); ok {
		r.Final = true
		s.out <- r
	}
	close(s.out)
	return nil
}

func (s *fakeSTTStream) Recv() (stt.Result, error) {
	select {
	case r, ok := <-s.out:
		if !ok {
			return stt.Result{}, io.EOF
		}
		return r, nil
	case <-s.done:
		return stt.Result{}, stt.ErrClosed
	case <-s.ctx.Done():
		return stt.Result{}, s.ctx.Err()
	}
}

func (s *fakeSTTStream) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

// recorder collects the Observer's events.
type recorder struct {
	mu     sync.Mutex
	events []session.Event
}

func (r *recorder) Observe(e session.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds(k session.EventKind) []session.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []session.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) replies() []string {
	var out []string
	for _, e := range r.kinds(session.Reply) {
		out = append(out, e.Text)
	}
	return out
}

// demoRunner runs the demo flow over a memory store.
func demoRunner(t testing.TB) (*runner.Runner, store.Store) {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	return runner.New(eng, st), st
}

// Audio builders at 8 kHz.

func silence(d time.Duration) []int16 { return make([]int16, int(d)*8000/int(time.Second)) }

// speech is a voiced, noisy signal the VAD takes for speech.
func speech(d time.Duration, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	n := int(d) * 8000 / int(time.Second)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 8000
		env := 0.6 + 0.4*math.Sin(2*math.Pi*4*t)
		v := 4000*math.Sin(2*math.Pi*220*t) + 2500*math.Sin(2*math.Pi*660*t) + 1500*math.Sin(2*math.Pi*1400*t) + 800*r.NormFloat64()
		out[i] = int16(env * v)
	}
	return out
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func joined(s []string) string { return strings.Join(s, " | ") }

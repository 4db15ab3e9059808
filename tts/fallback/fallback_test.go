package fallback

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errDown = errors.New("engine down")

// fakeSynth says each word of the text as one 20 ms chunk whose samples
// all hold id, with a mark for the word.
type fakeSynth struct {
	id        int16
	failStart error
	failAfter int  // chunks before a mid-stream failure (0: none)
	resumer   bool // streams implement Resumer (at word granularity)
	noMarks   bool
	mu        sync.Mutex
	reqs      []tts.Request
}

func (f *fakeSynth) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.failStart != nil {
		return nil, f.failStart
	}
	text := req.Text
	if req.SSML != "" {
		text = req.SSML
	}
	st := &fakeStream{f: f, text: text, rate: req.SampleRate}
	if f.resumer {
		return &resumerStream{st}, nil
	}
	return st, nil
}

func (f *fakeSynth) requests() []tts.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tts.Request(nil), f.reqs...)
}

type fakeStream struct {
	f      *fakeSynth
	text   string
	rate   int
	pos, n int
	resume int
}

func (s *fakeStream) Recv() (tts.Chunk, error) {
	if s.f.failAfter > 0 && s.n == s.f.failAfter {
		return tts.Chunk{}, errDown
	}
	for s.pos < len(s.text) && s.text[s.pos] == ' ' {
		s.pos++
	}
	if s.pos >= len(s.text) {
		s.resume = len(s.text)
		return tts.Chunk{}, io.EOF
	}
	end := strings.IndexByte(s.text[s.pos:], ' ')
	if end < 0 {
		end = len(s.text)
	} else {
		end += s.pos
	}
	c := tts.Chunk{Samples: make([]int16, s.rate/50), Rate: s.rate}
	for i := range c.Samples {
		c.Samples[i] = s.f.id
	}
	if !s.f.noMarks {
		c.Marks = []tts.Mark{{Offset: s.pos, Len: end - s.pos, At: time.Duration(s.n) * 20 * time.Millisecond}}
	}
	s.resume = s.pos // the word being played is not delivered until the next
	s.pos = end
	s.n++
	return c, nil
}

func (s *fakeStream) Close() error { return nil }

type resumerStream struct{ *fakeStream }

func (s *resumerStream) ResumeOffset() int { return s.resume }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func collect(t *testing.T, st tts.Stream) (ids []int16, marks []tts.Mark) {
	t.Helper()
	for {
		c, err := st.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.Samples[0])
		marks = append(marks, c.Marks...)
	}
}

const text = "one two three four five"

func TestStartFailureAndBreaker(t *testing.T) {
	p, s := &fakeSynth{id: 1, failStart: errDown}, &fakeSynth{id: 2}
	clk := &clock{t: time.Unix(1000, 0)}
	fb, err := New(p, s, Config{FailureThreshold: 2, CoolDown: time.Minute}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	req := tts.Request{Text: text, SampleRate: 8000}
	for i := range 4 {
		st, err := fb.Synthesize(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := collect(t, st)
		st.Close()
		if len(ids) != 5 || ids[0] != 2 {
			t.Fatalf("request %d: chunks from %v", i, ids)
		}
	}
	if n := len(p.requests()); n != 2 {
		t.Errorf("primary tried %d times, want 2 (then the breaker opened)", n)
	}
	if !fb.Breaker().Open() {
		t.Error("breaker closed after 2 failures")
	}
	clk.t = clk.t.Add(61 * time.Second)
	p.failStart = nil
	st, err := fb.Synthesize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := collect(t, st); ids[0] != 1 {
		t.Errorf("after the cool-down: chunks from %v, want the primary", ids)
	}
	st.Close()
	if fb.Breaker().Open() || len(p.requests()) != 3 {
		t.Errorf("breaker open %v, primary requests %d", fb.Breaker().Open(), len(p.requests()))
	}
}

func TestMidStreamResumer(t *testing.T) {
	p, s := &fakeSynth{id: 1, failAfter: 2, resumer: true}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{})
	st, err := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids, marks := collect(t, st)
	// The primary delivered "one" and was playing "two": the secondary
	// says from "two".
	if got := s.requests(); len(got) != 1 || got[0].Text != "two three four five" {
		t.Fatalf("secondary asked %+v", got)
	}
	if want := []int16{1, 1, 2, 2, 2, 2}; !equal(ids, want) {
		t.Errorf("chunks from %v, want %v", ids, want)
	}
	// Marks point into the original text and follow the audio delivered.
	last := marks[len(marks)-1]
	if text[last.Offset:last.Offset+last.Len] != "five" || last.At != 100*time.Millisecond {
		t.Errorf("last mark %+v", last)
	}
}

func TestMidStreamMarks(t *testing.T) {
	p, s := &fakeSynth{id: 1, failAfter: 3}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{})
	st, _ := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	defer st.Close()
	collect(t, st)
	if got := s.requests(); got[0].Text != "three four five" {
		t.Errorf("secondary asked %q, want from the last word marked", got[0].Text)
	}
}

func TestMidStreamUnknownProgress(t *testing.T) {
	p, s := &fakeSynth{id: 1, failAfter: 3, noMarks: true}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{})
	st, _ := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	defer st.Close()
	ids, _ := collect(t, st)
	if got := s.requests(); got[0].Text != text {
		t.Errorf("secondary asked %q, want the whole request", got[0].Text)
	}
	if len(ids) != 3+5 {
		t.Errorf("%d chunks", len(ids))
	}
}

func TestRequestErrorsDoNotTrip(t *testing.T) {
	p, s := &fakeSynth{id: 1, failStart: tts.ErrUnsupported}, &fakeSynth{id: 2}
	fb, _ := New(p, s, Config{FailureThreshold: 1})
	st, err := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if fb.Breaker().Open() {
		t.Error("an unsupported request opened the breaker")
	}
}

func TestBothFail(t *testing.T) {
	p, s := &fakeSynth{id: 1, failStart: errDown}, &fakeSynth{id: 2, failStart: io.ErrUnexpectedEOF}
	fb, _ := New(p, s, Config{})
	_, err := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	if !errors.Is(err, ErrBothFailed) || !errors.Is(err, errDown) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v", err)
	}
	p.failStart, p.failAfter = nil, 1
	st, err := fb.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Recv()
	if _, err := st.Recv(); !errors.Is(err, ErrBothFailed) {
		t.Errorf("mid-stream: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(nil, &fakeSynth{}, Config{}); !errors.Is(err, ErrConfig) {
		t.Error(err)
	}
	if _, err := New(&fakeSynth{}, &fakeSynth{}, Config{CoolDown: -1}); !errors.Is(err, ErrConfig) {
		t.Error(err)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

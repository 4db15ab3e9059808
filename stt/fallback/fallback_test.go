package fallback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errDown = errors.New("engine down")

// fakeRec records the audio of its streams. A stream fails (Recv, or Write
// with writeErr) once failAfter frames were written, gives a final result
// after finalAfter frames, and on CloseSend a final result naming itself
// and the samples it got.
type fakeRec struct {
	name            string
	failOpen        error
	failAfter       int
	writeErr        bool
	finalAfter      int
	failOnCloseSend bool
	mu              sync.Mutex
	streams         []*fakeStream
}

type fakeStream struct {
	f       *fakeRec
	mu      sync.Mutex
	samples []int16
	frames  int
	ev      chan event // results and failures, in order
	ended   bool
	failed  bool
}

func (f *fakeRec) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	if f.failOpen != nil {
		return nil, f.failOpen
	}
	s := &fakeStream{f: f, ev: make(chan event, 16)}
	f.mu.Lock()
	f.streams = append(f.streams, s)
	f.mu.Unlock()
	return s, nil
}

func (f *fakeRec) stream(i int) *fakeStream {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.streams) {
		return nil
	}
	return f.streams[i]
}

func (s *fakeStream) audio() []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.samples...)
}

func (s *fakeStream) Write(fr *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return stt.ErrClosed
	}
	if s.failed && s.f.writeErr {
		return errDown
	}
	s.frames++
	s.samples = append(s.samples, fr.Samples...)
	if s.f.failAfter > 0 && s.frames == s.f.failAfter {
		s.failed = true
		if !s.f.writeErr {
			s.ev <- event{err: errDown}
		}
	}
	if s.f.finalAfter > 0 && s.frames == s.f.finalAfter {
		s.ev <- event{r: stt.Result{Text: s.f.name + "-early", Final: true, End: time.Duration(s.frames) * 20 * time.Millisecond}}
	}
	return nil
}

func (s *fakeStream) CloseSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return stt.ErrClosed
	}
	s.ended = true
	if s.f.failOnCloseSend {
		s.ev <- event{err: errDown}
		return nil
	}
	s.ev <- event{r: stt.Result{Text: fmt.Sprintf("%s:%d", s.f.name, len(s.samples)), Final: true}}
	s.ev <- event{err: io.EOF}
	return nil
}

type event struct {
	r   stt.Result
	err error
}

// Recv returns the events in order; after io.EOF or a failure, it keeps
// returning it.
func (s *fakeStream) Recv() (stt.Result, error) {
	e := <-s.ev
	if e.err != nil {
		s.ev <- e
	}
	return e.r, e.err
}

func (s *fakeStream) Close() error { return nil }

// tone returns n frames whose samples count up from 0, so that order and
// loss show.
func frames(n int) []*media.Frame {
	out := make([]*media.Frame, n)
	for i := range out {
		f := media.NewFrame(8000)
		for j := range f.Samples {
			f.Samples[j] = int16(i*160 + j)
		}
		out[i] = f
	}
	return out
}

// run writes the frames, calls CloseSend and collects the results (Recv
// on its own goroutine, as the session does).
func run(t *testing.T, st stt.Stream, fs []*media.Frame, pause int) []stt.Result {
	t.Helper()
	var res []stt.Result
	var rerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := st.Recv()
			if err != nil {
				if err != io.EOF {
					rerr = err
				}
				return
			}
			res = append(res, r)
		}
	}()
	for i, f := range fs {
		if err := st.Write(f); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i == pause {
			time.Sleep(20 * time.Millisecond) // let Recv see the failure
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	<-done
	if rerr != nil {
		t.Fatal(rerr)
	}
	return res
}

func sequence(from, to int) []int16 {
	s := make([]int16, 0, (to-from)*160)
	for i := from * 160; i < to*160; i++ {
		s = append(s, int16(i))
	}
	return s
}

func sameAudio(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("secondary got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %d, want %d", i, got[i], want[i])
		}
	}
}

func TestMidStreamReplay(t *testing.T) {
	p, s := &fakeRec{name: "p", failAfter: 30}, &fakeRec{name: "s"}
	r, _ := New(p, s, Config{})
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res := run(t, st, frames(50), 29)
	if len(res) != 1 || res[0].Text != fmt.Sprintf("s:%d", 50*160) {
		t.Fatalf("results %+v", res)
	}
	// The secondary heard the whole utterance, in order, once.
	sameAudio(t, s.stream(0).audio(), sequence(0, 50))
}

func TestReplayStartsAfterFinal(t *testing.T) {
	p, s := &fakeRec{name: "p", failAfter: 30, finalAfter: 10}, &fakeRec{name: "s"}
	r, _ := New(p, s, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	res := run(t, st, frames(50), 29)
	if len(res) != 2 || res[0].Text != "p-early" {
		t.Fatalf("results %+v", res)
	}
	sameAudio(t, s.stream(0).audio(), sequence(10, 50))
}

func TestReplayBounded(t *testing.T) {
	p, s := &fakeRec{name: "p", failAfter: 30}, &fakeRec{name: "s"}
	r, _ := New(p, s, Config{MaxReplay: 200 * time.Millisecond})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	run(t, st, frames(50), 29)
	sameAudio(t, s.stream(0).audio(), sequence(20, 50))
}

func TestWriteFailure(t *testing.T) {
	p, s := &fakeRec{name: "p", failAfter: 5, writeErr: true}, &fakeRec{name: "s"}
	r, _ := New(p, s, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	res := run(t, st, frames(20), -1)
	if len(res) != 1 || res[0].Text != fmt.Sprintf("s:%d", 20*160) {
		t.Fatalf("results %+v", res)
	}
	sameAudio(t, s.stream(0).audio(), sequence(0, 20))
}

func TestFailureAfterCloseSend(t *testing.T) {
	p, s := &fakeRec{name: "p", failOnCloseSend: true}, &fakeRec{name: "s"}
	r, _ := New(p, s, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	res := run(t, st, frames(12), -1)
	if len(res) != 1 || res[0].Text != fmt.Sprintf("s:%d", 12*160) {
		t.Fatalf("results %+v: the secondary must be half-closed after the replay", res)
	}
}

func TestStartFailureAndBreaker(t *testing.T) {
	p, s := &fakeRec{name: "p", failOpen: errDown}, &fakeRec{name: "s"}
	now := time.Unix(1000, 0)
	r, _ := New(p, s, Config{FailureThreshold: 2, CoolDown: time.Minute}, WithClock(func() time.Time { return now }))
	for range 3 {
		st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if res := run(t, st, frames(3), -1); res[0].Text != "s:480" {
			t.Fatalf("results %+v", res)
		}
		st.Close()
	}
	if !r.Breaker().Open() {
		t.Fatal("breaker not open after two failures")
	}
	p.failOpen = nil
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if _, ok := st.(*stream); ok {
		t.Error("primary tried while the breaker is open")
	}
	st.Close()
	now = now.Add(2 * time.Minute)
	st, _ = r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if res := run(t, st, frames(3), -1); res[0].Text != "p:480" {
		t.Errorf("after the cool-down: %+v", res)
	}
	st.Close()
	if r.Breaker().Open() {
		t.Error("breaker open after a good stream")
	}
}

func TestBothFail(t *testing.T) {
	p, s := &fakeRec{name: "p", failOpen: errDown}, &fakeRec{name: "s", failOpen: io.ErrUnexpectedEOF}
	r, _ := New(p, s, Config{})
	if _, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000}); !errors.Is(err, ErrBothFailed) || !errors.Is(err, errDown) {
		t.Fatal(err)
	}
	p.failOpen, p.failAfter = nil, 2
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	for _, f := range frames(2) {
		st.Write(f)
	}
	if _, err := st.Recv(); !errors.Is(err, ErrBothFailed) {
		t.Errorf("mid-stream: %v", err)
	}
	if err := st.Write(frames(1)[0]); !errors.Is(err, ErrBothFailed) {
		t.Errorf("write after both failed: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{FailureThreshold: -1}, {CoolDown: -1}, {MaxReplay: -1}} {
		if _, err := New(&fakeRec{}, &fakeRec{}, c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := New(&fakeRec{}, nil, Config{}); !errors.Is(err, ErrConfig) {
		t.Error(err)
	}
}

package session

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/tts"
)

type nopDialog struct{}

func (nopDialog) Handle(context.Context, runner.Session, dialog.Event) (dialog.Reply, error) {
	return dialog.Reply{}, nil
}

type nopSTT struct{}

func (nopSTT) Stream(context.Context, stt.Config) (stt.Stream, error) {
	return &nopStream{done: make(chan struct{})}, nil
}

type nopStream struct {
	once sync.Once
	done chan struct{}
}

func (s *nopStream) Write(*media.Frame) error { return nil }
func (s *nopStream) CloseSend() error         { return nil }
func (s *nopStream) Recv() (stt.Result, error) {
	<-s.done
	return stt.Result{}, stt.ErrClosed
}
func (s *nopStream) Close() error { s.once.Do(func() { close(s.done) }); return nil }

type nopTTS struct{}

func (nopTTS) Synthesize(context.Context, tts.Request) (tts.Stream, error) { return nil, io.EOF }

// The per-frame paths allocate nothing in steady state: listening (VAD,
// recognizer writes, timers) and playing a prompt (fill, send, VAD for
// barge-in, with the recognizer listening too).
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	call, err := filecall.New(filecall.Config{Tail: -1, MaxDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(call, Config{Dialog: nopDialog{}, Recognizer: nopSTT{}, Synthesizer: nopTTS{},
		NoInput: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.cleanup()
	ctx := context.Background()
	frame := func() {
		in, err := call.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.onFrame(ctx, in.Frame)
		s.poll(ctx)
		if s.state == stPlaying {
			s.playStep(ctx)
		}
	}
	s.act, s.gather = actGather, &dialog.Gather{Speech: true, BargeIn: true}
	s.listen(ctx)
	for range 50 {
		frame()
	}
	if a := testing.AllocsPerRun(500, frame); a != 0 {
		t.Errorf("listening: %v allocations per frame", a)
	}
	if s.state != stListening {
		t.Fatalf("state %d", s.state)
	}
	s.play(ctx, []segment{{samples: tone(8000, 440, 30*time.Second, 8000)}})
	if s.state != stPlaying || s.st == nil {
		t.Fatalf("state %d, stt %v", s.state, s.st)
	}
	for range 50 {
		frame()
	}
	if a := testing.AllocsPerRun(500, frame); a != 0 {
		t.Errorf("playing: %v allocations per frame", a)
	}
}

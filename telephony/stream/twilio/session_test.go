package twilio_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/telephony/stream/twilio"
	"github.com/parole-voice/parole/tts/espeak"
)

type replies struct {
	mu    sync.Mutex
	texts []string
}

func (r *replies) Observe(e session.Event) {
	if e.Kind == session.Reply {
		r.mu.Lock()
		r.texts = append(r.texts, e.Text)
		r.mu.Unlock()
	}
}

// TestVoiceSession runs the real voice session (demo flow, pocketsphinx,
// espeak-ng) on a Twilio stream: the peer, playing Twilio, streams silence
// every 20 ms, waits for the greeting, says "I would like to book an
// appointment" (espeak-ng, as μ-law), hears the bot ask for the day and
// sends stop.
func TestVoiceSession(t *testing.T) {
	if testing.Short() {
		t.Skip("real engines: skipped with -short")
	}
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	f, err := os.Open(testutil.SpokenWAV(t, "I would like to book an appointment"))
	if err != nil {
		t.Fatal(err)
	}
	question, qrate, err := wav.ReadAll(f)
	f.Close()
	if err != nil || qrate != 8000 {
		t.Fatalf("question WAV: %d Hz, %v", qrate, err)
	}
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		t.Fatalf("stt/sphinx: %v", err)
	}
	defer rec.Close()
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatalf("tts/espeak: %v", err)
	}
	fl, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := flow.New(fl)
	if err != nil {
		t.Fatal(err)
	}
	obs := &replies{}
	runErr := make(chan error, 1)
	ts := newServer(t, twilio.Config{AuthToken: token}, func(ctx context.Context, call telephony.Call) {
		runErr <- session.Run(ctx, call, session.Config{
			Dialog: runner.New(eng, store.NewMemory(store.Options{})), Recognizer: rec, Synthesizer: synth,
			Observer: obs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	})
	p, _, err := dial(t, ts, token)
	if err != nil {
		t.Fatal(err)
	}
	p.begin(map[string]string{"From": "+15550100", "To": "+15550199"})

	// parole's messages, as they come.
	type heardMsg struct {
		loud bool
		at   time.Time
	}
	msgs := make(chan heardMsg, 1024)
	go func() {
		defer close(msgs)
		for {
			m, err := p.read()
			if err != nil {
				return
			}
			if m.Event == "mark" { // played at once: echo it
				p.send(map[string]any{"event": "mark", "mark": map[string]any{"name": m.Mark.Name}})
			}
			if m.Event == "media" {
				msgs <- heardMsg{loud: rms(m.pcm) > 300, at: m.at}
			}
		}
	}()

	const (
		waitGreeting = iota
		asking
		waitReply
	)
	phase, qi := waitGreeting, 0
	var heard [3]time.Duration
	var lastLoud time.Time
	deadline := time.Now().Add(90 * time.Second)
	start := time.Now()
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("caller still in phase %d after 90 s (heard %v)", phase, heard)
		}
		time.Sleep(time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)))
	drain:
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("websocket closed before the caller hung up")
				}
				if m.loud {
					heard[phase] += 20 * time.Millisecond
					lastLoud = m.at
				}
			default:
				break drain
			}
		}
		frame := make([]int16, 160)
		switch phase {
		case waitGreeting:
			if heard[phase] > 0 && time.Since(lastLoud) > 700*time.Millisecond {
				phase = asking
			}
		case asking:
			copy(frame, question[qi:])
			qi += 160
			if qi >= len(question) {
				phase = waitReply
			}
		case waitReply:
			if heard[phase] > 0 && time.Since(lastLoud) > time.Second {
				p.send(map[string]any{"event": "stop", "stop": map[string]any{
					"accountSid": "AC00000000000000000000000000000000", "callSid": "CA00000000000000000000000000000001"}})
				goto hungUp
			}
		}
		p.media(i, frame)
	}
hungUp:
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("session.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session.Run did not return after stop")
	}
	obs.mu.Lock()
	texts := obs.texts
	obs.mu.Unlock()
	t.Logf("replies %q; caller heard greeting %v, reply %v", texts, heard[waitGreeting], heard[waitReply])
	if len(texts) < 2 || texts[1] != "Which day would you like to come?" {
		t.Fatalf("replies %q", texts)
	}
	if heard[waitGreeting] < time.Second || heard[waitReply] < time.Second {
		t.Errorf("caller heard %v of greeting and %v of reply, want ≥ 1 s each", heard[waitGreeting], heard[waitReply])
	}
}

package session_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/espeak"
)

// question makes the caller's WAV as the issue says: espeak-ng speaks the
// sentence, sox resamples it to 8 kHz.
func question(t *testing.T, text string) string { return testutil.SpokenWAV(t, text) }

// A real call: the caller (espeak-ng, resampled by sox) waits for the
// greeting and asks to book an appointment; pocketsphinx with the menu
// step's grammar and espeak-ng run the demo flow, which reaches ask_date
// and says its question into the output.
func TestEndToEndRealEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("real engines: skipped with -short")
	}
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	q := question(t, "I would like to book an appointment")
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		t.Fatalf("stt/sphinx: %v", err)
	}
	defer rec.Close()
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatalf("tts/espeak: %v", err)
	}
	call, err := filecall.Open(q, filecall.Config{ID: "e2e", AfterPrompt: 500 * time.Millisecond, Tail: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	obs := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = session.Run(ctx, call, session.Config{
		Dialog: runner.New(eng, st), Recognizer: rec, Synthesizer: synth, Observer: obs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, e := range obs.kinds(session.Final) {
		t.Logf("caller at %v: %q (confidence %.2f, rejected %v)", e.At, e.Text, e.Confidence, e.Rejected)
	}
	conv, _, err := st.Load(context.Background(), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	replies := obs.replies()
	if len(replies) < 2 || replies[1] != "Which day would you like to come?" {
		t.Fatalf("replies %q; conversation step %q", replies, conv.Step)
	}
	if conv.Step != "ask_date" {
		t.Errorf("conversation at step %q, want ask_date", conv.Step)
	}
	// The output holds the spoken question: audio from the reply on, as
	// long as espeak-ng takes to say it on its own.
	s, err := synth.Synthesize(ctx, tts.Request{Text: "Which day would you like to come?", Language: "en-US", SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for {
		c, err := s.Recv()
		if err != nil {
			break
		}
		want += len(c.Samples)
	}
	s.Close()
	rs := obs.kinds(session.Reply)
	out := call.Output()
	from := int(rs[1].At) * 8 / int(time.Millisecond)
	if from >= len(out) {
		t.Fatalf("no output after the reply at %v", rs[1].At)
	}
	seg := out[from:]
	first, last := -1, -1
	for i, v := range seg {
		if v > 100 || v < -100 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		t.Fatal("the reply is silent in the output")
	}
	got := last - first
	t.Logf("reply audio %v (espeak-ng alone: %v)", time.Duration(got)*time.Second/8000, time.Duration(want)*time.Second/8000)
	if got < want*8/10 || got > want {
		t.Errorf("reply audio %d samples, espeak-ng says it in %d", got, want)
	}
	var wavBuf bytes.Buffer
	if err := call.WriteWAV(&wavBuf); err != nil {
		t.Fatal(err)
	}
	if _, rate, err := wav.ReadAll(&wavBuf); err != nil || rate != 8000 {
		t.Fatalf("output WAV: rate %d, %v", rate, err)
	}
	if !strings.Contains(strings.Join(replies, " "), "Which day") {
		t.Errorf("replies %q", replies)
	}
}

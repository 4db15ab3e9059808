package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/tts/espeak"
)

// callCommand runs `parole call`: one synthetic call from a WAV file through
// the whole voice pipeline (the embedded engines, the call flow, the voice
// session), printing the transcript and the per-turn latency table and
// writing what the bot said to a WAV file.
func callCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the caller's audio: a WAV file (required)")
	out := fs.String("out", "", "write the bot's side of the call to this WAV file")
	flowPath := fs.String("flow", "", "call flow file (default: the embedded demo flow)")
	lang := fs.String("lang", "en-US", "language of the call")
	rate := fs.Int("rate", 8000, "sample rate of the call in Hz (8000 or 16000)")
	wait := fs.Duration("wait", 500*time.Millisecond, "the caller speaks once the bot has been silent this long (0: at once, over the greeting)")
	lead := fs.Duration("lead", 0, "silence before the caller's audio")
	tail := fs.Duration("tail", 8*time.Second, "silence after the caller's audio before the caller hangs up")
	verbose := fs.Bool("v", false, "log the session at debug level to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *in == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: parole call -in QUESTION.wav [-out REPLY.wav] [-flow FILE] [-lang TAG] [-rate HZ] [-wait D] [-lead D] [-tail D] [-v]")
		return errUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	eng, err := loadFlow(*flowPath, logger, nil)
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	defer rec.Close()
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	call, err := filecall.Open(*in, filecall.Config{ID: "call-" + time.Now().UTC().Format("20060102T150405"),
		Rate: *rate, AfterPrompt: *wait, Lead: *lead, Tail: *tail, From: "file:" + *in})
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	tw := &transcriptWriter{w: stdout}
	r := runner.New(eng, store.NewMemory(store.Options{}), runner.WithLogger(logger))
	err = session.Run(ctx, call, session.Config{
		Dialog: r, Recognizer: rec, Synthesizer: synth, Language: *lang,
		Logger: logger, Observer: tw,
	})
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	if tw.summary != nil && len(tw.summary.Traces) > 0 {
		fmt.Fprintln(stdout, "\nlatency per turn (ms):")
		if err := tw.summary.WriteTable(stdout); err != nil {
			return err
		}
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("call: %w", err)
		}
		if err := call.WriteWAV(f); err != nil {
			f.Close()
			return fmt.Errorf("call: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("call: %w", err)
		}
		fmt.Fprintf(stdout, "bot audio: %s (%v)\n", *out, call.Elapsed())
	}
	return nil
}

// transcriptWriter prints a call's events as transcript lines.
type transcriptWriter struct {
	w       io.Writer
	summary *session.Summary
}

func (t *transcriptWriter) Observe(e session.Event) {
	at := fmt.Sprintf("%6.2fs", e.At.Seconds())
	switch e.Kind {
	case session.Reply:
		if txt := strings.ReplaceAll(e.Text, "\n", " "); txt != "" {
			fmt.Fprintf(t.w, "%s bot:    %s\n", at, txt)
		}
	case session.Final:
		switch {
		case e.Rejected || e.Text == "":
			fmt.Fprintf(t.w, "%s caller: (not understood: %q)\n", at, e.Text)
		default:
			fmt.Fprintf(t.w, "%s caller: %s (confidence %.2f)\n", at, e.Text, e.Confidence)
		}
	case session.Digits:
		fmt.Fprintf(t.w, "%s caller: [keys %s]\n", at, e.Text)
	case session.NoInput:
		fmt.Fprintf(t.w, "%s caller: (silence)\n", at)
	case session.BargeIn:
		fmt.Fprintf(t.w, "%s        [barge-in: the caller heard %q]\n", at, e.Heard)
	case session.Recorded:
		fmt.Fprintf(t.w, "%s caller: [recording %s]\n", at, e.Text)
	case session.Error:
		fmt.Fprintf(t.w, "%s        [%s error: %v]\n", at, e.Engine, e.Err)
	case session.CallEnded:
		fmt.Fprintf(t.w, "%s        [call ended: %s]\n", at, e.Reason)
		t.summary = e.Summary
	}
}

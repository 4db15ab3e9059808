package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/espeak"
)

// sayCommand runs `parole say`: synthesizes text with the embedded engine
// into a WAV file and reports how fast the engine was.
func sayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("say", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output WAV file (required)")
	lang := fs.String("lang", "en-US", "language tag: en-US, en-GB, fr-FR, …")
	voice := fs.String("voice", "", "engine voice (default: the language's)")
	rate := fs.Int("rate", 8000, "sample rate in Hz: 8000, 16000, 24000 or 48000")
	speed := fs.Float64("speed", 1, "speaking rate, 1 is normal")
	format := fs.String("format", "pcm", "WAV payload: pcm, ulaw or alaw")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	text := strings.Join(fs.Args(), " ")
	if *out == "" || strings.TrimSpace(text) == "" {
		fmt.Fprintln(stderr, "usage: parole say [-lang TAG] [-voice V] [-rate HZ] [-format pcm|ulaw|alaw] -o OUT.wav TEXT (TEXT may be SSML: <speak>…</speak>)")
		return errUsage
	}
	var wf wav.Format
	switch *format {
	case "pcm":
		wf = wav.PCM
	case "ulaw":
		wf = wav.ULaw
	case "alaw":
		wf = wav.ALaw
	default:
		return fmt.Errorf("say: -format %q: want pcm, ulaw or alaw", *format)
	}
	synth, err := espeak.New(espeak.Options{})
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	req := tts.Request{Language: *lang, Voice: *voice, SampleRate: *rate, Rate: *speed}
	if strings.HasPrefix(strings.TrimSpace(text), "<speak") {
		req.SSML = text
	} else {
		req.Text = text
	}
	start := time.Now()
	stream, err := synth.Synthesize(ctx, req)
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	defer stream.Close()
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	w, err := wav.NewWriter(f, wf, *rate)
	if err != nil {
		f.Close()
		return fmt.Errorf("say: %w", err)
	}
	var first time.Duration
	samples := 0
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("say: %w", err)
		}
		if first == 0 {
			first = time.Since(start)
		}
		samples += len(c.Samples)
		if err := w.WriteSamples(c.Samples); err != nil {
			f.Close()
			return fmt.Errorf("say: %s: %w", *out, err)
		}
	}
	total := time.Since(start)
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		return fmt.Errorf("say: %s: %w", *out, err)
	}
	audio := time.Duration(samples) * time.Second / time.Duration(*rate)
	fmt.Fprintf(stdout, "%s: %.2f s of audio at %d Hz; first audio after %s, done in %s (%.0f× real time)\n",
		*out, audio.Seconds(), *rate, first.Round(time.Microsecond), total.Round(time.Microsecond), audio.Seconds()/total.Seconds())
	return nil
}

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

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
)

// transcribeCommand runs `parole transcribe`: the free-text transcript of a
// WAV file with the embedded recognizer and its full language model, one
// utterance per line, with progress on stderr for long files.
func transcribeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("transcribe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "en-US", "language of the speech (the embedded model is English)")
	times := fs.Bool("times", false, "prefix each utterance with its start and end")
	progressEvery := fs.Duration("progress", 10*time.Second, "report progress to stderr every this much audio, for files longer than 30 s (0: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: parole transcribe [-lang TAG] [-times] [-progress D] FILE.wav")
		return errUsage
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer f.Close()
	wr, err := wav.NewReader(f)
	if err != nil {
		return fmt.Errorf("transcribe: %s: %w", path, err)
	}
	inRate := wr.SampleRate()
	rate := inRate
	var rs *resample.Resampler
	if rate != media.Rate8k && rate != media.Rate16k {
		rate = media.Rate16k
		if rs, err = resample.New(inRate, rate, resample.Medium); err != nil {
			return fmt.Errorf("transcribe: %s: %w", path, err)
		}
	}
	total := wr.Header().Duration()

	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer rec.Close()
	st, err := rec.Stream(ctx, stt.Config{Language: *lang, SampleRate: rate})
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer st.Close()

	// Results are printed as the recognizer finds them.
	done := make(chan error, 1)
	go func() {
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				done <- nil
				return
			}
			if err != nil {
				done <- err
				return
			}
			if !r.Final || strings.TrimSpace(r.Text) == "" {
				continue
			}
			if *times {
				fmt.Fprintf(stdout, "[%7.2f – %7.2f] %s\n", r.Start.Seconds(), r.End.Seconds(), r.Text)
			} else {
				fmt.Fprintln(stdout, r.Text)
			}
		}
	}()

	in := media.NewFrame(inRate)
	out := media.NewFrame(rate)
	var fed, next time.Duration
	report := *progressEvery > 0 && total > 30*time.Second
	next = *progressEvery
	start := time.Now()
	var werr error
	for werr == nil {
		if err := ctx.Err(); err != nil {
			werr = err
			break
		}
		err := wr.ReadFrame(in)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			werr = fmt.Errorf("%s: %w", path, err)
			break
		}
		fr := in
		if rs != nil {
			if err := rs.ProcessFrame(out, in); err != nil {
				werr = err
				break
			}
			fr = out
		}
		if err := st.Write(fr); err != nil {
			werr = err
			break
		}
		fed += in.Duration()
		if report && fed >= next {
			next += *progressEvery
			fmt.Fprintf(stderr, "transcribe: %.0f s / %.0f s (%d%%), %.1f× real time\n",
				fed.Seconds(), total.Seconds(), int(100*fed/total), fed.Seconds()/time.Since(start).Seconds())
		}
	}
	if werr != nil {
		st.Close()
		<-done
		return fmt.Errorf("transcribe: %w", werr)
	}
	if err := st.CloseSend(); err != nil {
		st.Close()
		<-done
		return fmt.Errorf("transcribe: %w", err)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	if report {
		fmt.Fprintf(stderr, "transcribe: %.1f s of audio in %.1f s\n", fed.Seconds(), time.Since(start).Seconds())
	}
	return nil
}

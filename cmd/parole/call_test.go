package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt/sphinx"
)

// speakWAV writes text spoken by espeak-ng, resampled to 8 kHz by sox.
func speakWAV(t *testing.T, text string) string { return testutil.SpokenWAV(t, text) }

func TestCallCommand(t *testing.T) {
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	q := speakWAV(t, "I would like to book an appointment")
	out := filepath.Join(t.TempDir(), "reply.wav")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"call", "--in", q, "--out", out, "--lang", "en-US"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("parole call: %v\n%s", err, stderr.String())
	}
	got := stdout.String()
	t.Log("\n" + got)
	for _, re := range []string{
		`(?m)^ *0\.00s bot: +Welcome to the Parole demo line\.`,
		`(?m)^ *\d+\.\d\ds caller: book an appointment \(confidence [01]\.\d\d\)$`,
		`(?m)^ *\d+\.\d\ds bot: +Which day would you like to come\?$`,
		`\[call ended: caller hung up\]`,
		`(?m)^ +turn +input +endpointing +stt +dialog +tts +playout +total +overhead$`,
		`(?m)^ +1 +speech +600\.0 `,
		`(?m)^ +p95 `,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("output lacks %s", re)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, rate, err := wav.ReadAll(f)
	if err != nil || rate != 8000 {
		t.Fatalf("reply WAV: %d Hz, %v", rate, err)
	}
	loud := 0
	for _, v := range samples {
		if v > 500 || v < -500 {
			loud++
		}
	}
	// The greeting and the question take several seconds of speech.
	if loud < 8000*3 {
		t.Errorf("reply WAV has %d loud samples of %d", loud, len(samples))
	}
}

func TestCallCommandUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"call"}, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("no -in: %v", err)
	}
	if !strings.Contains(stderr.String(), "usage: parole call -in") {
		t.Errorf("stderr %q", stderr.String())
	}
	stderr.Reset()
	err := run(context.Background(), []string{"call", "-in", filepath.Join(t.TempDir(), "missing.wav")}, nil, &stdout, &stderr)
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing file: %v", err)
	}
	if err := run(context.Background(), []string{"transcribe"}, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("transcribe without a file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	os.WriteFile(bad, []byte("not a wav file at all"), 0o644)
	if err := run(context.Background(), []string{"transcribe", bad}, nil, &stdout, &stderr); !errors.Is(err, wav.ErrNotWAV) {
		t.Errorf("transcribe of a non-WAV: %v", err)
	}
}

func TestTranscribeCommand(t *testing.T) {
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	p := testutil.RequireFile(t, "/usr/share/asterisk/sounds/en/please-try-again.wav", "asterisk-core-sounds-en-wav")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"transcribe", p}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("parole transcribe: %v\n%s", err, stderr.String())
	}
	// core-sounds-en.txt: "please-try-again: Please try again."
	if got := strings.TrimSpace(stdout.String()); got != "please try again" {
		t.Errorf("transcript %q", got)
	}
	if stderr.Len() != 0 {
		t.Errorf("progress on a short file: %q", stderr.String())
	}
}

// A file longer than 30 s gets progress lines on stderr; every utterance of
// it gets a line on stdout.
func TestTranscribeProgress(t *testing.T) {
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")
	p := testutil.RequireFile(t, "/usr/share/asterisk/sounds/en/please-try-again.wav", "asterisk-core-sounds-en-wav")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	one, rate, err := wav.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var long []int16
	gap := make([]int16, rate) // 1 s of silence between repeats
	for len(long) < 32*rate {
		long = append(append(long, one...), gap...)
	}
	path := filepath.Join(t.TempDir(), "long.wav")
	var buf bytes.Buffer
	if err := wav.Encode(&buf, wav.PCM, rate, long); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"transcribe", "-times", "-progress", "10s", path}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("parole transcribe: %v", err)
	}
	if n := strings.Count(stderr.String(), "%)"); n != 3 {
		t.Errorf("%d progress lines:\n%s", n, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	tries := strings.Count(stdout.String(), "try again")
	if tries < len(lines)*2/3 || len(lines) < 10 {
		t.Errorf("transcript of %d repeats:\n%s", 32*rate/(len(one)+rate), stdout.String())
	}
	if !regexp.MustCompile(`^\[ *\d+\.\d\d – +\d+\.\d\d\] `).MatchString(lines[0]) {
		t.Errorf("line without times: %q", lines[0])
	}
}

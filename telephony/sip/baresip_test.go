package sip_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/telephony/sip"
	"github.com/parole-voice/parole/tts/espeak"
)

// questionDelay is the silence baresip plays before the question, long
// enough for the demo greeting.
const questionDelay = 10

// TestBaresip: baresip (a real SIP user agent, headless: aufile plays a
// WAV as its microphone, sndfile records what it hears) calls the demo
// flow on the voice session, asks with espeak-ng's voice to book an
// appointment and hangs up. The dialog must have reached the question of
// the day, and baresip's recording must hold that question after its own:
// speech of about its length that pocketsphinx recognizes as it.
func TestBaresip(t *testing.T) {
	if testing.Short() {
		t.Skip("real engines: skipped with -short")
	}
	baresip := testutil.RequireTool(t, "baresip", "baresip-core")
	sox := testutil.RequireTool(t, "sox", "sox")
	testutil.RequireFile(t, "/usr/lib/baresip/modules/sndfile.so", "baresip-core")
	testutil.RequireFile(t, sphinx.DefaultLM, "pocketsphinx-en-us")

	question := testutil.SpokenWAV(t, "I would like to book an appointment")
	qLen := wavSeconds(t, question)
	t.Logf("question %.1f s", qLen)
	dir := t.TempDir()
	mic := filepath.Join(dir, "mic.wav")
	testutil.Run(t, sox, question, mic, "pad", strconv.Itoa(questionDelay), "8")

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
	srv := serve(t, sip.Config{OnCall: func(ctx context.Context, call telephony.Call) {
		runErr <- session.Run(ctx, call, session.Config{
			Dialog: runner.New(eng, store.NewMemory(store.Options{})), Recognizer: rec, Synthesizer: synth,
			Observer: obs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}})

	conf := filepath.Join(dir, "baresip")
	recDir := filepath.Join(dir, "rec")
	for _, d := range []string{conf, recDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen 127.0.0.1:" + strconv.Itoa(freeUDPPort(t)),
		"audio_source aufile," + mic,
		"audio_player aubridge,nil", // what it hears goes to sndfile only
		"audio_alert aubridge,nil",
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module aufile.so", "module sndfile.so", "module aubridge.so",
		"module_app account.so", "module_app menu.so",
		"snd_path " + recDir,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(conf, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "accounts"), []byte("<sip:baresip@127.0.0.1>;regint=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "contacts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hold := questionDelay + int(qLen) + 7 // the question, then time for the answer
	cmd := exec.CommandContext(ctx, baresip, "-f", conf, "-t", strconv.Itoa(hold),
		"-e", fmt.Sprintf("/dial sip:bot@%s", srv.Addr()))
	out, err := cmd.CombinedOutput()
	if err != nil && ctx.Err() != nil {
		t.Fatalf("baresip: %v\n%s", err, tail(out))
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("session.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("session.Run did not end after baresip quit\n%s", tail(out))
	}
	obs.mu.Lock()
	texts := obs.texts
	obs.mu.Unlock()
	if len(texts) < 2 || texts[1] != "Which day would you like to come?" {
		t.Fatalf("replies %q\nbaresip: %s", texts, tail(out))
	}

	// baresip's recording of what it heard (its decoder side). sndfile
	// records decoded packets only, and parole sends RTP only while it
	// plays, so the recording is the greeting and the reply back to back:
	// the reply is the speech after the last pause of 200 ms or more.
	heard := recording(t, recDir)
	answer := lastUtterance(heard, 10)
	speech := loudSeconds(answer)
	t.Logf("replies %q; baresip heard %.1f s, the last utterance has %.2f s of speech", texts, float64(len(heard))/8000, speech)
	// "Which day would you like to come?" is about 1.4 s of espeak-ng.
	if speech < 0.8 || speech > 3 {
		t.Errorf("%.2f s of speech in the last utterance, want about 1.4 s", speech)
	}
	res := transcribe(t, rec, answer, []stt.Rule{
		{Phrase: "Which day would you like to come", Value: "day"},
		{Phrase: "Sorry I didn't hear you", Value: "no-input"},
		{Phrase: "Sorry I didn't understand", Value: "no-match"},
		{Phrase: "Welcome to the Parole demo line", Value: "greeting"},
		{Phrase: "What would you like", Value: "greeting-end"},
	})
	if res.Value != "day" || res.Rejected {
		t.Errorf("pocketsphinx heard %q (%s, rejected %v) in baresip's recording, want the day question", res.Text, res.Value, res.Rejected)
	}
}

func wavSeconds(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return float64(len(pcm)) / float64(rate)
}

// recording returns the audio baresip's sndfile module saved from the
// call's decoder (what baresip heard), at 8 kHz.
func recording(t *testing.T, dir string) []int16 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*-dec.wav"))
	if len(files) != 1 {
		all, _ := filepath.Glob(filepath.Join(dir, "*"))
		t.Fatalf("baresip recordings %v, want one *-dec.wav", all)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := wav.ReadAll(f)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%s: %v", files[0], err)
	}
	if rate != 8000 {
		t.Fatalf("%s at %d Hz", files[0], rate)
	}
	return pcm
}

// lastUtterance returns pcm from the end of its last run of at least gap
// quiet 20 ms frames.
func lastUtterance(pcm []int16, gap int) []int16 {
	quiet, cut := 0, 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		if rms(pcm[i:i+160]) > 300 {
			if quiet >= gap {
				cut = i
			}
			quiet = 0
		} else {
			quiet++
		}
	}
	return pcm[cut:]
}

// loudSeconds counts the 20 ms frames with speech energy.
func loudSeconds(pcm []int16) float64 {
	n := 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		if rms(pcm[i:i+160]) > 300 {
			n++
		}
	}
	return float64(n) * 0.02
}

// transcribe runs pocketsphinx over pcm with a grammar and returns its
// last final result.
func transcribe(t *testing.T, r *sphinx.Recognizer, pcm []int16, rules []stt.Rule) stt.Result {
	t.Helper()
	s, err := r.Stream(context.Background(), stt.Config{Language: "en-US", SampleRate: 8000, Grammar: &stt.Grammar{Rules: rules}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan stt.Result, 1)
	go func() {
		var last stt.Result
		for {
			res, err := s.Recv()
			if err != nil {
				done <- last
				return
			}
			if res.Final && res.Text != "" {
				last = res
			}
		}
	}()
	f := media.NewFrame(8000)
	for off := 0; off+160 <= len(pcm); off += 160 {
		copy(f.Samples, pcm[off:])
		if err := s.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.CloseSend()
	return <-done
}

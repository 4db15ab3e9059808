package allomedia

import (
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// speech returns 8 kHz espeak-ng speech of text with silence around it.
func speech(t testing.TB, text string, lead, tail time.Duration, espeakArgs ...string) []int16 {
	t.Helper()
	f, err := os.Open(testutil.SpokenWAV(t, text, espeakArgs...))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, rate, err := wav.ReadAll(f)
	if err != nil || rate != 8000 {
		t.Fatalf("spoken wav: %v, rate %d", err, rate)
	}
	out := make([]int16, int(lead.Seconds()*8000), int((lead+tail).Seconds()*8000)+len(s))
	out = append(out, s...)
	return append(out, make([]int16, int(tail.Seconds()*8000))...)
}

// ffmpegSpeech returns where ffmpeg's silencedetect finds the speech.
func ffmpegSpeech(t *testing.T, samples []int16) (start, end time.Duration) {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	raw := t.TempDir() + "/a.s16"
	testutil.WriteS16(t, raw, samples)
	out := string(testutil.Run(t, "sh", "-c", ffmpeg+" -hide_banner -f s16le -ar 8000 -ac 1 -i "+raw+" -af silencedetect=noise=-45dB:d=0.3 -f null - 2>&1"))
	sec := func(re string) []time.Duration {
		var d []time.Duration
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(out, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			d = append(d, time.Duration(v*float64(time.Second)))
		}
		return d
	}
	ends, starts := sec(`silence_end: ([0-9.]+)`), sec(`silence_start: ([0-9.]+)`)
	if len(ends) == 0 || len(starts) < 2 {
		t.Fatalf("silencedetect found no speech:\n%s", out)
	}
	return ends[0], starts[len(starts)-1]
}

// write sends samples in 20 ms frames at rate.
func write(t testing.TB, st stt.Stream, samples []int16, rate int) {
	t.Helper()
	f := media.NewFrame(rate)
	for off := 0; off+len(f.Samples) <= len(samples); off += len(f.Samples) {
		copy(f.Samples, samples[off:])
		if err := st.Write(f); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
}

func newRecognizer(t testing.TB, fake *fakeUhlive, tokens *tokenServer, mod func(*Config)) *Recognizer {
	t.Helper()
	cfg := Config{URL: fake.url(), FinalTimeout: 2 * time.Second, RetryBackoff: 10 * time.Millisecond}
	if tokens != nil {
		cfg.ClientID, cfg.ClientSecret, cfg.TokenURL = "bot", "s3cret", tokens.url()
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkClean(t *testing.T, fake *fakeUhlive) {
	t.Helper()
	if v := fake.violations(); len(v) > 0 {
		t.Errorf("protocol violations seen by the fake:\n%s", strings.Join(v, "\n"))
	}
}

func TestRecognizeSpeech(t *testing.T) {
	tokens := newTokenServer(t, time.Hour)
	fake := newFake(t, tokens, script{transcript: "yes please", alts: []string{"yes police"}})
	r := newRecognizer(t, fake, tokens, func(c *Config) { c.CustomID = "parole-test" })
	samples := speech(t, "yes please", 300*time.Millisecond, 1200*time.Millisecond)
	st, err := r.Stream(context.Background(), stt.Config{Language: "fr-FR", SampleRate: 8000,
		EndSilence: 600 * time.Millisecond, MaxAlternatives: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, samples, 8000)
	res, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Final || res.Rejected || res.Text != "yes please" || res.Confidence != 0.87 || res.Value != "" {
		t.Errorf("result %+v", res)
	}
	if len(res.Alternatives) != 1 || res.Alternatives[0].Text != "yes police" {
		t.Errorf("alternatives %+v", res.Alternatives)
	}
	// The fake endpointed the audio it received; the result places the
	// utterance where ffmpeg finds the speech.
	start, end := ffmpegSpeech(t, samples)
	if d := res.Start - start; d < -100*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("start %v, ffmpeg %v", res.Start, start)
	}
	if d := res.End - end; d < -150*time.Millisecond || d > 150*time.Millisecond {
		t.Errorf("end %v, ffmpeg %v", res.End, end)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Fatalf("after CloseSend: %v, want EOF", err)
	}
	st.Close()
	checkClean(t, fake)
	sess := fake.sessions()
	if len(sess) != 1 {
		t.Fatalf("%d sessions", len(sess))
	}
	cmds := fake.commandsOf(sess[0])
	got := strings.Join(names(cmds), " ")
	// Continuous recognition: a second RECOGNIZE after the result, then
	// STOP when the audio ended with nothing said, then CLOSE.
	if got != "OPEN SET-PARAMS RECOGNIZE RECOGNIZE STOP CLOSE" {
		t.Errorf("commands %s", got)
	}
	if cmds[0].Headers["custom_id"] != "parole-test" || cmds[0].Headers["audio_codec"] != "linear" {
		t.Errorf("OPEN headers %v", cmds[0].Headers)
	}
	p := cmds[1].Headers
	if p["speech_language"] != "fr" || p["speech_complete_timeout"] != float64(600) || p["recognition_timeout"] != float64(30000) {
		t.Errorf("SET-PARAMS %v", p)
	}
	if cmds[2].Body != DefaultGrammar || cmds[2].Headers["start_input_timers"] != false {
		t.Errorf("RECOGNIZE %+v", cmds[2])
	}
	audio, frames := fake.audioOf(sess[0])
	n := len(samples) / 160 * 160
	if len(audio) < n {
		t.Fatalf("fake got %d samples, sent %d", len(audio), n)
	}
	for i := range n {
		if audio[i] != samples[i] {
			t.Fatalf("sample %d: fake got %d, sent %d", i, audio[i], samples[i])
		}
	}
	for i, b := range frames {
		if b != 320 {
			t.Fatalf("frame %d has %d bytes, want 320 (20 ms of linear 8 kHz)", i, b)
		}
	}
}

func TestCodecs(t *testing.T) {
	samples := speech(t, "one two three", 200*time.Millisecond, 1000*time.Millisecond)
	for _, tc := range []struct {
		codec Codec
		law   func([]int16) []int16
	}{
		{G711U, func(s []int16) []int16 { return g711.DecodeUlaw(nil, g711.EncodeUlaw(nil, s)) }},
		{G711A, func(s []int16) []int16 { return g711.DecodeAlaw(nil, g711.EncodeAlaw(nil, s)) }},
	} {
		t.Run(string(tc.codec), func(t *testing.T) {
			fake := newFake(t, nil, script{transcript: "one two three"})
			r := newRecognizer(t, fake, nil, func(c *Config) { c.Codec = tc.codec })
			st, err := r.Stream(context.Background(), stt.Config{Language: "en", SampleRate: 8000, SingleUtterance: true})
			if err != nil {
				t.Fatal(err)
			}
			write(t, st, samples, 8000)
			res, err := st.Recv()
			if err != nil || res.Text != "one two three" {
				t.Fatalf("%+v, %v", res, err)
			}
			if _, err := st.Recv(); err != io.EOF {
				t.Fatalf("single utterance: %v, want EOF", err)
			}
			st.Close()
			checkClean(t, fake)
			s := fake.sessions()[0]
			if got := strings.Join(names(fake.commandsOf(s)), " "); got != "OPEN SET-PARAMS RECOGNIZE CLOSE" {
				t.Errorf("commands %s", got)
			}
			audio, frames := fake.audioOf(s)
			// The stream ends at the result (single utterance): the last
			// 200 ms after the fake's 800 ms end of speech may not be sent.
			want := tc.law(samples[:len(samples)/160*160])
			if len(audio) < len(want)-1600 || len(audio) > len(want) {
				t.Fatalf("fake got %d samples, want %d (less at most 200 ms)", len(audio), len(want))
			}
			for i := range audio {
				if audio[i] != want[i] {
					t.Fatalf("sample %d: %d, want %d", i, audio[i], want[i])
				}
			}
			if frames[0] != 160 {
				t.Errorf("frame of %d bytes, want 160", frames[0])
			}
		})
	}
}

func TestResampled16k(t *testing.T) {
	fake := newFake(t, nil, script{transcript: "x", silent: true})
	r := newRecognizer(t, fake, nil, nil)
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	write(t, st, make([]int16, 16000), 16000) // one second
	if err := st.Write(media.NewFrame(8000)); !errors.Is(err, ErrFrame) {
		t.Errorf("8 kHz frame on a 16 kHz stream: %v", err)
	}
	st.Close()
	audio, frames := fake.audioOf(fake.sessions()[0])
	if len(frames) < 50 || frames[0] != 320 {
		t.Errorf("frames %v", frames[:min(3, len(frames))])
	}
	if len(audio) < 8000 {
		t.Errorf("%d samples at 8 kHz for one second", len(audio))
	}
}

func TestGrammar(t *testing.T) {
	fake := newFake(t, nil, script{transcript: "oui s'il vous plaît", nlu: []byte(`"oui s'il vous plaît"`), nluType: "builtin:speech/keywords"})
	r := newRecognizer(t, fake, nil, nil)
	g := &stt.Grammar{Rules: []stt.Rule{{Phrase: "oui s'il vous plaît", Value: "yes"}, {Phrase: "non-merci", Value: "no"}}}
	st, err := r.Stream(context.Background(), stt.Config{Language: "fr-FR", SampleRate: 8000, Grammar: g,
		Hints: []string{"builtin:speech/boolean", "plain hint"}, SingleUtterance: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, speech(t, "oui s'il vous plaît", 200*time.Millisecond, time.Second, "-v", "fr"), 8000)
	res, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != "yes" || res.Rejected || res.Confidence != 0.93 {
		t.Errorf("result %+v", res)
	}
	checkClean(t, fake)
	cmds := fake.commandsOf(fake.sessions()[0])
	if got := strings.Join(names(cmds), " "); !strings.HasPrefix(got, "OPEN SET-PARAMS DEFINE-GRAMMAR RECOGNIZE") {
		t.Fatalf("commands %s", got)
	}
	if want := `builtin:speech/keywords?alternatives=oui s'il vous plaît|non\-merci`; cmds[2].Body != want {
		t.Errorf("DEFINE-GRAMMAR body %q, want %q", cmds[2].Body, want)
	}
	if cmds[3].Body != "session:parole\nbuiltin:speech/boolean" {
		t.Errorf("RECOGNIZE body %q", cmds[3].Body)
	}
}

func TestNoMatchRejected(t *testing.T) {
	fake := newFake(t, nil, script{cause: CauseNoMatch, transcript: "blah"})
	r := newRecognizer(t, fake, nil, nil)
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, SingleUtterance: true,
		Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: "yes", Value: "y"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, speech(t, "blah blah", 200*time.Millisecond, time.Second), 8000)
	res, err := st.Recv()
	if err != nil || !res.Final || !res.Rejected || res.Text != "blah" || res.Value != "" {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestNoInputTimeout(t *testing.T) {
	fake := newFake(t, nil, script{transcript: "never"})
	r := newRecognizer(t, fake, nil, func(c *Config) { c.StartInputTimers, c.NoInputTimeout = true, time.Second })
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, make([]int16, 8000*3/2), 8000)
	if res, err := st.Recv(); err != io.EOF {
		t.Fatalf("no input: %+v, %v; want io.EOF and no result", res, err)
	}
	// Audio after the end is dropped, not an error (the session may write
	// one more frame before it sees the end).
	if err := st.Write(media.NewFrame(8000)); err != nil {
		t.Errorf("write after the end: %v", err)
	}
	cmds := fake.commandsOf(fake.sessions()[0])
	if cmds[2].Headers["start_input_timers"] != true || cmds[1].Headers["no_input_timeout"] != float64(1000) {
		t.Errorf("RECOGNIZE %v, SET-PARAMS %v", cmds[2].Headers, cmds[1].Headers)
	}
	checkClean(t, fake)
}

func TestTokenRefresh(t *testing.T) {
	tokens := newTokenServer(t, 2*time.Second)
	fake := newFake(t, tokens, script{silent: true})
	r := newRecognizer(t, fake, tokens, func(c *Config) { c.RefreshBefore = 1500 * time.Millisecond })
	open := func() {
		t.Helper()
		st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	open()
	open()
	if n := r.TokenFetches(); n != 1 {
		t.Fatalf("%d token fetches for two streams within the token's life, want 1", n)
	}
	time.Sleep(700 * time.Millisecond) // within RefreshBefore of the expiry
	open()
	if n := r.TokenFetches(); n != 2 {
		t.Fatalf("%d token fetches, want a refresh before expiry", n)
	}
	time.Sleep(2100 * time.Millisecond) // the first token has expired: the fake refuses it
	open()
	if n := r.TokenFetches(); n != 3 {
		t.Fatalf("%d token fetches", n)
	}
}

func TestUnauthenticated(t *testing.T) {
	tokens := newTokenServer(t, time.Hour)
	fake := newFake(t, tokens, script{})
	r := newRecognizer(t, fake, tokens, func(c *Config) { c.ClientSecret = "wrong" })
	if _, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000}); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bad secret: %v", err)
	}
	r = newRecognizer(t, fake, nil, func(c *Config) { c.Token = "forged" })
	if _, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000}); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("forged token: %v", err)
	}
}

func TestRetryUnavailable(t *testing.T) {
	fake := newFake(t, nil, script{silent: true})
	fake.unavailable = 2
	r := newRecognizer(t, fake, nil, nil)
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	st.Close()
	fake.unavailable = 5
	if _, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("503 past the retries: %v", err)
	}
	if fake.handshakes != 3+3 { // 2 × 503 then OK; 503 × (1 + 2 retries)
		t.Errorf("%d handshakes", fake.handshakes)
	}
}

func TestRefusedCommand(t *testing.T) {
	fake := newFake(t, nil, script{refuse: CmdSetParams})
	r := newRecognizer(t, fake, nil, nil)
	_, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "METHOD-FAILED") {
		t.Fatalf("%v", err)
	}
}

func TestBadEvent(t *testing.T) {
	for _, bad := range []string{`{"event": 12}`, `{"event":"RECOGNITION-COMPLETE","request_id":3,"channel_id":"c","headers":{},"completion_cause":"Success","completion_reason":null,"body":{"asr":"nope"}}`, `not json`, `{"event":"TELEPORTED"}`} {
		fake := newFake(t, nil, script{badEvent: bad})
		r := newRecognizer(t, fake, nil, nil)
		st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		f := media.NewFrame(8000)
		for i, v := range speech(t, "hello", 100*time.Millisecond, time.Second) {
			f.Samples[i%160] = v
			if i%160 == 159 && st.Write(f) != nil {
				break // the stream ended on the bad event
			}
		}
		if _, err := st.Recv(); !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrEvent) {
			t.Errorf("%s: %v", bad, err)
		}
		st.Close()
	}
}

func TestUnexpectedClose(t *testing.T) {
	fake := newFake(t, nil, script{dropAfter: 10})
	r := newRecognizer(t, fake, nil, nil)
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := media.NewFrame(8000)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		werr = st.Write(f)
		time.Sleep(time.Millisecond)
	}
	_, rerr := st.Recv()
	if rerr == nil || rerr == io.EOF || !(errors.Is(rerr, ErrUnavailable) || errors.Is(rerr, ErrProtocol)) {
		t.Errorf("recv after the connection dropped: %v (write: %v)", rerr, werr)
	}
}

func TestContextCancel(t *testing.T) {
	fake := newFake(t, nil, script{silent: true})
	r := newRecognizer(t, fake, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := r.Stream(ctx, stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cancel()
	if _, err := st.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("recv after cancel: %v", err)
	}
}

func TestFinalTimeout(t *testing.T) {
	// The fake hears the speech (START-OF-INPUT) but never completes.
	fake := newFake(t, nil, script{transcript: "x", noComplete: true})
	r := newRecognizer(t, fake, nil, func(c *Config) { c.FinalTimeout = 300 * time.Millisecond })
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, speech(t, "hello there", 100*time.Millisecond, 0), 8000)
	time.Sleep(100 * time.Millisecond) // let START-OF-INPUT arrive
	st.CloseSend()
	if _, err := st.Recv(); !errors.Is(err, ErrTimeout) {
		t.Errorf("%v, want ErrTimeout", err)
	}
	st.Close()
	if got := strings.Join(names(fake.commandsOf(fake.sessions()[0])), " "); got != "OPEN SET-PARAMS RECOGNIZE STOP CLOSE" {
		t.Errorf("commands %s", got)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{URL: "http://x/bots"},
		{URL: "ws://x/bots", ClientID: "a"},
		{URL: "ws://x/bots", ClientID: "a", ClientSecret: "b", Token: "t"},
		{URL: "ws://x/bots", Codec: "opus"},
		{URL: "ws://x/bots", Grammar: "speech/transcribe"},
		{URL: "ws://x/bots", FinalTimeout: -1},
		{URL: "ws://x/bots", ConfidenceThreshold: 2},
		{URL: "ws://x/bots", MaxRetries: -2},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

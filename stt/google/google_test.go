package google

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/speech/apiv1/speechpb"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// audio is test speech: phrases with pauses, as PCM and as sent.
type audio struct {
	rate     int
	pcm      []int16
	sent     []byte   // what the service must receive
	width    int      // bytes a sample in sent
	segments [][2]int // sample ranges of the phrases
	phrases  []string
}

var (
	spokenMu sync.Mutex
	spoken   = map[string][]int16{}
)

// speak returns espeak-ng's 8 kHz telephone rendering of text (cached).
func speak(t testing.TB, text string) []int16 {
	t.Helper()
	spokenMu.Lock()
	defer spokenMu.Unlock()
	if s, ok := spoken[text]; ok {
		return s
	}
	f, err := os.Open(testutil.SpokenWAV(t, text))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, rate, err := wav.ReadAll(f)
	if err != nil || rate != 8000 {
		t.Fatalf("spoken WAV: %v (rate %d)", err, rate)
	}
	spoken[text] = s
	return s
}

// telephone builds 8 kHz μ-law-born audio: the phrases spoken by espeak-ng
// with gap of low noise between them (so that every stretch of audio is
// unique and the fake can place it), encoded to μ-law and decoded back, as
// a PCMU call leg delivers it. sent is the μ-law bytes.
func telephone(t testing.TB, gap time.Duration, phrases ...string) *audio {
	t.Helper()
	a := &audio{rate: 8000, width: 1, phrases: phrases}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(d time.Duration) {
		for range int(d * 8000 / time.Second) {
			a.pcm = append(a.pcm, int16(rng.IntN(17)-8))
		}
	}
	noise(gap)
	for _, p := range phrases {
		s := speak(t, p)
		a.segments = append(a.segments, [2]int{len(a.pcm), len(a.pcm) + len(s)})
		for _, v := range s {
			a.pcm = append(a.pcm, v+int16(rng.IntN(17)-8))
		}
		noise(gap)
	}
	// μ-law has two codes for 0 (0x7F and 0xFF); the encoder writes 0xFF,
	// so the leg's bytes are taken after one round trip.
	a.pcm = g711.DecodeUlaw(nil, g711.EncodeUlaw(nil, a.pcm))
	a.sent = g711.EncodeUlaw(nil, a.pcm)
	return a
}

// tones builds wideband audio at rate: bursts of a 440 Hz tone standing
// for phrases, with low noise between them; sent is LINEAR16.
func tones(rate int, gap time.Duration, phrases ...string) *audio {
	a := &audio{rate: rate, width: 2, phrases: phrases}
	rng := rand.New(rand.NewPCG(3, 4))
	noise := func(d time.Duration) {
		for range int(d * time.Duration(rate) / time.Second) {
			a.pcm = append(a.pcm, int16(rng.IntN(17)-8))
		}
	}
	noise(gap)
	for range phrases {
		n := rate * 8 / 10
		a.segments = append(a.segments, [2]int{len(a.pcm), len(a.pcm) + n})
		for i := range n {
			a.pcm = append(a.pcm, int16(3000*math.Sin(2*math.Pi*440*float64(i)/float64(rate)))+int16(rng.IntN(17)-8))
		}
		noise(gap)
	}
	for _, v := range a.pcm {
		a.sent = binary.LittleEndian.AppendUint16(a.sent, uint16(v))
	}
	return a
}

// answer is the fake's transcript: the phrase that overlaps most the
// utterance the fake heard, with Google's capital and full stop, and a
// lower-ranked alternative.
func (a *audio) answer(start, end int64) []*speechpb.SpeechRecognitionAlternative {
	s, e := int(start)/a.width, int(end)/a.width
	best, most := -1, 0
	for i, seg := range a.segments {
		if o := min(e, seg[1]) - max(s, seg[0]); o > most {
			best, most = i, o
		}
	}
	if best < 0 {
		return nil
	}
	p := a.phrases[best]
	return []*speechpb.SpeechRecognitionAlternative{
		{Transcript: strings.ToUpper(p[:1]) + p[1:] + ".", Confidence: 0.92},
		{Transcript: p + " please", Confidence: 0.4},
	}
}

func (a *audio) dur(samples int) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(a.rate)
}

// feed writes the audio as 20 ms frames, then CloseSend.
func feed(t testing.TB, s stt.Stream, a *audio) { feedPaced(t, s, a, 0) }

// feedPaced writes the audio speed times faster than real time (as fast
// as possible when speed is 0), then CloseSend.
func feedPaced(t testing.TB, s stt.Stream, a *audio, speed int) { feedFollow(t, s, a, speed, nil) }

// feedFollow is feedPaced that also waits (up to 5 s a frame) until the
// service has listened to all but 300 ms of the audio written, as a
// real-time caller never runs ahead of the service by seconds: on this
// shared test machine the fake can stall for longer than that.
func feedFollow(t testing.TB, s stt.Stream, a *audio, speed int, svc *fakeSpeech) {
	t.Helper()
	start := time.Now()
	lag := int64(a.rate*a.width) * 3 / 10
	f := media.NewFrame(a.rate)
	n := media.SamplesPerFrame(a.rate)
	for off := 0; off < len(a.pcm); off += n {
		f.Samples = f.Samples[:min(n, len(a.pcm)-off)]
		copy(f.Samples, a.pcm[off:])
		if err := s.Write(f); err != nil {
			t.Fatalf("Write at %d: %v", off, err)
		}
		f.Samples = f.Samples[:n]
		if speed > 0 {
			time.Sleep(time.Until(start.Add(a.dur(off+n) / time.Duration(speed))))
		}
		for wait := time.Now().Add(5 * time.Second); svc != nil && svc.progress() < int64((off+n)*a.width)-lag && time.Now().Before(wait); {
			time.Sleep(time.Millisecond)
		}
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
}

// collect reads results until the stream ends.
func collect(t testing.TB, s stt.Stream) ([]stt.Result, error) {
	t.Helper()
	var rs []stt.Result
	for {
		r, err := s.Recv()
		if err != nil {
			return rs, err
		}
		rs = append(rs, r)
	}
}

func finals(rs []stt.Result) []stt.Result {
	var f []stt.Result
	for _, r := range rs {
		if r.Final {
			f = append(f, r)
		}
	}
	return f
}

func near(a, b, tol time.Duration) bool { return a-b <= tol && b-a <= tol }

// TestTelephone: espeak-ng speech at 8 kHz goes out as μ-law, byte for
// byte the PCMU the leg received, in 100 ms chunks, after a config that
// carries everything the stt.Config and the recognizer config ask; the
// fake's results come back as final results placed on the stream's time
// line, with words, alternatives and grammar values.
func TestTelephone(t *testing.T) {
	a := telephone(t, 600*time.Millisecond, "book an appointment", "opening hours")
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(t, f, Config{UseEnhanced: true, Punctuation: true})
	s, err := r.Stream(context.Background(), stt.Config{
		Language: "en-GB", SampleRate: 8000, InterimResults: true, MaxAlternatives: 2,
		Hints:   []string{"appointment", "  ", "hours"},
		Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: "Book an appointment", Value: "book"}, {Phrase: "opening hours", Value: "hours"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(t, s, a)
	rs, err := collect(t, s)
	if err != io.EOF {
		t.Fatalf("Recv: %v, want io.EOF", err)
	}
	if v := f.violations(); len(v) > 0 {
		t.Fatal(v)
	}
	if f.ncalls() != 1 {
		t.Fatalf("%d calls, want 1", f.ncalls())
	}
	c := f.call(0)
	rc := c.cfg.GetConfig()
	if rc.GetEncoding() != speechpb.RecognitionConfig_MULAW || rc.GetSampleRateHertz() != 8000 || rc.GetLanguageCode() != "en-GB" ||
		rc.GetModel() != "phone_call" || !rc.GetUseEnhanced() || rc.GetMaxAlternatives() != 2 || !rc.GetEnableWordTimeOffsets() ||
		!rc.GetEnableAutomaticPunctuation() || rc.GetAudioChannelCount() != 1 {
		t.Errorf("recognition config: %v", rc)
	}
	if !c.cfg.GetInterimResults() || c.cfg.GetSingleUtterance() || !c.cfg.GetEnableVoiceActivityEvents() {
		t.Errorf("streaming config: %v", c.cfg)
	}
	ctx := rc.GetSpeechContexts()
	if len(ctx) != 2 || strings.Join(ctx[0].Phrases, "|") != "appointment|hours" || ctx[0].Boost != DefaultHintBoost ||
		strings.Join(ctx[1].Phrases, "|") != "Book an appointment|opening hours" || ctx[1].Boost != DefaultGrammarBoost {
		t.Errorf("speech contexts: %v", ctx)
	}
	if string(c.audio) != string(a.sent) {
		t.Fatalf("the service got %d bytes that differ from the %d μ-law bytes of the leg", len(c.audio), len(a.sent))
	}
	for i, n := range c.chunks {
		if n != 800 && i != len(c.chunks)-1 {
			t.Fatalf("chunk %d is %d bytes, want 800 (100 ms)", i, n)
		}
	}
	fs := finals(rs)
	if len(fs) != 2 {
		t.Fatalf("finals %+v", fs)
	}
	for i, r := range fs {
		seg := a.segments[i]
		want := []string{"book", "hours"}[i]
		if r.Value != want || r.Rejected || r.Confidence != float64(float32(0.92)) || r.Text != a.answer(int64(seg[0]), int64(seg[1]))[0].Transcript {
			t.Errorf("final %d: %+v", i, r)
		}
		if len(r.Alternatives) != 1 || r.Alternatives[0].Text != a.phrases[i]+" please" {
			t.Errorf("final %d alternatives %+v", i, r.Alternatives)
		}
		// espeak-ng's own leading and trailing silence sit inside the
		// segment, and the VAD ends 400 ms after the speech.
		if !near(r.Start, a.dur(seg[0]), 200*time.Millisecond) || r.End < a.dur(seg[1]) || r.End > a.dur(seg[1])+600*time.Millisecond {
			t.Errorf("final %d at %v–%v, phrase at %v–%v", i, r.Start, r.End, a.dur(seg[0]), a.dur(seg[1]))
		}
		if len(r.Words) != len(strings.Fields(r.Text)) || r.Words[0].Start != r.Start || r.Words[len(r.Words)-1].End > r.End {
			t.Errorf("final %d words %+v", i, r.Words)
		}
	}
	// Interim results come before their final and are not final.
	var interims int
	for _, r := range rs {
		if r.Final {
			break
		}
		interims++
		if r.Text == "" || r.Value != "" {
			t.Errorf("interim %+v", r)
		}
	}
	if interims == 0 {
		t.Error("no interim result before the first final")
	}
}

// TestWideband: at 16 kHz the audio goes out as LINEAR16 at the frame
// rate (no resampling), little-endian, with the latest_long model.
func TestWideband(t *testing.T) {
	a := tones(16000, 500*time.Millisecond, "one", "two")
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(t, f, Config{})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(t, s, a)
	rs, err := collect(t, s)
	if err != io.EOF || len(rs) != 2 || rs[0].Text != "One." || rs[1].Text != "Two." {
		t.Fatalf("results %+v, %v", rs, err)
	}
	c := f.call(0)
	rc := c.cfg.GetConfig()
	if rc.GetEncoding() != speechpb.RecognitionConfig_LINEAR16 || rc.GetSampleRateHertz() != 16000 || rc.GetModel() != "latest_long" ||
		rc.GetLanguageCode() != "en-US" || rc.GetMaxAlternatives() != 1 || len(rc.GetSpeechContexts()) != 0 || c.cfg.GetInterimResults() {
		t.Errorf("config %v", c.cfg)
	}
	if string(c.audio) != string(a.sent) {
		t.Fatal("LINEAR16 audio differs from the frames written")
	}
	if c.chunks[0] != 3200 {
		t.Errorf("chunk of %d bytes, want 3200", c.chunks[0])
	}
	for _, r := range rs {
		if r.Value != "" || r.Rejected {
			t.Errorf("without a grammar: %+v", r)
		}
	}
}

// TestRotation: with a 6 s rotation the stream runs over several calls;
// each new call starts with the audio since the last final result, so the
// calls together carry every byte, each utterance is reported once, and
// result times are on the stream's time line, not the call's.
func TestRotation(t *testing.T) {
	phrases := []string{"one two three four", "five six seven eight", "nine ten eleven", "twelve thirteen fourteen", "fifteen sixteen"}
	a := telephone(t, 700*time.Millisecond, phrases...)
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	warns := &countHandler{}
	r := serve(t, f, Config{RotateAfter: 6 * time.Second, Logger: slog.New(warns)})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rs []stt.Result
	var rerr error
	done := make(chan struct{})
	go func() { defer close(done); rs, rerr = collect(t, s) }()
	// Three times real time, never more than 300 ms ahead of the fake: its
	// finals arrive while audio flows, as on a call (unpaced, the writer
	// outruns them by seconds and MaxReplay drops audio).
	feedFollow(t, s, a, 3, f)
	<-done
	if rerr != io.EOF {
		t.Fatal(rerr)
	}
	if v := f.violations(); len(v) > 0 {
		t.Fatal(v)
	}
	total := a.dur(len(a.pcm))
	if n := f.ncalls(); n < int(total/(6*time.Second))+1 {
		t.Fatalf("%d calls for %v of audio with a 6 s rotation", n, total)
	}
	var ends []int64
	for _, r := range rs {
		ends = append(ends, int64(r.End)*8000/int64(time.Second))
	}
	covered := int64(0)
	for i := range f.ncalls() {
		c := f.call(i)
		if len(c.audio) > 6*8000 {
			t.Errorf("call %d carried %d bytes, over the 6 s rotation", i, len(c.audio))
		}
		off := f.global(c, 0)
		t.Logf("call %d: bytes %d–%d (results end at %v)", i, off, off+int64(len(c.audio)), ends)
		if off < 0 || string(a.sent[off:off+int64(len(c.audio))]) != string(c.audio) {
			t.Fatalf("call %d: audio is not a stretch of the written audio", i)
		}
		if off > covered {
			t.Fatalf("call %d starts at byte %d: bytes %d… were never sent", i, off, covered)
		}
		// A call starts at the beginning or where a final result ended.
		if i > 0 && off != 0 && !containsNear(ends, off, 1) {
			t.Errorf("call %d replays from byte %d, not the end of a final result %v", i, off, ends)
		}
		covered = max(covered, off+int64(len(c.audio)))
	}
	if n := warns.n.Load(); n > 0 {
		t.Errorf("%d warnings: audio was dropped from the replay", n)
	}
	if covered != int64(len(a.sent)) {
		t.Fatalf("calls covered %d of %d bytes", covered, len(a.sent))
	}
	if len(rs) != len(phrases) {
		t.Fatalf("%d results for %d phrases: %+v", len(rs), len(phrases), rs)
	}
	for i, r := range rs {
		seg := a.segments[i]
		if !strings.HasPrefix(strings.ToLower(r.Text), phrases[i]) || r.End < a.dur(seg[1]) || r.End > a.dur(seg[1])+600*time.Millisecond ||
			!near(r.Start, a.dur(seg[0]), 200*time.Millisecond) {
			t.Errorf("result %d %q %v–%v, phrase %q at %v–%v", i, r.Text, r.Start, r.End, phrases[i], a.dur(seg[0]), a.dur(seg[1]))
		}
	}
}

// countHandler counts warnings.
type countHandler struct{ n atomic.Int64 }

func (h *countHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *countHandler) WithGroup(string) slog.Handler                { return h }

// TestRotateIdle: a call open RotateAfter of wall time is replaced even
// when little audio went through it (a caller on mute).
func TestRotateIdle(t *testing.T) {
	a := telephone(t, 300*time.Millisecond, "hello")
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(t, f, Config{RotateAfter: 500 * time.Millisecond})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fr := media.NewFrame(8000)
	for range 5 {
		if err := s.Write(fr); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.ncalls() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := f.ncalls(); n < 2 {
		t.Fatalf("%d calls after 10 s with a 500 ms rotation", n)
	}
	if got := len(f.call(0).audio); got > 800 {
		t.Errorf("first call carried %d bytes", got)
	}
}

// TestEarlyEnd: a service that ends every call at once without a result
// is reopened MaxRetries times, then reported.
func TestEarlyEnd(t *testing.T) {
	a := telephone(t, 300*time.Millisecond, "hello")
	f := &fakeSpeech{original: a.sent, answer: a.answer, fail: func(int, int) error { return io.EOF }}
	r := serve(t, f, Config{MaxRetries: 2, RetryBackoff: time.Millisecond})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fr := media.NewFrame(8000)
	for range 50 {
		if s.Write(fr) != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := collect(t, s); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Recv: %v, want ErrUnavailable", err)
	}
	if n := f.ncalls(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func containsNear(xs []int64, x, tol int64) bool {
	for _, v := range xs {
		if v-x <= tol && x-v <= tol {
			return true
		}
	}
	return false
}

// TestRetryUnavailable: the service drops the first call with Unavailable
// after 1.5 s of audio, before any final result; the stream reopens and
// replays from the start, so the utterance is still recognized once.
func TestRetryUnavailable(t *testing.T) {
	a := telephone(t, 500*time.Millisecond, "one two three four five")
	f := &fakeSpeech{original: a.sent, answer: a.answer, fail: func(n, received int) error {
		if n == 0 && received >= 12000 {
			return status.Error(codes.Unavailable, "fake: connection reset")
		}
		return nil
	}}
	r := serve(t, f, Config{RetryBackoff: 10 * time.Millisecond})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(t, s, a)
	rs, err := collect(t, s)
	if err != io.EOF || len(rs) != 1 || rs[0].Text != "One two three four five." {
		t.Fatalf("results %+v, %v", rs, err)
	}
	if f.ncalls() != 2 || f.global(f.call(1), 0) != 0 || len(f.call(1).audio) != len(a.sent) {
		t.Fatalf("%d calls; the second must replay everything", f.ncalls())
	}
}

// TestErrors: gRPC codes map to the sentinels, which wrap the gRPC error;
// Unavailable is retried MaxRetries times, then reported.
func TestErrors(t *testing.T) {
	a := telephone(t, 300*time.Millisecond, "hello")
	for _, tc := range []struct {
		code codes.Code
		want error
	}{
		{codes.Unauthenticated, ErrUnauthenticated},
		{codes.PermissionDenied, ErrUnauthenticated},
		{codes.ResourceExhausted, ErrQuota},
		{codes.DeadlineExceeded, ErrDeadline},
		{codes.Unavailable, ErrUnavailable},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			f := &fakeSpeech{original: a.sent, answer: a.answer, fail: func(int, int) error { return status.Error(tc.code, "fake") }}
			r := serve(t, f, Config{MaxRetries: 2, RetryBackoff: time.Millisecond})
			s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			f2 := media.NewFrame(8000)
			for range 10 {
				if err := s.Write(f2); err != nil {
					break
				}
			}
			s.CloseSend()
			_, err = collect(t, s)
			if !errors.Is(err, tc.want) || status.Code(err) != tc.code {
				t.Fatalf("Recv: %v (code %v), want %v", err, status.Code(err), tc.want)
			}
			calls := 1
			if tc.code == codes.Unavailable {
				calls = 3
			}
			if f.ncalls() != calls {
				t.Errorf("%d calls, want %d", f.ncalls(), calls)
			}
			if err := s.Write(f2); !errors.Is(err, tc.want) {
				t.Errorf("Write after the failure: %v", err)
			}
		})
	}
}

// TestGrammarRejects: a final outside the grammar is rejected; one whose
// alternative is in the grammar takes that alternative.
func TestGrammarRejects(t *testing.T) {
	a := telephone(t, 500*time.Millisecond, "what is the weather", "yes please")
	answer := func(start, end int64) []*speechpb.SpeechRecognitionAlternative {
		alts := a.answer(start, end)
		if len(alts) > 0 && strings.HasPrefix(alts[0].Transcript, "Yes") {
			alts[0].Transcript, alts[1].Transcript = "Yes, plead.", "yes please"
		}
		return alts
	}
	f := &fakeSpeech{original: a.sent, answer: answer}
	r := serve(t, f, Config{})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, MaxAlternatives: 2,
		Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: "Yes, please!", Value: "yes"}, {Phrase: "no", Value: "no"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(t, s, a)
	rs, err := collect(t, s)
	if err != io.EOF || len(rs) != 2 {
		t.Fatalf("%+v %v", rs, err)
	}
	if !rs[0].Rejected || rs[0].Value != "" || rs[0].Text != "What is the weather." {
		t.Errorf("out of grammar: %+v", rs[0])
	}
	if rs[1].Rejected || rs[1].Value != "yes" || rs[1].Text != "yes please" || rs[1].Alternatives[0].Text != "Yes, plead." {
		t.Errorf("alternative in grammar: %+v", rs[1])
	}
}

// TestSingleUtterance: after END_OF_SINGLE_UTTERANCE and the final, no
// more audio is sent and the stream ends.
func TestSingleUtterance(t *testing.T) {
	a := telephone(t, 500*time.Millisecond, "first thing", "second thing")
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(t, f, Config{})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, SingleUtterance: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fr := media.NewFrame(8000)
	var werr error
	for off := 0; off+160 <= len(a.pcm) && werr == nil; off += 160 {
		copy(fr.Samples, a.pcm[off:])
		werr = s.Write(fr)
		time.Sleep(time.Millisecond) // let the final arrive while audio flows
	}
	if !errors.Is(werr, stt.ErrClosed) {
		t.Fatalf("Write after the single utterance: %v, want stt.ErrClosed", werr)
	}
	rs, err := collect(t, s)
	if err != io.EOF || len(rs) != 1 || rs[0].Text != "First thing." {
		t.Fatalf("%+v %v", rs, err)
	}
	if c := f.call(0); !c.cfg.GetSingleUtterance() || len(c.audio) >= len(a.sent) {
		t.Errorf("single_utterance %v, %d of %d bytes sent", c.cfg.GetSingleUtterance(), len(c.audio), len(a.sent))
	}
}

// TestFinalTimeout: a service that never ends the call after CloseSend
// gives ErrDeadline after FinalTimeout.
func TestFinalTimeout(t *testing.T) {
	a := telephone(t, 200*time.Millisecond, "hello")
	f := &fakeSpeech{original: a.sent, answer: a.answer, silentAtEnd: true}
	r := serve(t, f, Config{FinalTimeout: 200 * time.Millisecond})
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(t, s, a)
	if _, err := collect(t, s); !errors.Is(err, ErrDeadline) {
		t.Fatalf("Recv: %v, want ErrDeadline", err)
	}
}

// TestStreamUse: frames of the wrong rate, writes after CloseSend or
// Close, Close twice, Recv after Close, cancelled context, WriteUlaw.
func TestStreamUse(t *testing.T) {
	a := telephone(t, 200*time.Millisecond, "hi")
	f := &fakeSpeech{original: a.sent, answer: a.answer}
	r := serve(t, f, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := r.Stream(ctx, stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(media.NewFrame(16000)); !errors.Is(err, ErrFrame) {
		t.Errorf("16 kHz frame on an 8 kHz stream: %v", err)
	}
	if err := s.Write(nil); !errors.Is(err, ErrFrame) {
		t.Errorf("nil frame: %v", err)
	}
	uw, ok := s.(UlawWriter)
	if !ok {
		t.Fatal("stream is not a UlawWriter")
	}
	if err := uw.WriteUlaw(a.sent); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := collect(t, s); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel: %v", err)
	}
	if c := f.call(0); c != nil && string(c.audio) != string(a.sent[:len(c.audio)]) {
		t.Error("WriteUlaw bytes changed on the way")
	}
	s.Close()
	s.Close()
	if _, err := s.Recv(); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	if err := s.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}

	s2, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.CloseSend()
	if err := s2.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("Write after CloseSend: %v", err)
	}
	if rs, err := collect(t, s2); err != io.EOF || len(rs) != 0 {
		t.Errorf("no audio: %+v %v", rs, err)
	}
}

// TestBadConfig: New and Stream refuse what the service would refuse.
func TestBadConfig(t *testing.T) {
	for _, c := range []Config{
		{RotateAfter: 5 * time.Minute},
		{ChunkDuration: 300 * time.Millisecond},
		{ChunkDuration: 10 * time.Millisecond},
		{RotateAfter: time.Minute, MaxReplay: 40 * time.Second},
		{HintBoost: 21},
		{Encoding: "flac"},
		{Insecure: true},
		{Insecure: true, Endpoint: "x:1", APIKey: "k"},
		{FinalTimeout: -1},
	} {
		if _, err := New(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	f := &fakeSpeech{}
	r := serve(t, f, Config{Encoding: "mulaw"})
	long := strings.Repeat("x", 101)
	many := make([]string, 5001)
	for i := range many {
		many[i] = "word"
	}
	for _, c := range []stt.Config{
		{SampleRate: 16000},
		{SampleRate: 4000},
		{SampleRate: 8000, Hints: []string{long}},
		{SampleRate: 8000, Hints: many},
		{SampleRate: 8000, MaxAlternatives: 31},
		{SampleRate: 8000, Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: long}}}},
	} {
		if s, err := r.Stream(context.Background(), c); !errors.Is(err, stt.ErrUnsupported) {
			t.Errorf("Stream(%d Hz, %d hints): %v, want stt.ErrUnsupported", c.SampleRate, len(c.Hints), err)
			if s != nil {
				s.Close()
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Book an appointment.": "book an appointment",
		"Yes, please!":         "yes please",
		"That’s all":           "that's all",
		"press 4":              "press four",
		"press 42":             "press forty two",
		"room 20":              "room twenty",
		"code 07":              "code zero seven",
		"0612":                 "zero six one two",
		"Call-Forward":         "call forward",
		"'quoted'":             "quoted",
		"Ça va ?":              "ça va",
		"":                     "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

package nuance

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/internal/nuancepb/mixtest"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const spoken = "yes please"

// speech returns 8 kHz espeak-ng speech of text with lead and tail of
// silence around it.
func speech(t testing.TB, text string, lead, tail time.Duration) []int16 {
	t.Helper()
	f, err := os.Open(testutil.SpokenWAV(t, text))
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

// ffmpegSpeech returns where ffmpeg's silencedetect finds the speech of
// samples begin and end.
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

func write(t testing.TB, st stt.Stream, samples []int16) {
	t.Helper()
	f := media.NewFrame(8000)
	for off := 0; off+len(f.Samples) <= len(samples); off += len(f.Samples) {
		copy(f.Samples, samples[off:])
		if err := st.Write(f); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
}

func recvAll(t testing.TB, st stt.Stream) ([]stt.Result, error) {
	t.Helper()
	var out []stt.Result
	for {
		r, err := st.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

var grammar = &stt.Grammar{Rules: []stt.Rule{
	{Phrase: "no thanks", Value: "no"},
	{Phrase: "yes please", Value: "yes"},
	{Phrase: "agent & <operator>", Value: `agent"1"`},
}}

func TestRecognizeSpokenAudio(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &fakeASR{tokens: ts, hyps: []*asrpb.Hypothesis{
		{FormattedText: "Yes please", OptionalHypothesisConfidence: conf(0.87), Words: []*asrpb.Word{word("Yes", "p1"), word("please", "p1")}},
		{FormattedText: "No thanks", OptionalHypothesisConfidence: conf(0.2)},
		{FormattedText: "Yes", OptionalHypothesisConfidence: conf(0.1)},
	}}
	r := newTestRecognizer(t, serve(t, fake), ts, Config{NoInputTimeout: 5 * time.Second, RecognitionTimeout: 20 * time.Second, UserID: "caller-1"})
	audio := speech(t, spoken, 500*time.Millisecond, time.Second)
	cfg := stt.Config{Language: "en-GB", SampleRate: 8000, Hints: []string{"yes please", " yes  please", "", "agent"},
		Grammar: grammar, InterimResults: true, SingleUtterance: true, EndSilence: 600 * time.Millisecond, MaxAlternatives: 2}
	st, err := r.Stream(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, audio)
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	results, err := recvAll(t, st)
	if err != nil {
		t.Fatal(err)
	}

	// The init message the service got.
	if len(fake.getInits()) != 1 || len(fake.getErrs()) != 0 {
		t.Fatalf("%d init messages, violations %v", len(fake.getInits()), fake.getErrs())
	}
	in := fake.getInits()[0]
	p := in.GetParameters()
	if p.GetLanguage() != "en-GB" || p.GetTopic() != "GEN" || p.GetAudioFormat().GetPcm().GetSampleRateHz() != 8000 ||
		p.GetUtteranceDetectionMode() != asrpb.EnumUtteranceDetectionMode_SINGLE || p.GetResultType() != asrpb.EnumResultType_PARTIAL ||
		p.GetNoInputTimeoutMs() != 5000 || p.GetRecognitionTimeoutMs() != 20000 || p.GetUtteranceEndSilenceMs() != 600 ||
		p.GetMaxHypotheses() != 2 || in.GetUserId() != "caller-1" {
		t.Errorf("parameters: %v, user %q", p, in.GetUserId())
	}
	if fake.getTokens()[0] != "tok-1" {
		t.Errorf("bearer token %q", fake.getTokens()[0])
	}
	res := in.GetResources()
	if len(res) != 2 {
		t.Fatalf("%d resources, want wordset and grammar", len(res))
	}
	var ws map[string][]struct{ Literal string }
	if err := json.Unmarshal([]byte(res[0].GetInlineWordset()), &ws); err != nil {
		t.Fatalf("wordset %q: %v", res[0].GetInlineWordset(), err)
	}
	if got := ws[DefaultHintEntity]; len(ws) != 1 || len(got) != 2 || got[0].Literal != "yes please" || got[1].Literal != "agent" {
		t.Errorf("wordset %s", res[0].GetInlineWordset())
	}
	checkGrXML(t, res[1].GetInlineGrammar(), "en-GB", grammar)

	// The audio the service got is the audio written, sample for sample,
	// up to the end of the single utterance (the service stops reading
	// there).
	got := fake.getReceived()[0]
	if len(got) > len(audio) || len(got) < 8000 {
		t.Fatalf("service got %d samples, %d written", len(got), len(audio))
	}
	for i := range got {
		if got[i] != audio[i] {
			t.Fatalf("sample %d: %d, wrote %d", i, got[i], audio[i])
		}
	}

	// Results: partials then one final, mapped.
	if len(results) < 2 {
		t.Fatalf("results %+v", results)
	}
	final := results[len(results)-1]
	for _, r := range results[:len(results)-1] {
		if r.Final || r.Text != "Yes p" {
			t.Errorf("interim %+v", r)
		}
	}
	if time.Duration(len(got))*time.Second/8000 < final.End {
		t.Errorf("final result ends at %v, after the %d samples received", final.End, len(got))
	}
	if !final.Final || final.Rejected || final.Text != "Yes please" || final.Value != "yes" || final.Confidence < 0.869 || final.Confidence > 0.871 {
		t.Errorf("final %+v", final)
	}
	if len(final.Alternatives) != 1 || final.Alternatives[0].Text != "No thanks" {
		t.Errorf("alternatives %+v (MaxAlternatives 2)", final.Alternatives)
	}
	if len(final.Words) != 2 || final.Words[0].Text != "Yes" || final.Words[0].Start != final.Start || final.Words[1].End > final.End+time.Millisecond {
		t.Errorf("words %+v in [%v, %v]", final.Words, final.Start, final.End)
	}
	// Where the speech is: the fake's timing of the audio it got against
	// ffmpeg's silencedetect on the audio written.
	start, end := ffmpegSpeech(t, audio)
	t.Logf("speech: fake [%v, %v], ffmpeg silencedetect [%v, %v]; %d results", final.Start, final.End, start, end, len(results))
	if d := final.Start - start; d < -60*time.Millisecond || d > 60*time.Millisecond {
		t.Errorf("speech starts at %v, ffmpeg says %v", final.Start, start)
	}
	if d := final.End - end; d < -60*time.Millisecond || d > 60*time.Millisecond {
		t.Errorf("speech ends at %v, ffmpeg says %v", final.End, end)
	}
}

// checkGrXML parses the grammar as SRGS XML and checks it holds every
// phrase with its value under the root rule.
func checkGrXML(t *testing.T, doc, lang string, g *stt.Grammar) {
	t.Helper()
	var gx struct {
		XMLName xml.Name `xml:"http://www.w3.org/2001/06/grammar grammar"`
		Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Root    string   `xml:"root,attr"`
		Format  string   `xml:"tag-format,attr"`
		Rules   []struct {
			ID    string `xml:"id,attr"`
			Scope string `xml:"scope,attr"`
			Text  string `xml:",chardata"`
			Tag   string `xml:"tag"`
			Refs  []struct {
				URI string `xml:"uri,attr"`
			} `xml:"one-of>item>ruleref"`
		} `xml:"rule"`
	}
	if err := xml.Unmarshal([]byte(doc), &gx); err != nil {
		t.Fatalf("grammar is not XML: %v\n%s", err, doc)
	}
	if gx.Lang != lang || gx.Root != "parole" || gx.Format != "semantics/1.0-literals" || len(gx.Rules) != len(g.Rules)+1 {
		t.Fatalf("grammar header %+v\n%s", gx, doc)
	}
	root := gx.Rules[0]
	if root.ID != "parole" || root.Scope != "public" || len(root.Refs) != len(g.Rules) {
		t.Fatalf("root rule %+v", root)
	}
	for i, r := range g.Rules {
		rule := gx.Rules[i+1]
		if root.Refs[i].URI != "#"+rule.ID || rule.ID != "p"+strconv.Itoa(i) || strings.TrimSpace(rule.Text) != r.Phrase || rule.Tag != r.Value {
			t.Errorf("rule %d: %+v, want %+v", i, rule, r)
		}
	}
}

func TestULawAndRejection(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &fakeASR{tokens: ts, hyps: []*asrpb.Hypothesis{
		{FormattedText: "maybe later", OptionalHypothesisAverageConfidence: &asrpb.Hypothesis_AverageConfidence{AverageConfidence: 0.4}},
	}}
	r := newTestRecognizer(t, serve(t, fake), ts, Config{Encoding: ULaw})
	audio := speech(t, "maybe later", 300*time.Millisecond, 800*time.Millisecond)
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: grammar})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(t, st, audio)
	st.CloseSend()
	results, err := recvAll(t, st)
	if err != nil {
		t.Fatal(err)
	}
	p := fake.getInits()[0].GetParameters()
	if p.GetAudioFormat().GetUlaw() == nil || p.GetLanguage() != DefaultLanguage || p.GetResultType() != asrpb.EnumResultType_FINAL ||
		p.GetUtteranceDetectionMode() != asrpb.EnumUtteranceDetectionMode_MULTIPLE {
		t.Errorf("parameters %v", p)
	}
	// μ-law: the service decodes what was sent to within the law's step.
	got := fake.getReceived()[0]
	if len(got) != len(audio)/160*160 {
		t.Fatalf("%d samples received", len(got))
	}
	for i := range got {
		d := int(got[i]) - int(audio[i])
		if tol := max(8, abs(int(audio[i]))/16); d > tol || d < -tol {
			t.Fatalf("sample %d: %d for %d", i, got[i], audio[i])
		}
	}
	if len(results) != 1 || !results[0].Final || !results[0].Rejected || results[0].Value != "" || results[0].Text != "maybe later" || results[0].Confidence < 0.39 {
		t.Errorf("out-of-grammar speech: %+v", results)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestEngineRejects(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &fakeASR{tokens: ts, hyps: []*asrpb.Hypothesis{{FormattedText: "yes please", Rejected: true}}}
	r := newTestRecognizer(t, serve(t, fake), ts, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	write(t, st, speech(t, spoken, 200*time.Millisecond, 700*time.Millisecond))
	st.CloseSend()
	results, err := recvAll(t, st)
	if err != nil || len(results) != 1 || !results[0].Rejected {
		t.Fatalf("rejected hypothesis: %+v, %v", results, err)
	}
}

func TestRetryReplaysAudio(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &fakeASR{tokens: ts, hyps: []*asrpb.Hypothesis{{FormattedText: "yes please"}},
		fail: []codes.Code{codes.Unavailable, codes.ResourceExhausted}, failAt: 300 * time.Millisecond}
	r := newTestRecognizer(t, serve(t, fake), ts, Config{RetryBackoff: 10 * time.Millisecond})
	audio := speech(t, spoken, 600*time.Millisecond, 700*time.Millisecond)
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	defer st.Close()
	write(t, st, audio)
	st.CloseSend()
	results, err := recvAll(t, st)
	if err != nil || len(results) != 1 || results[0].Text != "yes please" {
		t.Fatalf("after two failures: %+v, %v", results, err)
	}
	if fake.nCalls() != 3 {
		t.Fatalf("%d attempts, want 3", fake.nCalls())
	}
	// The last attempt got all the audio, from the first sample.
	got := fake.getReceived()[2]
	if len(got) != len(audio)/160*160 || got[4000] != audio[4000] || got[len(got)-1] != audio[len(got)-1] {
		t.Fatalf("last attempt got %d samples of %d", len(got), len(audio))
	}
	for i := range got {
		if got[i] != audio[i] {
			t.Fatalf("replayed sample %d differs", i)
		}
	}
	for i, in := range fake.getInits() {
		if in.GetParameters().GetLanguage() != DefaultLanguage {
			t.Errorf("attempt %d init %v", i, in)
		}
	}
}

func TestErrors(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	run := func(t *testing.T, fake *fakeASR, cfg Config) error {
		fake.tokens = ts
		r := newTestRecognizer(t, serve(t, fake), ts, cfg)
		st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, err = recvAll(t, st)
		return err
	}
	t.Run("exhausted after retries", func(t *testing.T) {
		fake := &fakeASR{fail: []codes.Code{codes.ResourceExhausted, codes.ResourceExhausted, codes.ResourceExhausted}}
		err := run(t, fake, Config{MaxRetries: 2, RetryBackoff: time.Millisecond})
		if !errors.Is(err, ErrResourceExhausted) || status.Code(err) != codes.ResourceExhausted || fake.nCalls() != 3 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
	t.Run("deadline not retried", func(t *testing.T) {
		fake := &fakeASR{fail: []codes.Code{codes.DeadlineExceeded}}
		err := run(t, fake, Config{})
		if !errors.Is(err, ErrDeadlineExceeded) || status.Code(err) != codes.DeadlineExceeded || fake.nCalls() != 1 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		fake := &fakeASR{fail: []codes.Code{codes.Unauthenticated}}
		if err := run(t, fake, Config{}); !errors.Is(err, ErrUnauthenticated) || fake.nCalls() != 1 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		fake := &fakeASR{tokens: ts}
		r := newTestRecognizer(t, serve(t, fake), ts, Config{})
		r2, err := New(Config{Endpoint: r.cfg.Endpoint, ClientID: mixtest.ClientID, ClientSecret: "nope", TokenURL: ts.TokenURL(), Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		st, _ := r2.Stream(context.Background(), stt.Config{SampleRate: 8000})
		defer st.Close()
		if _, err := st.Recv(); !errors.Is(err, ErrUnauthenticated) || fake.nCalls() != 0 {
			t.Fatalf("%v, %d calls reached the service", err, fake.nCalls())
		}
	})
	t.Run("status 400", func(t *testing.T) {
		err := run(t, &fakeASR{status: 400}, Config{})
		var se *StatusError
		if !errors.Is(err, ErrStatus) || !errors.As(err, &se) || se.Code != 400 || se.Details != "scripted" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("open timeout", func(t *testing.T) {
		fake := &fakeASR{noAnswer: true}
		err := run(t, fake, Config{OpenTimeout: 100 * time.Millisecond, MaxRetries: 1, RetryBackoff: time.Millisecond})
		if !errors.Is(err, ErrOpenTimeout) || fake.nCalls() != 2 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
}

func TestCloseWhileWaiting(t *testing.T) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &fakeASR{tokens: ts, noAnswer: true}
	r := newTestRecognizer(t, serve(t, fake), ts, Config{})
	st, _ := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	write(t, st, make([]int16, 1600))
	st.Close()
	st.Close()
	if _, err := st.Recv(); !errors.Is(err, stt.ErrClosed) {
		t.Fatalf("Recv after Close: %v", err)
	}
	if err := st.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{ClientID: "x"},
		{Encoding: "mp3"},
		{NoInputTimeout: -1},
		{MaxRetries: -2},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	r, err := New(Config{Endpoint: "127.0.0.1:1", Encoding: ALaw})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []stt.Config{
		{SampleRate: 16000},
		{SampleRate: 8000, Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: "  "}}}},
	} {
		if _, err := r.Stream(context.Background(), c); !errors.Is(err, stt.ErrUnsupported) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	r2, _ := New(Config{Endpoint: "127.0.0.1:1"})
	defer r2.Close()
	if _, err := r2.Stream(context.Background(), stt.Config{SampleRate: 11025}); !errors.Is(err, stt.ErrUnsupported) {
		t.Errorf("PCM at 11025 Hz: %v", err)
	}
	st, err := r2.Stream(context.Background(), stt.Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrUnsupported) {
		t.Errorf("8 kHz frame on a 16 kHz stream: %v", err)
	}
}

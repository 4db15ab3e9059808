package sphinx

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sounds = "/usr/share/asterisk/sounds/en/"

var (
	shared     *Recognizer
	sharedOnce sync.Once
	sharedErr  error
)

// recognizer returns a recognizer shared by the tests (its pool keeps the
// model loaded between them).
func recognizer(t *testing.T) *Recognizer {
	t.Helper()
	testutil.RequireFile(t, DefaultModelDir+"/mdef", "pocketsphinx-en-us")
	sharedOnce.Do(func() { shared, sharedErr = New(Config{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func prompt(t testing.TB, name string) []int16 {
	t.Helper()
	path := testutil.RequireFile(t, sounds+name+".wav", "asterisk-core-sounds-en-wav")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, rate, err := wav.ReadAll(f)
	if err != nil || rate != 8000 {
		t.Fatalf("%s: %d Hz, %v", path, rate, err)
	}
	return s
}

// padded surrounds samples with d of silence on both sides.
func padded(samples []int16, rate int, d time.Duration) []int16 {
	n := int(d.Seconds() * float64(rate))
	out := make([]int16, 0, len(samples)+2*n)
	out = append(out, make([]int16, n)...)
	out = append(out, samples...)
	return append(out, make([]int16, n)...)
}

// feed writes audio in 20 ms frames, CloseSends and returns every result.
func feed(t *testing.T, s stt.Stream, audio []int16, rate int) []stt.Result {
	t.Helper()
	f := media.NewFrame(rate)
	n := len(f.Samples)
	for off := 0; off+n <= len(audio); off += n {
		copy(f.Samples, audio[off:])
		if err := s.Write(f); err != nil {
			if errors.Is(err, stt.ErrClosed) {
				break // single utterance done
			}
			t.Fatal(err)
		}
	}
	if err := s.CloseSend(); err != nil && !errors.Is(err, stt.ErrClosed) {
		t.Fatal(err)
	}
	var out []stt.Result
	for {
		r, err := s.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func finals(rs []stt.Result) []stt.Result {
	var out []stt.Result
	for _, r := range rs {
		if r.Final {
			out = append(out, r)
		}
	}
	return out
}

var promptGrammar = &stt.Grammar{Rules: []stt.Rule{
	{Phrase: "Please enter your password followed by the pound key.", Value: "password"},
	{Phrase: "All circuits are busy now.", Value: "busy"},
	{Phrase: "Please check the number and dial again.", Value: "check"},
	{Phrase: "Your call cannot be completed as dialed.", Value: "cannot"},
	{Phrase: "Thank you.", Value: "thanks"},
	{Phrase: "Goodbye.", Value: "bye"},
}}

func TestGrammarPrompts(t *testing.T) {
	r := recognizer(t)
	for _, c := range []struct{ name, text, value string }{
		{"agent-pass", "please enter your password followed by the pound key", "password"},
		{"all-circuits-busy-now", "all circuits are busy now", "busy"},
		{"check-number-dial-again", "please check the number and dial again", "check"},
		{"cannot-complete-as-dialed", "your call cannot be completed as dialed", "cannot"},
		{"auth-thankyou", "thank you", "thanks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := r.Stream(context.Background(), stt.Config{Language: "en-US", SampleRate: 8000, Grammar: promptGrammar, SingleUtterance: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			fs := finals(feed(t, s, padded(prompt(t, c.name), 8000, 500*time.Millisecond), 8000))
			if len(fs) != 1 {
				t.Fatalf("%d final results, want 1: %+v", len(fs), fs)
			}
			if f := fs[0]; f.Rejected || f.Text != c.text || f.Value != c.value {
				t.Errorf("got %q value %q rejected %v, want %q value %q", f.Text, f.Value, f.Rejected, c.text, c.value)
			}
		})
	}
}

func TestGrammarRejectsOutOfGrammar(t *testing.T) {
	r := recognizer(t)
	for _, name := range []string{"conf-muted", "vm-intro"} {
		s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: promptGrammar, SingleUtterance: true})
		if err != nil {
			t.Fatal(err)
		}
		fs := finals(feed(t, s, padded(prompt(t, name), 8000, 500*time.Millisecond), 8000))
		s.Close()
		if len(fs) == 0 {
			t.Fatalf("%s: no final result", name)
		}
		if !fs[0].Rejected || fs[0].Value != "" {
			t.Errorf("%s: got %+v, want a rejected result", name, fs[0])
		}
	}
}

func TestEspeakDemoPhrases(t *testing.T) {
	r := recognizer(t)
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	sox := testutil.RequireTool(t, "sox", "sox")
	menu := &stt.Grammar{Rules: []stt.Rule{
		{Phrase: "opening hours", Value: "hours"}, {Phrase: "when are you open", Value: "hours"},
		{Phrase: "book an appointment", Value: "book"}, {Phrase: "I'd like to book", Value: "book"},
		{Phrase: "operator", Value: "operator"}, {Phrase: "talk to someone", Value: "operator"},
		{Phrase: "yes", Value: "yes"}, {Phrase: "no", Value: "no"},
	}}
	dir := t.TempDir()
	for _, c := range []struct{ voice, text, value string }{
		{"en-us", "book an appointment", "book"},
		{"en-gb", "when are you open", "hours"},
		{"en+f3", "talk to someone", "operator"},
		{"en-us", "I'd like to book", "book"},
	} {
		audio := synth(t, espeak, sox, dir, c.voice, c.text)
		s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: menu, SingleUtterance: true})
		if err != nil {
			t.Fatal(err)
		}
		fs := finals(feed(t, s, padded(audio, 8000, 500*time.Millisecond), 8000))
		s.Close()
		want := strings.Join(Normalize(c.text), " ")
		if len(fs) != 1 || fs[0].Text != want || fs[0].Value != c.value || fs[0].Rejected {
			t.Errorf("%s %q: got %+v, want %q → %s", c.voice, c.text, fs, want, c.value)
		}
	}
}

// synth speaks text with espeak-ng and converts it to 8 kHz with sox.
func synth(t *testing.T, espeak, sox, dir, voice, text string) []int16 {
	t.Helper()
	return synthRate(t, espeak, sox, dir, voice, text, 8000)
}

func synthRate(t *testing.T, espeak, sox, dir, voice, text string, rate int) []int16 {
	t.Helper()
	raw, out := dir+"/e.wav", dir+"/e8.wav"
	if b, err := exec.Command(espeak, "-v", voice, "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, b)
	}
	if b, err := exec.Command(sox, raw, "-r", strconv.Itoa(rate), out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, _, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFreeTextInterimAndWordTimes(t *testing.T) {
	r := recognizer(t)
	// run twice: the second stream reuses the pooled decoder, whose word
	// times must start again from the stream's first frame
	for i := range 2 {
		s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, InterimResults: true})
		if err != nil {
			t.Fatal(err)
		}
		audio := prompt(t, "agent-pass")
		res := feed(t, s, padded(audio, 8000, time.Second), 8000)
		s.Close()
		var interim int
		for _, r := range res {
			if !r.Final {
				interim++
			}
		}
		fs := finals(res)
		if interim == 0 || len(fs) == 0 {
			t.Fatalf("run %d: %d interim, %d final results", i, interim, len(fs))
		}
		f := fs[0]
		if f.Text == "" || len(f.Words) == 0 {
			t.Fatalf("run %d: final %+v has no words", i, f)
		}
		speechEnd := time.Second + time.Duration(len(audio))*time.Second/8000
		prev := time.Duration(0)
		for _, w := range f.Words {
			if w.Start < prev || w.End <= w.Start || w.End > speechEnd+300*time.Millisecond {
				t.Errorf("run %d: word %+v out of order or outside the audio", i, w)
			}
			prev = w.End
		}
		// the prompt starts after one second of silence
		if f.Start < 800*time.Millisecond || f.Start > 1500*time.Millisecond {
			t.Errorf("run %d: utterance starts at %v, want about 1 s", i, f.Start)
		}
		t.Logf("run %d: %d interim; final %q %v–%v", i, interim, f.Text, f.Start, f.End)
	}
}

func Test16kInput(t *testing.T) {
	r := recognizer(t)
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	sox := testutil.RequireTool(t, "sox", "sox")
	audio := synthRate(t, espeak, sox, t.TempDir(), "en-us", "all circuits are busy now", 16000)
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 16000, Grammar: promptGrammar})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs := finals(feed(t, s, padded(audio, 16000, 500*time.Millisecond), 16000))
	if len(fs) != 1 || fs[0].Value != "busy" {
		t.Errorf("got %+v, want one final 'busy'", fs)
	}
}

func TestNative8kFrontEnd(t *testing.T) {
	testutil.RequireFile(t, DefaultModelDir+"/mdef", "pocketsphinx-en-us")
	r, err := New(Config{FrontEnd: Native8k, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: promptGrammar})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs := finals(feed(t, s, padded(prompt(t, "agent-pass"), 8000, 500*time.Millisecond), 8000))
	// the 8 kHz front end runs and yields a final result; its accuracy is
	// measured in benchmarks/stt
	if len(fs) == 0 {
		t.Fatal("no final result")
	}
}

func TestConfigErrors(t *testing.T) {
	r := recognizer(t)
	ctx := context.Background()
	if _, err := r.Stream(ctx, stt.Config{Language: "fr-FR", SampleRate: 8000}); !errors.Is(err, stt.ErrUnsupported) {
		t.Errorf("French: %v, want ErrUnsupported", err)
	}
	for _, rate := range []int{0, -8000, 4000, 96000} {
		if _, err := r.Stream(ctx, stt.Config{SampleRate: rate}); !errors.Is(err, stt.ErrUnsupported) {
			t.Errorf("rate %d: %v, want ErrUnsupported", rate, err)
		}
	}
	if _, err := r.Stream(ctx, stt.Config{SampleRate: 8000, Grammar: &stt.Grammar{}}); !errors.Is(err, ErrGrammar) {
		t.Errorf("empty grammar: %v, want ErrGrammar", err)
	}
	g := &stt.Grammar{Rules: []stt.Rule{{Phrase: "xyzzyq plugh", Value: "magic"}}}
	if _, err := r.Stream(ctx, stt.Config{SampleRate: 8000, Grammar: g}); !errors.Is(err, ErrGrammar) || !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown words only: %v, want ErrGrammar and ErrUnknownWord", err)
	}
	g.Rules = append(g.Rules, stt.Rule{Phrase: "yes", Value: "yes"})
	var uw *UnknownWordsError
	if err := r.CheckGrammar(g); !errors.As(err, &uw) || len(uw.Phrases["xyzzyq plugh"]) != 2 {
		t.Errorf("CheckGrammar: %v, want the two unknown words", err)
	}
	if _, err := New(Config{ModelDir: t.TempDir()}); !errors.Is(err, ErrModel) {
		t.Errorf("missing model: %v, want ErrModel", err)
	}
}

func TestStreamLifecycle(t *testing.T) {
	r := recognizer(t)
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(&media.Frame{Rate: 8000}); err != nil {
		t.Errorf("empty frame: %v", err)
	}
	if err := s.Write(media.NewFrame(16000)); !errors.Is(err, ErrFrameRate) {
		t.Errorf("16 kHz frame in an 8 kHz stream: %v, want ErrFrameRate", err)
	}
	if err := s.Write(nil); err == nil {
		t.Error("nil frame accepted")
	}
	if err := s.Write(&media.Frame{Samples: make([]int16, 7), Rate: 8000}); err != nil {
		t.Errorf("short frame: %v", err)
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("write after CloseSend: %v, want ErrClosed", err)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Errorf("Recv after silence: %v, want EOF", err)
	}
	s.Close()
	s.Close()
	if _, err := s.Recv(); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("Recv after Close: %v, want ErrClosed", err)
	}
	if err := s.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
}

func TestContextCancel(t *testing.T) {
	r := recognizer(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := r.Stream(ctx, stt.Config{SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error)
	go func() {
		_, err := s.Recv()
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel: %v, want context.Canceled", err)
	}
	if err := s.Write(media.NewFrame(8000)); !errors.Is(err, stt.ErrClosed) {
		t.Errorf("Write after cancel: %v, want ErrClosed", err)
	}
}

// A stream opened with a context already done ends at once, without a race
// between its set-up and the abort (the race detector checks).
func TestContextDoneBeforeStream(t *testing.T) {
	r := recognizer(t)
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s, err := r.Stream(ctx, stt.Config{SampleRate: 8000})
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
			t.Errorf("Recv: %v, want context.Canceled", err)
		}
		s.Close()
	}
}

func TestWriteAllocs(t *testing.T) {
	r := recognizer(t)
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: promptGrammar})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	audio := prompt(t, "agent-pass")
	f := media.NewFrame(8000)
	off := 0
	// speech and silence frames alike; the prompt loops, so utterances
	// end now and then (their results allocate): count the median
	allocs := testing.AllocsPerRun(200, func() {
		if off+160 > len(audio) {
			off = 0
		}
		copy(f.Samples, audio[off:off+160])
		off += 160
		if err := s.Write(f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("Write allocates %.2f times per frame", allocs)
	}
}

func TestHintsUseLanguageModel(t *testing.T) {
	r := recognizer(t)
	s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Hints: []string{"appointment", "xyzzyq"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs := finals(feed(t, s, padded(prompt(t, "all-circuits-busy-now"), 8000, 500*time.Millisecond), 8000))
	if len(fs) == 0 || fs[0].Value != "" {
		t.Errorf("got %+v, want free-text results", fs)
	}
}

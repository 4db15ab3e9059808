package espeak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const threeSentences = "Welcome to the Parole demo line. You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?"

func newSynth(t testing.TB) *Synthesizer {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collect reads a whole stream.
func collect(t testing.TB, st tts.Stream) ([]int16, []tts.Mark, int) {
	t.Helper()
	defer st.Close()
	var pcm []int16
	var marks []tts.Mark
	chunks := 0
	for {
		c, err := st.Recv()
		if err == io.EOF {
			return pcm, marks, chunks
		}
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		pcm = append(pcm, c.Samples...)
		marks = append(marks, c.Marks...)
	}
}

func say(t testing.TB, s *Synthesizer, req tts.Request) ([]int16, []tts.Mark) {
	t.Helper()
	st, err := s.Synthesize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	pcm, marks, _ := collect(t, st)
	return pcm, marks
}

// words returns the text each mark points at.
func words(t *testing.T, doc string, marks []tts.Mark) []string {
	t.Helper()
	var out []string
	var last time.Duration
	for _, m := range marks {
		if m.Offset < 0 || m.Len <= 0 || m.Offset+m.Len > len(doc) {
			t.Fatalf("mark %+v outside the %d-byte text", m, len(doc))
		}
		if m.At < last {
			t.Fatalf("marks out of order: %v after %v", m.At, last)
		}
		last = m.At
		out = append(out, doc[m.Offset:m.Offset+m.Len])
	}
	return out
}

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(pcm), 1)))
}

func TestLanguagesAndRates(t *testing.T) {
	s := newSynth(t)
	for _, tc := range []struct{ lang, text string }{
		{"en-US", "Welcome to the Parole demo line."},
		{"en-GB", "Welcome to the Parole demo line."},
		{"fr-FR", "Bienvenue sur la ligne de démonstration Parole."},
	} {
		for _, rate := range []int{8000, 16000, 22050, 24000, 48000} {
			st, err := s.Synthesize(context.Background(), tts.Request{Text: tc.text, Language: tc.lang, SampleRate: rate})
			if err != nil {
				t.Fatal(err)
			}
			pcm, marks, chunks := collect(t, st)
			d := time.Duration(len(pcm)) * time.Second / time.Duration(rate)
			if d < time.Second || d > 5*time.Second || rms(pcm) < 500 {
				t.Errorf("%s %d Hz: %v of audio, RMS %.0f", tc.lang, rate, d, rms(pcm))
			}
			got := strings.Join(words(t, tc.text, marks), " ")
			if got != tc.text {
				t.Errorf("%s %d Hz: marks spell %q, want %q", tc.lang, rate, got, tc.text)
			}
			if chunks < 5 {
				t.Errorf("%s: %d chunks, want the audio streamed in pieces", tc.lang, chunks)
			}
		}
	}
}

func TestVoices(t *testing.T) {
	s := newSynth(t)
	for _, tc := range []struct{ req tts.Request }{
		{tts.Request{Language: "en-US"}},
		{tts.Request{Language: "fr-CA"}},
		{tts.Request{Voice: "English_(Great_Britain)"}},
		{tts.Request{Voice: "gmw/en-US"}},
		{tts.Request{Voice: "gmw/en-US+f3"}},
		{tts.Request{}},
	} {
		tc.req.Text, tc.req.SampleRate = "Hello there.", 16000
		pcm, _ := say(t, s, tc.req)
		if rms(pcm) < 500 {
			t.Errorf("%+v: RMS %.0f", tc.req, rms(pcm))
		}
	}
	if len(s.Voices()) < 50 {
		t.Errorf("%d voices", len(s.Voices()))
	}
	// voices differ: English and French readings of one text
	en, _ := say(t, s, tts.Request{Text: "Bonjour", Language: "en-US", SampleRate: 8000})
	fr, _ := say(t, s, tts.Request{Text: "Bonjour", Language: "fr-FR", SampleRate: 8000})
	if equal(en, fr) {
		t.Error("en-US and fr-FR gave the same audio")
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadRequests(t *testing.T) {
	s := newSynth(t)
	for _, tc := range []struct {
		name string
		req  tts.Request
		want error
	}{
		{"empty", tts.Request{SampleRate: 8000}, ErrEmpty},
		{"blank", tts.Request{Text: " \n\t", SampleRate: 8000}, ErrEmpty},
		{"unknown language", tts.Request{Text: "hi", Language: "xx-YY", SampleRate: 8000}, tts.ErrUnsupported},
		{"unknown voice", tts.Request{Text: "hi", Voice: "nobody", SampleRate: 8000}, tts.ErrUnsupported},
		{"mbrola voice", tts.Request{Text: "hi", Voice: "us-mbrola-1", SampleRate: 8000}, tts.ErrUnsupported},
		{"no rate", tts.Request{Text: "hi"}, tts.ErrUnsupported},
		{"odd rate", tts.Request{Text: "hi", SampleRate: 7}, tts.ErrUnsupported},
		{"negative speed", tts.Request{Text: "hi", SampleRate: 8000, Rate: -1}, tts.ErrUnsupported},
		{"NaN speed", tts.Request{Text: "hi", SampleRate: 8000, Rate: math.NaN()}, tts.ErrUnsupported},
		{"unclosed", tts.Request{SSML: "<speak>hello", SampleRate: 8000}, tts.ErrBadSSML},
		{"mismatched", tts.Request{SSML: "<speak><s>hello</p></speak>", SampleRate: 8000}, tts.ErrBadSSML},
		{"two roots", tts.Request{SSML: "<speak>a</speak><speak>b</speak>", SampleRate: 8000}, tts.ErrBadSSML},
		{"text after root", tts.Request{SSML: "<speak>a</speak> b", SampleRate: 8000}, tts.ErrBadSSML},
		{"bad entity", tts.Request{SSML: "<speak>a &nope; b</speak>", SampleRate: 8000}, tts.ErrBadSSML},
		{"bad break", tts.Request{SSML: `<speak>a <break time="soon"/> b</speak>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"huge break", tts.Request{SSML: `<speak>a <break time="1h"/> b</speak>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"bad strength", tts.Request{SSML: `<speak>a <break strength="loud"/> b</speak>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"bad prosody", tts.Request{SSML: `<speak><prosody rate="warp">a</prosody></speak>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"DTD", tts.Request{SSML: `<!DOCTYPE speak><speak>a</speak>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"wrong root", tts.Request{SSML: `<?xml version="1.0"?><html>a</html>`, SampleRate: 8000}, tts.ErrBadSSML},
		{"not UTF-8", tts.Request{SSML: "<speak>\xff</speak>", SampleRate: 8000}, tts.ErrBadSSML},
	} {
		st, err := s.Synthesize(context.Background(), tc.req)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if st != nil {
			st.Close()
			t.Errorf("%s: a stream with the error", tc.name)
		}
	}
}

func TestSSMLMarksAndDigits(t *testing.T) {
	s := newSynth(t)
	doc := `<speak>Code <say-as interpret-as="digits">123</say-as>, &amp; <sub alias="World Wide Web">WWW</sub> <emphasis>now</emphasis>.</speak>`
	_, marks := say(t, s, tts.Request{SSML: doc, SampleRate: 16000})
	got := words(t, doc, marks)
	want := []string{"Code", "1", "2", "3", "&amp;", `<sub alias="World Wide Web">`, "now"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("marks %q, want %q", got, want)
	}
	// digits are read one by one: as long as "1 2 3", not "one hundred
	// and twenty-three"
	// "one two three" lasts longer than "one hundred twenty-three"
	digits, marks := say(t, s, tts.Request{SSML: `<say-as interpret-as="digits">4567</say-as>`, SampleRate: 8000})
	spaced, _ := say(t, s, tts.Request{SSML: "4 5 6 7", SampleRate: 8000})
	number, _ := say(t, s, tts.Request{SSML: "4567", SampleRate: 8000})
	if d := len(digits) - len(spaced); d < -400 || d > 400 {
		t.Errorf("say-as digits: %d samples, \"4 5 6 7\": %d", len(digits), len(spaced))
	}
	if len(marks) != 4 || len(number) < len(digits)*11/10 {
		t.Errorf("say-as digits: %d marks, %d samples; the number: %d samples", len(marks), len(digits), len(number))
	}
	// telephone: the digits and a pause at the separator
	doc = `<speak>Call <say-as interpret-as="telephone">+33 1-23</say-as></speak>`
	_, marks = say(t, s, tts.Request{SSML: doc, SampleRate: 8000})
	if got := strings.Join(words(t, doc, marks), " "); got != "Call + 3 3 1 2 3" {
		t.Errorf("telephone marks %q", got)
	}
}

// gap returns the longest run of near silence between the first and the
// last loud sample.
func gap(pcm []int16, rate int) time.Duration {
	first, last := -1, -1
	for i, v := range pcm {
		if v > 300 || v < -300 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	best, cur := 0, 0
	for i := first; i >= 0 && i <= last; i++ {
		if v := pcm[i]; v > 300 || v < -300 {
			cur = 0
		} else if cur++; cur > best {
			best = cur
		}
	}
	return time.Duration(best) * time.Second / time.Duration(rate)
}

func TestBreak(t *testing.T) {
	s := newSynth(t)
	for _, tc := range []struct {
		brk  string
		want time.Duration
	}{
		{`<break time="300ms"/>`, 300 * time.Millisecond},
		{`<break time="1.2s"/>`, 1200 * time.Millisecond},
		{`<break strength="strong"/>`, 700 * time.Millisecond},
		{`<break/>`, 400 * time.Millisecond},
	} {
		for _, rate := range []int{8000, 48000} {
			pcm, _ := say(t, s, tts.Request{SSML: "<speak>Hello " + tc.brk + " world</speak>", SampleRate: rate})
			if g := gap(pcm, rate); g < tc.want-20*time.Millisecond || g > tc.want+20*time.Millisecond {
				t.Errorf("%s at %d Hz: silence of %v, want %v ± 20 ms", tc.brk, rate, g, tc.want)
			} else {
				t.Logf("%s at %d Hz: silence of %v", tc.brk, rate, g)
			}
		}
	}
}

func TestProsodyRate(t *testing.T) {
	s := newSynth(t)
	const text = "one two three four five six seven eight nine ten"
	dur := func(req tts.Request) float64 {
		req.SampleRate = 8000
		pcm, _ := say(t, s, req)
		return float64(len(pcm)) / 8000
	}
	normal := dur(tts.Request{Text: text})
	for _, tc := range []struct {
		rate     string
		min, max float64 // duration ratio to normal
	}{
		{"slow", 1.15, 1.6},
		{"x-slow", 1.5, 2.5},
		{"50%", 1.5, 2.5},
		{"fast", 0.6, 0.85},
		{"200%", 0.4, 0.7},
		{"+50%", 0.55, 0.8},
	} {
		r := dur(tts.Request{SSML: `<speak><prosody rate="` + tc.rate + `">` + text + `</prosody></speak>`}) / normal
		if r < tc.min || r > tc.max {
			t.Errorf("prosody rate %s: %.2f× the normal duration, want %.2f…%.2f", tc.rate, r, tc.min, tc.max)
		}
	}
	// Request.Rate does the same for the whole request
	if r := dur(tts.Request{Text: text, Rate: 1.5}) / normal; r < 0.55 || r > 0.8 {
		t.Errorf("Rate 1.5: %.2f× the normal duration", r)
	}
	if r := dur(tts.Request{Text: text, Rate: 0.6}) / normal; r < 1.4 || r > 2 {
		t.Errorf("Rate 0.6: %.2f× the normal duration", r)
	}
}

func TestConcurrentSynthesize(t *testing.T) {
	s := newSynth(t)
	texts := []string{"Welcome to the Parole demo line.", "Press one for sales.", "Au revoir."}
	ref := make([][]int16, len(texts))
	for i, txt := range texts {
		ref[i], _ = say(t, s, tts.Request{Text: txt, Language: "en-US", SampleRate: 8000})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 {
				i := (g + k) % len(texts)
				st, err := s.Synthesize(context.Background(), tts.Request{Text: texts[i], Language: "en-US", SampleRate: 8000})
				if err != nil {
					errs <- err.Error()
					return
				}
				var pcm []int16
				for {
					c, err := st.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						errs <- err.Error()
						return
					}
					pcm = append(pcm, c.Samples...)
				}
				st.Close()
				// espeak-ng's output varies in length by a few
				// milliseconds from run to run
				if d := len(pcm) - len(ref[i]); d*20 < -len(ref[i]) || d*20 > len(ref[i]) || rms(pcm) < 500 {
					errs <- fmt.Sprintf("%q: %d samples, RMS %.0f; serial run: %d samples", texts[i], len(pcm), rms(pcm), len(ref[i]))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestCancelAndClose(t *testing.T) {
	s := newSynth(t)
	long := strings.Repeat(threeSentences+" ", 20)
	// Close after the first chunk
	st, err := s.Synthesize(context.Background(), tts.Request{Text: long, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, err := st.Recv(); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	st.Close()

	// cancel mid-synthesis
	ctx, cancel := context.WithCancel(context.Background())
	st, err = s.Synthesize(ctx, tts.Request{Text: long, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		if _, err = st.Recv(); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel: %v", err)
	}
	st.Close()

	// cancelled while waiting for the engine held by another stream
	hold, err := s.Synthesize(context.Background(), tts.Request{Text: long, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	st, err = s.Synthesize(ctx, tts.Request{Text: "hello", SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := st.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv of a cancelled waiting stream: %v", err)
	}
	st.Close()
	hold.Close()
	// the engine is free again
	if pcm, _ := say(t, s, tts.Request{Text: "hello", SampleRate: 8000}); len(pcm) == 0 {
		t.Error("no audio after cancellations")
	}
}

func TestFirstChunkEarly(t *testing.T) {
	s := newSynth(t)
	st, err := s.Synthesize(context.Background(), tts.Request{Text: threeSentences, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	first := len(c.Samples)
	rest, _, _ := collect(t, st)
	// the first chunk is one library buffer, a small part of the prompt
	if total := first + len(rest); first == 0 || first*10 > total {
		t.Errorf("first chunk %d of %d samples", first, total)
	}
}

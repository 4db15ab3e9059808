package voxygen

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newSynth(t testing.TB, f *fakeVoxygen, mod func(*Config)) *Synthesizer {
	t.Helper()
	cfg := Config{URL: f.url(), Token: goodToken, Voice: "Judith_NTTS", Language: "en-GB", RetryBackoff: 5 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads a stream to its end.
func readAll(t testing.TB, st tts.Stream, rate int) []int16 {
	t.Helper()
	var out []int16
	for {
		c, err := st.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("recv after %d samples: %v", len(out), err)
		}
		if c.Rate != rate {
			t.Fatalf("chunk at %d Hz, want %d", c.Rate, rate)
		}
		out = append(out, c.Samples...)
	}
}

// ffmpegDecode decodes an answer with ffmpeg to mono at rate, the
// reference for what the stream must yield.
func ffmpegDecode(t *testing.T, audio []byte, rate int) []int16 {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/in", audio, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", dir+"/in", "-ar", strconv.Itoa(rate), "-ac", "1", "-f", "s16le", dir+"/out.s16")
	return testutil.ReadS16(t, dir+"/out.s16")
}

// snr compares got with the reference want, in dB.
func snr(got, want []int16) float64 {
	var sig, noise float64
	for i := range min(len(got), len(want)) {
		d := float64(got[i]) - float64(want[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/max(noise, 1))
}

const threeSentences = "Hello, this is parole. Your appointment is on Monday at ten. Goodbye!"

func TestSentencesMP3(t *testing.T) {
	f := newFakeVoxygen(t)
	s := newSynth(t, f, nil)
	st, err := s.Synthesize(context.Background(), tts.Request{Text: threeSentences, SampleRate: 8000, Rate: 1.2})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, st, 8000)
	if off := st.(*stream).ResumeOffset(); off != len(threeSentences) {
		t.Errorf("resume offset %d at the end, want %d", off, len(threeSentences))
	}
	st.Close()
	reqs := f.requests()
	want := []string{"Hello, this is parole.", "Your appointment is on Monday at ten.", "Goodbye!"}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want one per sentence", len(reqs))
	}
	var ref []int16
	for i, r := range reqs {
		fm := r.form
		if fm["text"] != want[i] || fm["voice"] != "Judith_NTTS" || fm["language"] != "en-GB" ||
			fm["coding"] != "mp3" || fm["frequency"] != "16000" || fm["articulation-rate"] != "120%" {
			t.Errorf("request %d: %v", i, fm)
		}
		a, _ := f.synthesize("mp3", 16000, "en-GB", want[i])
		ref = append(ref, ffmpegDecode(t, a, 8000)...)
	}
	if d := len(got) - len(ref); d < -160*len(want) || d > 160*len(want) {
		t.Errorf("%d samples, ffmpeg decodes %d", len(got), len(ref))
	}
	if v := snr(got, ref); v < 20 {
		t.Errorf("SNR against ffmpeg's decode %.1f dB, want ≥ 20", v)
	}
	if len(f.errs) > 0 {
		t.Errorf("fake saw: %v", f.errs)
	}
}

func TestWAV(t *testing.T) {
	f := newFakeVoxygen(t)
	s := newSynth(t, f, func(c *Config) { c.Coding, c.Frequency = Lin, 22050 })
	st, err := s.Synthesize(context.Background(), tts.Request{Text: "Two words. And three more.", SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, st, 16000)
	st.Close()
	var ref []int16
	for _, r := range f.requests() {
		if r.form["coding"] != "lin" || r.form["frequency"] != "22050" || r.form["header"] != "wav-stream-header" {
			t.Errorf("request %v", r.form)
		}
		a, _ := f.synthesize("lin", 22050, "en-GB", r.form["text"])
		// ffmpeg cannot size a WAV with unknown lengths by itself better
		// than the raw PCM: decode the PCM after the 44-byte header.
		raw := t.TempDir() + "/a.s16"
		os.WriteFile(raw, a[44:], 0o644)
		out := t.TempDir() + "/b.s16"
		testutil.Run(t, testutil.RequireTool(t, "ffmpeg", "ffmpeg"), "-hide_banner", "-loglevel", "error",
			"-f", "s16le", "-ar", "22050", "-ac", "1", "-i", raw, "-ar", "16000", "-f", "s16le", out)
		ref = append(ref, testutil.ReadS16(t, out)...)
	}
	if d := len(got) - len(ref); d < -2 || d > 2 {
		t.Errorf("%d samples, ffmpeg resamples to %d", len(got), len(ref))
	}
	if v := snr(got, ref); v < 25 {
		t.Errorf("SNR against ffmpeg %.1f dB", v)
	}
}

// The next sentence is requested as soon as the previous answer began,
// one ahead, and the first audio comes before the first answer is whole.
func TestPipelined(t *testing.T) {
	f := newFakeVoxygen(t)
	f.pieces, f.pieceDelay = 8, 60*time.Millisecond // each answer streams over ~420 ms
	f.warm("mp3", 16000, "en-GB", "Hello, this is parole.", "Your appointment is on Monday at ten.", "Goodbye!")
	s := newSynth(t, f, nil)
	t0 := time.Now()
	st, err := s.Synthesize(context.Background(), tts.Request{Text: threeSentences, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	first := time.Since(t0)
	readAll(t, st, 8000)
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	if first > 300*time.Millisecond {
		t.Errorf("first chunk after %v: the first answer streams over 420 ms, audio must not wait for all of it", first)
	}
	if d := reqs[1].arrived.Sub(reqs[0].arrived); d > 250*time.Millisecond {
		t.Errorf("second sentence requested %v after the first: not pipelined", d)
	}
	if f.maxIn > 2 {
		t.Errorf("%d requests in flight, want at most one ahead", f.maxIn)
	}
}

func TestSSMLWhole(t *testing.T) {
	f := newFakeVoxygen(t)
	s := newSynth(t, f, nil)
	ssml := `<speak>Hello. <break time="300ms"/> Goodbye.</speak>`
	st, err := s.Synthesize(context.Background(), tts.Request{Text: "ignored. text.", SSML: ssml, SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if len(readAll(t, st, 16000)) == 0 {
		t.Error("no audio")
	}
	st.Close()
	if r := f.requests(); len(r) != 1 || r[0].form["text"] != ssml {
		t.Errorf("requests %v", r)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	req := tts.Request{Text: "Hello there.", SampleRate: 8000}
	t.Run("unauthorized", func(t *testing.T) {
		f := newFakeVoxygen(t)
		s := newSynth(t, f, func(c *Config) { c.Token = "revoked" })
		if _, err := s.Synthesize(ctx, req); !errors.Is(err, ErrUnauthorized) {
			t.Fatal(err)
		}
	})
	t.Run("retried 503", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.unavailable = 2
		st, err := newSynth(t, f, nil).Synthesize(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, st, 8000)
		st.Close()
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("503 past retries", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.unavailable = 10
		if _, err := newSynth(t, f, nil).Synthesize(ctx, req); !errors.Is(err, ErrUnavailable) {
			t.Fatal(err)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests, want 1 + 2 retries", n)
		}
	})
	t.Run("bad request", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.status = http400
		if _, err := newSynth(t, f, nil).Synthesize(ctx, req); !errors.Is(err, ErrRequest) {
			t.Fatal(err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.headerDelay = 500 * time.Millisecond
		f.warm("mp3", 16000, "en-GB", "Hello there.")
		s := newSynth(t, f, func(c *Config) { c.Timeout, c.MaxRetries = 100*time.Millisecond, -1 })
		if _, err := s.Synthesize(ctx, req); !errors.Is(err, ErrTimeout) {
			t.Fatal(err)
		}
	})
	for name, body := range map[string]func(int, []byte) []byte{
		"broken mp3":   func(int, []byte) []byte { return []byte(strings.Repeat("not an mp3 ", 200)) },
		"empty answer": func(int, []byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeVoxygen(t)
			f.body = body
			st, err := newSynth(t, f, nil).Synthesize(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Recv(); !errors.Is(err, ErrAudio) {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("broken wav", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.body = func(_ int, a []byte) []byte { b := append([]byte(nil), a...); copy(b[8:], "WAVX"); return b }
		st, err := newSynth(t, f, func(c *Config) { c.Coding = Lin }).Synthesize(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.Recv(); !errors.Is(err, ErrAudio) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("cut off", func(t *testing.T) {
		f := newFakeVoxygen(t)
		f.cutAfter = 3000
		st, err := newSynth(t, f, nil).Synthesize(ctx, tts.Request{Text: "This sentence is long enough to be cut in the middle of its audio.", SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n := 0
		for {
			_, err := st.Recv()
			if err == nil {
				n++
				continue
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("after %d chunks: %v, want ErrUnavailable", n, err)
			}
			break
		}
		if n == 0 {
			t.Error("no audio before the cut")
		}
		if off := st.(*stream).ResumeOffset(); off != 0 {
			t.Errorf("resume offset %d, want 0 (the sentence was not finished)", off)
		}
	})
	t.Run("too large", func(t *testing.T) {
		f := newFakeVoxygen(t)
		st, err := newSynth(t, f, func(c *Config) { c.MaxAudioBytes = 1000 }).Synthesize(ctx, req)
		if err == nil {
			defer st.Close()
			for err == nil {
				_, err = st.Recv()
			}
		}
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("unsupported rate", func(t *testing.T) {
		f := newFakeVoxygen(t)
		if _, err := newSynth(t, f, nil).Synthesize(ctx, tts.Request{Text: "x", SampleRate: 11025}); !errors.Is(err, tts.ErrUnsupported) {
			t.Fatal(err)
		}
	})
}

const http400 = 400

func TestCloseMidway(t *testing.T) {
	f := newFakeVoxygen(t)
	f.pieces, f.pieceDelay = 10, 50*time.Millisecond
	st, err := newSynth(t, f, nil).Synthesize(context.Background(), tts.Request{Text: threeSentences, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.Recv(); err == nil || err == io.EOF {
		t.Errorf("recv after close: %v", err)
	}
	st.Close()
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{Token: ""},
		{Token: "t", URL: "ftp://x"},
		{Token: "t", Coding: "ogg"},
		{Token: "t", Frequency: 8000},
		{Token: "t", Frequency: 100000},
		{Token: "t", Timeout: -1},
		{Token: "t", MaxRetries: -5},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	s, err := New(Config{Token: "t", Voices: map[string]string{"fr": "Loic", "en-US": "Jenny"}, Voice: "Judith"})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"fr-FR": "Loic", "en-us": "Jenny", "en-GB": "Judith"} {
		if v := s.voice(tts.Request{}, lang); v != want {
			t.Errorf("%s: voice %q, want %q", lang, v, want)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []string
	}{
		{"Hello. How are you? Fine!", 0, []string{"Hello.", "How are you?", "Fine!"}},
		{"Mr. Smith met Dr. Who at 3.5 p.m. today. Done.", 0, []string{"Mr. Smith met Dr. Who at 3.5 p.m. today.", "Done."}},
		{"Bonjour M. Dupont. « Ça va ? » Oui…  Bien.", 0, []string{"Bonjour M. Dupont.", "« Ça va ? »", "Oui…", "Bien."}},
		{"First line\n\nSecond para", 0, []string{"First line", "Second para"}},
		{"   ", 0, nil},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"ééééé", 4, []string{"éé", "éé", "é"}},
	} {
		var got []string
		for _, s := range SplitSentences(tc.in, tc.max) {
			if tc.in[s.Offset:s.Offset+len(s.Text)] != s.Text {
				t.Errorf("%q: segment %q not at offset %d", tc.in, s.Text, s.Offset)
			}
			got = append(got, s.Text)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

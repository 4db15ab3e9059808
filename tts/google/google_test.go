package google

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// renderer makes the service's audio with real tools: espeak-ng speaks
// the text (SSML with -m), sox converts it to a LINEAR16 or μ-law WAV or
// raw PCM at the rate asked, ffmpeg (libmp3lame) encodes MP3 at 32 kb/s
// and 24 kHz as the service does. It keeps every file it made, so tests
// can decode them with the same tools for reference.
type renderer struct {
	t     testing.TB
	dir   string
	mu    sync.Mutex
	n     int
	files map[string]string // key → file
}

func newRenderer(t testing.TB) *renderer {
	testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	testutil.RequireTool(t, "sox", "sox")
	return &renderer{t: t, dir: t.TempDir(), files: map[string]string{}}
}

func key(text string, enc texttospeechpb.AudioEncoding, rate int) string {
	return fmt.Sprintf("%s|%v|%d", text, enc, rate)
}

func (r *renderer) render(text string, ssml bool, enc texttospeechpb.AudioEncoding, rate int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(text, enc, rate)
	if p, ok := r.files[k]; ok {
		return os.ReadFile(p)
	}
	r.n++
	base := filepath.Join(r.dir, fmt.Sprint(r.n))
	args := []string{"-w", base + ".wav"}
	if ssml {
		args = append(args, "-m")
	}
	if err := run("espeak-ng", append(args, text)...); err != nil {
		return nil, err
	}
	var out string
	var err error
	switch enc {
	case texttospeechpb.AudioEncoding_LINEAR16:
		out = base + "-pcm.wav"
		err = run("sox", base+".wav", "-r", fmt.Sprint(rate), "-c", "1", "-b", "16", "-e", "signed-integer", out)
	case texttospeechpb.AudioEncoding_MULAW:
		out = base + "-ulaw.wav"
		err = run("sox", base+".wav", "-r", fmt.Sprint(rate), "-c", "1", "-e", "u-law", out)
	case texttospeechpb.AudioEncoding_PCM:
		out = base + ".raw"
		err = run("sox", base+".wav", "-r", fmt.Sprint(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", out)
	case texttospeechpb.AudioEncoding_MP3:
		out = base + ".mp3"
		err = run("ffmpeg", "-v", "error", "-i", base+".wav", "-ar", fmt.Sprint(rate), "-ac", "1", "-b:a", "32k", out)
	default:
		return nil, status.Errorf(codes.InvalidArgument, "encoding %v", enc)
	}
	if err != nil {
		return nil, err
	}
	r.files[k] = out
	return os.ReadFile(out)
}

// run runs a tool from the fake's goroutine: failures are the fake's
// gRPC error (Internal), not a test failure from the wrong goroutine.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return status.Errorf(codes.Internal, "%s: %v: %s", name, err, out)
	}
	return nil
}

// reference decodes the file rendered for key with sox or ffmpeg to raw
// 16-bit mono at rate.
func (r *renderer) reference(t *testing.T, text string, enc texttospeechpb.AudioEncoding, srcRate, rate int) []int16 {
	t.Helper()
	r.mu.Lock()
	p, ok := r.files[key(text, enc, srcRate)]
	r.mu.Unlock()
	if !ok {
		t.Fatalf("nothing rendered for %q %v %d", text, enc, srcRate)
	}
	raw := fmt.Sprintf("%s.%d.s16", p, rate)
	switch enc {
	case texttospeechpb.AudioEncoding_PCM:
		raw = p
	case texttospeechpb.AudioEncoding_MP3:
		testutil.Run(t, "ffmpeg", "-v", "error", "-i", p, "-ar", fmt.Sprint(rate), "-ac", "1", "-f", "s16le", raw)
	default:
		testutil.Run(t, "sox", p, "-b", "16", "-e", "signed-integer", "-t", "raw", raw)
	}
	return testutil.ReadS16(t, raw)
}

// readAll reads a stream to its end.
func readAll(t testing.TB, st tts.Stream) ([]int16, []tts.Chunk, error) {
	t.Helper()
	var pcm []int16
	var chunks []tts.Chunk
	for {
		c, err := st.Recv()
		if err != nil {
			return pcm, chunks, err
		}
		chunks = append(chunks, c)
		pcm = append(pcm, c.Samples...)
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

// TestLinear16: a text request at 8 kHz asks LINEAR16 at 8 kHz with the
// configured voice; the audio is the WAV's samples exactly (header
// stripped), in 100 ms chunks.
func TestLinear16(t *testing.T) {
	r := newRenderer(t)
	f := &fakeTTS{render: r.render}
	s := serve(t, f, Config{Voices: map[string]string{"en-GB": "en-GB-Neural2-A", "fr": "fr-FR-Neural2-B"}})
	for _, tc := range []struct {
		req        tts.Request
		voice, lng string
	}{
		{tts.Request{Text: "Welcome to parole.", Language: "en-GB", SampleRate: 8000}, "en-GB-Neural2-A", "en-GB"},
		{tts.Request{Text: "Bonjour.", Language: "fr-CA", SampleRate: 16000, Rate: 1.25}, "fr-FR-Neural2-B", "fr-CA"},
		{tts.Request{Text: "Hi.", Voice: "en-US-Standard-C", SampleRate: 8000}, "en-US-Standard-C", "en-US"},
	} {
		st, err := s.Synthesize(context.Background(), tc.req)
		if err != nil {
			t.Fatal(err)
		}
		pcm, chunks, err := readAll(t, st)
		st.Close()
		if err != io.EOF {
			t.Fatal(err)
		}
		want := r.reference(t, tc.req.Text, texttospeechpb.AudioEncoding_LINEAR16, tc.req.SampleRate, tc.req.SampleRate)
		if !equal(pcm, want) {
			t.Fatalf("%q: %d samples differ from the WAV's %d", tc.req.Text, len(pcm), len(want))
		}
		for i, c := range chunks {
			if c.Rate != tc.req.SampleRate || (len(c.Samples) != tc.req.SampleRate/10 && i != len(chunks)-1) {
				t.Fatalf("chunk %d: %d samples at %d Hz", i, len(c.Samples), c.Rate)
			}
		}
		req := f.unary[len(f.unary)-1]
		ac := req.GetAudioConfig()
		if req.GetInput().GetText() != tc.req.Text || req.GetInput().GetSsml() != "" || req.GetVoice().GetName() != tc.voice ||
			req.GetVoice().GetLanguageCode() != tc.lng || ac.GetAudioEncoding() != texttospeechpb.AudioEncoding_LINEAR16 ||
			ac.GetSampleRateHertz() != int32(tc.req.SampleRate) || ac.GetSpeakingRate() != max(tc.req.Rate, 1) {
			t.Errorf("request %v", req)
		}
	}
	if v := f.violations(); len(v) > 0 {
		t.Fatal(v)
	}
}

// TestMulaw: with encoding mulaw an 8 kHz request asks MULAW and decodes
// the μ-law WAV (as sox decodes it); a 16 kHz one asks LINEAR16.
func TestMulaw(t *testing.T) {
	r := newRenderer(t)
	f := &fakeTTS{render: r.render}
	s := serve(t, f, Config{Encoding: "mulaw"})
	for _, rate := range []int{8000, 16000} {
		st, err := s.Synthesize(context.Background(), tts.Request{Text: "Press one for sales.", SampleRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		pcm, _, err := readAll(t, st)
		st.Close()
		if err != io.EOF {
			t.Fatal(err)
		}
		enc := texttospeechpb.AudioEncoding_MULAW
		if rate != 8000 {
			enc = texttospeechpb.AudioEncoding_LINEAR16
		}
		if got := f.unary[len(f.unary)-1].GetAudioConfig().GetAudioEncoding(); got != enc {
			t.Errorf("%d Hz: asked %v, want %v", rate, got, enc)
		}
		if want := r.reference(t, "Press one for sales.", enc, rate, rate); !equal(pcm, want) {
			t.Fatalf("%d Hz: %d samples differ from sox's decode (%d)", rate, len(pcm), len(want))
		}
	}
}

// TestMP3: with encoding mp3 the service's 24 kHz MP3 is decoded and
// resampled to the call's rate; it matches FFmpeg's decode and resample.
func TestMP3(t *testing.T) {
	testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	r := newRenderer(t)
	f := &fakeTTS{render: r.render}
	s := serve(t, f, Config{Encoding: "mp3"})
	text := "Your appointment is on Tuesday at three."
	for _, rate := range []int{8000, 16000} {
		st, err := s.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		pcm, chunks, err := readAll(t, st)
		st.Close()
		if err != io.EOF {
			t.Fatal(err)
		}
		if ac := f.unary[len(f.unary)-1].GetAudioConfig(); ac.GetAudioEncoding() != texttospeechpb.AudioEncoding_MP3 || ac.GetSampleRateHertz() != 0 {
			t.Errorf("audio config %v", ac)
		}
		if chunks[0].Rate != rate {
			t.Errorf("chunks at %d Hz", chunks[0].Rate)
		}
		want := r.reference(t, text, texttospeechpb.AudioEncoding_MP3, 24000, rate)
		if d := len(pcm) - len(want); d > rate/100 || d < -rate/100 {
			t.Errorf("%d Hz: %d samples, FFmpeg %d", rate, len(pcm), len(want))
		}
		if c := bestCorrelation(pcm, want, 20); c < 0.95 {
			t.Errorf("%d Hz: correlation with FFmpeg's decode %.3f", rate, c)
		}
	}
}

// bestCorrelation is the highest normalized correlation of a and b over
// lags up to maxLag samples.
func bestCorrelation(a, b []int16, maxLag int) float64 {
	best := -1.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var ab, aa, bb float64
		for i := range a {
			j := i + lag
			if j < 0 || j >= len(b) {
				continue
			}
			x, y := float64(a[i]), float64(b[j])
			ab += x * y
			aa += x * x
			bb += y * y
		}
		if aa > 0 && bb > 0 {
			best = max(best, ab/math.Sqrt(aa*bb))
		}
	}
	return best
}

// TestSSML: SSML goes in the ssml field (a fragment wrapped in <speak>),
// never as text; malformed SSML is refused before any request.
func TestSSML(t *testing.T) {
	r := newRenderer(t)
	f := &fakeTTS{render: r.render}
	s := serve(t, f, Config{Streaming: true})
	for in, want := range map[string]string{
		`<speak>Hello <break time="300ms"/> there.</speak>`: `<speak>Hello <break time="300ms"/> there.</speak>`,
		`Press <say-as interpret-as="digits">12</say-as>.`:  `<speak>Press <say-as interpret-as="digits">12</say-as>.</speak>`,
	} {
		st, err := s.Synthesize(context.Background(), tts.Request{SSML: in, Text: "ignored", SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		pcm, _, err := readAll(t, st)
		st.Close()
		if err != io.EOF || len(pcm) == 0 {
			t.Fatalf("%q: %d samples, %v", in, len(pcm), err)
		}
		got := f.unary[len(f.unary)-1].GetInput()
		if got.GetSsml() != want || got.GetText() != "" {
			t.Errorf("input %v, want ssml %q", got, want)
		}
	}
	if len(f.streams) != 0 {
		t.Error("SSML went to StreamingSynthesize, which takes none")
	}
	n := len(f.unary)
	for _, bad := range []string{`<speak>Hello`, `<speak><b></speak>`, `<!DOCTYPE speak><speak>x</speak>`, `a < b`, `<speak>x</speak><speak>y</speak>`, " "} {
		if _, err := s.Synthesize(context.Background(), tts.Request{SSML: bad, SampleRate: 8000}); !errors.Is(err, tts.ErrBadSSML) {
			t.Errorf("%q: %v, want tts.ErrBadSSML", bad, err)
		}
	}
	if len(f.unary) != n {
		t.Error("malformed SSML reached the service")
	}
}

// TestSplitFirstAudio: a long text goes as one request a sentence; the
// first sentence's audio reaches Recv while the service still holds the
// second request.
func TestSplitFirstAudio(t *testing.T) {
	r := newRenderer(t)
	f := &fakeTTS{render: r.render, gate: make(chan struct{})}
	s := serve(t, f, Config{SplitAbove: 100})
	sentences := []string{"Thank you for calling the parole demonstration line.", "All our agents are busy right now, but your call matters to us!", "Please stay on the line, or press one to leave a message?"}
	text := strings.Join(sentences, " ")
	st, err := s.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := make(chan error, 1)
	var pcm []int16
	go func() {
		c, err := st.Recv()
		pcm = append(pcm, c.Samples...)
		first <- err
	}()
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no audio before the second sentence was synthesized")
	}
	close(f.gate)
	rest, _, err := readAll(t, st)
	if err != io.EOF {
		t.Fatal(err)
	}
	pcm = append(pcm, rest...)
	if len(f.unary) != 3 {
		t.Fatalf("%d requests", len(f.unary))
	}
	var want []int16
	for i, sen := range sentences {
		if got := f.unary[i].GetInput().GetText(); got != sen {
			t.Errorf("request %d: %q, want %q", i, got, sen)
		}
		want = append(want, r.reference(t, sen, texttospeechpb.AudioEncoding_LINEAR16, 8000, 8000)...)
	}
	if !equal(pcm, want) {
		t.Fatalf("%d samples, want the %d of the three sentences in order", len(pcm), len(want))
	}
}

// TestStreaming: StreamingSynthesize gets the config first and only first
// (PCM at the call's rate, voice, speaking rate), then the text sentence
// by sentence; audio responses become chunks as they arrive, samples
// split between responses are put back together.
func TestStreaming(t *testing.T) {
	r := newRenderer(t)
	f := &fakeTTS{render: r.render, gate: make(chan struct{}), pieces: 3}
	s := serve(t, f, Config{Streaming: true, Voices: map[string]string{"en-US": "en-US-Chirp3-HD-Charon"}})
	sentences := []string{"Hello.", "How can I help you today?"}
	st, err := s.Synthesize(context.Background(), tts.Request{Text: strings.Join(sentences, " "), Language: "en-US", SampleRate: 16000, Rate: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := make(chan error, 1)
	var pcm []int16
	go func() {
		c, err := st.Recv()
		pcm = append(pcm, c.Samples...)
		first <- err
	}()
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the first response did not reach Recv while the service held the rest")
	}
	close(f.gate)
	rest, chunks, err := readAll(t, st)
	if err != io.EOF {
		t.Fatal(err)
	}
	pcm = append(pcm, rest...)
	if v := f.violations(); len(v) > 0 {
		t.Fatal(v)
	}
	if len(f.streams) != 1 || len(f.unary) != 0 {
		t.Fatalf("%d streaming calls, %d unary", len(f.streams), len(f.unary))
	}
	reqs := f.streams[0]
	cfg := reqs[0].GetStreamingConfig()
	if cfg.GetVoice().GetName() != "en-US-Chirp3-HD-Charon" || cfg.GetVoice().GetLanguageCode() != "en-US" ||
		cfg.GetStreamingAudioConfig().GetSampleRateHertz() != 16000 || cfg.GetStreamingAudioConfig().GetSpeakingRate() != 0.9 {
		t.Errorf("config %v", cfg)
	}
	var want []int16
	for i, sen := range sentences {
		if got := reqs[i+1].GetInput().GetText(); got != sen {
			t.Errorf("input %d: %q", i, got)
		}
		want = append(want, r.reference(t, sen, texttospeechpb.AudioEncoding_PCM, 16000, 16000)...)
	}
	if !equal(pcm, want) {
		t.Fatalf("%d samples, want %d", len(pcm), len(want))
	}
	if len(chunks)+1 != 6 {
		t.Errorf("%d chunks for 6 responses", len(chunks)+1)
	}
}

// TestErrors: gRPC codes map to sentinels wrapping the gRPC error;
// Unavailable is retried, and a retry that succeeds gives the audio.
func TestErrors(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct {
		code codes.Code
		want error
	}{
		{codes.Unauthenticated, ErrUnauthenticated},
		{codes.PermissionDenied, ErrUnauthenticated},
		{codes.ResourceExhausted, ErrQuota},
		{codes.DeadlineExceeded, ErrDeadline},
		{codes.Unavailable, ErrUnavailable},
		{codes.InvalidArgument, tts.ErrUnsupported},
	} {
		for _, streaming := range []bool{false, true} {
			f := &fakeTTS{render: r.render, fail: func(int) error { return status.Error(tc.code, "fake") }}
			s := serve(t, f, Config{Streaming: streaming, RetryBackoff: time.Millisecond})
			st, err := s.Synthesize(context.Background(), tts.Request{Text: "Hi.", SampleRate: 8000})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = readAll(t, st)
			st.Close()
			if !errors.Is(err, tc.want) || status.Code(err) != tc.code {
				t.Errorf("%v (streaming %v): %v, want %v", tc.code, streaming, err, tc.want)
			}
			if n := f.n; (tc.code == codes.Unavailable) != (n == 3) {
				t.Errorf("%v: %d calls", tc.code, n)
			}
		}
	}
	for _, streaming := range []bool{false, true} {
		f := &fakeTTS{render: r.render, fail: func(n int) error {
			if n == 1 {
				return status.Error(codes.Unavailable, "fake: once")
			}
			return nil
		}}
		s := serve(t, f, Config{Streaming: streaming, RetryBackoff: time.Millisecond})
		st, err := s.Synthesize(context.Background(), tts.Request{Text: "Hi.", SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		pcm, _, err := readAll(t, st)
		st.Close()
		if err != io.EOF || len(pcm) == 0 {
			t.Errorf("retried (streaming %v): %d samples, %v", streaming, len(pcm), err)
		}
	}
}

// TestBadAudio: audio the adapter cannot decode, or at another rate than
// asked, is an ErrAudio, not a panic.
func TestBadAudio(t *testing.T) {
	for name, audio := range map[string][]byte{
		"truncated WAV": []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"wrong rate":    wavHeader(16000),
		"not MP3":       []byte("ID3 definitely not an mp3 stream at all"),
	} {
		enc := "linear16"
		if strings.Contains(name, "MP3") {
			enc = "mp3"
		}
		f := &fakeTTS{render: func(string, bool, texttospeechpb.AudioEncoding, int) ([]byte, error) { return audio, nil }}
		s := serve(t, f, Config{Encoding: enc})
		st, err := s.Synthesize(context.Background(), tts.Request{Text: "Hi.", SampleRate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := readAll(t, st); !errors.Is(err, ErrAudio) {
			t.Errorf("%s: %v, want ErrAudio", name, err)
		}
		st.Close()
	}
}

// wavHeader is an empty 16-bit mono WAV at rate.
func wavHeader(rate int) []byte {
	b := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")
	b = append(b, byte(rate), byte(rate>>8), 0, 0)
	br := rate * 2
	b = append(b, byte(br), byte(br>>8), byte(br>>16), 0, 2, 0, 16, 0)
	return append(b, "data\x00\x00\x00\x00"...)
}

// TestClose: Close during a synthesis the service holds returns at once,
// stops the call and leaves no goroutine (goleak); Recv then says closed.
func TestClose(t *testing.T) {
	f := &fakeTTS{gate: make(chan struct{}), render: func(string, bool, texttospeechpb.AudioEncoding, int) ([]byte, error) {
		return wavHeader(8000), nil
	}}
	s := serve(t, f, Config{})
	st, err := s.Synthesize(context.Background(), tts.Request{Text: "One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten. Eleven. Twelve. Thirteen. Fourteen. Fifteen. Sixteen. Seventeen. Eighteen. Nineteen. Twenty. Twenty-one. Twenty-two.", SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	for len(f.sentAtSnapshot()) == 0 {
		time.Sleep(time.Millisecond)
	}
	st.Close()
	st.Close()
	if _, err := st.Recv(); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err = s.Synthesize(ctx, tts.Request{Text: "One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten. Eleven. Twelve. Thirteen. Fourteen. Fifteen. Sixteen. Seventeen. Eighteen. Nineteen. Twenty. Twenty-one. Twenty-two.", SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, _, err := readAll(t, st); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	st.Close()
}

func (f *fakeTTS) sentAtSnapshot() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.sentAt...)
}

// TestBadRequests: what the service would refuse is refused up front.
func TestBadRequests(t *testing.T) {
	for _, c := range []Config{
		{Encoding: "ogg"},
		{Insecure: true},
		{Insecure: true, Endpoint: "x:1", CredentialsFile: "k.json"},
		{Timeout: -1},
		{Voices: map[string]string{"fr-FR": " "}},
	} {
		if _, err := New(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	s := serve(t, &fakeTTS{}, Config{})
	for _, tc := range []struct {
		req  tts.Request
		want error
	}{
		{tts.Request{Text: "x", SampleRate: 4000}, tts.ErrUnsupported},
		{tts.Request{Text: "x", SampleRate: 8000, Rate: 3}, tts.ErrUnsupported},
		{tts.Request{Text: "x", SampleRate: 8000, Rate: 0.1}, tts.ErrUnsupported},
		{tts.Request{Text: " \n", SampleRate: 8000}, ErrEmpty},
		{tts.Request{SSML: "<speak>" + strings.Repeat("a", 5000) + "</speak>", SampleRate: 8000}, tts.ErrUnsupported},
	} {
		if st, err := s.Synthesize(context.Background(), tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%+.40v: %v, want %v", tc.req, err, tc.want)
			if st != nil {
				st.Close()
			}
		}
	}
}

func TestVoiceFor(t *testing.T) {
	voices := map[string]string{"fr": "fr-FR-Neural2-A", "en-GB": "en-GB-Wavenet-B", "en-US": "en-US-Neural2-J"}
	for _, tc := range []struct {
		req        tts.Request
		name, lang string
	}{
		{tts.Request{Language: "fr-CA"}, "fr-FR-Neural2-A", "fr-CA"},
		{tts.Request{Language: "en-GB"}, "en-GB-Wavenet-B", "en-GB"},
		{tts.Request{Language: "de-DE"}, "", "de-DE"},
		{tts.Request{Voice: "de-DE-Neural2-B"}, "de-DE-Neural2-B", "de-DE"},
		{tts.Request{Voice: "de-DE-Neural2-B", Language: "de-AT"}, "de-DE-Neural2-B", "de-AT"},
		{tts.Request{}, "en-US-Neural2-J", "en-US"},
	} {
		if name, lang := voiceFor(voices, tc.req); name != tc.name || lang != tc.lang {
			t.Errorf("%+v: %q %q, want %q %q", tc.req, name, lang, tc.name, tc.lang)
		}
	}
}

func TestSentences(t *testing.T) {
	for in, want := range map[string][]string{
		"Hello. How are you? Fine!":  {"Hello.", "How are you?", "Fine!"},
		"It costs 3.50 euros. Okay.": {"It costs 3.50 euros.", "Okay."},
		"line one\nline two":         {"line one", "line two"},
		"Wait… what":                 {"Wait…", "what"},
		"no end":                     {"no end"},
		"  ":                         nil,
	} {
		if got := Sentences(in); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Sentences(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("word ", 2000)
	for _, p := range Sentences(long) {
		if len(p) > pieceBytes {
			t.Fatalf("piece of %d bytes", len(p))
		}
	}
}

package nuance

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/internal/nuancepb/mixtest"
	ttspb "github.com/parole-voice/parole/internal/nuancepb/tts"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeTTS is an in-process TTSaaS Synthesizer: it checks the bearer
// token, sends a 200 status, then the scripted audio in buffers of odd
// sizes (so samples straddle buffers).
type fakeTTS struct {
	ttspb.UnimplementedSynthesizerServer
	tokens *mixtest.TokenServer

	audio     []byte        // PCM to stream
	bufBytes  int           // buffer size (odd)
	hold      chan struct{} // when set, the rest waits after the first buffer
	fail      []codes.Code  // error of attempt i
	failAfter int           // buffers sent before failing
	status    uint32        // status code sent first (default 200)
	noAnswer  bool

	mu       sync.Mutex
	calls    int
	reqs     []*ttspb.SynthesisRequest
	tokensIn []string
	firstAt  []time.Time // when the first audio buffer was sent
}

func (f *fakeTTS) Synthesize(req *ttspb.SynthesisRequest, rpc ttspb.Synthesizer_SynthesizeServer) error {
	tok, err := f.tokens.Check(rpc.Context())
	if err != nil {
		return err
	}
	f.mu.Lock()
	call := f.calls
	f.calls++
	f.reqs = append(f.reqs, req)
	f.tokensIn = append(f.tokensIn, tok)
	f.mu.Unlock()
	if f.noAnswer {
		<-rpc.Context().Done()
		return nil
	}
	failing := call < len(f.fail) && f.fail[call] != codes.OK
	if failing && f.failAfter == 0 {
		return status.Error(f.fail[call], "scripted failure")
	}
	code := f.status
	if code == 0 {
		code = 200
	}
	if err := rpc.Send(&ttspb.SynthesisResponse{Response: &ttspb.SynthesisResponse_Status{Status: &ttspb.Status{Code: code, Message: "OK", Details: "scripted"}}}); err != nil {
		return err
	}
	if code >= 400 {
		return nil
	}
	for i, off := 0, 0; off < len(f.audio); i, off = i+1, off+f.bufBytes {
		if failing && i == f.failAfter {
			return status.Error(f.fail[call], "scripted failure")
		}
		if i == 0 {
			f.mu.Lock()
			f.firstAt = append(f.firstAt, time.Now())
			f.mu.Unlock()
		}
		if err := rpc.Send(&ttspb.SynthesisResponse{Response: &ttspb.SynthesisResponse_Audio{Audio: f.audio[off:min(off+f.bufBytes, len(f.audio))]}}); err != nil {
			return err
		}
		if i == 0 && f.hold != nil {
			select {
			case <-f.hold:
			case <-rpc.Context().Done():
				return rpc.Context().Err()
			}
		}
	}
	return nil
}

func (f *fakeTTS) nCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeTTS) request(i int) *ttspb.SynthesisRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[i]
}

func serve(t testing.TB, f *fakeTTS) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ttspb.RegisterSynthesizerServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func newTest(t testing.TB, f *fakeTTS, cfg Config) *Synthesizer {
	t.Helper()
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	t.Cleanup(ts.Close)
	f.tokens = ts
	cfg.Endpoint = serve(t, f)
	cfg.ClientID, cfg.ClientSecret, cfg.TokenURL, cfg.Insecure = mixtest.ClientID, mixtest.ClientSecret, ts.TokenURL(), true
	if cfg.Voice == "" {
		cfg.Voice = "Evan"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// spokenPCM returns espeak-ng speech of text at 8 kHz as samples and as
// little-endian bytes.
func spokenPCM(t testing.TB, text string) ([]int16, []byte) {
	t.Helper()
	f, err := os.Open(testutil.SpokenWAV(t, text))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, _, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return s, b
}

func readAll(t testing.TB, st tts.Stream) ([]int16, int, error) {
	t.Helper()
	var all []int16
	n := 0
	for {
		c, err := st.Recv()
		if err == io.EOF {
			return all, n, nil
		}
		if err != nil {
			return all, n, err
		}
		if c.Rate != 8000 {
			t.Fatalf("chunk at %d Hz", c.Rate)
		}
		all = append(all, c.Samples...)
		n++
	}
}

func TestSynthesizeStreamsChunks(t *testing.T) {
	samples, pcm := spokenPCM(t, "Your call is important to us.")
	fake := &fakeTTS{audio: pcm, bufBytes: 1601, hold: make(chan struct{})}
	s := newTest(t, fake, Config{Volume: 90, UserID: "u1"})
	st, err := s.Synthesize(context.Background(), tts.Request{Text: "Your call is important to us.", Language: "en-GB", SampleRate: 8000, Rate: 1.25})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The first chunk arrives while the service still holds the rest.
	first, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Samples) != 800 {
		t.Fatalf("first chunk of %d samples, want 800 of the 1601-byte buffer", len(first.Samples))
	}
	close(fake.hold)
	rest, n, err := readAll(t, st)
	if err != nil {
		t.Fatal(err)
	}
	got := append(first.Samples, rest...)
	if len(got) != len(samples) || n < 10 {
		t.Fatalf("%d samples in %d chunks, synthesized %d", len(got), n+1, len(samples))
	}
	for i := range got {
		if got[i] != samples[i] {
			t.Fatalf("sample %d: %d, want %d", i, got[i], samples[i])
		}
	}
	req := fake.request(0)
	if v := req.GetVoice(); v.GetName() != "Evan" || v.GetModel() != "enhanced" || v.GetLanguage() != "en-GB" {
		t.Errorf("voice %v", v)
	}
	if a := req.GetAudioParams(); a.GetAudioFormat().GetPcm().GetSampleRateHz() != 8000 || a.GetSpeakingRateFactor() != 1.25 || a.GetVolumePercentage() != 90 {
		t.Errorf("audio params %v", a)
	}
	if req.GetInput().GetText().GetText() != "Your call is important to us." || req.GetInput().GetSsml() != nil || req.GetUserId() != "u1" {
		t.Errorf("input %v", req.GetInput())
	}
	if fake.tokensIn[0] != "tok-1" {
		t.Errorf("token %q", fake.tokensIn[0])
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Errorf("Recv after the end: %v", err)
	}
}

func TestSSMLAndDefaults(t *testing.T) {
	_, pcm := spokenPCM(t, "hello")
	fake := &fakeTTS{audio: pcm, bufBytes: 999}
	s := newTest(t, fake, Config{Voice: "Zoe", Model: "standard", Language: "fr-FR"})
	ssml := `<speak>Bonjour <break time="200ms"/> et bienvenue</speak>`
	st, err := s.Synthesize(context.Background(), tts.Request{SSML: ssml, Text: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, _, err := readAll(t, st)
	if err != nil || len(got) != len(pcm)/2 {
		t.Fatalf("%d samples, %v", len(got), err)
	}
	req := fake.request(0)
	if req.GetInput().GetSsml().GetText() != ssml || req.GetVoice().GetName() != "Zoe" || req.GetVoice().GetModel() != "standard" ||
		req.GetVoice().GetLanguage() != "fr-FR" || req.GetAudioParams().GetAudioFormat().GetPcm().GetSampleRateHz() != 8000 {
		t.Errorf("request %v", req)
	}
}

func TestRetryBeforeAudio(t *testing.T) {
	_, pcm := spokenPCM(t, "one moment")
	fake := &fakeTTS{audio: pcm, bufBytes: 3200, fail: []codes.Code{codes.Unavailable, codes.ResourceExhausted}}
	s := newTest(t, fake, Config{RetryBackoff: time.Millisecond})
	st, _ := s.Synthesize(context.Background(), tts.Request{Text: "one moment"})
	defer st.Close()
	got, _, err := readAll(t, st)
	if err != nil || len(got) != len(pcm)/2 || fake.nCalls() != 3 {
		t.Fatalf("%d samples after %d calls: %v", len(got), fake.nCalls(), err)
	}
}

func TestErrors(t *testing.T) {
	_, pcm := spokenPCM(t, "sorry")
	run := func(t *testing.T, fake *fakeTTS, cfg Config) error {
		fake.audio, fake.bufBytes = pcm, 3200
		s := newTest(t, fake, cfg)
		st, err := s.Synthesize(context.Background(), tts.Request{Text: "sorry"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, _, err = readAll(t, st)
		return err
	}
	t.Run("unauthenticated", func(t *testing.T) {
		fake := &fakeTTS{fail: []codes.Code{codes.Unauthenticated}}
		if err := run(t, fake, Config{}); !errors.Is(err, ErrUnauthenticated) || status.Code(err) != codes.Unauthenticated || fake.nCalls() != 1 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("exhausted after retries", func(t *testing.T) {
		fake := &fakeTTS{fail: []codes.Code{codes.ResourceExhausted, codes.ResourceExhausted}}
		if err := run(t, fake, Config{MaxRetries: 1, RetryBackoff: time.Millisecond}); !errors.Is(err, ErrResourceExhausted) || fake.nCalls() != 2 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
	t.Run("deadline", func(t *testing.T) {
		fake := &fakeTTS{fail: []codes.Code{codes.DeadlineExceeded}}
		if err := run(t, fake, Config{}); !errors.Is(err, ErrDeadlineExceeded) || fake.nCalls() != 1 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no retry after audio", func(t *testing.T) {
		fake := &fakeTTS{fail: []codes.Code{codes.Unavailable}, failAfter: 2}
		if err := run(t, fake, Config{}); !errors.Is(err, ErrUnavailable) || fake.nCalls() != 1 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
	t.Run("status 400", func(t *testing.T) {
		var se *StatusError
		if err := run(t, &fakeTTS{status: 400}, Config{}); !errors.Is(err, ErrStatus) || !errors.As(err, &se) || se.Code != 400 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("open timeout", func(t *testing.T) {
		fake := &fakeTTS{noAnswer: true}
		if err := run(t, fake, Config{OpenTimeout: 50 * time.Millisecond, MaxRetries: 1, RetryBackoff: time.Millisecond}); !errors.Is(err, ErrOpenTimeout) || fake.nCalls() != 2 {
			t.Fatalf("%v after %d calls", err, fake.nCalls())
		}
	})
}

func TestCloseStops(t *testing.T) {
	_, pcm := spokenPCM(t, "please hold")
	fake := &fakeTTS{audio: pcm, bufBytes: 1600, hold: make(chan struct{})}
	s := newTest(t, fake, Config{})
	st, _ := s.Synthesize(context.Background(), tts.Request{Text: "please hold"})
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st.Close()
	if _, err := st.Recv(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv after Close: %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	for _, c := range []Config{{ClientSecret: "x"}, {Volume: 101}, {MaxRetries: -3}, {OpenTimeout: -1}} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	s, err := New(Config{Endpoint: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range []tts.Request{
		{Text: "no voice"},
		{Voice: "Evan"},
		{Voice: "Evan", Text: "x", SampleRate: 4000},
		{Voice: "Evan", Text: "x", Rate: -1},
	} {
		if _, err := s.Synthesize(context.Background(), r); !errors.Is(err, tts.ErrUnsupported) {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// Tokens are fetched once, reused by every RPC while valid, and replaced
// RefreshBefore their expiry; the fake refuses unknown and expired ones.
func TestTokenReuseAndRefresh(t *testing.T) {
	_, pcm := spokenPCM(t, "hi")
	ts := mixtest.NewTokenServer(DefaultScope, 4*time.Second)
	defer ts.Close()
	fake := &fakeTTS{tokens: ts, audio: pcm, bufBytes: 3200}
	s, err := New(Config{Endpoint: serve(t, fake), ClientID: mixtest.ClientID, ClientSecret: mixtest.ClientSecret,
		TokenURL: ts.TokenURL(), Insecure: true, Voice: "Evan", RefreshBefore: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	say := func() {
		st, err := s.Synthesize(context.Background(), tts.Request{Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, _, err := readAll(t, st); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		say()
	}
	time.Sleep(2100 * time.Millisecond)
	say()
	fake.mu.Lock()
	got := append([]string(nil), fake.tokensIn...)
	fake.mu.Unlock()
	want := []string{"tok-1", "tok-1", "tok-1", "tok-2"}
	if len(got) != len(want) || ts.Issued() != 2 {
		t.Fatalf("tokens %v, %d issued; want %v", got, ts.Issued(), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tokens %v, want %v", got, want)
		}
	}
}

package google

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// fakeTTS is a fake of Google's TextToSpeech service, registered with the
// library's own texttospeechpb server interface. It checks the requests
// (input text or SSML, voice, audio config; for streaming the config first
// and only first, then text inputs) and answers with audio the test
// renders: WAV for LINEAR16 and MULAW (the service includes the header),
// MP3 as it is, headerless PCM for streaming, cut into several responses.
type fakeTTS struct {
	texttospeechpb.UnimplementedTextToSpeechServer

	// render returns the service's audio for one input.
	render func(text string, ssml bool, enc texttospeechpb.AudioEncoding, rate int) ([]byte, error)
	// fail, when set, may fail request n (counting unary and streaming
	// calls together) before any audio.
	fail func(n int) error
	// gate, when set, holds unary request 2 and later, and streaming
	// responses after the first, until a token is received.
	gate chan struct{}
	// pieces cuts streaming audio into this many responses (default 3).
	pieces int

	mu      sync.Mutex
	n       int
	unary   []*texttospeechpb.SynthesizeSpeechRequest
	streams [][]*texttospeechpb.StreamingSynthesizeRequest
	bad     []string
	sentAt  []time.Time // when each call's first audio was handed to gRPC

	streamSent map[int]bool // streams that sent audio
}

func (f *fakeTTS) violation(format string, a ...any) {
	f.mu.Lock()
	f.bad = append(f.bad, fmt.Sprintf(format, a...))
	f.mu.Unlock()
}

func (f *fakeTTS) next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return f.n
}

func (f *fakeTTS) wait(ctx context.Context) error {
	if f.gate == nil {
		return nil
	}
	select {
	case <-f.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeTTS) SynthesizeSpeech(ctx context.Context, req *texttospeechpb.SynthesizeSpeechRequest) (*texttospeechpb.SynthesizeSpeechResponse, error) {
	n := f.next()
	f.mu.Lock()
	f.unary = append(f.unary, req)
	k := len(f.unary)
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return nil, err
		}
	}
	ac := req.GetAudioConfig()
	in := req.GetInput()
	if in.GetText() == "" && in.GetSsml() == "" {
		f.violation("request %d: no input", k)
	}
	if req.GetVoice().GetLanguageCode() == "" {
		f.violation("request %d: no language code", k)
	}
	if r := ac.GetSpeakingRate(); r != 0 && (r < 0.25 || r > 2) {
		f.violation("request %d: speaking rate %g", k, r)
	}
	rate := int(ac.GetSampleRateHertz())
	switch ac.GetAudioEncoding() {
	case texttospeechpb.AudioEncoding_MP3:
		if rate == 0 {
			rate = 24000 // the voice's natural rate
		}
	case texttospeechpb.AudioEncoding_LINEAR16, texttospeechpb.AudioEncoding_MULAW:
		if rate == 0 {
			f.violation("request %d: %v without a sample rate", k, ac.GetAudioEncoding())
		}
	default:
		f.violation("request %d: encoding %v", k, ac.GetAudioEncoding())
	}
	if k > 1 {
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
	}
	text, ssml := in.GetText(), false
	if in.GetSsml() != "" {
		text, ssml = in.GetSsml(), true
	}
	audio, err := f.render(text, ssml, ac.GetAudioEncoding(), rate)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.sentAt = append(f.sentAt, time.Now())
	f.mu.Unlock()
	return &texttospeechpb.SynthesizeSpeechResponse{AudioContent: audio}, nil
}

func (f *fakeTTS) StreamingSynthesize(st texttospeechpb.TextToSpeech_StreamingSynthesizeServer) error {
	n := f.next()
	f.mu.Lock()
	f.streams = append(f.streams, nil)
	k := len(f.streams) - 1
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return err
		}
	}
	var cfg *texttospeechpb.StreamingSynthesizeConfig
	first := true
	for {
		req, err := st.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.streams[k] = append(f.streams[k], req)
		f.mu.Unlock()
		if c := req.GetStreamingConfig(); c != nil {
			if !first {
				f.violation("stream %d: streaming_config again", k)
			}
			cfg = c
			first = false
			if e := c.GetStreamingAudioConfig().GetAudioEncoding(); e != texttospeechpb.AudioEncoding_PCM {
				f.violation("stream %d: encoding %v", k, e)
			}
			continue
		}
		if first {
			f.violation("stream %d: input before the config", k)
			return nil
		}
		text := req.GetInput().GetText()
		if text == "" {
			f.violation("stream %d: input without text", k)
			continue
		}
		rate := int(cfg.GetStreamingAudioConfig().GetSampleRateHertz())
		if rate == 0 {
			rate = 24000
		}
		audio, err := f.render(text, false, texttospeechpb.AudioEncoding_PCM, rate)
		if err != nil {
			return err
		}
		pieces := max(f.pieces, 1)
		for i := range pieces {
			// Odd cut points: a sample may be split between responses.
			b := audio[len(audio)*i/pieces : len(audio)*(i+1)/pieces]
			if len(f.sentAtFor(k)) == 0 {
				f.mu.Lock()
				f.sentAt = append(f.sentAt, time.Now())
				f.mu.Unlock()
			} else if err := f.wait(st.Context()); err != nil {
				return err
			}
			if err := st.Send(&texttospeechpb.StreamingSynthesizeResponse{AudioContent: b}); err != nil {
				return err
			}
			f.markSent(k)
		}
	}
}

// sentAtFor and markSent track whether stream k has sent audio.
func (f *fakeTTS) sentAtFor(k int) []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streamSent == nil {
		f.streamSent = map[int]bool{}
	}
	if f.streamSent[k] {
		return []bool{true}
	}
	return nil
}

func (f *fakeTTS) markSent(k int) {
	f.mu.Lock()
	f.streamSent[k] = true
	f.mu.Unlock()
}

func (f *fakeTTS) violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bad...)
}

// serve starts the fake on a 127.0.0.1 port and returns a synthesizer
// connected to it.
func serve(t testing.TB, f *fakeTTS, cfg Config) *Synthesizer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	texttospeechpb.RegisterTextToSpeechServer(srv, f)
	go srv.Serve(lis)
	s, err := New(context.Background(), cfg,
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		srv.Stop()
	})
	return s
}

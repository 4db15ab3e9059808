package google_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"
	"google.golang.org/grpc"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/cache"
	"github.com/parole-voice/parole/tts/google"
)

// toneServer is a stand-in for the TextToSpeech service: it answers every
// request with 50 ms of a constant level as a LINEAR16 WAV (header
// included, as the service does) at the rate asked, and counts requests.
type toneServer struct {
	texttospeechpb.UnimplementedTextToSpeechServer
	calls atomic.Int64
}

func (t *toneServer) SynthesizeSpeech(_ context.Context, req *texttospeechpb.SynthesizeSpeechRequest) (*texttospeechpb.SynthesizeSpeechResponse, error) {
	t.calls.Add(1)
	rate := int(req.GetAudioConfig().GetSampleRateHertz())
	pcm := make([]int16, rate/20)
	for i := range pcm {
		pcm[i] = 1000
	}
	var b bytes.Buffer
	if err := wav.Encode(&b, wav.PCM, rate, pcm); err != nil {
		return nil, err
	}
	return &texttospeechpb.SynthesizeSpeechResponse{AudioContent: b.Bytes()}, nil
}

// Example puts the prompt cache in front of the Google synthesizer (here
// talking to a local stand-in in plaintext): the second request for the
// same prompt is served from memory, without a request to the service.
func Example() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer()
	service := &toneServer{}
	texttospeechpb.RegisterTextToSpeechServer(srv, service)
	go srv.Serve(lis)
	defer srv.Stop()

	ctx := context.Background()
	g, err := google.New(ctx, google.Config{Endpoint: lis.Addr().String(), Insecure: true,
		Voices: map[string]string{"en-US": "en-US-Neural2-J"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	prompts, err := cache.New(g, cache.Options{Engine: "google"})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := tts.Request{Text: "Welcome.", Language: "en-US", SampleRate: media.Rate8k}
	for range 2 {
		st, err := prompts.Synthesize(ctx, req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var sizes []int
		for {
			c, err := st.Recv()
			if err != nil {
				break
			}
			sizes = append(sizes, len(c.Samples))
		}
		st.Close()
		fmt.Println(sizes)
	}
	s := prompts.Stats()
	fmt.Println("service calls:", service.calls.Load(), "misses:", s.Misses, "hits:", s.Hits)
	// Output:
	// [160 160 80]
	// [160 160 80]
	// service calls: 1 misses: 1 hits: 1
}

package google_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"cloud.google.com/go/speech/apiv1/speechpb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/google"
)

// echoServer is a stand-in for the Speech service: it counts the audio it
// gets and, at the end, reports one final result covering all of it.
type echoServer struct {
	speechpb.UnimplementedSpeechServer
}

func (echoServer) StreamingRecognize(st speechpb.Speech_StreamingRecognizeServer) error {
	var bytes int
	for {
		req, err := st.Recv()
		if err == io.EOF {
			return st.Send(&speechpb.StreamingRecognizeResponse{Results: []*speechpb.StreamingRecognitionResult{{
				Alternatives: []*speechpb.SpeechRecognitionAlternative{{Transcript: fmt.Sprintf("%d bytes of audio", bytes), Confidence: 0.5}},
				IsFinal:      true,
				// μ-law at 8 kHz: one byte a sample.
				ResultEndTime: durationpb.New(time.Duration(bytes) * time.Second / 8000),
			}}})
		}
		if err != nil {
			return err
		}
		bytes += len(req.GetAudioContent())
	}
}

// Example streams one second of 8 kHz audio to a Speech endpoint (here a
// local stand-in, reached in plaintext) and prints the final result.
func Example() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer()
	speechpb.RegisterSpeechServer(srv, echoServer{})
	go srv.Serve(lis)
	defer srv.Stop()

	ctx := context.Background()
	r, err := google.New(ctx, google.Config{Endpoint: lis.Addr().String(), Insecure: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	s, err := r.Stream(ctx, stt.Config{Language: "en-US", SampleRate: media.Rate8k})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	f := media.NewFrame(media.Rate8k)
	for range 50 {
		if err := s.Write(f); err != nil {
			fmt.Println(err)
			return
		}
	}
	s.CloseSend()
	for {
		res, err := s.Recv()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Text, res.Final, res.End)
	}
	// Output:
	// 8000 bytes of audio true 1s
	// EOF
}

package nuance

import (
	"context"
	"encoding/binary"
	"io"
	"slices"
	"testing"
	"time"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/internal/nuancepb/mixtest"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

// benchASR answers 100 Continue, then reports the arrival time of each
// audio message (its first sample holds the frame's number) on arrived.
type benchASR struct {
	asrpb.UnimplementedRecognizerServer
	tokens  *mixtest.TokenServer
	arrived chan time.Time
}

func (f *benchASR) Recognize(rpc asrpb.Recognizer_RecognizeServer) error {
	if _, err := f.tokens.Check(rpc.Context()); err != nil {
		return err
	}
	if _, err := rpc.Recv(); err != nil {
		return err
	}
	if err := rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Status{Status: &asrpb.Status{Code: 100}}}); err != nil {
		return err
	}
	for {
		req, err := rpc.Recv()
		if err == io.EOF {
			return rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Status{Status: &asrpb.Status{Code: 200}}})
		}
		if err != nil {
			return err
		}
		if len(req.GetAudio()) > 0 {
			f.arrived <- time.Now()
		}
	}
}

// BenchmarkFrameToService writes 20 ms frames one at a time over loopback
// gRPC (with a bearer token) and waits until the fake service has read
// each: p50-us and p99-us are the Write-to-service latencies. allocs/op
// counts the whole process: the client and the in-process gRPC server.
func BenchmarkFrameToService(b *testing.B) {
	ts := mixtest.NewTokenServer(DefaultScope, time.Hour)
	defer ts.Close()
	fake := &benchASR{tokens: ts, arrived: make(chan time.Time, 1)}
	lis := serveBench(b, fake)
	r := newTestRecognizer(b, lis, ts, Config{})
	st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := media.NewFrame(8000)
	// warm up: the token, the connection and the 100 Continue
	if err := st.Write(f); err != nil {
		b.Fatal(err)
	}
	<-fake.arrived
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := st.Write(f); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-fake.arrived).Sub(t0))
	}
	b.StopTimer()
	st.CloseSend()
	for {
		if _, err := st.Recv(); err != nil {
			break
		}
	}
	reportLatency(b, lat)
	testutil.ReportFrames(b, b.N)
}

// BenchmarkWrite is the client's own work per frame: PCM encoding into a
// recycled buffer and queueing, with the queue drained as the sender does.
func BenchmarkWrite(b *testing.B) {
	s := &stream{r: &Recognizer{cfg: Config{Encoding: PCM}}, cfg: stt.Config{SampleRate: 8000},
		audio: make(chan []byte, queueFrames), free: make(chan []byte, queueFrames+2), done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		for buf := range s.audio {
			if binary.LittleEndian.Uint16(buf) == 0xffff {
				panic("unreachable")
			}
			s.free <- buf
		}
		close(stop)
	}()
	f := media.NewFrame(8000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Write(f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.CloseSend()
	<-stop
	testutil.ReportFrames(b, b.N)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-us")
}

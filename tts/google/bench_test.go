package google

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"

	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

// benchTone is one second of a 440 Hz tone at 8 kHz.
func benchTone() []int16 {
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return pcm
}

// BenchmarkFirstChunk: one 1 s prompt per op from the local fake, unary
// (a LINEAR16 WAV) and streaming (headerless PCM in 5 responses). first-µs
// is the time from the fake handing its first audio to gRPC to Recv
// returning the first chunk: gRPC over loopback, protobuf, the WAV parse
// and the hand-off between goroutines. x-realtime is audio seconds
// delivered per second of wall time.
func BenchmarkFirstChunk(b *testing.B) {
	pcm := benchTone()
	var w bytes.Buffer
	if err := wav.Encode(&w, wav.PCM, 8000, pcm); err != nil {
		b.Fatal(err)
	}
	raw := make([]byte, 0, 2*len(pcm))
	for _, v := range pcm {
		raw = binary.LittleEndian.AppendUint16(raw, uint16(v))
	}
	for _, streaming := range []bool{false, true} {
		name := map[bool]string{false: "unary", true: "streaming"}[streaming]
		b.Run(name, func(b *testing.B) {
			f := &fakeTTS{pieces: 5, render: func(_ string, _ bool, enc texttospeechpb.AudioEncoding, _ int) ([]byte, error) {
				if enc == texttospeechpb.AudioEncoding_PCM {
					return raw, nil
				}
				return w.Bytes(), nil
			}}
			s := serve(b, f, Config{Streaming: streaming})
			var first []float64
			samples := 0
			b.ReportAllocs()
			for b.Loop() {
				st, err := s.Synthesize(context.Background(), tts.Request{Text: "Welcome to parole.", SampleRate: 8000})
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; ; n++ {
					c, err := st.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						now := time.Now()
						f.mu.Lock()
						sent := f.sentAt[len(f.sentAt)-1]
						f.mu.Unlock()
						first = append(first, float64(now.Sub(sent))/float64(time.Microsecond))
					}
					samples += len(c.Samples)
				}
				st.Close()
			}
			slices.Sort(first)
			b.ReportMetric(first[len(first)/2], "first-p50-µs")
			b.ReportMetric(first[len(first)*99/100], "first-p99-µs")
			b.ReportMetric(float64(samples)/8000/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}

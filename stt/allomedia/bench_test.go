package allomedia

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
)

// BenchmarkWrite sends 20 ms frames to the fake server over loopback, one
// at a time: each Write waits for the previous frame to have arrived, as
// frames 20 ms apart would. It reports the latency from Write being called
// to the frame's arrival at the fake (p50 and p99, µs): what parole
// (resampling when needed, encoding, websocket framing and write) and the
// loopback add before the engine has the audio. ns/op is that round, and
// allocs/op counts the whole process (parole and the fake, which reads
// into a fixed buffer).
func BenchmarkWrite(b *testing.B) {
	for _, tc := range []struct {
		codec Codec
		rate  int
	}{{Linear, 8000}, {G711A, 8000}, {Linear, 16000}} {
		b.Run(fmt.Sprintf("%s-%dHz", tc.codec, tc.rate), func(b *testing.B) {
			fake := newFake(&testing.T{}, nil, script{silent: true})
			defer fake.srv.Close()
			fake.sink = make(chan time.Time, 1)
			r, err := New(Config{URL: fake.url(), Codec: tc.codec})
			if err != nil {
				b.Fatal(err)
			}
			st, err := r.Stream(context.Background(), stt.Config{SampleRate: tc.rate})
			if err != nil {
				b.Fatal(err)
			}
			f := media.NewFrame(tc.rate)
			for i := range f.Samples {
				f.Samples[i] = int16(i * 37)
			}
			lat := make([]float64, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if err := st.Write(f); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, float64((<-fake.sink).Sub(t0).Nanoseconds())/1e3)
			}
			b.StopTimer()
			st.Close()
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-µs-to-engine")
			b.ReportMetric(lat[len(lat)*99/100], "p99-µs-to-engine")
		})
	}
}

// BenchmarkOpen measures setting up a stream: websocket handshake, OPEN,
// SET-PARAMS, RECOGNIZE and their answers, over loopback.
func BenchmarkOpen(b *testing.B) {
	fake := newFake(&testing.T{}, nil, script{silent: true})
	defer fake.srv.Close()
	r, err := New(Config{URL: fake.url()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		st, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000})
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}

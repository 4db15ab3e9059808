package voxygen

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/tts"
)

// BenchmarkFirstChunk synthesizes one sentence per iteration against the
// fake (answers cached, so the fake only writes bytes) and reports the
// time from the fake writing the answer's first audio byte to Recv
// returning the first chunk (p50 and p99, µs): what parole adds —
// HTTP client, MP3 decoding (go-mp3) or WAV parsing, resampling — before
// the first frame can be played. ns/op is the whole request.
func BenchmarkFirstChunk(b *testing.B) {
	for _, tc := range []struct {
		name   string
		coding Coding
		freq   int
	}{{"mp3-16k-to-8k", MP3, 16000}, {"wav-8k", Lin, 8000}, {"wav-22k-to-8k", Lin, 22050}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFakeVoxygen(b)
			text := "Your appointment is on Monday at ten."
			f.warm(string(tc.coding), tc.freq, "en-GB", text)
			s := newSynth(b, f, func(c *Config) { c.Coding, c.Frequency = tc.coding, tc.freq })
			lat := make([]float64, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				st, err := s.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.Recv(); err != nil {
					b.Fatal(err)
				}
				got := time.Now()
				st.Close()
				f.mu.Lock()
				fb := f.reqs[i].firstByte
				f.mu.Unlock()
				lat = append(lat, float64(got.Sub(fb).Nanoseconds())/1e3)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-µs-first-byte-to-chunk")
			b.ReportMetric(lat[len(lat)*99/100], "p99-µs-first-byte-to-chunk")
		})
	}
}

// BenchmarkDecode measures decoding a whole cached answer to 8 kHz chunks,
// as x real time of the audio.
func BenchmarkDecode(b *testing.B) {
	f := newFakeVoxygen(b)
	text := "Your appointment is on Monday at ten."
	f.warm("mp3", 16000, "en-GB", text)
	s := newSynth(b, f, nil)
	var samples int
	b.ReportAllocs()
	for range b.N {
		st, err := s.Synthesize(context.Background(), tts.Request{Text: text, SampleRate: 8000})
		if err != nil {
			b.Fatal(err)
		}
		for {
			c, err := st.Recv()
			if err != nil {
				break
			}
			samples += len(c.Samples)
		}
		st.Close()
	}
	audio := time.Duration(samples) * time.Second / 8000
	b.ReportMetric(float64(audio)/float64(b.Elapsed()), "x-realtime")
}

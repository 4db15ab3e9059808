package mp3

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
)

// BenchmarkDecode decodes a 44.1 kHz mono 48 kbit/s MP3 (espeak-ng speech)
// into 20 ms frames at 8 and 16 kHz, restarting at the end of the file.
func BenchmarkDecode(b *testing.B) {
	mp3, err := os.ReadFile("testdata/speech44k.mp3")
	if err != nil {
		b.Fatal(err)
	}
	for _, rate := range []int{8000, 16000} {
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			f := media.NewFrame(rate)
			d, err := NewDecoder(bytes.NewReader(mp3), rate)
			if err != nil {
				b.Fatal(err)
			}
			frames := 0
			b.ReportAllocs()
			for b.Loop() {
				err := d.ReadFrame(f)
				if errors.Is(err, io.EOF) {
					if d, err = NewDecoder(bytes.NewReader(mp3), rate); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				frames++
			}
			perFrame := float64(b.Elapsed().Nanoseconds()) / float64(max(frames, 1))
			b.ReportMetric(perFrame, "ns/frame")
			b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
		})
	}
}

package g722_test

import (
	"fmt"
	"math"

	"github.com/parole-voice/parole/media/g722"
)

// Encode one 20 ms frame of 16 kHz audio for RTP and decode it back.
func Example() {
	pcm := make([]int16, g722.SamplesPerFrame)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/g722.SampleRate))
	}

	enc := g722.NewEncoder()
	payload := enc.Encode(make([]byte, 0, g722.BytesPerFrame), pcm)

	dec := g722.NewDecoder()
	out := dec.Decode(make([]int16, 0, g722.SamplesPerFrame), payload)

	fmt.Println(len(pcm), "samples ->", len(payload), "bytes ->", len(out), "samples")
	// Output:
	// 320 samples -> 160 bytes -> 320 samples
}

package g711_test

import (
	"fmt"

	"github.com/parole-voice/parole/media/g711"
)

// Encode one 20 ms frame for an RTP PCMU payload and decode it back.
func Example() {
	pcm := make([]int16, g711.SamplesPerFrame)
	for i := range pcm {
		pcm[i] = int16(i * 100)
	}
	payload := g711.EncodeUlaw(make([]byte, 0, g711.BytesPerFrame), pcm)
	out := g711.DecodeUlaw(make([]int16, 0, g711.SamplesPerFrame), payload)
	fmt.Println(len(pcm), "samples ->", len(payload), "bytes ->", len(out), "samples")
	fmt.Println(pcm[100], "->", out[100])
	// Output:
	// 160 samples -> 160 bytes -> 160 samples
	// 10000 -> 9852
}

func ExampleEncodeAlawSample() {
	for _, s := range []int16{0, 1000, -1000, 32767} {
		c := g711.EncodeAlawSample(s)
		fmt.Printf("%6d -> %#02x -> %6d\n", s, c, g711.DecodeAlawSample(c))
	}
	// Output:
	//      0 -> 0xd5 ->      8
	//   1000 -> 0xfa ->   1008
	//  -1000 -> 0x7a ->  -1008
	//  32767 -> 0xaa ->  32256
}

func ExampleDecodeUlawSample() {
	fmt.Println(g711.DecodeUlawSample(g711.UlawSilence), g711.DecodeUlawSample(0x80), g711.DecodeUlawSample(0x00))
	// Output: 0 32124 -32124
}

// Append the codes of several chunks into one buffer.
func ExampleEncodeAlaw() {
	var buf []byte
	buf = g711.EncodeAlaw(buf, []int16{0, 0})
	buf = g711.EncodeAlaw(buf, []int16{-32768})
	fmt.Printf("% x\n", buf)
	// Output: d5 d5 2a
}

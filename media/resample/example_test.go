package resample_test

import (
	"fmt"
	"math"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
)

// Upsample a stream of 20 ms telephone frames (8 kHz) to 16 kHz wideband.
func Example() {
	r, err := resample.New(8000, 16000, resample.Default)
	if err != nil {
		panic(err)
	}
	in := make([]int16, 160) // 20 ms at 8 kHz
	out := make([]int16, 0, resample.OutputLen(8000, 16000, len(in)))
	for frame := range 3 {
		for i := range in {
			n := frame*len(in) + i
			in[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n)/8000))
		}
		out = r.Process(out[:0], in)
		fmt.Println(len(in), "samples in,", len(out), "samples out")
	}
	fmt.Println("delay:", r.Delay(), "output samples")
	// Output:
	// 160 samples in, 320 samples out
	// 160 samples in, 320 samples out
	// 160 samples in, 320 samples out
	// delay: 73 output samples
}

// Resample frames with ProcessFrame: 20 ms in, exactly 20 ms out.
func ExampleResampler_ProcessFrame() {
	r, err := resample.New(media.Rate48k, media.Rate16k, resample.Medium)
	if err != nil {
		panic(err)
	}
	src, dst := media.NewFrame(media.Rate48k), media.NewFrame(media.Rate16k)
	for range 2 {
		if err := r.ProcessFrame(dst, src); err != nil {
			panic(err)
		}
		fmt.Println(len(src.Samples), "@", src.Rate, "→", len(dst.Samples), "@", dst.Rate, dst.Duration())
	}
	// Output:
	// 960 @ 48000 → 320 @ 16000 20ms
	// 960 @ 48000 → 320 @ 16000 20ms
}

// Flush emits the filter's tail; dropping the first Delay() samples aligns
// the output with the input.
func ExampleResampler_Flush() {
	r, _ := resample.New(16000, 8000, resample.Low)
	in := make([]int16, 1000)
	out := r.Process(nil, in)
	out = r.Flush(out)
	aligned := out[r.Delay():]
	fmt.Println(len(out), len(aligned), resample.OutputLen(16000, 8000, len(in)))
	// Output:
	// 513 500 500
}

// New rejects rates it cannot handle.
func ExampleNew() {
	_, err := resample.New(8000, 0, resample.Medium)
	fmt.Println(err)
	// Output:
	// resample: unsupported sample rate: 8000 Hz → 0 Hz (rates must be 1000…384000 Hz)
}

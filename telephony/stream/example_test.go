package stream_test

import (
	"context"
	"fmt"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/stream"
)

// An Out paces frames to a protocol writer; an Assembler cuts the peer's
// messages into 20 ms frames.
func Example() {
	written := 0
	out, _ := stream.NewOut(stream.OutConfig{Rate: 8000, Unpaced: true, Write: func(f *media.Frame) error {
		written++
		return nil
	}})
	_ = out.Send(context.Background(), media.NewFrame(8000))
	out.Close(nil)

	a := stream.NewAssembler(8000, 8000)
	pcm, _ := a.Extend(400) // a 50 ms message
	clear(pcm)
	var f media.Frame
	frames := 0
	for a.Next(&f) {
		frames++
	}
	fmt.Println(frames, "frames,", a.Buffered(), "samples waiting")
	// Output: 2 frames, 80 samples waiting
}

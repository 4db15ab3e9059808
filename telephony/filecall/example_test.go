package filecall_test

import (
	"context"
	"fmt"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/filecall"
)

// A scripted caller: 60 ms of audio after 20 ms of silence, a key at 40 ms,
// then hang-up after 40 ms of silence. The bot answers one frame; the leg records it
// on the call's timeline.
func Example() {
	call, err := filecall.New(filecall.Config{
		Input: make([]int16, 480), // 60 ms at 8 kHz
		Lead:  20 * time.Millisecond,
		Tail:  40 * time.Millisecond,
		Keys:  []filecall.Key{{At: 40 * time.Millisecond, Digit: '7'}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for {
		in, err := call.Recv(ctx)
		if err != nil {
			fmt.Println(err)
			break
		}
		if in.Digit != 0 {
			fmt.Printf("%v: key %c\n", call.Elapsed(), in.Digit)
			continue
		}
		if call.Elapsed() == 60*time.Millisecond {
			f := media.NewFrame(8000)
			f.Samples[0] = 100
			call.Send(ctx, f) // played at 40 ms, the current slot
		}
	}
	call.Hangup(ctx)
	out := call.Output()
	fmt.Printf("bot audio: %d samples, first sound at %v\n", len(out), time.Duration(firstSound(out))*time.Second/8000)
	fmt.Println(call.Actions()[0].Kind, "at", call.Actions()[0].At)
	// Output:
	// 40ms: key 7
	// filecall: caller hung up at 120ms: telephony: call ended
	// bot audio: 480 samples, first sound at 40ms
	// hangup at 120ms
}

func firstSound(s []int16) int {
	for i, v := range s {
		if v != 0 {
			return i
		}
	}
	return -1
}

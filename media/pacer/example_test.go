package pacer_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/pacer"
	"github.com/parole-voice/parole/media/pacer/pacertest"
)

// Play a one-second prompt and barge in after 300 ms: Interrupt drops the
// rest and tells how much of the prompt the caller heard. (A simulated clock
// keeps the example instant; leave Config.Clock nil for real time.)
func Example() {
	clk := pacertest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	clk.SetAuto(true, nil)
	p := pacer.New(pacer.Config{Clock: clk})
	ctx := context.Background()

	begin := p.Position().End() // where the prompt starts in the stream
	frame := media.NewFrame(media.Rate8k)
	for range 50 { // 1 s of TTS audio
		if err := p.Enqueue(ctx, frame); err != nil {
			fmt.Println(err)
			return
		}
	}

	bargeIn := errors.New("caller speaks")
	sent := 0
	err := p.Run(ctx, func(f *media.Frame) error {
		// Here a telephony leg would write f to RTP.
		if sent++; sent == 15 { // VAD fires while frame 15 plays
			cut := p.Interrupt()
			fmt.Println("heard:", cut.Played-begin, "dropped:", cut.Discarded)
			return bargeIn
		}
		return nil
	})
	fmt.Println(errors.Is(err, bargeIn), p.Stats().Sent, p.Stats().Interrupted)
	// Output:
	// heard: 300ms dropped: 700ms
	// true 15 35
}

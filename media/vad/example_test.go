package vad_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/vad"
)

// An endpointer listens to a caller: 1 s of line noise, 1 s of "speech" (a
// tone stands in for it here), then noise again.
func Example() {
	e, err := vad.NewEndpointer(vad.EndpointConfig{
		VAD:     vad.Config{Rate: media.Rate8k},
		Silence: 700 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := media.NewFrame(media.Rate8k)
	noise := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		for j := range f.Samples {
			v := noise.NormFloat64() * 100 // about -50 dBFS
			if i >= 50 && i < 100 {
				v += 3000 * math.Sin(2*math.Pi*440*float64(i*len(f.Samples)+j)/media.Rate8k)
			}
			f.Samples[j] = int16(v)
		}
		ev, err := e.Process(f)
		if err != nil {
			fmt.Println(err)
			return
		}
		d := e.Detector()
		switch ev {
		case vad.SpeechStart:
			fmt.Printf("%v at %v: speech began at %v\n", ev, d.Offset(), d.Start().Offset)
		case vad.SpeechEnd:
			fmt.Printf("%v at %v: last speech frame ended at %v\n", ev, d.Offset(), d.End().Offset)
		case vad.EndOfUtterance:
			fmt.Printf("%v at %v: answer now\n", ev, d.Offset())
		}
	}
	// Output:
	// SpeechStart at 1.06s: speech began at 1s
	// SpeechEnd at 2.24s: last speech frame ended at 2s
	// EndOfUtterance at 2.7s: answer now
}

// The no-input timeout is the caller's: start a turn when the prompt has
// played and give up if nothing is heard within the timeout, counted in
// audio time.
func ExampleEndpointer_Heard() {
	e, err := vad.NewEndpointer(vad.EndpointConfig{VAD: vad.Config{Rate: media.Rate8k}})
	if err != nil {
		fmt.Println(err)
		return
	}
	const noInput = 5 * time.Second
	silence := media.NewFrame(media.Rate8k)
	e.NewTurn()
	for !e.Heard() {
		if _, err := e.Process(silence); err != nil {
			fmt.Println(err)
			return
		}
		if e.Elapsed() >= noInput {
			fmt.Println("no input after", e.Elapsed())
			break
		}
	}
	// Output: no input after 5s
}

func ExampleEvent() {
	fmt.Println(vad.SpeechStart, vad.SpeechEnd, vad.EndOfUtterance)
	// Output: SpeechStart SpeechEnd EndOfUtterance
}

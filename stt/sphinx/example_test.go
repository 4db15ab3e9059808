package sphinx_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
)

// Recognize an 8 kHz telephone prompt against a grammar of the phrases a
// dialog step accepts; the result carries the matched rule's value.
func Example_grammar() {
	r, err := sphinx.New(sphinx.Config{}) // Debian's pocketsphinx-en-us model
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	s, err := r.Stream(context.Background(), stt.Config{
		Language:   "en-US",
		SampleRate: 8000,
		Grammar: &stt.Grammar{Rules: []stt.Rule{
			{Phrase: "All circuits are busy now.", Value: "busy"},
			{Phrase: "Please check the number and dial again.", Value: "check"},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	f, err := os.Open("/usr/share/asterisk/sounds/en/all-circuits-busy-now.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	samples, _, err := wav.ReadAll(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	samples = append(make([]int16, 4000), append(samples, make([]int16, 4000)...)...) // ½ s of silence around
	frame := media.NewFrame(8000)
	for off := 0; off+160 <= len(samples); off += 160 {
		copy(frame.Samples, samples[off:])
		if err := s.Write(frame); err != nil {
			fmt.Println(err)
			return
		}
	}
	s.CloseSend()
	for {
		res, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q → %s (rejected: %v)\n", res.Text, res.Value, res.Rejected)
	}
	// Output:
	// "all circuits are busy now" → busy (rejected: false)
}

// Phrases are normalized the way the recognizer hears them.
func ExampleNormalize() {
	fmt.Println(sphinx.Normalize("Press 1, or say I'd like 18 tickets!"))
	fmt.Println(sphinx.Normalize("Call 0612"))
	// Output:
	// [press one or say i'd like eighteen tickets]
	// [call zero six one two]
}

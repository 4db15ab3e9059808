package espeak_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/espeak"
)

// Example synthesizes an SSML prompt at 8 kHz and lists the words it marks.
func Example() {
	s, err := espeak.New(espeak.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := `<speak>Press <say-as interpret-as="digits">12</say-as>.</speak>`
	st, err := s.Synthesize(context.Background(), tts.Request{SSML: doc, Language: "en-US", SampleRate: 8000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	samples := 0
	for {
		c, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		samples += len(c.Samples)
		for _, m := range c.Marks {
			fmt.Printf("%q\n", doc[m.Offset:m.Offset+m.Len])
		}
	}
	fmt.Println(samples > 8000/2)
	// Output:
	// "Press"
	// "1"
	// "2"
	// true
}

// ExampleSynthesizer_Synthesize_errors shows the errors callers branch on.
func ExampleSynthesizer_Synthesize_errors() {
	s, err := espeak.New(espeak.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = s.Synthesize(ctx, tts.Request{SSML: "<speak>unclosed", SampleRate: 8000})
	fmt.Println(errors.Is(err, tts.ErrBadSSML))
	_, err = s.Synthesize(ctx, tts.Request{Text: "hello", Language: "tlh", SampleRate: 8000})
	fmt.Println(errors.Is(err, tts.ErrUnsupported))
	_, err = s.Synthesize(ctx, tts.Request{Text: "  ", SampleRate: 8000})
	fmt.Println(errors.Is(err, espeak.ErrEmpty))
	// Output:
	// true
	// true
	// true
}

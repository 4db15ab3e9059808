package mp3_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/mp3"
)

// Decode a TTS prompt (44.1 kHz MP3) into 20 ms frames for an 8 kHz call.
func Example() {
	f, err := os.Open("testdata/speech44k.mp3")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	dec, err := mp3.NewDecoder(f, media.Rate8k)
	if err != nil {
		panic(err)
	}
	frame := media.NewFrame(media.Rate8k)
	frames, samples := 0, 0
	for {
		err := dec.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		frames++
		samples += len(frame.Samples)
	}
	fmt.Println(dec.SourceRate(), "Hz MP3 ->", frames, "frames,", samples, "samples at 8 kHz")
	// Output:
	// 44100 Hz MP3 -> 179 frames, 28482 samples at 8 kHz
}

// Decode a whole MP3 into samples at once.
func ExampleDecode() {
	f, err := os.Open("testdata/speech16k.mp3")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	pcm, err := mp3.Decode(f, media.Rate16k)
	fmt.Println(len(pcm), err)
	// Output:
	// 56964 <nil>
}

// A TTS service that answers with an error page instead of audio gets a
// clear error.
func ExampleNewDecoder_error() {
	_, err := mp3.NewDecoder(strings.NewReader("<html>503 Service Unavailable</html>"), media.Rate8k)
	fmt.Println(errors.Is(err, mp3.ErrCorrupt))
	fmt.Println(err)
	// Output:
	// true
	// mp3: invalid or corrupt stream: no MPEG audio frame found in 36 bytes
}

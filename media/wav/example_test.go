package wav_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
)

// Write one second of μ-law audio, then read it back frame by frame.
func Example() {
	var file bytes.Buffer
	w, err := wav.NewWriterSize(&file, wav.ULaw, 8000, 8000)
	if err != nil {
		log.Fatal(err)
	}
	frame := media.NewFrame(8000)
	for range 50 {
		if err := w.WriteFrame(frame); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := wav.NewReader(&file)
	if err != nil {
		log.Fatal(err)
	}
	h := r.Header()
	fmt.Println(h.Format, h.SampleRate, "Hz,", h.Duration())
	n, total := 0, time.Duration(0)
	for {
		if err := r.ReadFrame(frame); err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		n++
		total += frame.Duration()
	}
	fmt.Println(n, "frames,", total)
	// Output:
	// μ-law 8000 Hz, 1s
	// 50 frames, 1s
}

// Read a whole file into memory.
func ExampleReadAll() {
	var file bytes.Buffer
	if err := wav.Encode(&file, wav.PCM, 16000, []int16{1, 2, 3}); err != nil {
		log.Fatal(err)
	}
	samples, rate, err := wav.ReadAll(&file)
	fmt.Println(samples, rate, err)
	// Output: [1 2 3] 16000 <nil>
}

// Errors wrap sentinels callers can branch on.
func ExampleNewReader_errors() {
	_, err := wav.NewReader(bytes.NewReader([]byte("RIFF\x24\x00\x00\x00WAVEdata\x00\x00\x00\x00")))
	fmt.Println(err)
	// Output: wav: malformed header: data chunk before fmt chunk
}

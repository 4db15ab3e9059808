package fallback

import (
	"context"
	"io"
	"testing"

	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/espeak"
)

// A cloud engine failing midway hands the rest of the prompt to the
// embedded espeak-ng: the caller hears the primary's words, then espeak's
// for the rest, with marks that still point into the prompt.
func TestFallbackToEspeak(t *testing.T) {
	sec, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeSynth{id: 1, failAfter: 2, resumer: true}
	fb, err := New(p, sec, Config{})
	if err != nil {
		t.Fatal(err)
	}
	prompt := "one two three four five"
	st, err := fb.Synthesize(context.Background(), tts.Request{Text: prompt, Language: "en-US", SampleRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var primary, secondary int
	var words []string
	for {
		c, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Rate != 8000 {
			t.Fatalf("chunk at %d Hz", c.Rate)
		}
		if secondary == 0 && allEqual(c.Samples, p.id) {
			primary++
		} else {
			secondary += len(c.Samples)
		}
		for _, m := range c.Marks {
			words = append(words, prompt[m.Offset:m.Offset+m.Len])
		}
	}
	if primary != 2 {
		t.Errorf("%d chunks from the primary, want 2", primary)
	}
	if secondary < 8000/2 {
		t.Errorf("espeak said the rest in %d samples: too short for four words", secondary)
	}
	// "two" was being played when the primary failed: espeak says it
	// again, then the rest, and its marks name the prompt's words.
	want := []string{"one", "two", "two", "three", "four", "five"}
	if len(words) != len(want) {
		t.Fatalf("marks name %q, want %q", words, want)
	}
	for i := range want {
		if words[i] != want[i] {
			t.Fatalf("marks name %q, want %q", words, want)
		}
	}
}

func allEqual(s []int16, v int16) bool {
	for _, x := range s {
		if x != v {
			return false
		}
	}
	return len(s) > 0
}

package voxygen_test

import (
	"fmt"
	"log"

	"github.com/parole-voice/parole/tts/voxygen"
)

// A synthesizer for the Voxygen cloud: French by default, another voice
// for English, MP3 answers decoded to the call's rate. Synthesize sends
// the first sentence at once and the next one as soon as the previous
// answer begins.
func Example() {
	s, err := voxygen.New(voxygen.Config{
		Token:    "my-subscription-token",
		Language: "fr-FR",
		Voice:    "Loic",
		Voices:   map[string]string{"en": "Judith_NTTS"},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = s
}

// How a prompt is cut into requests.
func ExampleSplitSentences() {
	for _, s := range voxygen.SplitSentences("Bonjour M. Dupont. Votre rendez-vous est lundi ! À bientôt.", 0) {
		fmt.Printf("%d %q\n", s.Offset, s.Text)
	}
	// Output:
	// 0 "Bonjour M. Dupont."
	// 19 "Votre rendez-vous est lundi !"
	// 49 "À bientôt."
}

package allomedia_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/allomedia"
)

// A recognizer for the uh!live service, with client credentials, G.711
// A-law audio and French by default. Streams come from Recognizer.Stream,
// one per turn of the voice session.
func Example() {
	r, err := allomedia.New(allomedia.Config{
		ClientID:     "my-client",
		ClientSecret: "my-secret",
		Codec:        allomedia.G711A,
		Language:     "fr",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// Against the real service this opens a session; here there is none to
	// reach in a second, or no credentials that work.
	st, err := r.Stream(ctx, stt.Config{Language: "fr-FR", SampleRate: media.Rate8k,
		Grammar: &stt.Grammar{Rules: []stt.Rule{{Phrase: "oui", Value: "yes"}, {Phrase: "non", Value: "no"}}}})
	if err != nil {
		fmt.Println("no session")
		return
	}
	st.Close()
}

// The grammar sent for a gather's phrases.
func ExampleKeywordsGrammar() {
	fmt.Println(allomedia.KeywordsGrammar([]string{"oui", "non merci", "allo-media"}))
	// Output: speech/keywords?alternatives=oui|non merci|allo\-media
}

package fallback_test

import (
	"log"
	"time"

	"github.com/parole-voice/parole/stt/allomedia"
	"github.com/parole-voice/parole/stt/fallback"
	"github.com/parole-voice/parole/stt/sphinx"
)

// uh!live first, the embedded pocketsphinx when it fails: the utterance in
// progress (up to 10 s of it) is replayed to pocketsphinx.
func Example() {
	cloud, err := allomedia.New(allomedia.Config{ClientID: "my-client", ClientSecret: "my-secret"})
	if err != nil {
		log.Fatal(err)
	}
	local, err := sphinx.New(sphinx.Config{})
	if err != nil {
		log.Print(err) // the model is not installed
		return
	}
	r, err := fallback.New(cloud, local, fallback.Config{FailureThreshold: 3, CoolDown: time.Minute, MaxReplay: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	_ = r // the voice session's Config.Recognizer
}

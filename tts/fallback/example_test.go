package fallback_test

import (
	"log"
	"time"

	"github.com/parole-voice/parole/tts/espeak"
	"github.com/parole-voice/parole/tts/fallback"
	"github.com/parole-voice/parole/tts/voxygen"
)

// Voxygen first, the embedded espeak-ng when it fails; after three
// failures in a row Voxygen is left alone for a minute.
func Example() {
	cloud, err := voxygen.New(voxygen.Config{Token: "my-token", Voice: "Loic"})
	if err != nil {
		log.Fatal(err)
	}
	local, err := espeak.New(espeak.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := fallback.New(cloud, local, fallback.Config{FailureThreshold: 3, CoolDown: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	_ = s // the voice session's Config.Synthesizer
}

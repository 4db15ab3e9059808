package nuance_test

import (
	"fmt"

	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/nuance"
)

// The SynthesisRequest sent for a reply at the telephone rate.
func ExampleSynthesizer_Request() {
	s, err := nuance.New(nuance.Config{
		ClientID:     "appID:NMDPTRIAL_me:geo:us:clientName:default",
		ClientSecret: "secret",
		Voice:        "Evan",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	req, err := s.Request(tts.Request{Text: "Your call is important to us.", SampleRate: 8000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.GetVoice().GetName(), req.GetVoice().GetModel(), req.GetVoice().GetLanguage())
	fmt.Println(req.GetAudioParams().GetAudioFormat().GetPcm().GetSampleRateHz(), "Hz PCM")
	fmt.Println(req.GetInput().GetText().GetText())
	// Output:
	// Evan enhanced en-US
	// 8000 Hz PCM
	// Your call is important to us.
}

// Configuration mistakes are reported by New.
func ExampleNew() {
	_, err := nuance.New(nuance.Config{ClientID: "only-an-id"})
	fmt.Println(err)
	// Output: nuance: invalid configuration: client_id and client_secret go together
}

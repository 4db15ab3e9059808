package session_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/telephony/session"
)

// One synthetic call over the demo flow. The caller waits for the greeting
// and speaks; a scripted recognizer hears "goodbye" and the flow hangs up.
// fakeSTT and fakeTTS are the scripted engines of this package's tests; a
// real call uses stt/sphinx and tts/espeak (see cmd/parole's call command).
func Example() {
	call, err := filecall.New(filecall.Config{
		ID:          "example",
		Input:       speech(700*time.Millisecond, 1),
		AfterPrompt: 300 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	cfg := session.Config{
		Dialog:      runner.New(bot, store.NewMemory(store.Options{})),
		Recognizer:  &fakeSTT{script: []stt.Result{{Text: "goodbye", Confidence: 0.9}}},
		Synthesizer: &fakeTTS{},
		Observer: session.ObserverFunc(func(e session.Event) {
			switch e.Kind {
			case session.Reply:
				fmt.Printf("%5v bot:    %s\n", e.At, strings.ReplaceAll(e.Text, "\n", " "))
			case session.Final:
				fmt.Printf("%5v caller: %s\n", e.At, e.Text)
			case session.Latency:
				fmt.Printf("%5v turn %d: %s, end silence %v\n", e.At, e.Trace.Turn, e.Trace.Input, e.Trace.Endpointing)
			case session.CallEnded:
				fmt.Printf("%5v %s\n", e.At, e.Reason)
			}
		}),
	}
	if err := session.Run(context.Background(), call, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	// Output:
	// 0s bot:    Welcome to the Parole demo line. You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?
	//  20ms turn 0: start, end silence 0s
	// 6.02s caller: goodbye
	// 6.02s bot:    Thank you for calling. Goodbye!
	// 6.02s turn 1: speech, end silence 600ms
	// 7.02s bot hung up
}

package live_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/web/live"
)

// A voice call reports through its session's observer; the view shows its
// transcript and a waterfall per turn.
func ExampleHub_CallObserver() {
	hub, err := live.New(live.Config{Token: "operator-secret"})
	if err != nil {
		panic(err)
	}
	defer hub.Close()

	// In parole serve: session.Run(ctx, call, session.Config{…, Observer: hub.CallObserver(call.Info())}).
	obs := hub.CallObserver(telephony.Info{ID: "call-1", Channel: "sip", From: "+33612345678", To: "+33187654321"})
	obs.Observe(session.Event{Kind: session.CallStarted})
	obs.Observe(session.Event{Kind: session.Final, Turn: 1, Text: "opening hours", Confidence: 0.9})
	obs.Observe(session.Event{Kind: session.Reply, Turn: 1, Text: "We are open from 9 to 6."})
	obs.Observe(session.Event{Kind: session.Latency, Turn: 1, Trace: &session.Trace{Turn: 1, Input: "speech",
		Endpointing: 800 * time.Millisecond, STT: 120 * time.Millisecond, Dialog: 5 * time.Millisecond,
		TTS: 60 * time.Millisecond, Playout: 20 * time.Millisecond, Total: 205 * time.Millisecond}})

	c := hub.Snapshot().Conversations[0]
	fmt.Println(c.Channel, c.From, "→", c.To)
	for _, e := range c.Transcript {
		if e.Latency != nil {
			for _, s := range e.Latency.Stages {
				fmt.Printf("  %-11s %4.0f ms at %4.0f\n", s.Name, s.DurationMS, s.StartMS)
			}
			continue
		}
		fmt.Printf("%s: %s\n", e.Kind, e.Text)
	}
	// Output:
	// sip +33612345678 → +33187654321
	// user: opening hours
	// bot: We are open from 9 to 6.
	//   endpointing  800 ms at    0
	//   stt          120 ms at  800
	//   dialog         5 ms at  920
	//   tts           60 ms at  925
	//   playout       20 ms at  985
}

// Text channels are wrapped: the connector calls the wrapper, which
// passes every event through to the runner and shows the conversation.
func ExampleHub_Wrap() {
	hub, err := live.New(live.Config{LoopbackOnly: true})
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	// A real server wraps its *runner.Runner for a connector: web.New(hub.Wrap(run), cfg).
	var d live.Dialog = hub.Wrap(echoDialog{})
	reply, _ := d.Handle(context.Background(), runner.Session{ConversationID: "web:42", Channel: "web", ChannelUserID: "42"}, dialog.Text("hello"))
	fmt.Println(reply.Text())
	for _, e := range hub.Snapshot().Conversations[0].Transcript {
		if e.Kind != live.EntryLatency {
			fmt.Printf("%s: %s\n", e.Kind, e.Text)
		}
	}
	// Mount the API next to the pages (web.FS serves /calls.html).
	mux := http.NewServeMux()
	for _, route := range hub.Routes() {
		mux.Handle(route, hub)
	}
	fmt.Println(hub.Routes())
	// Output:
	// You said: hello
	// user: hello
	// bot: You said: hello
	// [/api/calls /api/calls/events]
}

type echoDialog struct{}

func (echoDialog) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say("You said: " + ev.Text), nil
}

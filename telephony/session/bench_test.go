package session_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/telephony/session"
)

// echoBot answers every event with one word and listens again.
var echoBot = dialog.BotFunc(func(ctx context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
	if ev.Type == dialog.EventEnd {
		return dialog.Reply{}, nil
	}
	return dialog.Reply{Messages: []dialog.Message{{Text: "okay"}}, Gather: &dialog.Gather{Speech: true, BargeIn: true}}, nil
})

// BenchmarkTurnOverhead runs calls of 50 spoken turns with instant fake
// engines and the runner over a memory store, one op per turn: a 300 ms
// utterance, the 800 ms end silence, the answer. ns/op and allocs/op are
// the whole pipeline's per turn (65 frames of audio each, dialog and store
// included); p99-overhead-ms is the 99th percentile of the time the session
// itself adds between the end of the caller's turn and the first frame of
// the answer (Trace.Overhead: engines and dialog excluded).
func BenchmarkTurnOverhead(b *testing.B) {
	const turnsPerCall = 50
	turn := concat(speech(300*time.Millisecond, 7), silence(1000*time.Millisecond))
	var in []int16
	for range turnsPerCall {
		in = append(in, turn...)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var sum session.Summary
	var audio time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += turnsPerCall {
		call, err := filecall.New(filecall.Config{Input: in, AfterPrompt: 20 * time.Millisecond, Tail: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		obs := session.ObserverFunc(func(e session.Event) {
			if e.Kind == session.Latency && e.Trace.Input == "speech" {
				sum.Add(*e.Trace)
			}
		})
		cfg := session.Config{
			Dialog:     runner.New(echoBot, store.NewMemory(store.Options{})),
			Recognizer: &fakeSTT{always: "hello"}, Synthesizer: &fakeTTS{},
			Observer: obs, Logger: logger,
		}
		if err := session.Run(context.Background(), call, cfg); err != nil {
			b.Fatal(err)
		}
		audio += call.Elapsed()
	}
	b.StopTimer()
	if len(sum.Traces) == 0 {
		b.Fatal("no turn traced")
	}
	calls := (b.N + turnsPerCall - 1) / turnsPerCall
	el := b.Elapsed()
	b.ReportMetric(float64(sum.Percentile("overhead", 99))/1e6, "p99-overhead-ms")
	b.ReportMetric(float64(sum.Percentile("overhead", 50))/1e6, "p50-overhead-ms")
	b.ReportMetric(float64(el)/float64(audio/media.FrameDuration), "ns/frame")
	b.ReportMetric(float64(audio)/float64(el), "x-realtime")
	if got := len(sum.Traces); got < calls*turnsPerCall*9/10 {
		b.Fatalf("%d turns traced of %d", got, calls*turnsPerCall)
	}
}

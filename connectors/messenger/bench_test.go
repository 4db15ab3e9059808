package messenger

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

type echoBot struct{}

func (echoBot) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say("echo: " + ev.Text), nil
}

// BenchmarkTurn measures one message through ServeHTTP and the turn it
// starts: signature check, parsing, the dialog (an echo bot), a typing_on
// action and the reply posted to the fake Send API over loopback HTTP. It
// reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, g := setup(b, echoBot{}, nil)
	post(c, msgBody("warm", "hi"), appSecret)
	c.Wait()
	g.Calls()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		// A new message id each turn: a repeated one would be dropped.
		if w := post(c, msgBody("m_bench_"+strconv.Itoa(i), "hello"), appSecret); w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
		c.Wait()
		if i%256 == 0 {
			g.Calls()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

// BenchmarkRender measures rendering a menu with quick replies.
func BenchmarkRender(b *testing.B) {
	r := dialog.Reply{Messages: []dialog.Message{{Text: "Welcome to the Parole demo line."}, {
		Text:    "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?",
		Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Book an appointment", Payload: "book"}},
	}}}
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		n += len(Render(r))
	}
	b.ReportMetric(float64(n)/float64(b.N), "msgs/reply")
}

package whatsapp

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
// starts: signature check, parsing, the dialog (an echo bot), the read
// receipt with typing indicator and the reply posted to the fake Cloud
// API over loopback HTTP. It reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, g := setup(b, echoBot{}, nil)
	post(c, textBody("wamid.warm", "hi"), appSecret)
	c.Wait()
	g.Calls()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if w := post(c, textBody("wamid.b"+strconv.Itoa(i), "hello"), appSecret); w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
		c.Wait()
		if i%256 == 0 {
			g.Calls()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

// BenchmarkRender measures rendering a 12-choice menu (two lists).
func BenchmarkRender(b *testing.B) {
	var cs []dialog.Choice
	for i := 0; i < 12; i++ {
		cs = append(cs, dialog.Choice{Title: "Slot " + strconv.Itoa(i), Payload: "s" + strconv.Itoa(i)})
	}
	r := dialog.Reply{Messages: []dialog.Message{{Text: "Pick a slot", Choices: cs}}}
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		n += len(Render(r, RenderOptions{}))
	}
	b.ReportMetric(float64(n)/float64(b.N), "msgs/reply")
}

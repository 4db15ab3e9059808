package whatsapp

import (
	"strconv"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
	"github.com/parole-voice/parole/dialog"
)

// BenchmarkTurn measures one message through ServeHTTP and the turn it
// starts: signature check, parsing, the dialog (an echo bot), the read
// receipt with typing indicator and the reply posted to the fake Cloud
// API over loopback HTTP. It reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, g := setup(b, metatest.EchoBot{}, nil)
	metatest.BenchTurns(b, func(id string) int { return post(c, textBody("wamid."+id, "hello"), appSecret).Code }, c.Wait, func() { g.Calls() })
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

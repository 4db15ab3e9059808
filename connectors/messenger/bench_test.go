package messenger

import (
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
	"github.com/parole-voice/parole/dialog"
)

// BenchmarkTurn measures one message through ServeHTTP and the turn it
// starts: signature check, parsing, the dialog (an echo bot), a typing_on
// action and the reply posted to the fake Send API over loopback HTTP. It
// reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, g := setup(b, metatest.EchoBot{}, nil)
	metatest.BenchTurns(b, func(id string) int { return post(c, msgBody("m_"+id, "hello"), appSecret).Code }, c.Wait, func() { g.Calls() })
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

package googleassistant

import (
	"context"
	"net/http"
	"testing"

	"github.com/parole-voice/parole/dialog"
)

// benchTurn posts body to path with headers through a rig over the demo
// flow, one verified turn per iteration.
func benchTurn(b *testing.B, path string, body []byte, headers ...string) {
	g := newRig(b, Config{})
	respBytes := 0
	b.ReportAllocs()
	for b.Loop() {
		req := request(path, body, headers...)
		if path == DefaultDialogflowPath {
			req.SetBasicAuth(dfUser, dfPass)
		}
		w := g.do(req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		respBytes = w.Body.Len()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(respBytes), "resp-bytes")
}

// BenchmarkTurnConversation is one conversation webhook request (JWT
// verified with RS256, the demo flow's welcome and menu, the memory store)
// through the connector.
func BenchmarkTurnConversation(b *testing.B) {
	benchTurn(b, DefaultAssistantPath, fixture(b, "conversation_main.json", nil), HeaderAuthorization, "Bearer "+goodToken(b))
}

// BenchmarkTurnBuilder is the same for an Actions Builder request.
func BenchmarkTurnBuilder(b *testing.B) {
	benchTurn(b, DefaultActionsPath, fixture(b, "builder_main.json", nil), HeaderActionsSignature, goodToken(b))
}

// BenchmarkTurnDialogflow is the same for a Dialogflow fulfillment request
// (basic auth).
func BenchmarkTurnDialogflow(b *testing.B) {
	benchTurn(b, DefaultDialogflowPath, fixture(b, "dialogflow_welcome.json", nil))
}

// BenchmarkVerify is the JWT check alone: parse, RS256 signature, claims.
func BenchmarkVerify(b *testing.B) {
	g := newRigWith(b, &recorder{}, Config{})
	tok := goodToken(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.c.verifier.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkLayout is a five-message reply with SSML, choices and hints
// laid out within the Assistant's limits.
func BenchmarkLayout(b *testing.B) {
	r := dialog.Reply{Messages: []dialog.Message{
		{Text: "Welcome to the Parole demo line."},
		{Text: "menu", SSML: `<speak>Say <emphasis>opening hours</emphasis>, or press 1.<break time="300ms"/> Say appointment, or press 2.</speak>`},
		{Text: "Three."}, {Text: "Four."},
		{Text: "What would you like?", Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Book an appointment", Payload: "book"}}},
	}, Gather: &dialog.Gather{Speech: true, Hints: []string{"opening hours", "appointment", "operator", "help"}}}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		rd := layout(r)
		n = len(rd.bubbles[0].speech) + len(rd.bubbles[1].speech)
	}
	b.ReportMetric(float64(n), "speech-bytes")
}

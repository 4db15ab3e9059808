package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

type echoBot struct{}

func (echoBot) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say("echo: " + ev.Text), nil
}

// BenchmarkTurn measures one personal-chat turn through ServeHTTP: token
// verification (RS256), parsing, the dialog (an echo bot), a typing
// activity and the reply posted to the fake Bot Connector over loopback
// TLS. It reports turns/s.
func BenchmarkTurn(b *testing.B) {
	bf := newFakeBF(b)
	c := bf.connector(b, echoBot{}, nil)
	amer := bf.serviceURL("amer")
	body, _ := json.Marshal(personalMessage(b, amer, "m1", "When are you open?"))
	auth := bf.bearer(b, amer)
	serve := func() {
		r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	serve() // warm: keys, token, conversation started
	bf.takeCalls()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		serve()
		if i%256 == 0 {
			bf.takeCalls()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

// BenchmarkVerify measures the check of one Bot Connector token with
// cached keys.
func BenchmarkVerify(b *testing.B) {
	bf := newFakeBF(b)
	amer := bf.serviceURL("amer")
	v := NewVerifier(testAppID, VerifierOptions{MetadataURL: bf.srv.URL + "/v1/.well-known/openidconfiguration", Client: bf.srv.Client()})
	auth := bf.bearer(b, amer)
	ctx := context.Background()
	if _, err := v.Verify(ctx, auth, "msteams", amer); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, auth, "msteams", amer); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkRender measures rendering a menu reply (text and a Hero card
// of choices) and reports messages rendered per second.
func BenchmarkRender(b *testing.B) {
	r := dialog.Reply{Messages: []dialog.Message{
		{Text: "Welcome to the Parole demo line. 👋"},
		{Text: "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?",
			Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Book an appointment", Payload: "book"}}},
	}}
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if len(Render(r, RenderOptions{})) != 2 {
			b.Fatal("render")
		}
	}
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "msgs/s")
}

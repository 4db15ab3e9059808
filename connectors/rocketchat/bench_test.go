package rocketchat

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTurn is one verified outgoing-integration request through the
// connector, the demo flow, the memory store and chat.postMessage to a
// fake Rocket.Chat over loopback HTTP. Iterations alternate the
// "Opening hours" button's message and "Yes", a steady two-turn cycle.
func BenchmarkTurn(b *testing.B) {
	e := newEnv(b, nil)
	bodies := [2][]byte{webhook(b, map[string]any{"text": "Opening hours"}), webhook(b, map[string]any{"text": "Yes"})}
	e.post(b, "application/json", webhook(b, nil))
	e.rc.take()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(bodies[i%2]))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.c.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		i++
	}
	msgs := len(e.rc.take())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(msgs)/float64(b.N), "posts/turn")
}

// BenchmarkRender renders the demo menu: text and three buttons.
func BenchmarkRender(b *testing.B) {
	e := newEnv(b, nil)
	rep, err := e.hits.Handle(b.Context(), sessionFor("bench"), startEvent)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(Render(docRoom, "", rep))
	}
	b.ReportMetric(float64(n), "posts")
}

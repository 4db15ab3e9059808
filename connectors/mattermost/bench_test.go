package mattermost

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTurn is one verified outgoing-webhook request through the
// connector, the demo flow, the memory store and the posting of the reply
// to a fake Mattermost API over loopback HTTP. Iterations alternate
// "hours" (menu → opening hours → "anything else?") and "yes" (back to
// the menu), a steady two-turn cycle.
func BenchmarkTurn(b *testing.B) {
	e := newEnv(b, true, nil)
	bodies := [2][]byte{webhook(b, map[string]any{"text": "hours"}), webhook(b, map[string]any{"text": "yes"})}
	e.post(b, DefaultPath, "application/json", webhook(b, map[string]any{"text": "hello"}))
	e.mm.take()
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
	posts := len(e.mm.take())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(posts)/float64(b.N), "posts/turn")
}

// BenchmarkRender renders the demo menu (text and three buttons with
// signed contexts).
func BenchmarkRender(b *testing.B) {
	e := newEnv(b, true, nil)
	rep, err := e.hits.Handle(b.Context(), sessionFor("bench"), startEvent())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(e.c.Render(docChannel, "", rep))
	}
	b.ReportMetric(float64(n), "posts")
}

package allomedia

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTurn is one authenticated request through the connector, the
// demo flow and the memory store. Iterations alternate "horaires" (menu →
// opening hours → "anything else?") and "oui" (back to the menu), so the
// conversation cycles through two steady turns.
func BenchmarkTurn(b *testing.B) {
	p := newPlatform(b, nil, Config{})
	bodies := [2][]byte{request(b, set("text", "horaires")), request(b, set("text", "oui"))}
	auth := basic(user, pass)
	p.ok(b, request(b, set("text", nil))) // the welcome
	n, i := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, DefaultPath+"/call", bytes.NewReader(bodies[i%2]))
		i++
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		p.c.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if bytes.Contains(w.Body.Bytes(), []byte(`"conversationEnd":true`)) || bytes.Contains(w.Body.Bytes(), []byte("compris")) {
			b.Fatalf("turn %d left the steady cycle: %s", i, w.Body)
		}
		n = w.Body.Len()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(n), "resp-bytes")
}

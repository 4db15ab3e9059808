package googlechat

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTurn is one MESSAGE event with a verified bearer token (RS256
// signature, cached key) through the connector, the demo flow and the
// memory store, answered with a cards v2 message. Iterations alternate
// "hours" and "yes", a steady two-turn cycle.
func BenchmarkTurn(b *testing.B) {
	e := newEnv(b, nil)
	var ev map[string]any
	json.Unmarshal(fixture(b, "message_event.json"), &ev)
	body := func(text string) []byte {
		ev["message"].(map[string]any)["argumentText"] = text
		out, _ := json.Marshal(ev)
		return out
	}
	bodies := [2][]byte{body("hours"), body("yes")}
	auth := e.bearer(b)
	e.send(b, body("hello"), auth)
	i, n := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(bodies[i%2]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		e.c.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		n = w.Body.Len()
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(n), "resp-bytes")
}

// BenchmarkVerifyToken checks one bearer token against the cached keys.
func BenchmarkVerifyToken(b *testing.B) {
	e := newEnv(b, nil)
	auth := e.bearer(b)
	ks := e.c.keys
	b.ReportAllocs()
	for b.Loop() {
		if err := verifyToken(b.Context(), auth, project, ks, e.c.cfg.ClockSkew, e.c.now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

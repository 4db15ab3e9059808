package applebusiness

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkTurn is one signed inbound text through the connector (HMAC
// and timestamp check, parsing, duplicate check), the demo flow, the
// memory store and the sending of the replies to a fake provider over
// loopback HTTP. Iterations alternate "hours" and "yes", a steady
// two-turn cycle.
func BenchmarkTurn(b *testing.B) {
	e := newEnv(b, nil)
	first := fixture(b, "inbound_text.json", nil)
	e.deliver(b, first, signedHeaders(first, testNow))
	e.msp.take()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		text := "hours"
		if i%2 == 1 {
			text = "yes"
		}
		i++
		body := fixture(b, "inbound_text.json", map[string]any{"id": "b" + strconv.Itoa(i), "body": text})
		req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(body))
		req.Header = signedHeaders(body, testNow)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.c.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	n := len(e.msp.take())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(n)/float64(b.N), "msgs/turn")
}

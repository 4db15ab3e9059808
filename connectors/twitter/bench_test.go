package twitter

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkTurn is one signed Account Activity delivery through the
// connector (signature check, parsing, duplicate check), the demo flow,
// the memory store and the DM send to a fake X API over loopback HTTP.
// Iterations alternate "1" (the numbered "Opening hours" → hours →
// "anything else?") and "yes" (back to the menu).
func BenchmarkTurn(b *testing.B) {
	e := newEnv(b, nil)
	first := delivery(b, "b0", "hi", "")
	e.deliver(b, first, sign(first))
	e.x.take()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		text := "1"
		if i%2 == 1 {
			text = "yes"
		}
		i++
		body := delivery(b, "b"+strconv.Itoa(i), text, "")
		req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(SignatureHeader, sign(body))
		w := httptest.NewRecorder()
		e.c.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	dms := len(e.x.take())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(dms)/float64(b.N), "dms/turn")
}

// BenchmarkVerify checks the signature of the documented delivery.
func BenchmarkVerify(b *testing.B) {
	body := delivery(b, "v", "Hello World!", "")
	sig := sign(body)
	c := &Connector{cfg: Config{ConsumerSecret: secret}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := c.Verify(body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequest feeds arbitrary bodies to DecodeRequest and to the whole
// POST handler: decoding never panics, a decoded request satisfies the
// documented bounds and survives a JSON round trip, and the handler
// answers 200, 400 or 413 with a JSON body — never a 500 for a client's
// bytes. Seeds are in testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"query":"When are you open?","userId":"u1","locale":"en"}`,
		`{"payload":"hours","userId":"u1","locale":"fr_FR","returnsHistory":true}`,
		`{"userId":"u1","ref":"promo","streamedResponse":true,"connectorId":"x","sourceWithContent":true}`,
		`{"userId":""}`, `null`, `[]`, `{"userId":"u"}{}`, `{"userId":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	const maxBody = 4096
	c, err := New(&fakeBot{}, Config{Rate: -1, MaxBodyBytes: maxBody, MaxUsers: 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(bytes.NewReader(body))
		if err == nil {
			if req.UserID == "" || len(req.UserID) > MaxUserIDLen || len(req.Query) > MaxQueryLen ||
				len(req.Payload) > MaxQueryLen || len(req.Locale) > MaxLocaleLen || strings.Contains(req.Locale, "_") {
				t.Fatalf("decoded request out of bounds: %+v", req)
			}
			again, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			req2, err := DecodeRequest(bytes.NewReader(again))
			if err != nil || req2 != req {
				t.Fatalf("round trip: %+v -> %s -> %+v, %v", req, again, req2, err)
			}
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/io/web", bytes.NewReader(body)))
		switch {
		case w.Code == http.StatusRequestEntityTooLarge:
			if len(body) <= maxBody {
				t.Fatalf("413 for a %d-byte body", len(body))
			}
		case len(body) > maxBody && w.Code == http.StatusBadRequest:
			// The decoder may find the error before the limit.
		case w.Code == http.StatusOK || w.Code == http.StatusBadRequest:
			if (w.Code == http.StatusOK) != (err == nil) {
				t.Fatalf("status %d but DecodeRequest error %v", w.Code, err)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.Bytes())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body.Bytes())
		}
	})
}

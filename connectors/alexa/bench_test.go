package alexa

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parole-voice/parole/dialog"
)

// BenchmarkTurn is one verified LaunchRequest through the connector, the
// demo flow and the memory store: signature check (cached certificate),
// parsing, the dialog turn and the SSML response.
func BenchmarkTurn(b *testing.B) {
	g := newRig(b, Config{})
	body := fixture(b, "launch.json", nil)
	sig := sign(b, g.key, body)
	respBytes := 0
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderCertURL, certURL)
		req.Header.Set(HeaderSignature, sig)
		w := httptest.NewRecorder()
		g.c.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		respBytes = w.Body.Len()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(float64(respBytes), "resp-bytes")
}

// BenchmarkVerify is the request verification alone: URL checks, the
// cached certificate and the RSA-2048/SHA-256 signature over the body.
func BenchmarkVerify(b *testing.B) {
	g := newRigWith(b, &recorder{}, nil, Config{})
	body := fixture(b, "launch.json", nil)
	sig := sign(b, g.key, body)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := g.c.verifier.Verify(ctx, certURL, sig, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkRender is a voice reply with SSML rendered for Alexa.
func BenchmarkRender(b *testing.B) {
	r := dialog.Reply{Messages: []dialog.Message{
		{Text: "Welcome to the Parole demo line."},
		{Text: "menu", SSML: `<speak>Say <emphasis>opening hours</emphasis>, or press 1.<break time="300ms"/> Say appointment, or press 2.</speak>`},
	}, Gather: &dialog.Gather{Speech: true}}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n = len(Render(r, "Parole").OutputSpeech.SSML)
	}
	b.ReportMetric(float64(n), "ssml-bytes")
}

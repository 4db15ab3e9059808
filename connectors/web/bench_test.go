package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// staticBot answers every event with the same two-message reply: the
// trivial bot of the benchmarks, so they measure the connector.
type staticBot struct{ reply dialog.Reply }

func (b staticBot) Handle(context.Context, runner.Session, dialog.Event) (dialog.Reply, error) {
	return b.reply, nil
}

func benchBot() staticBot {
	return staticBot{dialog.Reply{Messages: []dialog.Message{
		{Text: "We are open Monday to Friday, from 9 am to 6 pm."},
		{Text: "Can I help you with anything else?", Choices: []dialog.Choice{{Title: "Yes", Payload: "yes"}, {Title: "No", Payload: "no"}}},
	}}}
}

const benchBody = `{"query":"When are you open?","userId":"bench-user","locale":"en"}`

// BenchmarkPost is one POST round trip through the handler, in process:
// decode, rate limit, turn, render, encode.
func BenchmarkPost(b *testing.B) {
	c := newConnector(b, benchBot(), Config{Rate: -1})
	body := strings.NewReader(benchBody)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(benchBody)
		r := httptest.NewRequest(http.MethodPost, "/io/web", body)
		w.code = 0
		c.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}

// BenchmarkPostLoopback is the same round trip over a loopback HTTP
// connection, as a browser makes it.
func BenchmarkPostLoopback(b *testing.B) {
	c := newConnector(b, benchBot(), Config{Rate: -1})
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	client := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(srv.URL+"/io/web", "application/json", strings.NewReader(benchBody))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}

// BenchmarkRender maps a two-message reply with buttons to Tock messages
// and encodes them.
func BenchmarkRender(b *testing.B) {
	r := benchBot().reply
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		msgs, _ := Render(r, "en")
		buf.Reset()
		if err := encodeJSON(&buf, msgs); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is an http.ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

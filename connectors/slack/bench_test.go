package slack

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

type echoBot struct{}

func (echoBot) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say("echo: " + ev.Text), nil
}

// BenchmarkTurn measures one direct message through ServeHTTP and the
// turn it starts: signature check, parsing, the dialog (an echo bot) and
// the reply posted with chat.postMessage to the fake Web API over loopback
// HTTP. It reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, f := setup(b, echoBot{}, nil)
	base := fixture(b, "message_im.json")
	event(c, base)
	c.Wait()
	f.take()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		body := bytes.Replace(base, []byte("Ev123ABC456"), []byte("Ev"+strconv.Itoa(i)), 1)
		if w := event(c, body); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		c.Wait()
		if i%256 == 0 {
			f.take()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

// BenchmarkVerify measures the signature check of one event.
func BenchmarkVerify(b *testing.B) {
	body := fixture(b, "message_im.json")
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, Sign(secret, ts, body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if err := Verify(secret, h, body, now, DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}

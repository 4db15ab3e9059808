package slack

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
)

// BenchmarkTurn measures one direct message through ServeHTTP and the
// turn it starts: signature check, parsing, the dialog (an echo bot) and
// the reply posted with chat.postMessage to the fake Web API over loopback
// HTTP. It reports turns/s.
func BenchmarkTurn(b *testing.B) {
	c, f := setup(b, metatest.EchoBot{}, nil)
	base := metatest.Fixture(b, "message_im.json")
	metatest.BenchTurns(b, func(id string) int {
		return event(c, bytes.Replace(base, []byte("Ev123ABC456"), []byte("Ev"+id), 1)).Code
	}, c.Wait, func() { f.take() })
}

// BenchmarkVerify measures the signature check of one event.
func BenchmarkVerify(b *testing.B) {
	body := metatest.Fixture(b, "message_im.json")
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

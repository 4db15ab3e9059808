package applebusiness

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// FuzzParseInbound: any body gives a complete inbound message or a
// bad-body error; mapping it to a dialog event never panics and gives a
// valid event.
func FuzzParseInbound(f *testing.F) {
	for _, n := range []string{"inbound_text.json", "inbound_listpicker_reply.json"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1","sourceId":"s","destinationId":"d","type":"interactive","interactiveData":{"data":{"listPicker":{"sections":[{"items":[{"identifier":""}]}]}}}}`))
	c := &Connector{}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseInbound(body)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadBody and ErrBadRequest", err)
			}
			return
		}
		ev, ok, err := c.event(m)
		if err != nil && !errors.Is(err, httpx.ErrBadBody) {
			t.Fatalf("event: %v", err)
		}
		if ok {
			if err := ev.Validate(); err != nil {
				t.Fatalf("invalid event %+v: %v", ev, err)
			}
		}
	})
}

// FuzzVerify: only the exact signature of the timestamp and body, with a
// fresh timestamp, verifies.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1764064800, 0)
	f.Add([]byte(`{"id":"1"}`), "1764064800", "sha256=00")
	f.Add([]byte(``), "", "")
	c := &Connector{cfg: Config{Auth: AuthHMAC, Secret: secret, MaxSkew: 5 * time.Minute}, now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		h := http.Header{}
		h.Set(TimestampHeader, ts)
		h.Set(SignatureHeader, sig)
		err := c.Verify(h, body)
		n, perr := strconv.ParseInt(h.Get(TimestampHeader), 10, 64)
		fresh := perr == nil && n >= now.Unix()-300 && n <= now.Unix()+300
		want := fresh && h.Get(SignatureHeader) == Sign(secret, n, body)
		if (err == nil) != want {
			t.Fatalf("Verify(ts %q, sig %q) = %v", ts, sig, err)
		}
	})
}

package googlechat

import (
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// FuzzParseEvent: any body gives an event with a type, space and user, or
// a bad-body error; mapping it to dialog events never panics.
func FuzzParseEvent(f *testing.F) {
	for _, n := range []string{"message_event.json", "added_to_space_dm.json", "card_clicked.json"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"CARD_CLICKED","space":{"name":"s"},"user":{"name":"u"},"action":{"parameters":null},"common":{"parameters":{"payload":"x"}}}`))
	c := &Connector{now: time.Now}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, httpx.ErrBadBody) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadBody and ErrBadRequest", err)
			}
			return
		}
		if e.Type == "" || e.Space.Name == "" || e.User.Name == "" {
			t.Fatalf("accepted incomplete event %+v", e)
		}
		evs, err := c.events(e)
		if err != nil && !errors.Is(err, httpx.ErrBadBody) {
			t.Fatalf("events: %v", err)
		}
		for _, ev := range evs {
			if err := ev.Validate(); err != nil {
				t.Fatalf("invalid dialog event %+v: %v", ev, err)
			}
		}
	})
}

// FuzzVerifyToken: no forged header verifies (the key source knows no
// key, so only a parse failure or a missing key can happen), and none
// panics.
func FuzzVerifyToken(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJjaGF0QHN5c3RlbS5nc2VydmljZWFjY291bnQuY29tIn0.c2ln")
	f.Add("Bearer ..")
	f.Add("")
	ks := keysFunc(func(context.Context, string) error { return ErrUnknownKey })
	f.Fuzz(func(t *testing.T, header string) {
		if err := verifyToken(context.Background(), header, "1", ks, time.Minute, time.Now); err == nil {
			t.Fatalf("%q verified", header)
		}
	})
}

type keysFunc func(context.Context, string) error

func (k keysFunc) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	return nil, k(ctx, kid)
}

package mix

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/internal/nuancepb/mixtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBearerReusesThenRefreshes(t *testing.T) {
	ts := mixtest.NewTokenServer("asr tts", 4*time.Second)
	defer ts.Close()
	b := NewBearer(Conn{ClientID: mixtest.ClientID, ClientSecret: mixtest.ClientSecret,
		TokenURL: ts.TokenURL(), Scope: "asr tts", RefreshBefore: 2 * time.Second, Insecure: true})
	get := func() string {
		md, err := b.GetRequestMetadata(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return md["authorization"]
	}
	first := get()
	for range 5 {
		if got := get(); got != first {
			t.Fatalf("token changed while valid: %q then %q", first, got)
		}
	}
	if first != "Bearer tok-1" || ts.Issued() != 1 || b.Fetches() != 1 {
		t.Fatalf("first token %q, %d issued, %d fetched; want one", first, ts.Issued(), b.Fetches())
	}
	time.Sleep(2100 * time.Millisecond) // inside RefreshBefore of the 4 s expiry
	if got := get(); got != "Bearer tok-2" {
		t.Fatalf("token not refreshed before expiry: %q", got)
	}
	if ts.Issued() != 2 {
		t.Fatalf("%d tokens issued, want 2", ts.Issued())
	}
	if b.RequireTransportSecurity() {
		t.Fatal("insecure bearer requires transport security")
	}
}

func TestBearerRefused(t *testing.T) {
	ts := mixtest.NewTokenServer("asr", time.Minute)
	defer ts.Close()
	b := NewBearer(Conn{ClientID: mixtest.ClientID, ClientSecret: "wrong", TokenURL: ts.TokenURL(), Scope: "asr"})
	_, err := b.GetRequestMetadata(context.Background())
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong secret: %v, want UNAUTHENTICATED", err)
	}
	if !b.RequireTransportSecurity() {
		t.Fatal("TLS bearer does not require transport security")
	}
	b = NewBearer(Conn{ClientID: mixtest.ClientID, ClientSecret: mixtest.ClientSecret, TokenURL: ts.TokenURL(), Scope: "nlu"})
	if _, err := b.GetRequestMetadata(context.Background()); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong scope: %v, want UNAUTHENTICATED", err)
	}
}

func TestMapError(t *testing.T) {
	for code, want := range map[codes.Code]error{
		codes.Unauthenticated:   ErrUnauthenticated,
		codes.PermissionDenied:  ErrUnauthenticated,
		codes.ResourceExhausted: ErrResourceExhausted,
		codes.DeadlineExceeded:  ErrDeadlineExceeded,
		codes.Unavailable:       ErrUnavailable,
	} {
		err := MapError("op", status.Error(code, "x"))
		if !errors.Is(err, want) || status.Code(err) != code {
			t.Errorf("%v: %v (code %v)", code, err, status.Code(err))
		}
		if Retryable(err) != (code == codes.ResourceExhausted || code == codes.Unavailable) {
			t.Errorf("%v: Retryable %v", code, Retryable(err))
		}
	}
	if err := MapError("op", status.Error(codes.InvalidArgument, "x")); status.Code(err) != codes.InvalidArgument || Retryable(err) {
		t.Errorf("InvalidArgument: %v", err)
	}
	if MapError("op", nil) != nil {
		t.Error("nil mapped to an error")
	}
	plain := fmt.Errorf("boom")
	if err := MapError("op", plain); !errors.Is(err, plain) {
		t.Errorf("plain error lost: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: 2 * time.Second} {
		if got := Backoff(100*time.Millisecond, n); got != want {
			t.Errorf("Backoff(100ms, %d) = %v, want %v", n, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	base := errors.New("base")
	for _, c := range []Conn{{}, {Endpoint: "x:1", ClientID: "a"}, {Endpoint: "x:1", RefreshBefore: -1}} {
		if err := c.Check(base); !errors.Is(err, base) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := (Conn{Endpoint: "x:1"}).Check(base); err != nil {
		t.Error(err)
	}
}

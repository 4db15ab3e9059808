package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadBody(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		limit             int64
		want              error
	}{
		{"ok", "application/json; charset=utf-8", `{"a":1}`, 100, nil},
		{"too large", "application/json", strings.Repeat("x", 101), 100, ErrTooLarge},
		{"wrong type", "text/plain", `{}`, 100, ErrContentType},
		{"no type", "", `{}`, 100, ErrContentType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			got, err := ReadBody(httptest.NewRecorder(), r, c.limit, "application/json")
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && string(got) != c.body {
				t.Fatalf("body = %q", got)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	var v struct{ A int }
	if err := DecodeJSON([]byte(` {"A": 3} `), &v); err != nil || v.A != 3 {
		t.Fatalf("DecodeJSON = %v, %+v", err, v)
	}
	for _, bad := range []string{``, `{`, `{"A":1} {"A":2}`, `{"A":1}x`, `{"A":"s"}`} {
		if err := DecodeJSON([]byte(bad), &v); !errors.Is(err, ErrBadBody) {
			t.Errorf("DecodeJSON(%q) = %v, want ErrBadBody", bad, err)
		}
	}
}

func TestStatus(t *testing.T) {
	for err, want := range map[error]int{ErrTooLarge: 413, ErrContentType: 415, ErrBadBody: 400, ErrUnauthorized: 401, errors.New("x"): 500} {
		if got := Status(err); got != want {
			t.Errorf("Status(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestVerifyHMAC(t *testing.T) {
	key, msg := []byte("secret"), []byte("v0:1531420618:token=x")
	// Slack's documented example pair is not reproducible without its full
	// body, so check against a known HMAC-SHA256 test vector (RFC 4231 case 2).
	if got := SignHMAC("sha256", Hex, []byte("Jefe"), []byte("what do ya want for nothing?")); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("RFC 4231 vector: %s", got)
	}
	for _, enc := range []string{Hex, Base64} {
		for _, algo := range []string{"sha256", "sha1"} {
			sig := SignHMAC(algo, enc, key, msg)
			if err := VerifyHMAC(algo, enc, key, msg, sig); err != nil {
				t.Fatalf("%s/%s: good signature refused: %v", algo, enc, err)
			}
			if enc == Hex {
				if err := VerifyHMAC(algo, enc, key, msg, strings.ToUpper(sig)); err != nil {
					t.Fatalf("upper-case hex refused: %v", err)
				}
			}
			forged := []byte(sig)
			forged[3] ^= 1
			for _, s := range []string{string(forged), "", sig[:10]} {
				if err := VerifyHMAC(algo, enc, key, msg, s); !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("%s/%s: forged %q accepted: %v", algo, enc, s, err)
				}
			}
			if err := VerifyHMAC(algo, enc, []byte("other"), msg, sig); !errors.Is(err, ErrUnauthorized) {
				t.Fatal("wrong key accepted")
			}
		}
	}
	if err := VerifyHMAC("md5", Hex, key, msg, "00"); !errors.Is(err, ErrUnauthorized) {
		t.Fatal("unknown algorithm accepted")
	}
}

func TestTokenEqual(t *testing.T) {
	if !TokenEqual("abc", "abc") || TokenEqual("abd", "abc") || TokenEqual("", "") {
		t.Fatal("TokenEqual wrong")
	}
}

func TestSenderRetries(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	s := &Sender{Backoff: 100 * time.Millisecond, MaxWait: time.Minute, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	resp, err := s.Do(context.Background(), func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "POST", srv.URL, strings.NewReader("x"))
	})
	if err != nil || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
		t.Fatalf("waits = %v, want [2s, 100..200ms]", waits)
	}
}

func TestSenderGivesUp(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/bad" {
			http.Error(w, "nope", http.StatusForbidden)
			return
		}
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	s := &Sender{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
	req := func(path string) func(ctx context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		}
	}
	_, err := s.Do(context.Background(), req("/down"))
	var serr *StatusError
	if !errors.Is(err, ErrSend) || !errors.As(err, &serr) || serr.StatusCode != 500 || n.Load() != 3 {
		t.Fatalf("5xx: err = %v after %d attempts", err, n.Load())
	}
	n.Store(0)
	_, err = s.Do(context.Background(), req("/bad"))
	if !errors.As(err, &serr) || serr.StatusCode != 403 || n.Load() != 1 {
		t.Fatalf("4xx retried or wrong: %v after %d attempts", err, n.Load())
	}
	// The total wait is bounded.
	n.Store(0)
	s2 := &Sender{Attempts: 10, Backoff: time.Second, MaxWait: 3 * time.Second, Sleep: func(context.Context, time.Duration) error { return nil }}
	if _, err := s2.Do(context.Background(), req("/down")); err == nil || n.Load() >= 10 {
		t.Fatalf("MaxWait not applied: %d attempts", n.Load())
	}
	// A cancelled context stops the waits.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s3 := &Sender{Attempts: 3}
	if _, err := s3.Do(ctx, req("/down")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := retryAfter("3", now); d != 3*time.Second {
		t.Fatal(d)
	}
	if d := retryAfter(now.Add(5*time.Second).Format(http.TimeFormat), now); d != 5*time.Second {
		t.Fatal(d)
	}
	if d := retryAfter("soon", now); d != 0 {
		t.Fatal(d)
	}
}

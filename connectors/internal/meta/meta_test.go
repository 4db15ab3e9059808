package meta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/internal/testutil"
)

func TestVerifySubscription(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok"}, "hub.challenge": {"1158201444"}}
	if ch, err := VerifySubscription(q, "tok"); err != nil || ch != "1158201444" {
		t.Fatalf("good: %q %v", ch, err)
	}
	if _, err := VerifySubscription(q, "other"); !errors.Is(err, ErrVerifyToken) {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := VerifySubscription(q, ""); !errors.Is(err, ErrVerifyToken) {
		t.Fatalf("empty configured token matched: %v", err)
	}
	bad := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok"}}
	if _, err := VerifySubscription(bad, "tok"); !errors.Is(err, ErrVerifyRequest) {
		t.Fatalf("no challenge: %v", err)
	}
	w := httptest.NewRecorder()
	ServeVerification(w, httptest.NewRequest("GET", "/?"+q.Encode(), nil), "tok")
	if w.Code != 200 || w.Body.String() != "1158201444" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("ServeVerification: %d %q", w.Code, w.Body)
	}
}

// TestSignatureOpenSSL checks the X-Hub-Signature-256 value against
// OpenSSL's HMAC, an independent implementation.
func TestSignatureOpenSSL(t *testing.T) {
	testutil.RequireTool(t, "openssl", "openssl")
	body := `{"object":"page","entry":[{"id":"682498302938465","time":1458692752478,"messaging":[]}]}`
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", "app-secret")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	want := "sha256=" + f[len(f)-1]
	if got := Sign("app-secret", []byte(body)); got != want {
		t.Fatalf("Sign = %s, openssl %s", got, want)
	}
	if err := VerifySignature("app-secret", []byte(body), want); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", want[7:], "sha1=" + want[7:], want[:len(want)-1] + "0", "sha256="} {
		if err := VerifySignature("app-secret", []byte(body), bad); !errors.Is(err, httpx.ErrUnauthorized) || bad == want {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := VerifySignature("", []byte(body), want); !errors.Is(err, httpx.ErrUnauthorized) {
		t.Error("empty secret accepted")
	}
}

func TestClientRedactsToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "plain failure", http.StatusForbidden)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Version: "v24.0", Token: "SECRET+TOKEN", TokenInQuery: true, Sender: &httpx.Sender{Attempts: 1}}
	err := c.Post(context.Background(), "me/messages", map[string]string{"a": "b"}, nil)
	if !errors.Is(err, ErrSend) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestTruncateSplit(t *testing.T) {
	if got := Truncate("Book an appointment today", 20); got != "Book an appointment…" || utf8.RuneCountInString(got) > 20 {
		t.Fatalf("Truncate = %q", got)
	}
	if got := Truncate("héllo wörld 🙂🙂", 14); got != "héllo wörld 🙂🙂" {
		t.Fatalf("Truncate short = %q", got)
	}
	if got := Truncate("🙂🙂🙂🙂", 3); got != "🙂🙂…" {
		t.Fatalf("Truncate emoji = %q", got)
	}
	s := strings.Repeat("ab ", 1000)
	parts := Split(s, 100)
	if strings.Join(parts, " ") != s {
		t.Fatalf("Split lost text")
	}
	for _, p := range parts {
		if utf8.RuneCountInString(p) > 100 {
			t.Fatalf("piece of %d", utf8.RuneCountInString(p))
		}
	}
	if p := Split(strings.Repeat("é", 250), 100); len(p) != 3 || !utf8.ValidString(p[0]) || utf8.RuneCountInString(p[0]) != 100 {
		t.Fatalf("Split no spaces: %d pieces", len(p))
	}
}

package live

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzAuthenticate feeds arbitrary Authorization headers and token
// parameters to the credential check: it never panics, and accepts a
// request only when it carries the configured token or basic credentials.
func FuzzAuthenticate(f *testing.F) {
	const tok, user, pass = "tok-123", "ops", "pa:ss"
	for _, s := range []struct{ auth, query string }{
		{"Bearer tok-123", ""}, {"", "tok-123"}, {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), ""},
		{"Basic", ""}, {"Bearer", ""}, {"basic b3BzOg==", ""}, {"Bearer  tok-123 ", "x"}, {"\x00", "\xff"},
	} {
		f.Add(s.auth, s.query)
	}
	a := newAuthenticator(Config{Token: tok, BasicUser: user, BasicPassword: pass})
	basicOK := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	f.Fuzz(func(t *testing.T, auth, query string) {
		r := httptest.NewRequest("GET", "/api/calls?token="+url.QueryEscape(query), nil)
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		err := a.check(r)
		if err != nil {
			return
		}
		h := r.Header.Get("Authorization")
		switch {
		case h == "" && query == tok:
		case len(h) > 7 && (h[:7] == "Bearer " || h[:7] == "bearer " || h[:7] == "BEARER ") && trimmed(h[7:]) == tok:
		case h != "" && equalFoldPrefix(h, "basic ") && canonicalBasic(h) == basicOK:
		default:
			t.Fatalf("accepted Authorization %q token %q", auth, query)
		}
	})
}

func trimmed(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func equalFoldPrefix(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := range len(p) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// canonicalBasic re-encodes a basic header's decoded credentials.
func canonicalBasic(h string) string {
	raw, err := base64.StdEncoding.DecodeString(trimmed(h[6:]))
	if err != nil {
		return ""
	}
	return "Basic " + base64.StdEncoding.EncodeToString(raw)
}

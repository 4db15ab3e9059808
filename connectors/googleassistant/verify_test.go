package googleassistant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// forgedTokens are tokens each check must refuse, by what is wrong.
func forgedTokens(t *testing.T) map[string]string {
	google, forger := keys(t)
	with := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := googleClaims()
		mod(c)
		return c
	}
	// alg "none": a header and claims, no signature.
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	none := enc(map[string]string{"alg": "none", "typ": "JWT", "kid": testKid}) + "." + enc(googleClaims()) + "."
	// HS256 with the public key as the HMAC secret: the algorithm
	// confusion attack.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, googleClaims())
	hs.Header["kid"] = testKid
	pubDER := google.PublicKey.N.Bytes()
	hsTok, err := hs.SignedString(pubDER)
	if err != nil {
		t.Fatal(err)
	}
	good := signRS256(t, google, testKid, googleClaims())
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + enc(with(func(c jwt.MapClaims) { c["aud"] = "other-project" })) + "." + parts[2]
	return map[string]string{
		"missing":         "",
		"garbage":         "not.a.jwt",
		"wrong signature": signRS256(t, forger, testKid, googleClaims()),
		"tampered claims": tampered,
		"wrong audience":  signRS256(t, google, testKid, with(func(c jwt.MapClaims) { c["aud"] = "other-project" })),
		"no audience":     signRS256(t, google, testKid, with(func(c jwt.MapClaims) { delete(c, "aud") })),
		"wrong issuer":    signRS256(t, google, testKid, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" })),
		"no issuer":       signRS256(t, google, testKid, with(func(c jwt.MapClaims) { delete(c, "iss") })),
		"expired":         signRS256(t, google, testKid, with(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() })),
		"no expiry":       signRS256(t, google, testKid, with(func(c jwt.MapClaims) { delete(c, "exp") })),
		"issued later":    signRS256(t, google, testKid, with(func(c jwt.MapClaims) { c["iat"] = testNow.Add(10 * time.Minute).Unix() })),
		"not yet valid":   signRS256(t, google, testKid, with(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(10 * time.Minute).Unix() })),
		"unknown kid":     signRS256(t, google, "key-2", googleClaims()),
		"no kid":          signRS256(t, google, "", googleClaims()),
		"alg none":        none,
		"HS256 confusion": hsTok,
		"too long":        strings.Repeat("a", maxTokenLen+1),
	}
}

// TestVerifyRejects: every forged, missing or expired token gets 401 on
// both Actions routes and never reaches the dialog; the valid one passes.
func TestVerifyRejects(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, Config{})
	routes := []struct {
		path, header, fixture string
	}{
		{DefaultAssistantPath, HeaderAuthorization, "conversation_main.json"},
		{DefaultActionsPath, HeaderActionsSignature, "builder_main.json"},
	}
	for i, rt := range routes {
		body := fixture(t, rt.fixture, nil)
		for name, tok := range forgedTokens(t) {
			t.Run(rt.path+"/"+name, func(t *testing.T) {
				w := g.do(request(rt.path, body, rt.header, tok))
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
				}
			})
		}
		if h.count() != i {
			t.Fatalf("%d forged requests reached the dialog", h.count()-i)
		}
		t.Run(rt.path+"/valid", func(t *testing.T) {
			w := g.do(request(rt.path, body, rt.header, goodToken(t)))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		})
	}
	// A valid token in the other route's header is missing there.
	w := g.do(request(DefaultActionsPath, fixture(t, "builder_main.json", nil), HeaderAuthorization, goodToken(t)))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("Builder request with the JWT in Authorization: status %d", w.Code)
	}
	if h.count() != 2 {
		t.Fatalf("%d events reached the dialog, want the 2 valid ones", h.count())
	}
}

// TestVerifyIssuers: both of Google's issuer spellings and a small clock
// skew are accepted.
func TestVerifyIssuers(t *testing.T) {
	google, _ := keys(t)
	v := NewVerifier(StaticKeys{testKid: &google.PublicKey}, testProject, time.Minute, clock)
	for _, iss := range Issuers {
		c := googleClaims()
		c["iss"] = iss
		if _, err := v.Verify(context.Background(), signRS256(t, google, testKid, c)); err != nil {
			t.Errorf("issuer %s: %v", iss, err)
		}
	}
	c := googleClaims()
	c["exp"] = testNow.Add(-30 * time.Second).Unix() // within the skew
	if _, err := v.Verify(context.Background(), signRS256(t, google, testKid, c)); err != nil {
		t.Errorf("expired 30 s ago, skew 1 min: %v", err)
	}
	_, err := v.Verify(context.Background(), "Bearer x.y.z")
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("garbage: %v, want ErrUnauthorized", err)
	}
}

// jwksServer serves a key set as Google does, counting requests.
func jwksServer(t *testing.T, maxAge int, kids ...string) (*httptest.Server, *atomic.Int32) {
	google, _ := keys(t)
	var hits atomic.Int32
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for _, kid := range kids {
		set.Keys = append(set.Keys, map[string]string{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(google.PublicKey.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString([]byte{1, 0, 1}),
		})
	}
	body, _ := json.Marshal(set)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, must-revalidate, no-transform", maxAge))
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestJWKSCache: keys are cached for max-age, fetched again after it, and
// an unknown kid refetches at most once per MinRefresh.
func TestJWKSCache(t *testing.T) {
	srv, hits := jwksServer(t, 600, testKid)
	now := testNow
	j := NewJWKS(srv.URL, srv.Client(), func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if _, err := j.Key(ctx, testKid); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches for 3 lookups within max-age", hits.Load())
	}
	// Unknown kid: one refetch, then refused from cache until MinRefresh.
	for range 3 {
		if _, err := j.Key(ctx, "rotated"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if hits.Load() != 1 {
		// Fetched 1 s after the first fetch: within MinRefresh, no refetch.
		t.Fatalf("%d fetches, want 1 (unknown kid within MinRefresh)", hits.Load())
	}
	now = now.Add(2 * time.Minute)
	if _, err := j.Key(ctx, "rotated"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d fetches, want 2 (unknown kid after MinRefresh)", hits.Load())
	}
	now = now.Add(11 * time.Minute) // past max-age
	if _, err := j.Key(ctx, testKid); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 3 {
		t.Fatalf("%d fetches, want 3 (expired)", hits.Load())
	}
}

// TestJWKSThroughConnector: the default key set, pointed at a fake
// Google, verifies a request end to end.
func TestJWKSThroughConnector(t *testing.T) {
	srv, hits := jwksServer(t, 3600, testKid)
	h := &recorder{}
	c, err := New(h, Config{ProjectID: testProject, JWKSURL: srv.URL}, WithHTTPClient(srv.Client()), WithClock(clock), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, request(DefaultActionsPath, fixture(t, "builder_main.json", nil), HeaderActionsSignature, goodToken(t)))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if hits.Load() != 1 || h.count() != 2 {
		t.Fatalf("fetches %d, events %d; want 1, 2", hits.Load(), h.count())
	}
}

// TestJWKSDown: Google's keys out of reach is a 500, not a 401.
func TestJWKSDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	h := &recorder{}
	c, err := New(h, Config{ProjectID: testProject, JWKSURL: srv.URL}, WithHTTPClient(srv.Client()), WithClock(clock), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, request(DefaultActionsPath, fixture(t, "builder_main.json", nil), HeaderActionsSignature, goodToken(t)))
	if w.Code != http.StatusInternalServerError || h.count() != 0 {
		t.Fatalf("status %d, events %d", w.Code, h.count())
	}
}

func TestParseJWKS(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":  `{`,
		"no keys":   `{"keys":[]}`,
		"only EC":   `{"keys":[{"kty":"EC","kid":"a","crv":"P-256"}]}`,
		"small key": `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		"bad b64":   `{"keys":[{"kty":"RSA","kid":"a","n":"!!","e":"AQAB"}]}`,
	} {
		if _, err := ParseJWKS([]byte(doc)); !errors.Is(err, ErrKeySet) {
			t.Errorf("%s: %v, want ErrKeySet", name, err)
		}
	}
}

// TestDialogflowAuth: basic credentials and custom headers, each wrong or
// missing, get 401 and never reach the dialog.
func TestDialogflowAuth(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, Config{DialogflowHeaders: map[string]string{"X-Parole-Token": "t0ken"}})
	body := fixture(t, "dialogflow_welcome.json", nil)
	cases := []struct {
		name       string
		user, pass string
		token      string
		want       int
	}{
		{"good", dfUser, dfPass, "t0ken", http.StatusOK},
		{"wrong password", dfUser, "nope", "t0ken", http.StatusUnauthorized},
		{"wrong user", "admin", dfPass, "t0ken", http.StatusUnauthorized},
		{"no basic", "", "", "t0ken", http.StatusUnauthorized},
		{"wrong header", dfUser, dfPass, "t0ke", http.StatusUnauthorized},
		{"no header", dfUser, dfPass, "", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		req := request(DefaultDialogflowPath, body)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		if tc.token != "" {
			req.Header.Set("X-Parole-Token", tc.token)
		}
		if w := g.do(req); w.Code != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, w.Code, tc.want, w.Body)
		}
	}
	if h.count() != 1 {
		t.Fatalf("%d events reached the dialog, want 1", h.count())
	}
}

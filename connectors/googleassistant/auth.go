package googleassistant

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// GoogleJWKSURL is where Google publishes the keys that sign its ID tokens,
// the JWTs that authenticate Actions requests.
const GoogleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"

// Issuers are the accepted "iss" claims of Google's ID tokens.
var Issuers = []string{"https://accounts.google.com", "accounts.google.com"}

// Verification errors. ErrUnauthorized wraps httpx.ErrUnauthorized (401);
// the others are wrapped together with it.
var (
	ErrUnauthorized = fmt.Errorf("googleassistant: %w", httpx.ErrUnauthorized)
	// ErrUnknownKey: the token's "kid" is in no key of the key set.
	ErrUnknownKey = errors.New("googleassistant: unknown signing key")
	// ErrKeySet: the key set could not be fetched or parsed.
	ErrKeySet = errors.New("googleassistant: key set unavailable")
)

// KeySet returns the RSA public key of a key id. [JWKS] fetches Google's;
// [StaticKeys] holds fixed keys (tests, self-hosted gateways).
type KeySet interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// StaticKeys is a fixed [KeySet].
type StaticKeys map[string]*rsa.PublicKey

// Key returns the key named kid or an error wrapping [ErrUnknownKey].
func (s StaticKeys) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
}

// JWKS is a [KeySet] read from a JSON Web Key Set URL (Google's by
// default), cached for the max-age its Cache-Control header gives, and
// fetched again when a token names a key it does not hold — at most once per
// MinRefresh, so forged key ids cannot make it hammer the URL.
type JWKS struct {
	url    string
	client *http.Client
	now    func() time.Time

	// MinRefresh is the least time between two fetches caused by unknown
	// key ids. Default one minute.
	MinRefresh time.Duration
	// DefaultMaxAge is how long keys are kept when the response has no
	// max-age. Default one hour.
	DefaultMaxAge time.Duration

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	expires time.Time
	fetched time.Time
	fetches int
}

// NewJWKS returns a key set read from url with client (nil: a client with
// a 10 s timeout) on the clock now (nil: time.Now).
func NewJWKS(url string, client *http.Client, now func() time.Time) *JWKS {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &JWKS{url: url, client: client, now: now, MinRefresh: time.Minute, DefaultMaxAge: time.Hour}
}

// maxJWKSBytes bounds a key set document.
const maxJWKSBytes = 256 << 10

// Key returns the key named kid, fetching the set when the cache expired
// or does not hold it.
func (j *JWKS) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	fresh := now.Before(j.expires)
	if k, ok := j.keys[kid]; ok && fresh {
		return k, nil
	}
	if fresh && now.Sub(j.fetched) < j.MinRefresh {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	if err := j.fetch(ctx, now); err != nil {
		return nil, err
	}
	if k, ok := j.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
}

// Fetches returns how many times the set was fetched.
func (j *JWKS) Fetches() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetches
}

func (j *JWKS) fetch(ctx context.Context, now time.Time) error {
	j.fetches++
	j.fetched = now
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", ErrKeySet, j.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("%w: key set over %d bytes", ErrKeySet, maxJWKSBytes)
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return err
	}
	j.keys = keys
	j.expires = now.Add(maxAge(resp.Header.Get("Cache-Control"), j.DefaultMaxAge))
	return nil
}

// maxAge reads max-age from a Cache-Control header; def when absent or
// unusable, at most a day.
func maxAge(cc string, def time.Duration) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(strings.ToLower(d)), "max-age=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(v, `"`))
		if err != nil || n < 0 {
			return def
		}
		return min(time.Duration(n)*time.Second, 24*time.Hour)
	}
	return def
}

// ParseJWKS reads the RSA signing keys of a JSON Web Key Set (RFC 7517),
// by key id; other keys are skipped. Errors wrap [ErrKeySet].
func ParseJWKS(b []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		e, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("%w: key %q: bad modulus or exponent", ErrKeySet, k.Kid)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("%w: key %q: weak RSA key", ErrKeySet, k.Kid)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no RSA signing key", ErrKeySet)
	}
	return keys, nil
}

// maxTokenLen bounds a JWT header value.
const maxTokenLen = 8 << 10

// Verifier checks the Google-signed JWTs of Actions requests: RS256 only,
// signed by a key of the key set, "aud" the project id, "iss" one of
// [Issuers], "exp" required and not passed, "iat" and "nbf" not in the
// future, all with a small clock skew.
type Verifier struct {
	keys    KeySet
	project string
	skew    time.Duration
	now     func() time.Time
}

// NewVerifier returns a verifier of tokens for project.
func NewVerifier(keys KeySet, project string, skew time.Duration, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, project: project, skew: skew, now: now}
}

// Claims are the claims of a verified token.
type Claims struct {
	jwt.RegisteredClaims
}

// Verify checks token ("Bearer " prefix allowed). Errors wrap
// [ErrUnauthorized].
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	token = strings.TrimSpace(token)
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: missing token", ErrUnauthorized)
	}
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: token over %d bytes", ErrUnauthorized, maxTokenLen)
	}
	var keyErr error
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token without kid")
		}
		k, err := v.keys.Key(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return k, nil
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(v.project),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.skew),
		jwt.WithTimeFunc(v.now),
	)
	var cl Claims
	if _, err := p.ParseWithClaims(token, &cl, keyfunc); err != nil {
		if errors.Is(keyErr, ErrKeySet) {
			// Google's keys are out of reach: not the caller's fault (500).
			return nil, fmt.Errorf("googleassistant: verify token: %w", keyErr)
		}
		if keyErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnauthorized, keyErr)
		}
		return nil, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	issOK := false
	for _, iss := range Issuers {
		if cl.Issuer == iss {
			issOK = true
		}
	}
	if !issOK {
		return nil, fmt.Errorf("%w: issuer %q is not Google", ErrUnauthorized, cl.Issuer)
	}
	return &cl, nil
}

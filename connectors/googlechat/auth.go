package googlechat

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the issuer of the bearer tokens Google Chat sends when the
// app's authentication audience is its project number.
const Issuer = "chat@system.gserviceaccount.com"

// DefaultCertsURL publishes the certificates of the keys that sign Chat's
// bearer tokens, by key id.
const DefaultCertsURL = "https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"

// ErrUnknownKey is wrapped when a token names a key the key set lacks.
var ErrUnknownKey = errors.New("googlechat: unknown signing key")

// KeySource returns the public key with a key id; [CertKeys] is one.
type KeySource interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// CertKeys is the [KeySource] of a Google certificate endpoint (JSON
// object of key id → PEM certificate). It caches the keys for the
// answer's Cache-Control max-age (1 h when none), and fetches again on an
// unknown key id, at most once a minute, so rotated keys are picked up.
type CertKeys struct {
	// URL is the endpoint; empty means DefaultCertsURL.
	URL string
	// Client fetches it; nil means http.DefaultClient.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	expires time.Time
	fetched time.Time
}

// Key returns the key kid, fetching the certificates when needed.
func (k *CertKeys) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t := now()
	key, ok := k.keys[kid]
	if ok && t.Before(k.expires) {
		return key, nil
	}
	if k.keys != nil && t.Before(k.expires) && t.Sub(k.fetched) < time.Minute {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	if err := k.fetch(ctx, t); err != nil {
		return nil, err
	}
	if key, ok = k.keys[kid]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	return key, nil
}

func (k *CertKeys) fetch(ctx context.Context, now time.Time) error {
	u := k.URL
	if u == "" {
		u = DefaultCertsURL
	}
	hc := k.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("googlechat: fetching certificates: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("googlechat: fetching certificates: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("googlechat: fetching certificates: %s", resp.Status)
	}
	var certs map[string]string
	if err := json.Unmarshal(body, &certs); err != nil {
		return fmt.Errorf("googlechat: certificates: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(certs))
	for kid, p := range certs {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return fmt.Errorf("googlechat: certificate %q is not PEM", kid)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("googlechat: certificate %q: %w", kid, err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("googlechat: certificate %q has no RSA key", kid)
		}
		keys[kid] = pub
	}
	k.keys, k.fetched, k.expires = keys, now, now.Add(maxAge(resp.Header.Get("Cache-Control")))
	return nil
}

// maxAge is the Cache-Control max-age, or an hour.
func maxAge(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if s, err := strconv.Atoi(v); err == nil && s > 0 {
				return time.Duration(s) * time.Second
			}
		}
	}
	return time.Hour
}

// verifyToken checks an Authorization header: a Bearer RS256 JWT from
// [Issuer] for the audience, unexpired (with skew), signed by a key of ks.
func verifyToken(ctx context.Context, header, audience string, ks KeySource, skew time.Duration, now func() time.Time) error {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return errors.New("missing bearer token")
	}
	_, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token without kid")
		}
		return ks.Key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(skew),
		jwt.WithTimeFunc(now),
	)
	return err
}

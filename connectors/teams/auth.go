package teams

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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Bot Framework constants of the connector-to-bot authentication.
const (
	// DefaultOpenIDMetadataURL is the Bot Framework's OpenID metadata
	// document, which names the JWKS of its signing keys.
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// Issuer is the issuer of the tokens the Bot Connector sends.
	Issuer = "https://api.botframework.com"
	// ClockSkew is the leeway on a token's expiry and not-before times.
	ClockSkew = 5 * time.Minute
)

// Authentication errors. ErrUnauthorized wraps httpx.ErrUnauthorized (401);
// ErrForbidden is a valid token that does not cover the request (403);
// ErrKeysUnavailable means the signing keys could not be fetched (503).
var (
	ErrUnauthorized    = fmt.Errorf("teams: %w", httpx.ErrUnauthorized)
	ErrForbidden       = errors.New("teams: forbidden")
	ErrKeysUnavailable = errors.New("teams: signing keys unavailable")
)

// SigningKey is one RSA key the Bot Connector signs its tokens with, and
// the channels (e.g. "msteams") it is endorsed for.
type SigningKey struct {
	ID           string
	Key          *rsa.PublicKey
	Endorsements []string
}

// Claims is what a verified token says.
type Claims struct {
	// AppID is the audience: the bot's app id.
	AppID string
	// ServiceURL is the token's serviceurl claim.
	ServiceURL string
	// Expires is the token's expiry.
	Expires time.Time
}

// Verifier checks the bearer tokens the Bot Connector puts on the
// activities it posts, as the Bot Framework documents it: an RS256 JWT
// signed with a key of the JWKS named by the OpenID metadata document,
// issuer https://api.botframework.com, audience the bot's app id, not
// expired (with [ClockSkew]), its key endorsed for the activity's channel
// and its serviceurl claim equal to the activity's serviceUrl.
//
// The metadata and keys are fetched on first use and kept for KeysTTL; a
// token signed with an unknown key id refetches them, at most once per
// MinRefresh, so forged key ids cannot make the verifier hammer the
// metadata endpoint.
type Verifier struct {
	appID       string
	metadataURL string
	client      *http.Client
	now         func() time.Time
	ttl         time.Duration
	minRefresh  time.Duration
	static      bool

	fetchMu sync.Mutex // serialises fetches

	mu        sync.Mutex
	keys      map[string]SigningKey
	algs      []string
	fetched   time.Time // when keys were last fetched successfully
	attempted time.Time // when a fetch was last attempted
}

// VerifierOptions configures a [Verifier]; zero fields take defaults.
type VerifierOptions struct {
	// MetadataURL is the OpenID metadata document;
	// DefaultOpenIDMetadataURL when empty.
	MetadataURL string
	// Client fetches the documents; http.DefaultClient when nil.
	Client *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// KeysTTL is how long fetched keys are used before a refetch; 24 h
	// when zero.
	KeysTTL time.Duration
	// MinRefresh is the least time between two fetches prompted by an
	// unknown key id; 1 min when zero.
	MinRefresh time.Duration
	// Keys, when set, are the only keys accepted and nothing is fetched.
	Keys []SigningKey
}

// NewVerifier returns a verifier of tokens for the bot appID.
func NewVerifier(appID string, o VerifierOptions) *Verifier {
	v := &Verifier{appID: appID, metadataURL: o.MetadataURL, client: o.Client, now: o.Now,
		ttl: o.KeysTTL, minRefresh: o.MinRefresh}
	if v.metadataURL == "" {
		v.metadataURL = DefaultOpenIDMetadataURL
	}
	if v.client == nil {
		v.client = http.DefaultClient
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.ttl <= 0 {
		v.ttl = 24 * time.Hour
	}
	if v.minRefresh <= 0 {
		v.minRefresh = time.Minute
	}
	if o.Keys != nil {
		v.static = true
		v.keys = map[string]SigningKey{}
		for _, k := range o.Keys {
			v.keys[k.ID] = k
		}
		v.algs = []string{"RS256"}
	}
	return v
}

// Verify checks the Authorization header of a request carrying an activity
// of channelID whose serviceUrl is serviceURL. Errors wrap ErrUnauthorized,
// ErrForbidden or ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, authorization, channelID, serviceURL string) (Claims, error) {
	claims, key, err := v.verifyToken(ctx, authorization)
	if err != nil {
		return Claims{}, err
	}
	if err := authorize(claims, key, channelID, serviceURL); err != nil {
		return Claims{}, err
	}
	return claims, nil
}

// authorize checks that a verified token covers an activity: its key is
// endorsed for the activity's channel and its serviceurl claim is the
// activity's serviceUrl. Errors wrap ErrForbidden.
func authorize(claims Claims, key SigningKey, channelID, serviceURL string) error {
	if channelID != "" && !slices.Contains(key.Endorsements, channelID) {
		return fmt.Errorf("%w: signing key %q not endorsed for channel %q", ErrForbidden, key.ID, channelID)
	}
	if claims.ServiceURL == "" {
		return fmt.Errorf("%w: token has no serviceurl claim", ErrForbidden)
	}
	if strings.TrimSuffix(claims.ServiceURL, "/") != strings.TrimSuffix(serviceURL, "/") {
		return fmt.Errorf("%w: token serviceurl %q does not match the activity's %q", ErrForbidden, claims.ServiceURL, serviceURL)
	}
	return nil
}

// verifyToken checks the token's signature and standard claims and
// returns its claims and the key that signed it.
func (v *Verifier) verifyToken(ctx context.Context, authorization string) (Claims, SigningKey, error) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return Claims{}, SigningKey{}, fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
	}
	raw = strings.TrimSpace(raw)
	// Load the keys before parsing, so a fetch failure is told apart from
	// a bad token.
	algs, err := v.algorithms(ctx)
	if err != nil {
		return Claims{}, SigningKey{}, err
	}
	var used SigningKey
	var keyErr error
	parser := jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(v.appID),
		jwt.WithLeeway(ClockSkew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
	)
	mc := jwt.MapClaims{}
	_, err = parser.ParseWithClaims(raw, mc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid in token header")
		}
		k, err := v.key(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		used = k
		return k.Key, nil
	})
	if keyErr != nil && errors.Is(keyErr, ErrKeysUnavailable) {
		return Claims{}, SigningKey{}, keyErr
	}
	if err != nil {
		return Claims{}, SigningKey{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	c := Claims{AppID: v.appID}
	for _, name := range []string{"serviceurl", "serviceUrl"} {
		if s, ok := mc[name].(string); ok {
			c.ServiceURL = s
			break
		}
	}
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		c.Expires = exp.Time
	}
	return c, used, nil
}

// algorithms returns the signing algorithms accepted: RS256, when the
// metadata lists it. It fetches the keys when they are missing or older
// than KeysTTL; when a refetch fails the old keys stay in use.
func (v *Verifier) algorithms(ctx context.Context) ([]string, error) {
	v.mu.Lock()
	fresh := v.keys != nil && (v.static || v.now().Sub(v.fetched) < v.ttl)
	algs := v.algs
	v.mu.Unlock()
	if !fresh {
		err := v.refresh(ctx, false)
		v.mu.Lock()
		have := v.keys != nil
		algs = v.algs
		v.mu.Unlock()
		if !have {
			if errors.Is(err, errRateLimited) {
				err = fmt.Errorf("%w: the last fetch failed", ErrKeysUnavailable)
			}
			return nil, err
		}
	}
	if len(algs) == 0 {
		return nil, fmt.Errorf("%w: metadata lists no RS256 signing", ErrKeysUnavailable)
	}
	return algs, nil
}

// key returns the signing key kid, refetching the keys once (rate limited)
// when it is unknown.
func (v *Verifier) key(ctx context.Context, kid string) (SigningKey, error) {
	v.mu.Lock()
	k, ok := v.keys[kid]
	v.mu.Unlock()
	if ok {
		return k, nil
	}
	if v.static {
		return SigningKey{}, fmt.Errorf("unknown signing key %q", kid)
	}
	if err := v.refresh(ctx, true); err != nil && !errors.Is(err, errRateLimited) {
		return SigningKey{}, err
	}
	v.mu.Lock()
	k, ok = v.keys[kid]
	v.mu.Unlock()
	if !ok {
		return SigningKey{}, fmt.Errorf("unknown signing key %q", kid)
	}
	return k, nil
}

var errRateLimited = errors.New("key refresh rate limited")

// refresh fetches the metadata and keys, unless they are fresh (and not
// force) or a fetch was attempted less than MinRefresh ago.
func (v *Verifier) refresh(ctx context.Context, force bool) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.Lock()
	now := v.now()
	fresh := v.keys != nil && now.Sub(v.fetched) < v.ttl
	recent := !v.attempted.IsZero() && now.Sub(v.attempted) < v.minRefresh
	if !force && fresh {
		v.mu.Unlock()
		return nil // another request refreshed them meanwhile
	}
	if recent {
		v.mu.Unlock()
		return errRateLimited
	}
	v.attempted = now
	v.mu.Unlock()
	keys, algs, err := v.fetch(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	v.mu.Lock()
	v.keys, v.algs, v.fetched = keys, algs, v.now()
	v.mu.Unlock()
	return nil
}

// openIDMetadata is the part of the OpenID metadata document used.
type openIDMetadata struct {
	Issuer  string   `json:"issuer"`
	JWKSURI string   `json:"jwks_uri"`
	Algs    []string `json:"id_token_signing_alg_values_supported"`
}

// jwk is one key of the Bot Framework JWKS: an RFC 7517 RSA key with the
// Bot Framework's endorsements.
type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	Use          string   `json:"use"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

func (v *Verifier) fetch(ctx context.Context) (map[string]SigningKey, []string, error) {
	var md openIDMetadata
	if err := v.getJSON(ctx, v.metadataURL, &md); err != nil {
		return nil, nil, fmt.Errorf("openid metadata: %w", err)
	}
	if md.JWKSURI == "" {
		return nil, nil, errors.New("openid metadata has no jwks_uri")
	}
	var algs []string
	if len(md.Algs) == 0 || slices.Contains(md.Algs, "RS256") {
		algs = []string{"RS256"}
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := v.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, nil, fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]SigningKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys[k.Kid] = SigningKey{ID: k.Kid, Key: pub, Endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("jwks has no usable RSA key")
	}
	return keys, algs, nil
}

func (v *Verifier) getJSON(ctx context.Context, url string, dst any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.Unmarshal(body, dst)
}

// rsaKey decodes an RSA public key from its base64url modulus and exponent.
func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil {
		return nil, err
	}
	if len(nb) < 256 || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad RSA key size")
	}
	exp := new(big.Int).SetBytes(eb)
	if exp.Int64() < 3 || exp.Int64()%2 == 0 {
		return nil, errors.New("bad RSA exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}

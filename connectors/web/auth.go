package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrUnauthorized is wrapped by the errors of caller authentication: no
// token, an unknown static token, a JWT with a bad signature, a wrong
// algorithm, or out of its validity period. The connector answers it
// with 401.
var ErrUnauthorized = errors.New("web: unauthorized")

// authenticate checks the caller's token when authentication is on and
// returns the JWT's subject, if any. The token comes from the
// "Authorization: Bearer" header or, for the event stream (browsers'
// EventSource cannot set headers), the access_token query parameter.
func (c *Connector) authenticate(r *http.Request) (subject string, err error) {
	if c.cfg.Token == "" && c.cfg.JWTSecret == "" {
		return "", nil
	}
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: Authorization is not a bearer token", ErrUnauthorized)
		}
		tok = strings.TrimSpace(rest)
	} else if r.Method == http.MethodGet {
		tok = r.URL.Query().Get("access_token")
	}
	if tok == "" {
		return "", fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	}
	if c.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.cfg.Token)) == 1 {
		return "", nil
	}
	if c.cfg.JWTSecret == "" {
		return "", fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	claims, err := VerifyJWT(tok, []byte(c.cfg.JWTSecret), c.now())
	if err != nil {
		return "", err
	}
	return claims.Subject, nil
}

// Claims are the registered JWT claims the connector checks and uses.
type Claims struct {
	// Subject, when set, is the user id: it replaces the request's userId
	// so a caller cannot speak for another user.
	Subject string `json:"sub,omitempty"`
	// ExpiresAt and NotBefore are Unix times; zero means unset.
	ExpiresAt int64 `json:"exp,omitempty"`
	NotBefore int64 `json:"nbf,omitempty"`
}

// maxJWTLen bounds the tokens VerifyJWT looks at.
const maxJWTLen = 8 << 10

// VerifyJWT checks an HS256 JSON Web Token (RFC 7519) signed with secret:
// header algorithm "HS256", a valid HMAC-SHA256 signature, and now within
// its nbf and exp claims when they are set. Errors wrap [ErrUnauthorized].
func VerifyJWT(token string, secret []byte, now time.Time) (Claims, error) {
	if len(token) > maxJWTLen {
		return Claims{}, fmt.Errorf("%w: token too long", ErrUnauthorized)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return Claims{}, fmt.Errorf("%w: not a JWT", ErrUnauthorized)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(h, &header); err != nil {
		return Claims{}, fmt.Errorf("%w: JWT header: %w", ErrUnauthorized, err)
	}
	if header.Alg != "HS256" {
		return Claims{}, fmt.Errorf("%w: JWT algorithm %q, want HS256", ErrUnauthorized, header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: JWT signature: %w", ErrUnauthorized, err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(token[:len(h)+1+len(p)]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return Claims{}, fmt.Errorf("%w: bad JWT signature", ErrUnauthorized)
	}
	var cl Claims
	if err := decodeSegment(p, &cl); err != nil {
		return Claims{}, fmt.Errorf("%w: JWT claims: %w", ErrUnauthorized, err)
	}
	t := now.Unix()
	if cl.ExpiresAt != 0 && t >= cl.ExpiresAt {
		return Claims{}, fmt.Errorf("%w: JWT expired at %s", ErrUnauthorized, time.Unix(cl.ExpiresAt, 0).UTC().Format(time.RFC3339))
	}
	if cl.NotBefore != 0 && t < cl.NotBefore {
		return Claims{}, fmt.Errorf("%w: JWT not valid before %s", ErrUnauthorized, time.Unix(cl.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	return cl, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// SignJWT returns an HS256 JSON Web Token of claims signed with secret: what
// a site's back end hands its chat page so the page may call the connector.
func SignJWT(claims Claims, secret []byte) (string, error) {
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("web: JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

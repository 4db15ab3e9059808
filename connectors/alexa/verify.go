package alexa

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors of request verification; every one also wraps [ErrUnauthorized],
// so callers may branch on the family or on the failed check.
var (
	// ErrUnauthorized is wrapped by every verification failure (401).
	ErrUnauthorized = errors.New("alexa: request not verified")
	// ErrCertURL: SignatureCertChainUrl is missing or not an https URL on
	// s3.amazonaws.com (port 443) under /echo.api/.
	ErrCertURL = errors.New("alexa: bad SignatureCertChainUrl")
	// ErrCertificate: the certificate chain could not be fetched or
	// parsed, is out of its validity period, lacks the SAN
	// echo-api.amazon.com, or does not chain to a trusted root.
	ErrCertificate = errors.New("alexa: bad signing certificate")
	// ErrSignature: the Signature-256 header is missing, malformed or not
	// the certificate's RSA/SHA-256 signature of the body.
	ErrSignature = errors.New("alexa: bad signature")
	// ErrTimestamp: the request's timestamp is more than 150 s from now.
	ErrTimestamp = errors.New("alexa: request timestamp out of tolerance")
	// ErrApplicationID: the request is for another skill.
	ErrApplicationID = errors.New("alexa: wrong application id")
)

// The headers carrying Alexa's signature.
const (
	HeaderCertURL   = "SignatureCertChainUrl"
	HeaderSignature = "Signature-256"
)

// SAN is the subject alternative name Alexa's signing certificate has.
const SAN = "echo-api.amazon.com"

// TimestampTolerance is how far a request's timestamp may be from now.
const TimestampTolerance = 150 * time.Second

// maxCertChain bounds a fetched certificate chain.
const maxCertChain = 64 << 10

// maxCachedCerts bounds the certificate cache; Amazon uses a handful of
// URLs at a time.
const maxCachedCerts = 32

// CertFetcher fetches the PEM certificate chain at a (checked)
// SignatureCertChainUrl.
type CertFetcher func(ctx context.Context, url string) ([]byte, error)

// HTTPCertFetcher returns a [CertFetcher] that GETs the URL with client,
// refusing answers other than 200 and chains over 64 KiB.
func HTTPCertFetcher(client *http.Client) CertFetcher {
	return func(ctx context.Context, u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxCertChain+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxCertChain {
			return nil, fmt.Errorf("GET %s: chain over %d bytes", u, maxCertChain)
		}
		return b, nil
	}
}

// CheckCertURL reports whether u is an acceptable SignatureCertChainUrl:
// scheme https, host s3.amazonaws.com (any case), port 443 if given, and a
// path that starts with /echo.api/ once normalised ("/echo.api/../x" does
// not). It returns the URL to fetch. Errors wrap [ErrCertURL].
func CheckCertURL(u string) (string, error) {
	if u == "" {
		return "", fmt.Errorf("%w: %w: no %s header", ErrUnauthorized, ErrCertURL, HeaderCertURL)
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("%w: %w: %w", ErrUnauthorized, ErrCertURL, err)
	}
	if !strings.EqualFold(p.Scheme, "https") {
		return "", fmt.Errorf("%w: %w: scheme %q, want https", ErrUnauthorized, ErrCertURL, p.Scheme)
	}
	if !strings.EqualFold(p.Hostname(), "s3.amazonaws.com") {
		return "", fmt.Errorf("%w: %w: host %q, want s3.amazonaws.com", ErrUnauthorized, ErrCertURL, p.Hostname())
	}
	if port := p.Port(); port != "" && port != "443" {
		return "", fmt.Errorf("%w: %w: port %s, want 443", ErrUnauthorized, ErrCertURL, port)
	}
	if p.User != nil {
		return "", fmt.Errorf("%w: %w: user info in URL", ErrUnauthorized, ErrCertURL)
	}
	if !strings.HasPrefix(path.Clean("/"+p.Path), "/echo.api/") {
		return "", fmt.Errorf("%w: %w: path %q not under /echo.api/", ErrUnauthorized, ErrCertURL, p.Path)
	}
	return u, nil
}

// Verifier checks Alexa's request signatures, as the Alexa Skills Kit
// documentation for skills hosted as web services requires. It caches
// verified certificates by URL until they expire. It is safe for
// concurrent use.
type Verifier struct {
	fetch CertFetcher
	roots *x509.CertPool // nil: the system's roots
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]*x509.Certificate
}

// NewVerifier returns a verifier fetching chains with fetch and trusting
// roots (nil: the system roots), on clock now.
func NewVerifier(fetch CertFetcher, roots *x509.CertPool, now func() time.Time) *Verifier {
	return &Verifier{fetch: fetch, roots: roots, now: now, cache: map[string]*x509.Certificate{}}
}

// Verify checks the signature of body: the certificate named by certURL
// (checked with [CheckCertURL], fetched or cached, currently valid, with
// SAN echo-api.amazon.com, chaining to a trusted root) must have signed
// SHA-256(body) as the base64 signature sig (PKCS #1 v1.5). Errors wrap
// [ErrUnauthorized] and the failed check's error.
func (v *Verifier) Verify(ctx context.Context, certURL, sig string, body []byte) error {
	u, err := CheckCertURL(certURL)
	if err != nil {
		return err
	}
	if sig == "" {
		return fmt.Errorf("%w: %w: no %s header", ErrUnauthorized, ErrSignature, HeaderSignature)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrUnauthorized, ErrSignature, err)
	}
	cert, err := v.certificate(ctx, u)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: %w: public key is not RSA", ErrUnauthorized, ErrCertificate)
	}
	sum := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return fmt.Errorf("%w: %w: %w", ErrUnauthorized, ErrSignature, err)
	}
	return nil
}

// certificate returns the verified signing certificate at u.
func (v *Verifier) certificate(ctx context.Context, u string) (*x509.Certificate, error) {
	now := v.now()
	v.mu.Lock()
	c := v.cache[u]
	v.mu.Unlock()
	if c != nil && now.After(c.NotBefore) && now.Before(c.NotAfter) {
		return c, nil
	}
	pemChain, err := v.fetch(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: fetch %s: %w", ErrUnauthorized, ErrCertificate, u, err)
	}
	c, err = v.check(pemChain, now)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, old := range v.cache {
		if !now.Before(old.NotAfter) || len(v.cache) >= maxCachedCerts {
			delete(v.cache, k)
		}
	}
	v.cache[u] = c
	return c, nil
}

// check parses a PEM chain (signing certificate first) and verifies it.
func (v *Verifier) check(pemChain []byte, now time.Time) (*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := pemChain; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: %w", ErrUnauthorized, ErrCertificate, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: %w: no certificate in the chain", ErrUnauthorized, ErrCertificate)
	}
	leaf := certs[0]
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: %w: valid from %s to %s, not now", ErrUnauthorized, ErrCertificate,
			leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	if !slices.Contains(leaf.DNSNames, SAN) {
		return nil, fmt.Errorf("%w: %w: SAN %v lacks %s", ErrUnauthorized, ErrCertificate, leaf.DNSNames, SAN)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   now,
		DNSName:       SAN,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := leaf.Verify(opts); err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrUnauthorized, ErrCertificate, err)
	}
	return leaf, nil
}

// checkTimestamp reports whether t is within [TimestampTolerance] of now.
func checkTimestamp(t, now time.Time) error {
	if d := now.Sub(t); d > TimestampTolerance || d < -TimestampTolerance {
		return fmt.Errorf("%w: %w: %s is %s from now", ErrUnauthorized, ErrTimestamp, t.Format(time.RFC3339), d.Round(time.Second))
	}
	return nil
}

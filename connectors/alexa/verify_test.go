package alexa

import (
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestVerification sends one forged or broken request per check of
// Amazon's list; each must get 401 and never reach the dialog, while the
// genuine request and the URL forms Amazon calls valid pass.
func TestVerification(t *testing.T) {
	ca, other := cas(t)
	body := fixture(t, "launch.json", nil)
	chain := func(mod func(*x509.Certificate)) []byte { return ca.leaf(t, rsaKeys[0], mod) }
	cases := []struct {
		name  string
		url   string // SignatureCertChainUrl; "-" for none
		chain []byte // served at url; nil: the good chain
		key   int    // signing key index
		body  []byte // signed body; nil: the launch fixture
		sent  []byte // body sent, when not the signed one
		sig   string // overrides the signature
		skill string // configured skill
		want  error  // nil: accepted
		setup func(*certServer)
	}{
		{name: "genuine", url: certURL},
		{name: "host in capitals", url: "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert-test.pem"},
		{name: "explicit port 443", url: "https://s3.amazonaws.com:443/echo.api/echo-api-cert-test.pem"},
		{name: "dot segments back under echo.api", url: "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-test.pem"},
		{name: "no cert URL", url: "-", want: ErrCertURL},
		{name: "http cert URL", url: "http://s3.amazonaws.com/echo.api/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "other host", url: "https://notamazon.com/echo.api/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "host suffix", url: "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "path case", url: "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "path outside echo.api", url: "https://s3.amazonaws.com/invalid.path/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "path traversal", url: "https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "port 563", url: "https://s3.amazonaws.com:563/echo.api/echo-api-cert-test.pem", want: ErrCertURL},
		{name: "no signature", url: certURL, sig: "-", want: ErrSignature},
		{name: "signature not base64", url: certURL, sig: "!!!", want: ErrSignature},
		{name: "body changed after signing", url: certURL, sent: []byte(string(body[:len(body)-2]) + " }"), want: ErrSignature},
		{name: "signed by another key", url: certURL, key: 1, want: ErrSignature},
		{name: "certificate expired", url: certURL, chain: chain(func(c *x509.Certificate) { c.NotAfter = testNow.Add(-time.Hour) }), want: ErrCertificate},
		{name: "certificate not yet valid", url: certURL, chain: chain(func(c *x509.Certificate) { c.NotBefore = testNow.Add(time.Hour) }), want: ErrCertificate},
		{name: "certificate without the SAN", url: certURL, chain: chain(func(c *x509.Certificate) { c.DNSNames = []string{"evil.example.com"} }), want: ErrCertificate},
		{name: "certificate from an untrusted CA", url: certURL, chain: other.leaf(t, rsaKeys[0], nil), want: ErrCertificate},
		{name: "chain without its intermediate", url: certURL, chain: chain(nil)[:len(chain(nil))-len(ca.interPEM)], want: ErrCertificate},
		{name: "not a certificate", url: certURL, chain: []byte("hello"), want: ErrCertificate},
		{name: "certificate not found", url: "https://s3.amazonaws.com/echo.api/missing.pem", want: ErrCertificate},
		{name: "timestamp 151 s old", url: certURL, body: fixture(t, "launch.json", func(m map[string]any) {
			obj(m, "request")["timestamp"] = testNow.Add(-151 * time.Second).Format(time.RFC3339)
		}), want: ErrTimestamp},
		{name: "timestamp 151 s ahead", url: certURL, body: fixture(t, "launch.json", func(m map[string]any) {
			obj(m, "request")["timestamp"] = testNow.Add(151 * time.Second).Format(time.RFC3339)
		}), want: ErrTimestamp},
		{name: "timestamp 149 s old", url: certURL, body: fixture(t, "launch.json", func(m map[string]any) {
			obj(m, "request")["timestamp"] = testNow.Add(-149 * time.Second).Format(time.RFC3339)
		})},
		{name: "other skill", url: certURL, skill: "amzn1.ask.skill.someone-else", want: ErrApplicationID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{}
			g := newRigWith(t, h, nil, Config{SkillID: tc.skill})
			if tc.chain != nil {
				g.certs.set(tc.url, tc.chain)
			}
			signed := tc.body
			if signed == nil {
				signed = body
			}
			sig := sign(t, rsaKeys[tc.key], signed)
			switch tc.sig {
			case "-":
				sig = ""
			case "":
			default:
				sig = tc.sig
			}
			url := tc.url
			if url == "-" {
				url = ""
			}
			if url != certURL && tc.chain == nil && tc.want == nil {
				g.certs.set(url, ca.leaf(t, rsaKeys[0], nil))
			}
			sent := signed
			if tc.sent != nil {
				sent = tc.sent
			}
			w := g.postWith(t, sent, url, sig)
			if tc.want == nil {
				if w.Code != http.StatusOK || h.count() != 1 {
					t.Fatalf("genuine request: status %d, %d events: %s", w.Code, h.count(), w.Body)
				}
				return
			}
			if w.Code != http.StatusUnauthorized || h.count() != 0 {
				t.Fatalf("status %d with %d events reaching the dialog, want 401 and none: %s", w.Code, h.count(), w.Body)
			}
			req, _ := http.NewRequest(http.MethodPost, "/", nil)
			req.Header.Set(HeaderCertURL, url)
			req.Header.Set(HeaderSignature, sig)
			_, err := g.c.verify(req, sent)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCertificateCache: a verified chain is fetched once per URL while it
// is valid.
func TestCertificateCache(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, nil, Config{})
	for range 3 {
		if w := g.post(t, fixture(t, "launch.json", nil)); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if g.certs.fetches != 1 {
		t.Fatalf("%d fetches for 3 requests, want 1", g.certs.fetches)
	}
}

// TestInsecureSkipVerify: verification off lets an unsigned request in,
// and only with the explicit flag.
func TestInsecureSkipVerify(t *testing.T) {
	h := &recorder{}
	g := newRigWith(t, h, nil, Config{InsecureSkipVerify: true, SkillID: "x"})
	if w := g.postWith(t, fixture(t, "launch.json", nil), "", ""); w.Code != http.StatusOK || h.count() != 1 {
		t.Fatalf("status %d, %d events", w.Code, h.count())
	}
	if _, err := New(h, Config{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("New without skill id = %v, want ErrConfig", err)
	}
}

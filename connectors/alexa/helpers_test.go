package alexa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// The fixtures' skill, and the clock every test runs on (the fixtures'
// timestamp).
const (
	testSkill = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
	certURL   = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)

func clock() time.Time { return testNow }

// testCA is a certificate authority built for the tests, standing in for
// the CA Amazon's signing certificates chain to: a root, an intermediate,
// and signing certificates issued by the intermediate.
type testCA struct {
	root      *x509.Certificate
	rootKey   *ecdsa.PrivateKey
	inter     *x509.Certificate
	interKey  *ecdsa.PrivateKey
	interPEM  []byte
	pool      *x509.CertPool
	serialSeq atomic.Int64
}

var (
	caOnce   sync.Once
	sharedCA *testCA
	otherCA  *testCA
	rsaKeys  [2]*rsa.PrivateKey
)

// cas returns two unrelated CAs (the trusted one first) and two RSA keys,
// made once per test binary.
func cas(t testing.TB) (*testCA, *testCA) {
	t.Helper()
	caOnce.Do(func() {
		sharedCA = newCA()
		otherCA = newCA()
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
	})
	return sharedCA, otherCA
}

func newCA() *testCA {
	ca := &testCA{}
	var err error
	if ca.rootKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	rootTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: testNow.Add(-365 * 24 * time.Hour), NotAfter: testNow.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, rootTpl, rootTpl, &ca.rootKey.PublicKey, ca.rootKey)
	if err != nil {
		panic(err)
	}
	ca.root, _ = x509.ParseCertificate(der)
	if ca.interKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	interTpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test Intermediate CA"},
		NotBefore: testNow.Add(-365 * 24 * time.Hour), NotAfter: testNow.Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err = x509.CreateCertificate(rand.Reader, interTpl, ca.root, &ca.interKey.PublicKey, ca.rootKey)
	if err != nil {
		panic(err)
	}
	ca.inter, _ = x509.ParseCertificate(der)
	ca.interPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ca.pool = x509.NewCertPool()
	ca.pool.AddCert(ca.root)
	ca.serialSeq.Store(100)
	return ca
}

// leaf returns the PEM chain (signing certificate, then the intermediate)
// of a certificate for key, changed by mod.
func (ca *testCA) leaf(t testing.TB, key *rsa.PrivateKey, mod func(*x509.Certificate)) []byte {
	t.Helper()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serialSeq.Add(1)), Subject: pkix.Name{CommonName: SAN},
		DNSNames:  []string{SAN},
		NotBefore: testNow.Add(-24 * time.Hour), NotAfter: testNow.Add(300 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if mod != nil {
		mod(tpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.inter, &key.PublicKey, ca.interKey)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.interPEM...)
}

// certServer serves certificate chains by URL, as S3 would, and counts the
// fetches.
type certServer struct {
	mu      sync.Mutex
	chains  map[string][]byte
	fetches int
}

func (s *certServer) set(url string, chain []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chains == nil {
		s.chains = map[string][]byte{}
	}
	s.chains[url] = chain
}

func (s *certServer) fetch(_ context.Context, url string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	c, ok := s.chains[url]
	if !ok {
		return nil, fmt.Errorf("GET %s: 404 Not Found", url)
	}
	return c, nil
}

// sign returns the Signature-256 header value of body with key.
func sign(t testing.TB, key *rsa.PrivateKey, body []byte) string {
	t.Helper()
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// fixture returns testdata/name changed by mod (on the decoded JSON).
func fixture(t testing.TB, name string, mod func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if mod == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	mod(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// obj walks the decoded JSON m along keys.
func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// intentBody returns the intent fixture for intent name with slots.
func intentBody(t testing.TB, name string, slots map[string]string, mod func(m map[string]any)) []byte {
	return fixture(t, "intent.json", func(m map[string]any) {
		in := obj(m, "request", "intent")
		in["name"] = name
		s := map[string]any{}
		for k, v := range slots {
			s[k] = map[string]any{"name": k, "value": v, "confirmationStatus": "NONE"}
		}
		in["slots"] = s
		if mod != nil {
			mod(m)
		}
	})
}

// withToken sets the user's account-linking token in session and context.
func withToken(tok string) func(m map[string]any) {
	return func(m map[string]any) {
		obj(m, "session", "user")["accessToken"] = tok
		obj(m, "context", "System", "user")["accessToken"] = tok
	}
}

// rig is a connector over the demo flow with a trusted test CA.
type rig struct {
	c     *Connector
	st    store.Store
	r     *runner.Runner
	certs *certServer
	key   *rsa.PrivateKey
}

func newRig(t testing.TB, cfg Config, opts ...Option) *rig {
	t.Helper()
	st := store.NewMemory(store.Options{Now: clock})
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f, flow.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	r := runner.New(e, st, runner.WithClock(clock))
	return newRigWith(t, r, st, cfg, opts...)
}

func newRigWith(t testing.TB, h Handler, st store.Store, cfg Config, opts ...Option) *rig {
	t.Helper()
	ca, _ := cas(t)
	certs := &certServer{}
	certs.set(certURL, ca.leaf(t, rsaKeys[0], nil))
	if cfg.SkillID == "" {
		cfg.SkillID = testSkill
	}
	opts = append([]Option{WithCertFetcher(certs.fetch), WithRoots(ca.pool), WithClock(clock)}, opts...)
	c, err := New(h, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rr, _ := h.(*runner.Runner)
	return &rig{c: c, st: st, r: rr, certs: certs, key: rsaKeys[0]}
}

// post sends body signed by the rig's key with the rig's certificate URL.
func (g *rig) post(t testing.TB, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return g.postWith(t, body, certURL, sign(t, g.key, body))
}

func (g *rig) postWith(t testing.TB, body []byte, url, sig string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, DefaultPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if url != "" {
		req.Header.Set(HeaderCertURL, url)
	}
	if sig != "" {
		req.Header.Set(HeaderSignature, sig)
	}
	w := httptest.NewRecorder()
	g.c.ServeHTTP(w, req)
	return w
}

// answer decodes a 200 response.
func answer(t testing.TB, w *httptest.ResponseRecorder) ResponseEnvelope {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var env ResponseEnvelope
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("response %s: %v", w.Body, err)
	}
	return env
}

// recorder is a Handler that records what reaches it.
type recorder struct {
	mu       sync.Mutex
	sessions []runner.Session
	events   []dialog.Event
	reply    dialog.Reply
}

func (h *recorder) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions = append(h.sessions, s)
	h.events = append(h.events, ev)
	return h.reply, nil
}

func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

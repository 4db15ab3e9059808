package googleassistant

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

const (
	testProject = "parole-test-project"
	testKid     = "key-1"
	dfUser      = "parole"
	dfPass      = "s3cret"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)

func clock() time.Time { return testNow }

// quiet drops the connector's logs in tests.
var quiet = slog.New(slog.DiscardHandler)

var (
	keysOnce sync.Once
	rsaKeys  [2]*rsa.PrivateKey
)

// keys returns two RSA keys, made once per test binary: the first is
// Google's (in the rig's key set), the second a forger's.
func keys(t testing.TB) (google, forger *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
	})
	return rsaKeys[0], rsaKeys[1]
}

// googleClaims are the claims of a valid token for the test project.
func googleClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "https://accounts.google.com",
		"aud": testProject,
		"iat": testNow.Add(-10 * time.Second).Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
}

// signRS256 returns a token with claims signed by key under kid.
func signRS256(t testing.TB, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goodToken is a valid token of Google for the test project.
func goodToken(t testing.TB) string {
	g, _ := keys(t)
	return signRS256(t, g, testKid, googleClaims())
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

// rig is a connector over the demo flow with the test key set.
type rig struct {
	c  *Connector
	st store.Store
	r  *runner.Runner
}

func demoRunner(t testing.TB) (*runner.Runner, store.Store) {
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
	return runner.New(e, st, runner.WithClock(clock)), st
}

func newRig(t testing.TB, cfg Config, opts ...Option) *rig {
	t.Helper()
	r, st := demoRunner(t)
	g := newRigWith(t, r, cfg, opts...)
	g.st, g.r = st, r
	return g
}

func newRigWith(t testing.TB, h Handler, cfg Config, opts ...Option) *rig {
	t.Helper()
	google, _ := keys(t)
	if cfg.ProjectID == "" {
		cfg.ProjectID = testProject
	}
	if cfg.DialogflowUsername == "" {
		cfg.DialogflowUsername, cfg.DialogflowPassword = dfUser, dfPass
	}
	opts = append([]Option{WithKeySet(StaticKeys{testKid: &google.PublicKey}), WithClock(clock), WithLogger(quiet)}, opts...)
	c, err := New(h, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{c: c}
}

// request builds a POST of body to path with headers (name, value pairs).
func request(path string, body []byte, headers ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func (g *rig) do(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.c.ServeHTTP(w, req)
	return w
}

// conversation posts a conversation webhook request with a valid token.
func (g *rig) conversation(t testing.TB, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return g.do(request(DefaultAssistantPath, body, "Authorization", "Bearer "+goodToken(t)))
}

// builder posts an Actions Builder request with a valid token.
func (g *rig) builder(t testing.TB, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return g.do(request(DefaultActionsPath, body, append([]string{HeaderActionsSignature, goodToken(t)}, headers...)...))
}

// dialogflow posts a Dialogflow request with the right credentials.
func (g *rig) dialogflow(t testing.TB, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := request(DefaultDialogflowPath, body)
	req.SetBasicAuth(dfUser, dfPass)
	return g.do(req)
}

// decode decodes a 200 response into v.
func decode(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	reflect.ValueOf(v).Elem().SetZero() // no field left from a previous response
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("response %s: %v", w.Body, err)
	}
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

func (h *recorder) last(t testing.TB) (runner.Session, dialog.Event) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		t.Fatal("no event reached the handler")
	}
	return h.sessions[len(h.sessions)-1], h.events[len(h.events)-1]
}

// hs256 returns an account-linking token for sub signed with secret.
func hs256(t testing.TB, secret, sub string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": testNow.Add(time.Hour).Unix()})
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

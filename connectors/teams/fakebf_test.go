package teams

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// The bot of the tests.
const (
	testAppID    = "c9e8c047-2a74-40a2-b28a-b162d5f5327c"
	testSecret   = "s3cr3t~value"
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testBotID    = "28:" + testAppID
	testKeyID    = "test-key-1"
	testNotifyTk = "notify-token-123"
)

var (
	keyOnce sync.Once
	keyA    *rsa.PrivateKey
	keyB    *rsa.PrivateKey
)

// testKeys returns two RSA keys, made once (RSA generation is slow under
// -race).
func testKeys() (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

// apiCall is one request the fake Bot Connector received.
type apiCall struct {
	Method, Path, Auth string
	Activity           *Activity
	Params             *ConversationParameters
	Raw                map[string]any
}

// fakeBF is an in-process Bot Framework service: the Entra ID token
// endpoint, the Bot Framework OpenID metadata and JWKS (with a test RSA
// key), and the Bot Connector API under two regional service URLs. It
// checks paths, bearer tokens and JSON as the Bot Framework REST API
// reference documents them, and records what it got.
type fakeBF struct {
	t   testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey

	mu           sync.Mutex
	tokens       int // tokens issued
	tokenPaths   []string
	current      string // the last issued token
	metadataHits int
	keysHits     int
	calls        []apiCall
	seq          int
	endorse      []string
	refuseNext   int // answer the next API calls 401
	keysDown     bool
}

func newFakeBF(t testing.TB) *fakeBF {
	k, _ := testKeys()
	f := &fakeBF{t: t, key: k, endorse: []string{"msteams"}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", f.token)
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", f.metadata)
	mux.HandleFunc("GET /v1/.well-known/keys", f.keys)
	for _, region := range []string{"amer", "emea"} {
		mux.HandleFunc("POST /"+region+"/v3/conversations", f.api)
		mux.HandleFunc("POST /"+region+"/v3/conversations/{conv}/activities", f.api)
		mux.HandleFunc("POST /"+region+"/v3/conversations/{conv}/activities/{act}", f.api)
		mux.HandleFunc("PUT /"+region+"/v3/conversations/{conv}/activities/{act}", f.api)
		mux.HandleFunc("DELETE /"+region+"/v3/conversations/{conv}/activities/{act}", f.api)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Bot Framework: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// serviceURL is the fake's Bot Connector for a region, as Teams gives it
// (with a trailing slash).
func (f *fakeBF) serviceURL(region string) string { return f.srv.URL + "/" + region + "/" }

// config returns a connector config pointing at the fake.
func (f *fakeBF) config() Config {
	return Config{AppID: testAppID, AppPassword: testSecret, LoginURL: f.srv.URL,
		OpenIDMetadataURL: f.srv.URL + "/v1/.well-known/openidconfiguration", NotifyToken: testNotifyTk}
}

func (f *fakeBF) token(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("token request content type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {testAppID}, "client_secret": {testSecret},
		"scope": {"https://api.botframework.com/.default"}}
	for k, v := range want {
		if r.PostForm.Get(k) != v[0] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad %s"}`, k)
			return
		}
	}
	f.mu.Lock()
	f.tokens++
	f.current = fmt.Sprintf("access-token-%d", f.tokens)
	f.tokenPaths = append(f.tokenPaths, r.URL.Path)
	tok := f.current
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":%q}`, tok)
}

func (f *fakeBF) metadata(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.metadataHits++
	down := f.keysDown
	f.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"issuer":"https://api.botframework.com","authorization_endpoint":"https://invalid.botframework.com",`+
		`"jwks_uri":%q,"id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["private_key_jwt"]}`,
		f.srv.URL+"/v1/.well-known/keys")
}

func (f *fakeBF) keys(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.keysHits++
	endorse := f.endorse
	f.mu.Unlock()
	pub := f.key.PublicKey
	set := map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": testKeyID,
		"n":            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"endorsements": endorse,
	}}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set)
}

// api serves the Bot Connector API.
func (f *fakeBF) api(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	want := f.current
	refuse := f.refuseNext > 0
	if refuse {
		f.refuseNext--
	}
	f.mu.Unlock()
	call := apiCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	if refuse || want == "" || call.Auth != "Bearer "+want {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Authorization has been denied for this request."}`))
		return
	}
	if r.Method != http.MethodDelete {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			f.t.Errorf("%s %s: content type %q", r.Method, r.URL.Path, ct)
		}
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		if err := json.Unmarshal(body.Bytes(), &call.Raw); err != nil {
			f.t.Errorf("%s %s: body is not a JSON object: %v", r.Method, r.URL.Path, err)
		}
		dec := json.NewDecoder(bytes.NewReader(body.Bytes()))
		dec.DisallowUnknownFields()
		if strings.HasSuffix(r.URL.Path, "/v3/conversations") {
			call.Params = new(ConversationParameters)
			if err := dec.Decode(call.Params); err != nil {
				f.t.Errorf("POST /v3/conversations: %v", err)
			}
		} else {
			call.Activity = new(Activity)
			if err := dec.Decode(call.Activity); err != nil {
				f.t.Errorf("%s %s: not an activity: %v", r.Method, r.URL.Path, err)
			}
			if call.Activity.Type == "" {
				f.t.Errorf("%s %s: activity without a type", r.Method, r.URL.Path)
			}
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.seq++
	n := f.seq
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusOK)
	case call.Params != nil:
		if len(call.Params.Members) != 1 {
			http.Error(w, `{"error":{"code":"BadArgument","message":"one member"}}`, http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"id":%q}`, "a:personal-"+call.Params.Members[0].ID)
	case r.Method == http.MethodPut:
		fmt.Fprintf(w, `{"id":%q}`, r.PathValue("act"))
	default:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"%d"}`, 1000+n)
	}
}

// takeCalls returns and forgets the API calls received so far.
func (f *fakeBF) takeCalls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// claims returns valid connector-to-bot claims for serviceURL at now.
func claimsFor(serviceURL string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":        "https://api.botframework.com",
		"aud":        testAppID,
		"nbf":        now.Add(-time.Minute).Unix(),
		"exp":        now.Add(time.Hour).Unix(),
		"serviceurl": serviceURL,
	}
}

// sign signs claims with key under kid (RS256).
func sign(t testing.TB, key *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bearer returns a valid Bot Connector token for serviceURL.
func (f *fakeBF) bearer(t testing.TB, serviceURL string) string {
	return "Bearer " + sign(t, f.key, testKeyID, claimsFor(serviceURL, time.Now()))
}

// fixture loads a testdata activity as a map, with serviceUrl set.
func fixture(t testing.TB, name, serviceURL string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if serviceURL != "" {
		m["serviceUrl"] = serviceURL
	}
	return m
}

// deliver posts an activity to the connector as the Bot Connector does,
// with a valid token for its serviceUrl unless auth is given.
func (f *fakeBF) deliver(t testing.TB, c *Connector, act map[string]any, auth ...string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(act)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	if len(auth) > 0 {
		if auth[0] != "" {
			r.Header.Set("Authorization", auth[0])
		}
	} else {
		su, _ := act["serviceUrl"].(string)
		r.Header.Set("Authorization", f.bearer(t, su))
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w
}

// quiet discards the logs of the tests.
var quiet = slog.New(slog.DiscardHandler)

// connector returns a connector on the fake service.
func (f *fakeBF) connector(t testing.TB, h Handler, mod func(*Config), opts ...Option) *Connector {
	t.Helper()
	cfg := f.config()
	cfg.TypingInterval = time.Hour // one typing activity per turn
	if mod != nil {
		mod(&cfg)
	}
	opts = append([]Option{WithLogger(quiet), WithHTTPClient(f.srv.Client()), WithRetryWait(func(context.Context, time.Duration) error { return nil })}, opts...)
	c, err := New(h, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder is a fake dialog handler that records events and answers
// "echo: TEXT" / "picked: CHOICE" / "hello" for a start.
type recorder struct {
	mu       sync.Mutex
	sessions []runner.Session
	events   []dialog.Event
}

func (h *recorder) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions = append(h.sessions, s)
	h.events = append(h.events, ev)
	switch ev.Type {
	case dialog.EventStart:
		return dialog.Say("hello"), nil
	case dialog.EventChoice:
		return dialog.Say("picked: " + ev.Choice), nil
	case dialog.EventText:
		return dialog.Say("echo: " + ev.Text), nil
	}
	return dialog.Reply{}, nil
}

func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func (h *recorder) last() (runner.Session, dialog.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return runner.Session{}, dialog.Event{}
	}
	return h.sessions[len(h.sessions)-1], h.events[len(h.events)-1]
}

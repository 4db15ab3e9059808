package googlechat

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

const project = "1234567890"

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

// fakeGoogle is Google's side: the x509 certificate endpoint of
// chat@system.gserviceaccount.com (JSON object of key id → PEM
// certificate, with Cache-Control max-age) and the signer of Chat's
// bearer tokens.
type fakeGoogle struct {
	srv     *httptest.Server
	keys    map[string]*rsa.PrivateKey
	certs   map[string]string
	fetches atomic.Int32
}

func newFakeGoogle(t testing.TB, kids ...string) *fakeGoogle {
	t.Helper()
	g := &fakeGoogle{keys: map[string]*rsa.PrivateKey{}, certs: map[string]string{}}
	for i, kid := range kids {
		g.addKey(t, kid, int64(i+1))
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.fetches.Add(1)
		if r.URL.Path != "/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", "public, max-age=22784, must-revalidate, no-transform")
		json.NewEncoder(w).Encode(g.certs)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGoogle) addKey(t testing.TB, kid string, serial int64) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "chat.system.gserviceaccount.com"},
		NotBefore: testNow.Add(-24 * time.Hour), NotAfter: testNow.Add(14 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	g.keys[kid] = key
	g.certs[kid] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (g *fakeGoogle) certsURL() string {
	return g.srv.URL + "/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"
}

// token signs Chat's bearer token with key kid; mod changes its claims.
func (g *fakeGoogle) token(t testing.TB, kid string, mod func(jwt.MapClaims)) string {
	cl := jwt.MapClaims{"iss": Issuer, "aud": project, "iat": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(59 * time.Minute).Unix()}
	if mod != nil {
		mod(cl)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, cl)
	tok.Header["kid"] = kid
	key := g.keys[kid]
	if key == nil {
		key = g.keys["k1"]
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type counting struct {
	Handler
	n atomic.Int32
}

func (c *counting) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	c.n.Add(1)
	return c.Handler.Handle(ctx, s, ev)
}

func demoRunner(t testing.TB) *runner.Runner {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f, flow.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{Now: clock})
	t.Cleanup(func() { st.Close() })
	return runner.New(e, st, runner.WithClock(clock))
}

type env struct {
	// offset advances the connector's clock past testNow.
	offset atomic.Int64
	g      *fakeGoogle
	c      *Connector
	srv    *httptest.Server
	hits   *counting
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{g: newFakeGoogle(t, "k1", "k2"), hits: &counting{Handler: demoRunner(t)}}
	cfg := Config{ProjectNumber: project, CertsURL: e.g.certsURL()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(e.hits, cfg, WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return testNow.Add(time.Duration(e.offset.Load())) }))
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send posts an event as Chat does (User-Agent Google-Dynamite) with the
// Authorization header auth ("" for none) and decodes the answer.
func (e *env) send(t testing.TB, body []byte, auth string) (int, Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+DefaultPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Google-Dynamite")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out Response
	raw := new(bytes.Buffer)
	raw.ReadFrom(resp.Body)
	if resp.StatusCode == http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(raw.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	}
	return resp.StatusCode, out
}

func (e *env) bearer(t testing.TB) string { return "Bearer " + e.g.token(t, "k1", nil) }

func buttonsOf(r Response) []Button {
	var out []Button
	for _, c := range r.CardsV2 {
		for _, s := range c.Card.Sections {
			for _, w := range s.Widgets {
				if w.ButtonList != nil {
					out = append(out, w.ButtonList.Buttons...)
				}
			}
		}
	}
	return out
}

func paragraphs(r Response) string {
	var out []string
	for _, c := range r.CardsV2 {
		for _, s := range c.Card.Sections {
			for _, w := range s.Widgets {
				if w.TextParagraph != nil {
					out = append(out, w.TextParagraph.Text)
				}
			}
		}
	}
	return strings.Join(out, "\n")
}

func TestDocumentedMessage(t *testing.T) {
	e := newEnv(t, nil)
	code, r := e.send(t, fixture(t, "message_event.json"), e.bearer(t))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	// First contact in the room: the welcome, the menu as a card with
	// buttons, then the answer to "Hello" (argumentText, mention removed).
	if !strings.Contains(r.Text, "Welcome to the Parole demo line.") || !strings.Contains(r.Text, "Sorry, I didn't understand.") {
		t.Fatalf("text %q", r.Text)
	}
	if !strings.Contains(paragraphs(r), "What would you like?") || len(buttonsOf(r)) < 2 {
		t.Fatalf("cards %+v", r.CardsV2)
	}
	b := buttonsOf(r)[0]
	if b.Text != "Opening hours" || b.OnClick.Action == nil || b.OnClick.Action.Function != ChoiceFunction || b.OnClick.Action.Parameters[0] != (ActionParam{PayloadParam, "hours"}) {
		t.Fatalf("button %+v", b)
	}
	if e.hits.n.Load() != 2 {
		t.Fatalf("%d events", e.hits.n.Load())
	}
}

func TestAddedToSpaceAndButtonRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	code, r := e.send(t, fixture(t, "added_to_space_dm.json"), e.bearer(t))
	if code != http.StatusOK || !strings.Contains(r.Text, "Welcome") || len(buttonsOf(r)) == 0 {
		t.Fatalf("welcome: %d %+v", code, r)
	}
	if e.hits.n.Load() != 1 {
		t.Fatalf("ADDED_TO_SPACE gave %d events, want only the start", e.hits.n.Load())
	}
	code, r = e.send(t, fixture(t, "card_clicked.json"), e.bearer(t))
	if code != http.StatusOK || !strings.HasPrefix(r.Text, "We are open Monday to Friday") {
		t.Fatalf("click: %d %+v", code, r)
	}
	if r.ActionResponse == nil || r.ActionResponse.Type != "NEW_MESSAGE" {
		t.Fatalf("click answer not a new message: %+v", r.ActionResponse)
	}
	// A click of another function, or without payload, is refused.
	var ev map[string]any
	json.Unmarshal(fixture(t, "card_clicked.json"), &ev)
	ev["action"] = map[string]any{"actionMethodName": "other"}
	ev["common"] = map[string]any{}
	b, _ := json.Marshal(ev)
	if code, _ := e.send(t, b, e.bearer(t)); code != http.StatusBadRequest {
		t.Fatalf("foreign click: %d", code)
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, nil)
	body := fixture(t, "message_event.json")
	other := newFakeGoogle(t, "k1")
	cases := map[string]string{
		"missing":      "",
		"not bearer":   "Basic " + e.g.token(t, "k1", nil),
		"garbage":      "Bearer abc.def.ghi",
		"wrong issuer": "Bearer " + e.g.token(t, "k1", func(c jwt.MapClaims) { c["iss"] = "accounts.google.com" }),
		"wrong aud":    "Bearer " + e.g.token(t, "k1", func(c jwt.MapClaims) { c["aud"] = "999" }),
		"expired":      "Bearer " + e.g.token(t, "k1", func(c jwt.MapClaims) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() }),
		"no exp":       "Bearer " + e.g.token(t, "k1", func(c jwt.MapClaims) { delete(c, "exp") }),
		"future iat":   "Bearer " + e.g.token(t, "k1", func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() }),
		"unknown kid":  "Bearer " + e.g.token(t, "k9", nil),
		"foreign key":  "Bearer " + other.token(t, "k1", nil),
		"HS256":        "Bearer " + hs256(t),
		"alg none":     "Bearer " + none(t),
	}
	for name, auth := range cases {
		if code, _ := e.send(t, body, auth); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, code)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("an unverified event reached the dialog")
	}
	// Within the skew an expired token still passes; the certificates
	// were fetched once (cached), plus once for the unknown kid.
	late := "Bearer " + e.g.token(t, "k2", func(c jwt.MapClaims) { c["exp"] = testNow.Add(-30 * time.Second).Unix() })
	if code, _ := e.send(t, body, late); code != http.StatusOK {
		t.Fatalf("token within skew: %d", code)
	}
	if n := e.g.fetches.Load(); n < 1 || n > 2 {
		t.Fatalf("%d certificate fetches", n)
	}
}

func hs256(t testing.TB) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": Issuer, "aud": project, "exp": testNow.Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func none(t testing.TB) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": Issuer, "aud": project, "exp": testNow.Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	body := fixture(t, "message_event.json")
	if code, _ := e.send(t, body, e.bearer(t)); code != 200 {
		t.Fatal(code)
	}
	// Google rotates: a new key appears while the cache is fresh. The
	// unknown kid triggers one refetch (at most once a minute).
	e.g.addKey(t, "k3", 3)
	e.offset.Store(int64(2 * time.Minute))
	if code, _ := e.send(t, body, "Bearer "+e.g.token(t, "k3", nil)); code != 200 {
		t.Fatalf("rotated key: %d", code)
	}
	n := e.g.fetches.Load()
	e.send(t, body, "Bearer "+e.g.token(t, "k8", nil))
	e.send(t, body, "Bearer "+e.g.token(t, "k8", nil))
	if e.g.fetches.Load() != n {
		t.Fatal("unknown kids refetched the certificates within a minute")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	var ev map[string]any
	json.Unmarshal(fixture(t, "message_event.json"), &ev)
	ev["message"].(map[string]any)["text"] = strings.Repeat("x", 4096)
	big, _ := json.Marshal(ev)
	for name, tc := range map[string]struct {
		body []byte
		want int
	}{
		"oversized":  {big, 413},
		"bad json":   {[]byte(`{"type":`), 400},
		"no space":   {[]byte(`{"type":"MESSAGE","user":{"name":"users/1"}}`), 400},
		"no user":    {[]byte(`{"type":"MESSAGE","space":{"name":"spaces/A"}}`), 400},
		"wrong type": {[]byte(`{"type":1}`), 400},
	} {
		if code, _ := e.send(t, tc.body, e.bearer(t)); code != tc.want {
			t.Errorf("%s: %d, want %d", name, code, tc.want)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("bad input reached the dialog")
	}
	// Bots' messages and other event types are acknowledged, not answered.
	for _, b := range []string{
		`{"type":"MESSAGE","space":{"name":"spaces/A"},"user":{"name":"users/9","type":"BOT"},"message":{"text":"hi"}}`,
		`{"type":"WIDGET_UPDATED","space":{"name":"spaces/A"},"user":{"name":"users/1"}}`,
	} {
		if code, r := e.send(t, []byte(b), e.bearer(t)); code != 200 || r.Text != "" {
			t.Errorf("%s: %d %+v", b, code, r)
		}
	}
	if e.hits.n.Load() != 0 {
		t.Fatal("answered a bot or an unknown event")
	}
}

func TestRemovedFromSpace(t *testing.T) {
	e := newEnv(t, nil)
	e.send(t, fixture(t, "added_to_space_dm.json"), e.bearer(t))
	b := []byte(`{"type":"REMOVED_FROM_SPACE","eventTime":"2017-03-02T19:05:00Z","space":{"name":"spaces/AAAAAAAAAAA","type":"DM"},"user":{"name":"users/12345678901234567890","type":"HUMAN"}}`)
	if code, r := e.send(t, b, e.bearer(t)); code != 200 || r.Text != "" || len(r.CardsV2) != 0 {
		t.Fatalf("%d %+v", code, r)
	}
	// Added again: welcomed again.
	if _, r := e.send(t, fixture(t, "added_to_space_dm.json"), e.bearer(t)); !strings.Contains(r.Text, "Welcome") {
		t.Fatalf("re-added: %+v", r)
	}
}

func TestNewValidates(t *testing.T) {
	h := demoRunner(t)
	for name, cfg := range map[string]Config{
		"no project":  {},
		"bad project": {ProjectNumber: "my-project"},
		"bad path":    {ProjectNumber: project, Path: "x"},
		"neg skew":    {ProjectNumber: project, ClockSkew: -1},
	} {
		if _, err := New(h, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(h, Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
}

func TestRender(t *testing.T) {
	r := Render(dialog.Reply{Messages: []dialog.Message{
		{Text: "Plain"},
		{Card: &dialog.Card{Title: "Plan", Subtitle: "Pick", ImageURL: "https://x/i.png", Buttons: []dialog.Choice{{Title: "A", Payload: "a"}, {Title: "Docs", URL: "https://x/docs"}}}},
		{Attachment: &dialog.Attachment{URL: "https://x/p.png", Name: "p", ContentType: "image/png"}},
		{Attachment: &dialog.Attachment{URL: "https://x/f.pdf", Name: "f.pdf"}},
	}, Transfer: &dialog.Transfer{Target: "agent"}})
	if r.Text != "Plain\n<https://x/f.pdf|f.pdf>\n→ agent" || len(r.CardsV2) != 2 {
		t.Fatalf("%+v", r)
	}
	c := r.CardsV2[0]
	if c.CardID != "card1" || c.Card.Header.Title != "Plan" || c.Card.Header.ImageURL != "https://x/i.png" {
		t.Fatalf("card %+v", c)
	}
	bs := buttonsOf(Response{CardsV2: r.CardsV2[:1]})
	if len(bs) != 2 || bs[1].OnClick.OpenLink.URL != "https://x/docs" || bs[0].OnClick.Action.Parameters[0].Value != "a" {
		t.Fatalf("buttons %+v", bs)
	}
	if img := r.CardsV2[1].Card.Sections[0].Widgets[0].Image; img == nil || img.ImageURL != "https://x/p.png" {
		t.Fatalf("image %+v", r.CardsV2[1])
	}
}

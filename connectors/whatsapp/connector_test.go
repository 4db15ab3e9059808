package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/internal/meta"
	"github.com/parole-voice/parole/connectors/internal/meta/metatest"
	"github.com/parole-voice/parole/dialog"
)

// Ids of the documented webhook examples.
const (
	appSecret = "0c8a1f2e3d4b5a69788796a5b4c3d2e1"
	verifyTok = "parole-verify-token"
	token     = "EAAJB6sGZCmsBAWhatsAppToken"
	phoneID   = "106540352242922"
	waID      = "16505551234"
	convID    = ConversationPrefix + phoneID + ":" + waID
)

// post sends body signed with secret (unsigned when secret is empty).
func post(c *Connector, body []byte, secret string) *httptest.ResponseRecorder {
	return metatest.Post(c, c.Path(), body, secret)
}

func setup(t testing.TB, h Handler, mod func(*Config), opts ...Option) (*Connector, *metatest.Graph) {
	t.Helper()
	g := metatest.NewGraph(t, "v24.0", token)
	cfg := Config{AppSecret: appSecret, VerifyToken: verifyTok, AccessToken: token, PhoneNumberID: phoneID, GraphURL: g.URL(), GraphVersion: "v24.0"}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(h, cfg, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, g
}

// textBody is a text message webhook like the documented one.
func textBody(id, text string) []byte {
	b := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1749416383","type":"text","text":{"body":"%s"}}]},"field":"messages"}]}]}`,
		phoneID, waID, waID, id, text)
	return []byte(b)
}

// messages checks the calls (all accepted, to the phone number's messages
// endpoint with the Bearer token) and returns the sent messages' bodies,
// read receipts left out.
func messages(t *testing.T, calls []metatest.Call) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, c := range calls {
		if c.Refused != "" {
			t.Fatalf("fake Cloud API refused a call: %s: %v", c.Refused, c.Body)
		}
		if c.Path != "/v24.0/"+phoneID+"/messages" || c.Header.Get("Authorization") != "Bearer "+token {
			t.Fatalf("call to %s with %q", c.Path, c.Header.Get("Authorization"))
		}
		if c.Body["status"] == "read" {
			continue
		}
		if c.Body["to"] != waID || c.Body["messaging_product"] != "whatsapp" {
			t.Fatalf("message %v", c.Body)
		}
		out = append(out, c.Body)
	}
	return out
}

func bodyText(m map[string]any) string {
	switch m["type"] {
	case "text":
		return m["text"].(map[string]any)["body"].(string)
	case "interactive":
		return m["interactive"].(map[string]any)["body"].(map[string]any)["text"].(string)
	}
	return ""
}

func TestVerificationGET(t *testing.T) {
	c, _ := setup(t, &metatest.Recorder{}, nil)
	for q, code := range map[string]int{
		"hub.mode=subscribe&hub.verify_token=" + verifyTok + "&hub.challenge=1158201444": 200,
		"hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444":              403,
		"hub.mode=subscribe&hub.verify_token=" + verifyTok:                               400,
		"hub.verify_token=" + verifyTok + "&hub.challenge=1":                             400,
	} {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.Path()+"?"+q, nil))
		if w.Code != code || code == 200 && w.Body.String() != "1158201444" {
			t.Errorf("GET ?%s = %d %q, want %d", q, w.Code, w.Body, code)
		}
	}
}

func TestSignature(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("hi")}
	c, g := setup(t, h, nil)
	body := metatest.Fixture(t, "text_message.json")
	good := meta.Sign(appSecret, body)
	flipped := []byte(good)
	flipped[10] ^= 1
	for name, sig := range map[string]string{
		"missing": "", "forged": string(flipped), "other secret": meta.Sign("x", body),
		"no prefix": strings.TrimPrefix(good, "sha256="), "other body": meta.Sign(appSecret, []byte("{}")),
	} {
		r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if sig != "" {
			r.Header.Set(meta.SignatureHeader, sig)
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, w.Code)
		}
	}
	c.Wait()
	if len(h.Events()) != 0 || len(g.Calls()) != 0 {
		t.Fatal("a request with a bad signature reached the dialog")
	}
	if w := post(c, body, appSecret); w.Code != 200 {
		t.Fatalf("good signature: %d", w.Code)
	}
	c.Wait()
	if ev := h.Events(); len(ev) != 2 || ev[1].Text != "Does it come in another color?" {
		t.Fatalf("events %+v", ev)
	}
}

func TestBadRequests(t *testing.T) {
	h := &metatest.Recorder{}
	c, _ := setup(t, h, func(cfg *Config) { cfg.MaxBodyBytes = 2048 })
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		code        int
	}{
		{"oversized", "application/json", []byte(`{"object":"whatsapp_business_account","x":"` + strings.Repeat("y", 3000) + `"}`), 413},
		{"bad json", "application/json", []byte(`{"object":`), 400},
		{"wrong object", "application/json", []byte(`{"object":"page","entry":[]}`), 400},
		{"no from", "application/json", []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"w","type":"text"}]}}]}]}`), 400},
		{"no phone id", "application/json", []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"w","type":"text"}]}}]}]}`), 400},
		{"form", "application/x-www-form-urlencoded", []byte(`a=b`), 415},
	} {
		r := httptest.NewRequest(http.MethodPost, c.Path(), bytes.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ctype)
		r.Header.Set(meta.SignatureHeader, meta.Sign(appSecret, tc.body))
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.code, w.Body)
		}
	}
	c.Wait()
	if len(h.Events()) != 0 {
		t.Fatalf("bad requests reached the dialog: %+v", h.Events())
	}
}

// TestConversation runs the demo flow: the first message gets the welcome
// and the menu as reply buttons; tapping a button comes back as a
// button_reply choice.
func TestConversation(t *testing.T) {
	c, g := setup(t, metatest.DemoRunner(t), nil)
	if w := post(c, textBody("wamid.A1", "hello"), appSecret); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	calls := g.Calls()
	if len(calls) == 0 || calls[0].Body["status"] != "read" || calls[0].Body["message_id"] != "wamid.A1" {
		t.Fatalf("want the read receipt with typing first: %+v", calls)
	}
	msgs := messages(t, calls)
	// Welcome and menu, then "hello" is not understood: no-match and the
	// menu again.
	if len(msgs) != 4 || bodyText(msgs[0]) != "Welcome to the Parole demo line." {
		t.Fatalf("messages %v", msgs)
	}
	menu := msgs[1]["interactive"].(map[string]any)
	if menu["type"] != "button" || !strings.Contains(bodyText(msgs[1]), "What would you like?") {
		t.Fatalf("menu %v", menu)
	}
	var ids []string
	for _, b := range menu["action"].(map[string]any)["buttons"].([]any) {
		ids = append(ids, b.(map[string]any)["reply"].(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "hours,book" {
		t.Fatalf("button ids %v", ids)
	}
	// The user taps "Opening hours": the documented button_reply with our id.
	tap := bytes.Replace(metatest.Fixture(t, "button_reply.json"), []byte(`"cancel-button"`), []byte(`"hours"`), 1)
	if w := post(c, tap, appSecret); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c.Wait()
	msgs = messages(t, g.Calls())
	if len(msgs) < 2 || bodyText(msgs[0]) != "We are open Monday to Friday, from 9 am to 6 pm." {
		t.Fatalf("after the tap: %v", msgs)
	}
	// anything_else is a yes/no question: two reply buttons.
	if in := msgs[len(msgs)-1]["interactive"].(map[string]any); in["type"] != "button" {
		t.Fatalf("yes/no %v", in)
	}
}

func TestEventsMapping(t *testing.T) {
	h := &metatest.Recorder{Reply: dialog.Say("ok")}
	c, g := setup(t, h, func(cfg *Config) { cfg.NoTyping = true; cfg.DefaultLocale = "en-US" })
	for _, name := range []string{"list_reply.json", "template_button.json", "status_sent.json"} {
		if w := post(c, metatest.Fixture(t, name), appSecret); w.Code != 200 {
			t.Fatalf("%s: %d", name, w.Code)
		}
		c.Wait()
	}
	// A message to another number of the account is not ours.
	post(c, bytes.Replace(textBody("wamid.X", "hi"), []byte(phoneID), []byte("999"), 1), appSecret)
	c.Wait()
	ev := h.Events()
	if len(ev) != 3 || ev[0].Type != dialog.EventStart || ev[1].Choice != "priority_express" || ev[2].Choice != "Unsubscribe from Promos" {
		t.Fatalf("events %+v", ev)
	}
	if !ev[1].Time.Equal(time.Unix(1739321024, 0)) || ev[1].Metadata["whatsapp.profile_name"] != "Sheena Nelson" ||
		ev[1].Metadata["whatsapp.waba_id"] != "102290129340398" {
		t.Fatalf("time/metadata %v %v", ev[1].Time, ev[1].Metadata)
	}
	s := h.Sessions()[1]
	if s.ConversationID != convID || s.Channel != Channel || s.ChannelUserID != waID || s.Locale != "en-US" {
		t.Fatalf("session %+v", s)
	}
	for _, call := range g.Calls() {
		if call.Body["status"] == "read" {
			t.Fatal("typing sent with no_typing")
		}
	}
	// A duplicate delivery is dropped.
	post(c, metatest.Fixture(t, "list_reply.json"), appSecret)
	c.Wait()
	if len(h.Events()) != 3 {
		t.Fatal("duplicate delivery handled twice")
	}
}

// TestListRoundTrip: more than three choices become a list (two lists
// beyond ten rows), accepted by the fake's checks; a row picked comes back
// as a choice.
func TestListRoundTrip(t *testing.T) {
	var choices []dialog.Choice
	for i := 0; i < 12; i++ {
		choices = append(choices, dialog.Choice{Title: fmt.Sprintf("Appointment slot number %d", i), Payload: fmt.Sprintf("slot%d", i)})
	}
	h := &metatest.Recorder{Reply: dialog.Reply{Messages: []dialog.Message{{Text: "Pick a slot", Choices: choices}}}}
	c, g := setup(t, h, func(cfg *Config) { cfg.NoTyping = true; cfg.ListButton = "Slots" })
	post(c, textBody("wamid.L1", "book"), appSecret)
	c.Wait()
	msgs := messages(t, g.Calls())
	if len(msgs) != 4 { // start reply and text reply, each 2 lists
		t.Fatalf("%d messages", len(msgs))
	}
	in := msgs[0]["interactive"].(map[string]any)
	rows := in["action"].(map[string]any)["sections"].([]any)[0].(map[string]any)["rows"].([]any)
	if in["type"] != "list" || len(rows) != 10 || in["action"].(map[string]any)["button"] != "Slots" {
		t.Fatalf("list %v", in)
	}
	row := rows[3].(map[string]any)
	if row["id"] != "slot3" || row["title"] != "Appointment slot number…" || row["description"] != "Appointment slot number 3" {
		t.Fatalf("row %v", row)
	}
	pick := bytes.Replace(metatest.Fixture(t, "list_reply.json"), []byte(`"priority_express"`), []byte(`"slot3"`), 1)
	post(c, pick, appSecret)
	c.Wait()
	if ev := h.Events(); ev[len(ev)-1].Type != dialog.EventChoice || ev[len(ev)-1].Choice != "slot3" {
		t.Fatalf("events %+v", ev)
	}
}

func TestSendRetries(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	c, g := setup(t, &metatest.Recorder{}, nil, WithRetryWait(sleep))
	g.FailNext(2, http.StatusTooManyRequests, "3")
	if err := c.Send(context.Background(), waID, dialog.Say("hello")); err != nil {
		t.Fatal(err)
	}
	calls := g.Calls()
	if len(calls) != 3 || calls[2].Refused != "" {
		t.Fatalf("calls %+v", calls)
	}
	mu.Lock()
	if len(waits) != 2 || waits[0] != 3*time.Second || waits[1] != 3*time.Second {
		t.Fatalf("waits %v", waits)
	}
	mu.Unlock()
	c.graph.Token = "bad"
	err := c.Send(context.Background(), waID, dialog.Say("x"))
	var ge *meta.GraphError
	if !errors.As(err, &ge) || ge.Code != 190 {
		t.Fatalf("bad token: %v", err)
	}
}

func TestConfig(t *testing.T) {
	good := Config{AppSecret: "s", VerifyToken: "v", AccessToken: "t", PhoneNumberID: "1"}
	if _, err := New(&metatest.Recorder{}, good); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"no secret":   func(c *Config) { c.AppSecret = "" },
		"no verify":   func(c *Config) { c.VerifyToken = "" },
		"no token":    func(c *Config) { c.AccessToken = "" },
		"no phone":    func(c *Config) { c.PhoneNumberID = "" },
		"bad phone":   func(c *Config) { c.PhoneNumberID = "1/2" },
		"bad path":    func(c *Config) { c.Path = "/x/" },
		"bad version": func(c *Config) { c.GraphVersion = "24" },
		"negative":    func(c *Config) { c.MaxPending = -1 },
	} {
		cfg := good
		mod(&cfg)
		if _, err := New(&metatest.Recorder{}, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg := good
	cfg.AppSecret, cfg.InsecureSkipVerify = "", true
	if _, err := New(&metatest.Recorder{}, cfg); err != nil {
		t.Fatal(err)
	}
}

package alexa

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// TestOneConversationManyChannels books the demo appointment starting on
// Alexa and finishing in the web chat, for one user whose Alexa account is
// linked (an access token naming "alice") and whose web chat JWT has the
// subject "alice". The web chat is parole's real connector, driven over
// HTTP as a browser would.
func TestOneConversationManyChannels(t *testing.T) {
	ctx := context.Background()
	secret := []byte("shared-account-secret")
	st := store.NewMemory(store.Options{Now: clock})
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f, flow.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	// The web chat authenticates its users with JWTs, so the runner may take
	// its user ids as parole user ids.
	r := runner.New(e, st, runner.WithClock(clock), runner.WithUsers(runner.TrustedChannels(web.Channel)))
	g := newRigWith(t, r, st, Config{AccountJWTSecret: string(secret)})
	chat, err := web.New(r, web.Config{JWTSecret: string(secret), Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	srv := httptest.NewServer(chat)
	defer srv.Close()

	token, err := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: time.Now().Add(time.Hour).Unix()}, secret)
	if err != nil {
		t.Fatal(err)
	}
	alexaToken, err := web.SignJWT(web.Claims{Subject: "alice", ExpiresAt: testNow.Add(time.Hour).Unix()}, secret)
	if err != nil {
		t.Fatal(err)
	}
	say := func(body []byte) string {
		t.Helper()
		out := answer(t, g.post(t, body)).Response
		if out.OutputSpeech == nil {
			t.Fatalf("no speech")
		}
		return out.OutputSpeech.SSML
	}
	// On Alexa: open the skill, ask for an appointment, give the date.
	linked := withToken(alexaToken)
	if s := say(fixture(t, "launch.json", linked)); !strings.Contains(s, "Welcome") {
		t.Fatalf("launch: %s", s)
	}
	if s := say(fixture(t, "intent.json", linked)); !strings.Contains(s, "Which day") {
		t.Fatalf("book: %s", s)
	}
	if s := say(intentBody(t, "DateIntent", map[string]string{"date": "2026-12-01"}, linked)); !strings.Contains(s, "phone number") {
		t.Fatalf("date: %s", s)
	}

	// In the web chat: the same user goes on where Alexa left off.
	post := func(req map[string]string) web.Response {
		t.Helper()
		b, _ := json.Marshal(req)
		hr, _ := http.NewRequest(http.MethodPost, srv.URL+web.DefaultPath, bytes.NewReader(b))
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out web.Response
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
			t.Fatalf("web chat status %d", resp.StatusCode)
		}
		return out
	}
	texts := func(r web.Response) string {
		var s []string
		for _, m := range r.Responses {
			s = append(s, m.Text)
		}
		return strings.Join(s, " | ")
	}
	got := post(map[string]string{"query": "0612345678", "userId": "ignored-the-jwt-names-the-user", "locale": "en"})
	if txt := texts(got); !strings.Contains(txt, "What phone number") || !strings.Contains(txt, "An appointment on Tuesday, December 1, and we will call you on 0612345678. Is that right?") {
		t.Fatalf("web chat, phone number: %s", txt)
	}
	var yes string
	for _, m := range got.Responses {
		for _, b := range m.Buttons {
			if b.Title == "Yes" {
				yes = b.Payload
			}
		}
	}
	if yes == "" {
		t.Fatalf("no Yes button in %+v", got.Responses)
	}
	if txt := texts(post(map[string]string{"payload": yes, "userId": "x"})); !strings.Contains(txt, "Your appointment is booked. See you on Tuesday, December 1!") {
		t.Fatalf("web chat, confirmation: %s", txt)
	}

	// One conversation, booked, its transcript on both channels.
	convs, err := st.Conversations(ctx, "alice")
	if err != nil || len(convs) != 1 {
		t.Fatalf("alice's conversations = %+v, %v", convs, err)
	}
	conv := convs[0]
	if conv.ID != sessionConv || conv.Slots["date"] != "2026-12-01" || conv.Slots["phone"] != "0612345678" || conv.Slots["confirmed"] != "yes" || conv.Step != "anything_else" {
		t.Fatalf("conversation = %+v", conv)
	}
	tr, err := r.Transcript(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range tr {
		if e.Kind == store.KindEvent {
			lines = append(lines, e.Channel+":"+string(e.Event.Type)+":"+e.Event.Text+e.Event.Choice)
		}
	}
	want := "alexa:start: alexa:text:book an appointment alexa:choice:2026-12-01 web:start: web:text:0612345678 web:choice:yes"
	if got := strings.Join(lines, " "); got != want {
		t.Fatalf("transcript events\n got %s\nwant %s", got, want)
	}
	if u, err := st.UserID(ctx, Channel, "amzn1.ask.account.AM3B00000000000000000000000"); err != nil || u != "alice" {
		t.Fatalf("alexa user link = %q, %v", u, err)
	}
}

// TestKeepLinkedConversations: with the flag, a linked user's Alexa
// session end leaves the conversation open; without it, it ends it.
func TestKeepLinkedConversations(t *testing.T) {
	secret := []byte("s")
	tok, _ := web.SignJWT(web.Claims{Subject: "alice"}, secret)
	for _, keep := range []bool{false, true} {
		g := newRig(t, Config{AccountJWTSecret: string(secret), KeepLinkedConversations: keep})
		answer(t, g.post(t, fixture(t, "launch.json", withToken(tok))))
		answer(t, g.post(t, fixture(t, "session_ended.json", withToken(tok))))
		conv, _, err := g.st.Load(context.Background(), sessionConv)
		if err != nil || conv.Ended == keep {
			t.Fatalf("keep=%v: conversation ended=%v, %v", keep, conv.Ended, err)
		}
	}
}

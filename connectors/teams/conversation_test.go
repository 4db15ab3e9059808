package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// Ids of the documented personal-chat fixture.
const (
	megan      = "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw"
	personalID = "a:17I0kl9EkpE1O9PH5TWrzrLNwnWWcfrU7QZjKR0WSfOpzbfcAg2IaydGElSo10tVr4C7Fc6GtieTJX663WuJCc1uA83n4CSrHSgGBj5XNYLcVlJAs2ZX8DbYBPck201w-"
	channelID  = "19:aebd0ad4d6ab42c8b9ed19c251c2fc37@thread.skype;messageid=1481567603816"
	groupID    = "19:a1b2c3group@thread.v2"
	userTwo    = "29:user-two"
)

func demoRunner(t testing.TB) *runner.Runner {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	t.Cleanup(func() { st.Close() })
	return runner.New(engine, st)
}

// personalMessage is the documented personal message with another text
// and id.
func personalMessage(t testing.TB, serviceURL, id, text string) map[string]any {
	m := fixture(t, "personal_message.json", serviceURL)
	m["id"], m["text"] = id, text
	return m
}

// texts returns the texts of the message activities among calls.
func texts(calls []apiCall) []string {
	var out []string
	for _, c := range calls {
		if c.Activity != nil && c.Activity.Type == TypeMessage {
			out = append(out, c.Activity.Text)
		}
	}
	return out
}

func expectOK(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// checkReplies checks that calls are one typing activity then message
// replies to activity replyTo of conversation conv on region, addressed
// from the bot to user, and returns their texts.
func checkReplies(t *testing.T, calls []apiCall, region, conv, replyTo, user string) []string {
	t.Helper()
	if len(calls) < 2 {
		t.Fatalf("got %d calls, want typing + replies: %+v", len(calls), calls)
	}
	wantPath := "/" + region + "/v3/conversations/" + conv + "/activities/" + replyTo
	for i, c := range calls {
		if c.Method != http.MethodPost || c.Path != wantPath {
			t.Fatalf("call %d: %s %s, want POST %s", i, c.Method, c.Path, wantPath)
		}
		a := c.Activity
		wantType := TypeMessage
		if i == 0 {
			wantType = TypeTyping
		}
		if a.Type != wantType || a.ReplyToID != replyTo || a.From == nil || a.From.ID != testBotID ||
			a.Recipient == nil || a.Recipient.ID != user || a.Conversation == nil || a.Conversation.ID != conv {
			t.Fatalf("call %d: activity %+v", i, a)
		}
		if i > 0 && a.TextFormat != "markdown" && a.Text != "" {
			t.Fatalf("call %d: textFormat %q", i, a.TextFormat)
		}
	}
	return texts(calls[1:])
}

// buttons returns the Hero card buttons of a recorded activity, as raw
// JSON maps.
func buttons(t *testing.T, c apiCall) []map[string]any {
	t.Helper()
	atts, _ := c.Raw["attachments"].([]any)
	var out []map[string]any
	for _, a := range atts {
		am := a.(map[string]any)
		if am["contentType"] != ContentTypeHeroCard {
			t.Fatalf("attachment type %v", am["contentType"])
		}
		for _, b := range am["content"].(map[string]any)["buttons"].([]any) {
			out = append(out, b.(map[string]any))
		}
	}
	return out
}

// TestConversationOverTeams runs the demo flow over Teams against the fake
// Bot Framework service: a personal chat from installation to a booked
// appointment (buttons included), a group chat and a channel where the bot
// answers only when mentioned, a proactive message, an update and a
// delete, and a service URL that moves.
func TestConversationOverTeams(t *testing.T) {
	bf := newFakeBF(t)
	c := bf.connector(t, demoRunner(t), nil)
	amer := bf.serviceURL("amer")
	ctx := context.Background()

	// The user installs the bot: conversationUpdate with the bot added.
	install := fixture(t, "personal_message.json", amer)
	install["type"] = TypeConversationUpdate
	install["membersAdded"] = []any{map[string]any{"id": testBotID}}
	delete(install, "text")
	delete(install, "id")
	expectOK(t, bf.deliver(t, c, install))
	calls := bf.takeCalls()
	if len(calls) != 2 {
		t.Fatalf("welcome: %d calls: %+v", len(calls), calls)
	}
	for _, call := range calls {
		if call.Path != "/amer/v3/conversations/"+personalID+"/activities" || call.Activity.ReplyToID != "" ||
			call.Activity.Recipient.ID != megan || call.Activity.From.ID != testBotID {
			t.Fatalf("welcome call %s %+v", call.Path, call.Activity)
		}
	}
	if got := texts(calls); got[0] != "Welcome to the Parole demo line." || !strings.HasPrefix(got[1], "You can ask for our opening hours") {
		t.Fatalf("welcome texts %q", got)
	}
	menu := buttons(t, calls[1])
	if len(menu) != 2 || menu[0]["type"] != "messageBack" || menu[0]["title"] != "Opening hours" ||
		menu[0]["value"].(map[string]any)["choice"] != "hours" || menu[1]["title"] != "Book an appointment" {
		t.Fatalf("menu buttons %v", menu)
	}

	// Booking by text, a date button, digits and a yes.
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "m1", "I would like to book an appointment")))
	got := checkReplies(t, bf.takeCalls(), "amer", personalID, "m1", megan)
	if len(got) != 1 || got[0] != "Which day would you like to come?" {
		t.Fatalf("ask date: %q", got)
	}

	// The user clicks a messageBack button: Teams sends its text and value.
	click := personalMessage(t, amer, "m2", "Tomorrow")
	click["value"] = map[string]any{"choice": "2026-12-01"}
	expectOK(t, bf.deliver(t, c, click))
	got = checkReplies(t, bf.takeCalls(), "amer", personalID, "m2", megan)
	if len(got) != 1 || got[0] != "What phone number can we reach you on?" {
		t.Fatalf("after the date button: %q", got)
	}
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "m3", "zero six one two three four five six seven eight")))
	got = checkReplies(t, bf.takeCalls(), "amer", personalID, "m3", megan)
	if len(got) != 1 || !strings.Contains(got[0], "Tuesday, December 1") || !strings.Contains(got[0], "0612345678") {
		t.Fatalf("confirm: %q", got)
	}
	expectOK(t, bf.deliver(t, c, personalMessage(t, amer, "m4", "yes that's right")))
	got = checkReplies(t, bf.takeCalls(), "amer", personalID, "m4", megan)
	if len(got) != 2 || !strings.HasPrefix(got[0], "Your appointment is booked.") || got[1] != "Can I help you with anything else?" {
		t.Fatalf("booked: %q", got)
	}

	// A group chat: not mentioned, nothing happens; mentioned, the bot
	// starts and answers with the mention stripped.
	group := map[string]any{
		"type": "message", "id": "g1", "serviceUrl": amer, "channelId": "msteams",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"from":      map[string]any{"id": userTwo, "name": "User Two"},
		"conversation": map[string]any{"id": groupID, "conversationType": "groupChat", "isGroup": true,
			"tenantId": testTenant},
		"recipient":   map[string]any{"id": testBotID, "name": "Teams TestBot"},
		"text":        "what are your opening hours",
		"channelData": map[string]any{"tenant": map[string]any{"id": testTenant}},
	}
	expectOK(t, bf.deliver(t, c, group))
	if calls := bf.takeCalls(); len(calls) != 0 {
		t.Fatalf("unmentioned group message answered: %+v", calls)
	}
	group["id"] = "g2"
	group["text"] = "<at>Teams TestBot</at> what are your opening hours"
	group["entities"] = []any{map[string]any{"type": "mention", "text": "<at>Teams TestBot</at>",
		"mentioned": map[string]any{"id": testBotID, "name": "Teams TestBot"}}}
	expectOK(t, bf.deliver(t, c, group))
	got = checkReplies(t, bf.takeCalls(), "amer", groupID, "g2", userTwo)
	if len(got) != 4 || got[0] != "Welcome to the Parole demo line." || !strings.HasPrefix(got[2], "We are open Monday to Friday") {
		t.Fatalf("group chat: %q", got)
	}

	// A channel: the documented message mentions another user, not the
	// bot: ignored. Mentioning the bot gets an answer in the thread.
	ch := fixture(t, "channel_mention.json", amer)
	expectOK(t, bf.deliver(t, c, ch))
	if calls := bf.takeCalls(); len(calls) != 0 {
		t.Fatalf("channel message without the bot's mention answered: %+v", calls)
	}
	var chData map[string]any
	json.Unmarshal([]byte(readFile(t, "channel_created_channeldata.json")), &chData)
	delete(chData, "eventType")
	ch["channelData"] = chData
	ch["id"] = "1481567603816"
	ch["recipient"] = map[string]any{"id": testBotID, "name": "Teams TestBot"}
	ch["text"] = "Hey <at>Teams TestBot</at> when are you open?"
	ch["entities"] = append(ch["entities"].([]any), map[string]any{"type": "mention", "text": "<at>Teams TestBot</at>",
		"mentioned": map[string]any{"id": testBotID, "name": "Teams TestBot"}})
	ch["timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	expectOK(t, bf.deliver(t, c, ch))
	got = checkReplies(t, bf.takeCalls(), "amer", channelID, "1481567603816", "29:9e52142b-5e5e-4d7b-bb3e-e82dcf620000")
	if len(got) != 4 || !strings.HasPrefix(got[2], "We are open Monday to Friday") {
		t.Fatalf("channel: %q", got)
	}

	// A proactive message to the group chat's user: a personal chat is
	// created, then the message is posted to it.
	res, err := c.Notify(ctx, userTwo, dialog.Say("Reminder: we call you back at 3 pm 📞"))
	if err != nil {
		t.Fatal(err)
	}
	calls = bf.takeCalls()
	if len(calls) != 2 || calls[0].Path != "/amer/v3/conversations" || calls[0].Params == nil {
		t.Fatalf("notify calls %+v", calls)
	}
	p := calls[0].Params
	if p.Bot.ID != testBotID || len(p.Members) != 1 || p.Members[0].ID != userTwo || p.IsGroup ||
		p.TenantID != testTenant || p.ChannelData == nil || p.ChannelData.Tenant.ID != testTenant {
		t.Fatalf("create conversation %+v", p)
	}
	if isGroup, present := calls[0].Raw["isGroup"]; !present || isGroup != false {
		t.Fatalf("isGroup not sent as false: %v", calls[0].Raw)
	}
	newConv := "a:personal-" + userTwo
	if res.ConversationID != newConv || calls[1].Path != "/amer/v3/conversations/"+newConv+"/activities" ||
		calls[1].Activity.Text != "Reminder: we call you back at 3 pm 📞" || calls[1].Activity.Recipient.ID != userTwo ||
		len(res.ActivityIDs) != 1 {
		t.Fatalf("notify: %+v, %s %+v", res, calls[1].Path, calls[1].Activity)
	}

	// The dialog edits, then deletes, its last answer in the personal chat.
	ref, ok := c.LastActivity(personalID)
	if !ok {
		t.Fatal("no last activity")
	}
	if err := c.Update(ctx, ref, dialog.Say("Status: **confirmed** ✅")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, ref); err != nil {
		t.Fatal(err)
	}
	calls = bf.takeCalls()
	wantPath := "/amer/v3/conversations/" + personalID + "/activities/" + ref.ActivityID
	if len(calls) != 2 || calls[0].Method != http.MethodPut || calls[0].Path != wantPath ||
		calls[0].Activity.ID != ref.ActivityID || calls[0].Activity.Text != "Status: **confirmed** ✅" ||
		calls[1].Method != http.MethodDelete || calls[1].Path != wantPath {
		t.Fatalf("update/delete calls %+v", calls)
	}

	// The service URL moves to another region: a newer activity brings it,
	// an older one does not bring the old one back.
	emea := bf.serviceURL("emea")
	moved := personalMessage(t, emea, "m5", "opening hours")
	moved["timestamp"] = "2030-01-01T10:00:00Z"
	expectOK(t, bf.deliver(t, c, moved))
	checkReplies(t, bf.takeCalls(), "emea", personalID, "m5", megan)
	late := personalMessage(t, amer, "m6", "no thanks") // timestamp 2017
	expectOK(t, bf.deliver(t, c, late))
	got = checkReplies(t, bf.takeCalls(), "emea", personalID, "m6", megan)
	if len(got) != 1 || got[0] != "Thank you for calling. Goodbye!" {
		t.Fatalf("goodbye: %q", got)
	}

	// One token served every call.
	bf.mu.Lock()
	defer bf.mu.Unlock()
	if bf.tokens != 1 || bf.tokenPaths[0] != "/botframework.com/oauth2/v2.0/token" {
		t.Fatalf("tokens issued %d at %v", bf.tokens, bf.tokenPaths)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	m := fixture(t, name, "")
	b, _ := json.Marshal(m)
	return string(b)
}

package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
)

// TestUserConversationAcrossChannels starts the demo on a voice channel
// for a linked user and goes on in the web chat, whose user id the runner
// trusts: one conversation, a transcript naming both channels.
func TestUserConversationAcrossChannels(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	r := demoRunner(t, st)
	r.users = TrustedChannels("web")
	alexa := Session{ConversationID: "alexa:s1", Channel: "alexa", ChannelUserID: "amzn1.ask.account.A", Voice: true, Locale: "en-US", UserID: "alice"}
	if _, err := r.Handle(ctx, alexa, dialog.Event{Type: dialog.EventStart}); err != nil {
		t.Fatal(err)
	}
	reply, err := r.Handle(ctx, alexa, dialog.Text("book an appointment"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text(), "Which day") {
		t.Fatalf("after 'book an appointment': %q", reply.Text())
	}
	if u, err := st.UserID(ctx, "alexa", "amzn1.ask.account.A"); err != nil || u != "alice" {
		t.Fatalf("alexa link = %q, %v", u, err)
	}

	// The web chat opens: a start event joins the open conversation and
	// gets the pending question back instead of restarting the flow.
	web := Session{ConversationID: "web:alice", Channel: "web", ChannelUserID: "alice", Locale: "en"}
	reply, err = r.Handle(ctx, web, dialog.Event{Type: dialog.EventStart})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text(), "Which day") {
		t.Fatalf("web start did not resume: %q", reply.Text())
	}
	reply, err = r.Handle(ctx, web, dialog.Text("tomorrow"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text(), "phone number") {
		t.Fatalf("after 'tomorrow': %q", reply.Text())
	}
	if _, _, err := st.Load(ctx, "web:alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the web chat opened a second conversation: %v", err)
	}
	conv, _, err := st.Load(ctx, "alexa:s1")
	if err != nil {
		t.Fatal(err)
	}
	if conv.Step != "ask_phone" || conv.Slots["date"] == "" || conv.UserID != "alice" || conv.Voice {
		t.Fatalf("conversation = %+v", conv)
	}
	tr, err := r.Transcript(ctx, "alexa:s1")
	if err != nil {
		t.Fatal(err)
	}
	var channels []string
	for _, e := range tr {
		channels = append(channels, e.Channel)
	}
	if got := strings.Join(channels, ","); got != "alexa,alexa,alexa,alexa,web,web,web,web" {
		t.Fatalf("transcript channels = %s", got)
	}
}

// TestEndedConversationIsNotJoined: once the user's conversation ended, a
// new channel starts its own, filed under the same user.
func TestEndedConversationIsNotJoined(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	r := demoRunner(t, st)
	alexa := Session{ConversationID: "alexa:s1", Channel: "alexa", ChannelUserID: "A", Voice: true, UserID: "alice"}
	for _, ev := range []dialog.Event{{Type: dialog.EventStart}, {Type: dialog.EventEnd}} {
		if _, err := r.Handle(ctx, alexa, ev); err != nil {
			t.Fatal(err)
		}
	}
	web := Session{ConversationID: "web:alice", Channel: "web", ChannelUserID: "alice", UserID: "alice"}
	reply, err := r.Handle(ctx, web, dialog.Event{Type: dialog.EventStart})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text(), "Welcome") {
		t.Fatalf("new conversation did not start the flow: %q", reply.Text())
	}
	convs, err := st.Conversations(ctx, "alice")
	if err != nil || len(convs) != 2 || convs[0].ID != "web:alice" || convs[1].ID != "alexa:s1" || !convs[1].Ended {
		t.Fatalf("alice's conversations = %+v, %v", convs, err)
	}
}

// TestSameChannelStartRestarts: a start on the conversation's own id
// restarts the bot as before; only a joined conversation is resumed.
func TestSameChannelStartRestarts(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	r := demoRunner(t, st)
	s := Session{ConversationID: "web:alice", Channel: "web", ChannelUserID: "alice", UserID: "alice"}
	for _, ev := range []dialog.Event{{Type: dialog.EventStart}, dialog.Text("appointment")} {
		if _, err := r.Handle(ctx, s, ev); err != nil {
			t.Fatal(err)
		}
	}
	reply, err := r.Handle(ctx, s, dialog.Event{Type: dialog.EventStart})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text(), "Welcome") {
		t.Fatalf("start on own conversation: %q", reply.Text())
	}
}

func TestUserResolverError(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	boom := errors.New("directory down")
	r := New(countingBot, st, WithUsers(func(context.Context, Session) (string, error) { return "", boom }))
	if _, err := r.Handle(ctx, Session{ConversationID: "c", Channel: "web", ChannelUserID: "u"}, dialog.Text("hi")); !errors.Is(err, boom) {
		t.Fatalf("Handle = %v, want the resolver's error", err)
	}
	if _, _, err := st.Load(ctx, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a turn without its user was saved: %v", err)
	}
	r = New(countingBot, st)
	if _, err := r.Handle(ctx, Session{ConversationID: "c", Channel: "web", UserID: strings.Repeat("u", store.MaxIDLen+1)}, dialog.Text("hi")); !errors.Is(err, ErrSession) {
		t.Fatalf("oversized user id: %v", err)
	}
}

func TestTrustedChannels(t *testing.T) {
	res := TrustedChannels("web")
	if u, _ := res(context.Background(), Session{Channel: "web", ChannelUserID: "alice"}); u != "alice" {
		t.Fatalf("web user = %q", u)
	}
	if u, _ := res(context.Background(), Session{Channel: "sip", ChannelUserID: "+331"}); u != "" {
		t.Fatalf("sip user = %q, want none", u)
	}
}

// TestUserFirstContactsRace: two channels of one user with no open
// conversation start at once; they must end up in one conversation.
func TestUserFirstContactsRace(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	r := New(countingBot, st)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, ch := range []string{"alexa", "web"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Handle(ctx, Session{ConversationID: ch + ":1", Channel: ch, UserID: "alice"}, dialog.Text("hi"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	convs, err := st.Conversations(ctx, "alice")
	if err != nil || len(convs) != 1 || convs[0].Slots["n"] != "2" {
		t.Fatalf("alice's conversations = %+v, %v", convs, err)
	}
}

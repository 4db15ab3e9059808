package runner

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func demoRunner(t testing.TB, st store.Store) *Runner {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return New(e, st)
}

func TestDemoConversationIsStoredWithTranscript(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	r := demoRunner(t, st)
	s := Session{ConversationID: "web:u1", Channel: "web", ChannelUserID: "u1", Locale: "fr-FR"}
	reply, err := r.Handle(ctx, s, dialog.Event{Type: dialog.EventStart})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Gather == nil || reply.Gather.Language != "fr" {
		t.Fatalf("start reply = %+v", reply)
	}
	if _, err := r.Handle(ctx, s, dialog.Text("rendez-vous")); err != nil {
		t.Fatal(err)
	}
	conv, ver, err := st.Load(ctx, "web:u1")
	if err != nil {
		t.Fatal(err)
	}
	if conv.Step != "ask_date" || conv.UserID != "web:u1" || conv.Channel != "web" || ver != 2 {
		t.Fatalf("stored conversation = %+v version %d", conv, ver)
	}
	tr, err := r.Transcript(ctx, "web:u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 4 || tr[0].Kind != store.KindEvent || tr[0].Event.Type != dialog.EventStart ||
		tr[1].Kind != store.KindReply || tr[2].Event.Text != "rendez-vous" || tr[3].Reply.Gather == nil {
		t.Fatalf("transcript = %+v", tr)
	}
	if user, err := st.UserID(ctx, "web", "u1"); err != nil || user != "web:u1" {
		t.Fatalf("link = %q, %v", user, err)
	}
}

func TestConversationUsesLinkedUser(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	if err := st.Link(ctx, "sip", "+33612345678", "alice"); err != nil {
		t.Fatal(err)
	}
	r := demoRunner(t, st)
	s := Session{ConversationID: "call-1", Channel: "sip", ChannelUserID: "+33612345678", Voice: true}
	if _, err := r.Handle(ctx, s, dialog.Event{Type: dialog.EventStart}); err != nil {
		t.Fatal(err)
	}
	convs, err := st.Conversations(ctx, "alice")
	if err != nil || len(convs) != 1 || convs[0].ID != "call-1" || !convs[0].Voice {
		t.Fatalf("alice's conversations = %+v, %v", convs, err)
	}
}

func TestBotErrorSavesNothing(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	boom := errors.New("boom")
	r := New(dialog.BotFunc(func(context.Context, *dialog.Conversation, dialog.Event) (dialog.Reply, error) {
		return dialog.Reply{}, boom
	}), st)
	_, err := r.Handle(ctx, Session{ConversationID: "c", Channel: "web"}, dialog.Text("hi"))
	if !errors.Is(err, boom) {
		t.Fatalf("Handle = %v, want the bot's error", err)
	}
	if _, _, err := st.Load(ctx, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed turn was saved: %v", err)
	}
}

func TestInvalidInput(t *testing.T) {
	r := New(dialog.BotFunc(func(context.Context, *dialog.Conversation, dialog.Event) (dialog.Reply, error) {
		return dialog.Reply{}, nil
	}), store.NewMemory(store.Options{}))
	if _, err := r.Handle(context.Background(), Session{Channel: "web"}, dialog.Text("x")); !errors.Is(err, ErrSession) {
		t.Fatalf("no conversation id: %v", err)
	}
	if _, err := r.Handle(context.Background(), Session{ConversationID: "c", Channel: "web"}, dialog.Event{Type: "poke"}); !errors.Is(err, dialog.ErrInvalidEvent) {
		t.Fatalf("bad event: %v", err)
	}
}

// countingBot counts the events of a conversation in a slot.
var countingBot = dialog.BotFunc(func(_ context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
	n, _ := strconv.Atoi(conv.Slots["n"])
	conv.SetSlot("n", strconv.Itoa(n+1))
	return dialog.Say(strconv.Itoa(n + 1)), nil
})

// TestConcurrentEventsLoseNothing sends events of one conversation from
// many goroutines through two runners sharing a store, as two parole nodes
// would: every event must be counted once.
func TestConcurrentEventsLoseNothing(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(store.Options{})
	nodes := []*Runner{New(countingBot, st), New(countingBot, st)}
	const goroutines, events = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*events)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := nodes[g%2]
			for range events {
				if _, err := r.Handle(ctx, Session{ConversationID: "shared", Channel: "web"}, dialog.Text("+1")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		if !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
	}
	conv, _, err := st.Load(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	want := goroutines*events - failed
	if conv.Slots["n"] != strconv.Itoa(want) {
		t.Fatalf("count = %s, want %d (%d turns gave up)", conv.Slots["n"], want, failed)
	}
	tr, err := st.Transcript(ctx, "shared")
	if err != nil || len(tr) != 2*want {
		t.Fatalf("transcript has %d entries, want %d: %v", len(tr), 2*want, err)
	}
	if len(nodes[0].locks)+len(nodes[1].locks) != 0 {
		t.Fatal("conversation locks leaked")
	}
}

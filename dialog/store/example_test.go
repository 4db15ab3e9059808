package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
)

// The embedded bbolt store: a caller is recognised across channels, a turn
// is handled and stored, and everything is still there after a restart.
func ExampleBolt() {
	dir, err := os.MkdirTemp("", "parole-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "parole.db")
	ctx := context.Background()

	s, err := store.OpenBolt(path, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// The web chat user "cookie-42" and the caller +33123456789 are Alice.
	_ = s.Link(ctx, "web", "cookie-42", "alice")
	_ = s.Link(ctx, "sip", "+33123456789", "alice")

	bot := dialog.BotFunc(func(_ context.Context, c *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
		if ev.Type == dialog.EventStart {
			c.UserID = ev.Metadata["user"]
			return dialog.Say("Hello, which department?"), nil
		}
		c.SetSlot("department", ev.Text)
		return dialog.Say("Connecting you to " + ev.Text + "."), nil
	})
	user, _ := s.UserID(ctx, "sip", "+33123456789")
	start := dialog.Event{Type: dialog.EventStart, Metadata: map[string]string{"user": user}}
	if _, _, err := store.Turn(ctx, s, bot, "call-1", "sip", start); err != nil {
		log.Fatal(err)
	}
	reply, _, err := store.Turn(ctx, s, bot, "call-1", "sip", dialog.Text("sales"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bot:", reply.Text())
	s.Close()

	// After a restart: the web chat finds Alice's call and its transcript.
	s, err = store.OpenBolt(path, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	user, _ = s.UserID(ctx, "web", "cookie-42")
	convs, _ := s.Conversations(ctx, user)
	last := convs[0]
	fmt.Println(user, "was last on", last.Channel, "asking for", last.Slots["department"])
	tr, _ := s.Transcript(ctx, last.ID)
	for _, e := range tr {
		if e.Kind == store.KindEvent {
			fmt.Printf("%d user: %s\n", e.Seq, strings.TrimSpace(string(e.Event.Type)+" "+e.Event.Text))
		} else {
			fmt.Printf("%d bot:  %s\n", e.Seq, e.Reply.Text())
		}
	}
	// Output:
	// bot: Connecting you to sales.
	// alice was last on sip asking for sales
	// 1 user: start
	// 2 bot:  Hello, which department?
	// 3 user: text sales
	// 4 bot:  Connecting you to sales.
}

// Optimistic concurrency by hand: a save made from a stale copy is
// refused with ErrConflict, and Update applies the change again on the
// fresh state.
func ExampleUpdate() {
	ctx := context.Background()
	s := store.NewMemory(store.Options{})
	defer s.Close()

	_, _ = s.Save(ctx, &dialog.Conversation{ID: "c", Channel: "web"}, 0)
	a, va, _ := s.Load(ctx, "c") // two handlers load version 1
	b, vb, _ := s.Load(ctx, "c")
	a.SetSlot("name", "Alice")
	_, err := s.Save(ctx, a, va)
	fmt.Println("first save:", err)
	b.SetSlot("city", "Paris")
	_, err = s.Save(ctx, b, vb)
	fmt.Println("second save:", err)

	conv, ver, _ := store.Update(ctx, s, "c", func(c *dialog.Conversation) error {
		c.SetSlot("city", "Paris")
		return nil
	})
	fmt.Println("version", ver, conv.Slots["name"], conv.Slots["city"])
	// Output:
	// first save: <nil>
	// second save: save "c" at version 1, stored 2: store: version conflict
	// version 3 Alice Paris
}

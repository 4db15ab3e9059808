package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/dialog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness adapts one store implementation to the conformance suite.
type harness struct {
	// open returns a new, empty store with opts; the harness closes it at
	// the end of the test. opts.Now is set by the harness.
	open func(t *testing.T, opts Options) Store
	// advance moves the store's clock forward by d (a fake clock, or a
	// sleep for Redis, whose server keeps the time).
	advance func(t *testing.T, d time.Duration)
	// ttl is the TTL the expiry test uses: short for a real clock.
	ttl time.Duration
	// realClock says the store runs on the real clock (Redis).
	realClock bool
	// corruptConv overwrites the stored conversation id with garbage;
	// corruptEntry appends an undecodable transcript entry.
	corruptConv  func(t *testing.T, s Store, id string)
	corruptEntry func(t *testing.T, s Store, id string)
}

// fakeClock is a settable clock for the memory and bbolt stores.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fullConversation has every field of dialog.Conversation set (checkFields
// tells when a new one appears).
func fullConversation(id, user, channel string) *dialog.Conversation {
	c := &dialog.Conversation{
		ID:      id,
		UserID:  user,
		Channel: channel,
		Locale:  "fr-FR",
		Step:    "ask_department",
		Slots:   map[string]string{"department": "sales", "name": "Zoë «quoted» \"x\""},
		Vars:    map[string]string{"retries": "2", "empty": ""},
		Started: time.Date(2026, 2, 28, 23, 59, 59, 123456789, time.UTC),
		Ended:   true,
	}
	// Fields being added to dialog.Conversation, set by name so the test
	// builds with and without them.
	if err := json.Unmarshal([]byte(`{"voice":true}`), c); err != nil {
		panic(err)
	}
	return c
}

// fullEvent and fullReply have every field set, nested ones included.
func fullEvent(i int) dialog.Event {
	return dialog.Event{
		Type:         dialog.EventText,
		Time:         time.Date(2026, 3, 1, 9, 0, i, 5, time.UTC),
		Text:         "event " + strconv.Itoa(i),
		Confidence:   0.875,
		Alternatives: []dialog.Alternative{{Text: "even " + strconv.Itoa(i), Confidence: 0.5}},
		Digits:       "12#",
		Choice:       "yes",
		Attachment:   &dialog.Attachment{URL: "https://example.com/a.png", Name: "a.png", ContentType: "image/png"},
		Metadata:     map[string]string{"caller": "+33123456789"},
	}
}

func fullReply(i int) dialog.Reply {
	return dialog.Reply{
		Messages: []dialog.Message{{
			Text:       "reply " + strconv.Itoa(i),
			SSML:       "<speak>reply <break time=\"200ms\"/></speak>",
			Audio:      &dialog.Audio{URL: "file:///sounds/hello.wav", Text: "hello"},
			Choices:    []dialog.Choice{{Title: "Sales", Payload: "sales", URL: "https://x", ImageURL: "https://i"}},
			Card:       &dialog.Card{Title: "T", Subtitle: "S", ImageURL: "https://c", Buttons: []dialog.Choice{{Title: "B"}}},
			Attachment: &dialog.Attachment{URL: "https://example.com/f.pdf"},
		}},
		Gather: &dialog.Gather{
			Hints:          []string{"sales", "support"},
			Grammar:        &dialog.Grammar{Rules: []dialog.GrammarRule{{Phrase: "sales", Value: "sales"}}},
			DTMF:           &dialog.DTMFOptions{Options: map[string]string{"1": "sales"}, MinDigits: 1, MaxDigits: 4, Terminator: "#", InterDigitTimeout: 3 * time.Second},
			Speech:         true,
			NoInputTimeout: 5 * time.Second,
			EndSilence:     800 * time.Millisecond,
			MaxDuration:    30 * time.Second,
			BargeIn:        true,
			Language:       "fr-FR",
		},
		Record:   &dialog.Record{MaxDuration: time.Minute, EndSilence: 2 * time.Second, Beep: true},
		Transfer: &dialog.Transfer{Target: "sip:agent@pbx.example.com", Bridge: true},
		Hangup:   true,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// checkFields fails unless every field of the struct v is non-zero, so the
// round-trip tests stay complete when a field is added to dialog.
func checkFields(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	for i := 0; i < rv.NumField(); i++ {
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is not set in the round-trip fixture", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

// testStore is the conformance suite every store passes.
func testStore(t *testing.T, h harness) {
	ctx := context.Background()

	t.Run("NotFound", func(t *testing.T) {
		s := h.open(t, Options{})
		_, _, err := s.Load(ctx, "nope")
		wantErr(t, err, ErrNotFound)
		_, err = s.Transcript(ctx, "nope")
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.Append(ctx, "nope", EventEntry("web", dialog.Text("hi"))), ErrNotFound)
		_, err = s.UserID(ctx, "web", "nobody")
		wantErr(t, err, ErrNotFound)
		must(t, s.Delete(ctx, "nope"))
		convs, err := s.Conversations(ctx, "nobody")
		must(t, err)
		if convs == nil || len(convs) != 0 {
			t.Fatalf("Conversations of an unknown user = %#v, want empty", convs)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := h.open(t, Options{})
		conv := fullConversation("c1", "u1", "sip")
		started := conv.Started
		before := time.Now().Add(-time.Second)
		ver, err := s.Save(ctx, conv, 0)
		must(t, err)
		if ver != 1 {
			t.Fatalf("first Save returned version %d, want 1", ver)
		}
		if !conv.Started.Equal(started) {
			t.Errorf("Save changed Started from %v to %v", started, conv.Started)
		}
		if conv.Updated.IsZero() || h.realClock && conv.Updated.Before(before) {
			t.Errorf("Save set Updated to %v", conv.Updated)
		}
		checkFields(t, conv)
		got, gv, err := s.Load(ctx, "c1")
		must(t, err)
		if gv != 1 {
			t.Errorf("Load version %d, want 1", gv)
		}
		if !reflect.DeepEqual(got, conv) {
			t.Fatalf("Load = %+v\nwant %+v", got, conv)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(conv)
		if string(a) != string(b) {
			t.Fatalf("JSON differs:\n%s\n%s", a, b)
		}
		// A conversation with nothing but an id gets Started.
		bare := &dialog.Conversation{ID: "bare"}
		_, err = s.Save(ctx, bare, 0)
		must(t, err)
		if bare.Started.IsZero() || !bare.Started.Equal(bare.Updated) {
			t.Errorf("bare conversation: Started %v Updated %v", bare.Started, bare.Updated)
		}
		got, _, err = s.Load(ctx, "bare")
		must(t, err)
		if !reflect.DeepEqual(got, bare) {
			t.Fatalf("Load = %+v, want %+v", got, bare)
		}
		// The caller's maps are not shared with the store.
		got.SetSlot("department", "changed")
		again, _, err := s.Load(ctx, "c1")
		must(t, err)
		if again.Slots["department"] != "sales" {
			t.Fatal("changing a loaded conversation changed the stored one")
		}
	})

	t.Run("Versions", func(t *testing.T) {
		s := h.open(t, Options{})
		conv := &dialog.Conversation{ID: "v", Channel: "web", Step: "one"}
		v1, err := s.Save(ctx, conv, 0)
		must(t, err)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "v", Step: "intruder"}, 0)
		wantErr(t, err, ErrConflict)
		conv.Step = "two"
		v2, err := s.Save(ctx, conv, v1)
		must(t, err)
		if v2 != v1+1 {
			t.Fatalf("versions %d then %d", v1, v2)
		}
		stale := &dialog.Conversation{ID: "v", Step: "stale"}
		_, err = s.Save(ctx, stale, v1)
		wantErr(t, err, ErrConflict)
		_, err = s.Save(ctx, stale, v2+5)
		wantErr(t, err, ErrConflict)
		got, gv, err := s.Load(ctx, "v")
		must(t, err)
		if gv != v2 || got.Step != "two" {
			t.Fatalf("after refused saves: version %d step %q, want %d \"two\"", gv, got.Step, v2)
		}
		// Saving a conversation that does not exist at a version > 0 is a
		// conflict too: someone deleted it.
		_, err = s.Save(ctx, &dialog.Conversation{ID: "other"}, 3)
		wantErr(t, err, ErrConflict)
	})

	t.Run("Delete", func(t *testing.T) {
		s := h.open(t, Options{})
		_, err := s.Save(ctx, fullConversation("d", "u", "web"), 0)
		must(t, err)
		must(t, s.Append(ctx, "d", EventEntry("web", fullEvent(1))))
		must(t, s.Delete(ctx, "d"))
		_, _, err = s.Load(ctx, "d")
		wantErr(t, err, ErrNotFound)
		_, err = s.Transcript(ctx, "d")
		wantErr(t, err, ErrNotFound)
		convs, err := s.Conversations(ctx, "u")
		must(t, err)
		if len(convs) != 0 {
			t.Fatalf("deleted conversation still listed: %v", convs)
		}
		// Created again, it starts from version 1 with an empty transcript.
		ver, err := s.Save(ctx, &dialog.Conversation{ID: "d"}, 0)
		must(t, err)
		if ver != 1 {
			t.Fatalf("re-created at version %d", ver)
		}
		tr, err := s.Transcript(ctx, "d")
		must(t, err)
		if len(tr) != 0 {
			t.Fatalf("re-created conversation has the old transcript: %v", tr)
		}
	})

	t.Run("Transcript", func(t *testing.T) {
		s := h.open(t, Options{})
		_, err := s.Save(ctx, &dialog.Conversation{ID: "t", Channel: "sip"}, 0)
		must(t, err)
		tr, err := s.Transcript(ctx, "t")
		must(t, err)
		if tr == nil || len(tr) != 0 {
			t.Fatalf("empty transcript = %#v", tr)
		}
		ev, rep := fullEvent(1), fullReply(1)
		checkFields(t, ev)
		checkFields(t, rep)
		checkFields(t, rep.Messages[0])
		checkFields(t, *rep.Gather)
		checkFields(t, *rep.Gather.DTMF)
		var want []Entry
		for i := 1; i <= 5; i++ {
			e := EventEntry("sip", fullEvent(i))
			r := ReplyEntry("web", fullReply(i), time.Date(2026, 3, 1, 10, 0, i, 0, time.UTC))
			if i%2 == 0 {
				must(t, s.Append(ctx, "t", e, r))
			} else {
				must(t, s.Append(ctx, "t", e))
				must(t, s.Append(ctx, "t", r))
			}
			want = append(want, e, r)
		}
		// An entry without a time gets the store's clock.
		before := time.Now().Add(-time.Second)
		must(t, s.Append(ctx, "t", Entry{Kind: KindEvent, Event: &dialog.Event{Type: dialog.EventEnd}}))
		// A batch with a bad entry appends nothing.
		err = s.Append(ctx, "t", EventEntry("sip", dialog.Text("lost")), Entry{Kind: "note"})
		wantErr(t, err, ErrInvalid)
		wantErr(t, s.Append(ctx, "t", Entry{Kind: KindEvent}), ErrInvalid)
		wantErr(t, s.Append(ctx, "t", Entry{Kind: KindReply, Reply: &dialog.Reply{}, Event: &dialog.Event{}}), ErrInvalid)
		must(t, s.Append(ctx, "t")) // nothing to append

		tr, err = s.Transcript(ctx, "t")
		must(t, err)
		if len(tr) != len(want)+1 {
			t.Fatalf("transcript has %d entries, want %d", len(tr), len(want)+1)
		}
		for i, e := range want {
			e.Seq = uint64(i + 1)
			if !reflect.DeepEqual(tr[i], e) {
				t.Fatalf("entry %d = %+v\nwant %+v", i, tr[i], e)
			}
		}
		last := tr[len(tr)-1]
		if last.Seq != uint64(len(tr)) || last.Kind != KindEvent || last.Event.Type != dialog.EventEnd {
			t.Fatalf("last entry = %+v", last)
		}
		if last.Time.IsZero() || h.realClock && last.Time.Before(before) {
			t.Fatalf("entry without time got %v", last.Time)
		}
	})

	t.Run("SaveWithEntries", func(t *testing.T) {
		s := h.open(t, Options{})
		conv := &dialog.Conversation{ID: "s"}
		e1, r1 := EventEntry("web", fullEvent(1)), ReplyEntry("web", fullReply(1), time.Date(2026, 3, 1, 9, 0, 2, 0, time.UTC))
		ver, err := s.Save(ctx, conv, 0, e1, r1)
		must(t, err)
		// A refused save appends nothing; neither does a bad entry, which
		// also keeps the conversation from being saved.
		_, err = s.Save(ctx, &dialog.Conversation{ID: "s", Step: "lost"}, 0, EventEntry("web", dialog.Text("lost")))
		wantErr(t, err, ErrConflict)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "s", Step: "bad"}, ver, Entry{Kind: KindEvent})
		wantErr(t, err, ErrInvalid)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "new"}, 0, Entry{Kind: KindEvent})
		wantErr(t, err, ErrInvalid)
		_, _, err = s.Load(ctx, "new")
		wantErr(t, err, ErrNotFound)
		e2 := EventEntry("web", dialog.Text("two"))
		_, err = s.Save(ctx, conv, ver, e2)
		must(t, err)
		got, gv, err := s.Load(ctx, "s")
		must(t, err)
		if gv != ver+1 || got.Step != "" {
			t.Fatalf("after refused saves: %+v version %d", got, gv)
		}
		tr, err := s.Transcript(ctx, "s")
		must(t, err)
		e1.Seq, r1.Seq, e2.Seq = 1, 2, 3
		if len(tr) != 3 || !reflect.DeepEqual(tr[0], e1) || !reflect.DeepEqual(tr[1], r1) || tr[2].Event.Text != "two" || tr[2].Seq != 3 {
			t.Fatalf("transcript = %+v", tr)
		}
	})

	t.Run("Turn", func(t *testing.T) {
		s := h.open(t, Options{})
		// The bot counts the turns of the conversation and answers with
		// the count it saw: lost updates or torn turns show up as a reply
		// that does not follow its event, or a wrong final count.
		bot := dialog.BotFunc(func(_ context.Context, c *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
			n, _ := strconv.Atoi(c.Slots["turns"])
			c.SetSlot("turns", strconv.Itoa(n+1))
			return dialog.Say(ev.Text + " -> " + strconv.Itoa(n+1)), nil
		})
		const workers, turns = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range turns {
					ch := []string{"sip", "web"}[w%2]
					reply, conv, err := Turn(ctx, s, bot, "call", ch, dialog.Text(fmt.Sprintf("w%d i%d", w, i)))
					if err != nil {
						errs <- err
						return
					}
					if !strings.HasSuffix(reply.Text(), " -> "+conv.Slots["turns"]) {
						errs <- fmt.Errorf("reply %q with conversation at %s turns", reply.Text(), conv.Slots["turns"])
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		conv, _, err := s.Load(ctx, "call")
		must(t, err)
		if conv.Slots["turns"] != strconv.Itoa(workers*turns) || conv.Channel == "" {
			t.Fatalf("after %d turns: %+v", workers*turns, conv)
		}
		tr, err := s.Transcript(ctx, "call")
		must(t, err)
		if len(tr) != 2*workers*turns {
			t.Fatalf("%d transcript entries, want %d", len(tr), 2*workers*turns)
		}
		for i := 0; i < len(tr); i += 2 {
			e, r := tr[i], tr[i+1]
			want := fmt.Sprintf("%s -> %d", e.Event.Text, i/2+1)
			if e.Kind != KindEvent || r.Kind != KindReply || r.Reply.Text() != want || e.Channel != r.Channel {
				t.Fatalf("entries %d,%d: %+v / %+v, want reply %q", i, i+1, e.Event, r.Reply, want)
			}
			if e.Event.Time.IsZero() || r.Time.Before(e.Event.Time) {
				t.Fatalf("entry times %v, %v", e.Event.Time, r.Time)
			}
		}
		boom := errors.New("bot failed")
		_, _, err = Turn(ctx, s, dialog.BotFunc(func(context.Context, *dialog.Conversation, dialog.Event) (dialog.Reply, error) {
			return dialog.Reply{}, boom
		}), "call", "sip", dialog.Text("x"))
		wantErr(t, err, boom)
		if tr2, _ := s.Transcript(ctx, "call"); len(tr2) != len(tr) {
			t.Fatal("a failed turn was recorded")
		}
	})

	t.Run("ConcurrentUpdates", func(t *testing.T) {
		s := h.open(t, Options{})
		// Each goroutine may use its own store instance on the same data
		// (Redis: another node); by default they share s.
		const workers, increments = 8, 100
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range increments {
					_, _, err := Update(ctx, s, "counter", func(c *dialog.Conversation) error {
						n, _ := strconv.Atoi(c.Slots["n"])
						c.SetSlot("n", strconv.Itoa(n+1))
						c.SetVar(fmt.Sprintf("w%d", w), strconv.Itoa(i+1))
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		conv, ver, err := s.Load(ctx, "counter")
		must(t, err)
		if conv.Slots["n"] != strconv.Itoa(workers*increments) || ver != workers*increments {
			t.Fatalf("after %d×%d increments: n=%s version %d", workers, increments, conv.Slots["n"], ver)
		}
		for w := range workers {
			if got := conv.Vars[fmt.Sprintf("w%d", w)]; got != strconv.Itoa(increments) {
				t.Errorf("worker %d: last increment %s, want %d", w, got, increments)
			}
		}
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		s := h.open(t, Options{})
		_, err := s.Save(ctx, &dialog.Conversation{ID: "a"}, 0)
		must(t, err)
		const workers, appends = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range appends {
					ev := dialog.Text(fmt.Sprintf("%d %d", w, i))
					if err := s.Append(ctx, "a", EventEntry("web", ev), ReplyEntry("web", dialog.Say(ev.Text), time.Time{})); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		tr, err := s.Transcript(ctx, "a")
		must(t, err)
		if len(tr) != 2*workers*appends {
			t.Fatalf("%d entries, want %d", len(tr), 2*workers*appends)
		}
		next := make([]int, workers)
		for i := 0; i < len(tr); i += 2 {
			e, r := tr[i], tr[i+1]
			if e.Seq != uint64(i+1) || r.Seq != uint64(i+2) {
				t.Fatalf("seq %d, %d at %d", e.Seq, r.Seq, i)
			}
			// One Append call stays together, and each writer's calls
			// stay in order.
			if e.Kind != KindEvent || r.Kind != KindReply || r.Reply.Text() != e.Event.Text {
				t.Fatalf("entries %d,%d are not one append: %+v %+v", i, i+1, e, r)
			}
			var w, n int
			if _, err := fmt.Sscanf(e.Event.Text, "%d %d", &w, &n); err != nil || n != next[w] {
				t.Fatalf("entry %d: %q out of order (want %d %d)", i, e.Event.Text, w, next[w])
			}
			next[w]++
		}
	})

	t.Run("Links", func(t *testing.T) {
		s := h.open(t, Options{})
		must(t, s.Link(ctx, "web", "cookie-42", "alice"))
		must(t, s.Link(ctx, "sip", "+33123456789", "alice"))
		must(t, s.Link(ctx, "sip", "cookie-42", "bob")) // same id, other channel
		for _, c := range []struct{ ch, id, want string }{
			{"web", "cookie-42", "alice"}, {"sip", "+33123456789", "alice"}, {"sip", "cookie-42", "bob"},
		} {
			got, err := s.UserID(ctx, c.ch, c.id)
			must(t, err)
			if got != c.want {
				t.Errorf("UserID(%s, %s) = %q, want %q", c.ch, c.id, got, c.want)
			}
		}
		must(t, s.Link(ctx, "web", "cookie-42", "carol"))
		if got, _ := s.UserID(ctx, "web", "cookie-42"); got != "carol" {
			t.Errorf("relinked user = %q", got)
		}
		_, err := s.UserID(ctx, "teams", "cookie-42")
		wantErr(t, err, ErrNotFound)
	})

	t.Run("Conversations", func(t *testing.T) {
		s := h.open(t, Options{})
		web := &dialog.Conversation{ID: "web-1", UserID: "alice", Channel: "web"}
		sip := &dialog.Conversation{ID: "sip-1", UserID: "alice", Channel: "sip"}
		other := &dialog.Conversation{ID: "x", UserID: "bob", Channel: "sip"}
		for _, c := range []*dialog.Conversation{web, other} {
			_, err := s.Save(ctx, c, 0)
			must(t, err)
		}
		tick(t, h)
		sv, err := s.Save(ctx, sip, 0)
		must(t, err)
		got, err := s.Conversations(ctx, "alice")
		must(t, err)
		if ids := convIDs(got); ids != "sip-1 web-1" {
			t.Fatalf("alice's conversations = %s, want the phone call first", ids)
		}
		if !reflect.DeepEqual(got[0], sip) {
			t.Fatalf("listed %+v, want %+v", got[0], sip)
		}
		// The web chat is resumed: it becomes the most recent.
		tick(t, h)
		_, _, err = Update(ctx, s, "web-1", func(c *dialog.Conversation) error { c.Step = "resumed"; return nil })
		must(t, err)
		got, err = s.Conversations(ctx, "alice")
		must(t, err)
		if ids := convIDs(got); ids != "web-1 sip-1" || got[0].Step != "resumed" {
			t.Fatalf("after resuming: %s", ids)
		}
		// The call turns out to be bob's.
		sip.UserID = "bob"
		_, err = s.Save(ctx, sip, sv)
		must(t, err)
		got, err = s.Conversations(ctx, "alice")
		must(t, err)
		if ids := convIDs(got); ids != "web-1" {
			t.Fatalf("alice after move: %s", ids)
		}
		got, err = s.Conversations(ctx, "bob")
		must(t, err)
		if ids := convIDs(got); ids != "sip-1 x" {
			t.Fatalf("bob after move: %s", ids)
		}
		// Without a user a conversation is listed nowhere.
		sip.UserID = ""
		_, err = s.Save(ctx, sip, sv+1)
		must(t, err)
		got, err = s.Conversations(ctx, "bob")
		must(t, err)
		if ids := convIDs(got); ids != "x" {
			t.Fatalf("bob after clearing the user: %s", ids)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		ttl := h.ttl
		s := h.open(t, Options{TTL: ttl})
		conv := &dialog.Conversation{ID: "e", UserID: "alice"}
		ver, err := s.Save(ctx, conv, 0)
		must(t, err)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "other", UserID: "alice"}, 0)
		must(t, err)
		must(t, s.Append(ctx, "e", EventEntry("web", dialog.Text("hello"))))
		h.advance(t, ttl*6/10)
		// A save keeps the conversation alive for another TTL.
		ver, err = s.Save(ctx, conv, ver)
		must(t, err)
		h.advance(t, ttl*6/10)
		must(t, s.Append(ctx, "e", EventEntry("web", dialog.Text("still here"))))
		if _, _, err := s.Load(ctx, "e"); err != nil {
			t.Fatalf("conversation saved %v ago with TTL %v: %v", ttl*6/10, ttl, err)
		}
		_, _, err = s.Load(ctx, "other")
		wantErr(t, err, ErrNotFound)
		h.advance(t, ttl*6/10)
		_, _, err = s.Load(ctx, "e")
		wantErr(t, err, ErrNotFound)
		_, err = s.Transcript(ctx, "e")
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.Append(ctx, "e", EventEntry("web", dialog.Text("late"))), ErrNotFound)
		_, err = s.Save(ctx, conv, ver)
		wantErr(t, err, ErrConflict)
		convs, err := s.Conversations(ctx, "alice")
		must(t, err)
		if len(convs) != 0 {
			t.Fatalf("expired conversations listed: %s", convIDs(convs))
		}
		if sw, ok := s.(Sweeper); ok {
			n, err := sw.Sweep(ctx)
			must(t, err)
			if n != 2 {
				t.Errorf("Sweep deleted %d conversations, want 2", n)
			}
			n, err = sw.Sweep(ctx)
			must(t, err)
			if n != 0 {
				t.Errorf("second Sweep deleted %d", n)
			}
		}
		// Started again, the conversation has a fresh transcript.
		ver, err = s.Save(ctx, &dialog.Conversation{ID: "e"}, 0)
		must(t, err)
		if ver != 1 {
			t.Fatalf("re-created at version %d", ver)
		}
		tr, err := s.Transcript(ctx, "e")
		must(t, err)
		if len(tr) != 0 {
			t.Fatalf("re-created conversation has %d old entries", len(tr))
		}
	})

	t.Run("Corrupt", func(t *testing.T) {
		s := h.open(t, Options{})
		_, err := s.Save(ctx, &dialog.Conversation{ID: "bad", UserID: "alice"}, 0)
		must(t, err)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "badtr"}, 0)
		must(t, err)
		must(t, s.Append(ctx, "badtr", EventEntry("web", dialog.Text("fine"))))
		h.corruptEntry(t, s, "badtr")
		_, err = s.Transcript(ctx, "badtr")
		wantErr(t, err, ErrCorrupt)
		h.corruptConv(t, s, "bad")
		_, _, err = s.Load(ctx, "bad")
		wantErr(t, err, ErrCorrupt)
		_, err = s.Conversations(ctx, "alice")
		wantErr(t, err, ErrCorrupt)
		_, _, err = Update(ctx, s, "bad", func(*dialog.Conversation) error { return nil })
		wantErr(t, err, ErrCorrupt)
		// Deleting clears it.
		must(t, s.Delete(ctx, "bad"))
		_, _, err = s.Load(ctx, "bad")
		wantErr(t, err, ErrNotFound)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "bad"}, 0)
		must(t, err)
	})

	t.Run("Invalid", func(t *testing.T) {
		s := h.open(t, Options{})
		long := strings.Repeat("x", MaxIDLen+1)
		_, _, err := s.Load(ctx, "")
		wantErr(t, err, ErrInvalid)
		_, _, err = s.Load(ctx, long)
		wantErr(t, err, ErrInvalid)
		_, err = s.Save(ctx, nil, 0)
		wantErr(t, err, ErrInvalid)
		_, err = s.Save(ctx, &dialog.Conversation{}, 0)
		wantErr(t, err, ErrInvalid)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "ok", UserID: long}, 0)
		wantErr(t, err, ErrInvalid)
		wantErr(t, s.Delete(ctx, ""), ErrInvalid)
		wantErr(t, s.Append(ctx, "", EventEntry("web", dialog.Text("x"))), ErrInvalid)
		_, err = s.Transcript(ctx, "")
		wantErr(t, err, ErrInvalid)
		wantErr(t, s.Link(ctx, "", "a", "b"), ErrInvalid)
		wantErr(t, s.Link(ctx, "web", "", "b"), ErrInvalid)
		wantErr(t, s.Link(ctx, "web", "a", ""), ErrInvalid)
		_, err = s.UserID(ctx, "web", "")
		wantErr(t, err, ErrInvalid)
		_, err = s.Conversations(ctx, "")
		wantErr(t, err, ErrInvalid)
	})

	t.Run("Update", func(t *testing.T) {
		s := h.open(t, Options{})
		boom := errors.New("boom")
		_, _, err := Update(ctx, s, "u", func(*dialog.Conversation) error { return boom })
		wantErr(t, err, boom)
		_, _, err = s.Load(ctx, "u")
		wantErr(t, err, ErrNotFound)
		_, _, err = Update(ctx, s, "u", func(c *dialog.Conversation) error { c.ID = "v"; return nil })
		wantErr(t, err, ErrInvalid)
		conv, ver, err := Update(ctx, s, "u", func(c *dialog.Conversation) error { c.Step = "one"; return nil })
		must(t, err)
		if ver != 1 || conv.Step != "one" || conv.ID != "u" {
			t.Fatalf("Update created %+v version %d", conv, ver)
		}
	})

	t.Run("Context", func(t *testing.T) {
		s := h.open(t, Options{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := s.Load(cctx, "x")
		wantErr(t, err, context.Canceled)
		_, err = s.Save(cctx, &dialog.Conversation{ID: "x"}, 0)
		wantErr(t, err, context.Canceled)
		wantErr(t, s.Link(cctx, "web", "a", "b"), context.Canceled)
	})

	t.Run("Closed", func(t *testing.T) {
		s := h.open(t, Options{})
		must(t, s.Close())
		_, _, err := s.Load(ctx, "x")
		wantErr(t, err, ErrClosed)
		_, err = s.Save(ctx, &dialog.Conversation{ID: "x"}, 0)
		wantErr(t, err, ErrClosed)
		wantErr(t, s.Append(ctx, "x", EventEntry("web", dialog.Text("x"))), ErrClosed)
		_, err = s.UserID(ctx, "web", "x")
		wantErr(t, err, ErrClosed)
	})
}

// tick lets the clock move so that two saves get different Updated times.
func tick(t *testing.T, h harness) {
	if h.realClock {
		time.Sleep(3 * time.Millisecond)
		return
	}
	h.advance(t, time.Second)
}

func convIDs(convs []*dialog.Conversation) string {
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	return strings.Join(ids, " ")
}

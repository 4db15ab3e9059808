package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newHub(t testing.TB, cfg Config, opts ...Option) *Hub {
	t.Helper()
	if cfg.Token == "" && cfg.BasicUser == "" && !cfg.LoopbackOnly {
		cfg.Token = "test-token"
	}
	h, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

var sipInfo = telephony.Info{ID: "call-1", Channel: "sip", From: "sip:+33123456789@example.net", To: "sip:bot@parole", Rate: 8000}

// callEvents are the session events of one voice turn with a barge-in.
func callEvents() []session.Event {
	reply := dialog.Say("Welcome to the Parole demo line.", "What would you like?")
	return []session.Event{
		{Kind: session.CallStarted},
		{Kind: session.Reply, Text: reply.Text(), Reply: &reply},
		{Kind: session.Latency, Trace: &session.Trace{Turn: 0, Input: "start", Dialog: 3 * time.Millisecond, TTS: 40 * time.Millisecond, Playout: 2 * time.Millisecond, Total: 46 * time.Millisecond, Overhead: 3 * time.Millisecond}},
		{Kind: session.Listening, Turn: 1, At: 2 * time.Second},
		{Kind: session.Interim, Turn: 1, Text: "opening", At: 2600 * time.Millisecond},
		{Kind: session.Interim, Turn: 1, Text: "opening hours", At: 2800 * time.Millisecond},
		{Kind: session.Final, Turn: 1, Text: "opening hours", Confidence: 0.87, At: 3600 * time.Millisecond},
		{Kind: session.Reply, Turn: 1, Text: "We are open from 9 to 5."},
		{Kind: session.Latency, Turn: 1, Trace: &session.Trace{Turn: 1, Input: "speech", Endpointing: 800 * time.Millisecond, STT: 120 * time.Millisecond, Dialog: 5 * time.Millisecond, TTS: 60 * time.Millisecond, Playout: 20 * time.Millisecond, Total: 210 * time.Millisecond, Overhead: 25 * time.Millisecond}},
		{Kind: session.BargeIn, Turn: 2, Heard: "We are open", Cut: "from 9 to 5."},
		{Kind: session.Digits, Turn: 2, Text: "1"},
		{Kind: session.Error, Turn: 2, Engine: "tts", Err: errors.New("espeak: boom")},
		{Kind: session.CallEnded, Turn: 2, Reason: "caller hung up", Summary: &session.Summary{}},
	}
}

func TestCallObserverOrdering(t *testing.T) {
	h := newHub(t, Config{})
	sub, snap, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if len(snap.Conversations) != 0 || snap.Seq != 0 {
		t.Fatalf("first snapshot %+v, want empty at seq 0", snap)
	}
	obs := h.CallObserver(sipInfo)
	for _, e := range callEvents() {
		obs.Observe(e)
	}
	want := []string{
		"start", "entry:bot", "entry:latency", "interim:opening", "interim:opening hours", "entry:user",
		"entry:bot", "entry:latency", "entry:barge_in", "entry:dtmf", "entry:error", "end",
	}
	var got []string
	for i := range want {
		u := <-sub.Updates()
		if u.Event.Seq != uint64(i+1) {
			t.Errorf("event %d has seq %d", i, u.Event.Seq)
		}
		if u.Event.ConversationID != "call-1" {
			t.Errorf("event %d for %q", i, u.Event.ConversationID)
		}
		s := string(u.Event.Type)
		switch u.Event.Type {
		case EventEntry:
			s += ":" + string(u.Event.Entry.Kind)
		case EventInterim:
			s += ":" + u.Event.Text
		}
		got = append(got, s)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
	select {
	case u := <-sub.Updates():
		t.Errorf("unexpected event %+v", u.Event)
	default:
	}

	s := h.Snapshot()
	if s.Seq != uint64(len(want)) || len(s.Conversations) != 1 {
		t.Fatalf("snapshot seq %d with %d conversations", s.Seq, len(s.Conversations))
	}
	c := s.Conversations[0]
	if c.Channel != "sip" || !c.Voice || c.From != sipInfo.From || c.To != sipInfo.To || c.Ended.IsZero() || c.Reason != "caller hung up" || c.Interim != "" {
		t.Errorf("conversation %+v", c)
	}
	if len(c.Transcript) != 8 {
		t.Fatalf("transcript has %d entries, want 8", len(c.Transcript))
	}
	if e := c.Transcript[0]; e.Text != "Welcome to the Parole demo line.\nWhat would you like?" {
		t.Errorf("first reply %q", e.Text)
	}
	if e := c.Transcript[2]; e.Kind != EntryUser || e.Text != "opening hours" || e.Confidence != 0.87 || e.Turn != 1 || e.AtMS != 3600 {
		t.Errorf("final entry %+v", e)
	}
	if e := c.Transcript[5]; e.Heard != "We are open" || e.Cut != "from 9 to 5." {
		t.Errorf("barge-in entry %+v", e)
	}
	if e := c.Transcript[7]; e.Text != "tts: espeak: boom" {
		t.Errorf("error entry %+v", e)
	}
	l := c.Transcript[4].Latency
	if l == nil {
		t.Fatal("no latency on the second turn")
	}
	// endpointing 800, stt 120, dialog 5, tts 60, playout 20, session
	// 210-120-5-60-20 = 5, end to end.
	wantStages := []Stage{{"endpointing", 0, 800}, {"stt", 800, 120}, {"dialog", 920, 5}, {"tts", 925, 60}, {"playout", 985, 20}, {"session", 1005, 5}}
	if fmt.Sprint(l.Stages) != fmt.Sprint(wantStages) || l.TotalMS != 1010 {
		t.Errorf("waterfall %v total %v\nwant %v total 1010", l.Stages, l.TotalMS, wantStages)
	}
}

func TestTranscriptBounded(t *testing.T) {
	h := newHub(t, Config{MaxTranscript: 3})
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	for i := range 10 {
		obs.Observe(session.Event{Kind: session.Final, Turn: i, Text: fmt.Sprint("utterance ", i)})
	}
	c := h.Snapshot().Conversations[0]
	var texts []string
	for _, e := range c.Transcript {
		texts = append(texts, e.Text)
	}
	if strings.Join(texts, ",") != "utterance 7,utterance 8,utterance 9" || c.Dropped != 7 {
		t.Errorf("transcript %q dropped %d, want the last 3 and 7 dropped", texts, c.Dropped)
	}
	if c.Turn != 9 {
		t.Errorf("turn %d, want 9", c.Turn)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	h := newHub(t, Config{SubscriberBuffer: 4})
	slow, _, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			obs.Observe(session.Event{Kind: session.Final, Turn: i, Text: fmt.Sprint(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a deadlock guard, not a timing check
		t.Fatal("publishing blocked on a subscriber that does not read")
	}
	select {
	case <-slow.Lagged():
	default:
		t.Fatal("the slow subscriber was not marked lagging")
	}
	if n := len(slow.Updates()); n != 4 {
		t.Errorf("slow subscriber has %d queued events, want its buffer (4)", n)
	}
	// Before resyncing, the queued events are still in order.
	for i := range 4 {
		if u := <-slow.Updates(); u.Event.Seq != uint64(i+1) {
			t.Errorf("queued event %d has seq %d", i, u.Event.Seq)
		}
	}
	snap := slow.Resync()
	if snap.Seq != 1001 {
		t.Errorf("resync snapshot at seq %d, want 1001", snap.Seq)
	}
	if tr := snap.Conversations[0].Transcript; tr[len(tr)-1].Text != "999" {
		t.Errorf("resync snapshot ends with %q", tr[len(tr)-1].Text)
	}
	obs.Observe(session.Event{Kind: session.Final, Turn: 1000, Text: "after"})
	if u := <-slow.Updates(); u.Event.Seq != snap.Seq+1 || u.Event.Entry.Text != "after" {
		t.Errorf("first event after resync: seq %d %+v", u.Event.Seq, u.Event.Entry)
	}
	select {
	case <-slow.Lagged():
		t.Error("still lagging after resync")
	default:
	}
}

func TestSubscriberThatKeepsUpGetsEverything(t *testing.T) {
	h := newHub(t, Config{})
	sub, _, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	for i := range 100 {
		obs.Observe(session.Event{Kind: session.Final, Turn: i, Text: fmt.Sprint(i)})
	}
	for i := range 101 {
		u := <-sub.Updates()
		if u.Event.Seq != uint64(i+1) || (i > 0 && u.Event.Entry.Text != fmt.Sprint(i-1)) {
			t.Fatalf("event %d: %+v", i, u.Event)
		}
		var back Event
		if err := jsonUnmarshal(u.JSON, &back); err != nil || back.Seq != u.Event.Seq {
			t.Fatalf("event %d JSON %s: %v", i, u.JSON, err)
		}
	}
	select {
	case <-sub.Lagged():
		t.Error("a subscriber within its buffer was marked lagging")
	default:
	}
}

func TestEndedConversationsExpire(t *testing.T) {
	clk := newClock()
	h := newHub(t, Config{KeepEnded: time.Minute, IdleTimeout: 10 * time.Minute}, WithClock(clk.now))
	sub, _, _ := h.Subscribe()
	defer sub.Close()
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	chat := h.Wrap(echo{})
	ctx := context.Background()
	if _, err := chat.Handle(ctx, runner.Session{ConversationID: "web:u1", Channel: "web", ChannelUserID: "u1"}, dialog.Text("hi")); err != nil {
		t.Fatal(err)
	}
	clk.add(5 * time.Minute)
	obs.Observe(session.Event{Kind: session.CallEnded, Reason: "caller hung up"})

	clk.add(time.Minute - time.Second)
	h.sweep()
	if n := len(h.Snapshot().Conversations); n != 2 {
		t.Fatalf("%d conversations before KeepEnded passed, want 2", n)
	}
	clk.add(time.Second)
	h.sweep()
	s := h.Snapshot()
	if len(s.Conversations) != 1 || s.Conversations[0].ID != "web:u1" || !s.Conversations[0].Ended.IsZero() {
		t.Fatalf("after KeepEnded: %+v, want only the chat, active", s.Conversations)
	}
	// The chat has been idle 6 minutes; at 10 it ends, a minute later it goes.
	clk.add(4 * time.Minute)
	h.sweep()
	s = h.Snapshot()
	if len(s.Conversations) != 1 || s.Conversations[0].Reason != "idle" {
		t.Fatalf("idle chat: %+v, want ended as idle", s.Conversations)
	}
	clk.add(time.Minute)
	h.sweep()
	if n := len(h.Snapshot().Conversations); n != 0 {
		t.Fatalf("%d conversations left, want none", n)
	}
	var types []string
	for len(sub.Updates()) > 0 {
		u := <-sub.Updates()
		types = append(types, string(u.Event.Type)+":"+u.Event.ConversationID)
	}
	want := "start:call-1,start:web:u1,entry:web:u1,entry:web:u1,entry:web:u1,end:call-1,remove:call-1,end:web:u1,remove:web:u1"
	if strings.Join(types, ",") != want {
		t.Errorf("events\n got %s\nwant %s", strings.Join(types, ","), want)
	}
}

func TestVoiceCallsDoNotIdle(t *testing.T) {
	clk := newClock()
	h := newHub(t, Config{IdleTimeout: time.Minute}, WithClock(clk.now))
	h.CallObserver(sipInfo).Observe(session.Event{Kind: session.CallStarted})
	clk.add(time.Hour)
	h.sweep()
	if c := h.Snapshot().Conversations[0]; !c.Ended.IsZero() {
		t.Errorf("a silent call was ended: %+v", c)
	}
}

func TestMaxConversations(t *testing.T) {
	clk := newClock()
	h := newHub(t, Config{MaxConversations: 2}, WithClock(clk.now))
	start := func(id string) {
		info := sipInfo
		info.ID = id
		h.CallObserver(info).Observe(session.Event{Kind: session.CallStarted})
		clk.add(time.Second)
	}
	start("a")
	start("b")
	start("c")
	if got := ids(h.Snapshot()); got != "a,b" || h.Refused() != 1 {
		t.Fatalf("conversations %s refused %d, want a,b and 1", got, h.Refused())
	}
	// Events of a refused call are ignored, not half shown.
	info := sipInfo
	info.ID = "c"
	h.CallObserver(info).Observe(session.Event{Kind: session.Final, Text: "lost"})
	if got := ids(h.Snapshot()); got != "a,b" {
		t.Fatalf("conversations %s", got)
	}
	info.ID = "a"
	h.CallObserver(info).Observe(session.Event{Kind: session.CallEnded, Reason: "bot hung up"})
	start("d")
	if got := ids(h.Snapshot()); got != "b,d" {
		t.Fatalf("conversations %s, want b,d (a ended and was evicted)", got)
	}
}

func ids(s Snapshot) string {
	var v []string
	for _, c := range s.Conversations {
		v = append(v, c.ID)
	}
	return strings.Join(v, ",")
}

// echo answers text with its upper case, "boom" with an error, and
// "bye" with a hang-up.
type echo struct{}

func (echo) Handle(_ context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	switch {
	case ev.Type == dialog.EventStart:
		r := dialog.Say("Hello " + s.ChannelUserID)
		r.Messages[0].Choices = []dialog.Choice{{Title: "Opening hours"}, {Title: "Talk to someone"}}
		return r, nil
	case ev.Text == "boom":
		return dialog.Reply{}, errors.New("bot exploded")
	case ev.Text == "bye":
		r := dialog.Say("Goodbye")
		r.Hangup = true
		return r, nil
	case ev.Type == dialog.EventEnd:
		return dialog.Reply{}, nil
	}
	return dialog.Say(strings.ToUpper(ev.Text + ev.Choice)), nil
}

func TestWrapTextConversation(t *testing.T) {
	h := newHub(t, Config{})
	chat := h.Wrap(echo{})
	ctx := context.Background()
	s := runner.Session{ConversationID: "web:u1", Channel: "web", ChannelUserID: "u1"}
	for _, ev := range []dialog.Event{
		{Type: dialog.EventStart}, dialog.Text("hello"), {Type: dialog.EventChoice, Choice: "hours"}, dialog.Text("boom"),
	} {
		r, err := chat.Handle(ctx, s, ev)
		want, wantErr := echo{}.Handle(ctx, s, ev)
		if fmt.Sprint(r, err) != fmt.Sprint(want, wantErr) {
			t.Errorf("%v: wrapped handler returned %v, %v; want %v, %v", ev, r, err, want, wantErr)
		}
	}
	c := h.Snapshot().Conversations[0]
	if c.Channel != "web" || c.Voice || c.From != "u1" || !c.Ended.IsZero() {
		t.Errorf("conversation %+v", c)
	}
	var got []string
	for _, e := range c.Transcript {
		s := fmt.Sprintf("%d %s %s", e.Turn, e.Kind, e.Text)
		if e.Latency != nil {
			if len(e.Latency.Stages) != 1 || e.Latency.Stages[0].Name != "dialog" || e.Latency.TotalMS != e.Latency.Stages[0].DurationMS || e.Latency.Turn != e.Turn {
				t.Errorf("text latency %+v", e.Latency)
			}
			s += e.Latency.Input
		}
		got = append(got, s)
	}
	want := []string{
		"0 bot Hello u1\n[Opening hours] [Talk to someone]", "0 latency start",
		"1 user hello", "1 bot HELLO", "1 latency text",
		"2 choice hours", "2 bot HOURS", "2 latency choice",
		"3 user boom", "3 error dialog: bot exploded", "3 latency text",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("transcript\n got %q\nwant %q", got, want)
	}
	if _, err := chat.Handle(ctx, s, dialog.Text("bye")); err != nil {
		t.Fatal(err)
	}
	if c := h.Snapshot().Conversations[0]; c.Reason != "conversation ended" {
		t.Errorf("after a hang-up reply: %+v", c)
	}
	// A returning user starts a new conversation in the view.
	if _, err := chat.Handle(ctx, s, dialog.Text("again")); err != nil {
		t.Fatal(err)
	}
	if c := h.Snapshot().Conversations[0]; !c.Ended.IsZero() || len(c.Transcript) != 3 || c.Transcript[0].Text != "again" || c.Transcript[0].Turn != 0 {
		t.Errorf("returning user: %+v", c)
	}
}

func TestWrapLeavesCallsToTheObserver(t *testing.T) {
	h := newHub(t, Config{})
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	// The voice session calls its dialog (a wrapped runner) with the call id.
	d := h.Wrap(echo{})
	s := runner.Session{ConversationID: sipInfo.ID, Channel: "sip", Voice: true}
	if _, err := d.Handle(context.Background(), s, dialog.Text("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Handle(context.Background(), s, dialog.Event{Type: dialog.EventEnd}); err != nil {
		t.Fatal(err)
	}
	c := h.Snapshot().Conversations[0]
	if len(c.Transcript) != 0 || !c.Ended.IsZero() {
		t.Errorf("the wrapper reported a call the observer owns: %+v", c)
	}
}

func TestClose(t *testing.T) {
	h, err := New(Config{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	sub, _, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	<-sub.Done()
	sub.Close()
	if _, _, err := h.Subscribe(); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
	h.CallObserver(sipInfo).Observe(session.Event{Kind: session.CallStarted})
	if n := len(h.Snapshot().Conversations); n != 0 {
		t.Errorf("a call was shown after Close")
	}
	if err := h.Close(); err != nil {
		t.Error(err)
	}
}

func TestMaxSubscribers(t *testing.T) {
	h := newHub(t, Config{MaxSubscribers: 1})
	s1, _, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Subscribe(); !errors.Is(err, ErrTooManySubscribers) {
		t.Errorf("second subscriber: %v, want ErrTooManySubscribers", err)
	}
	s1.Close()
	s2, _, err := h.Subscribe()
	if err != nil {
		t.Errorf("after the first left: %v", err)
	} else {
		s2.Close()
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{},
		{BasicUser: "ops"},
		{BasicPassword: "secret"},
		{BasicUser: "o:ps", BasicPassword: "secret"},
		{Token: "t", MaxTranscript: -1},
		{Token: "t", KeepEnded: -time.Second},
		{Token: "t", Base: "live"},
		{Token: "t", Base: "/live/"},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	for _, c := range []Config{{Token: "t"}, {BasicUser: "ops", BasicPassword: "pw"}, {LoopbackOnly: true}, {Token: "t", Base: "/ops"}} {
		h, err := New(c)
		if err != nil {
			t.Errorf("New(%+v): %v", c, err)
			continue
		}
		h.Close()
	}
}

package convs

import (
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

func TestTableRemembersBoundedInTimeAndNumber(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tab := New(time.Minute, 2)
	choices := []dialog.Choice{{Title: "Yes", Payload: "yes"}}
	tab.Put("a", t0, true, choices)
	if s := tab.Get("a", t0.Add(30*time.Second)); !s.Started || len(s.Choices) != 1 {
		t.Fatalf("a = %+v", s)
	}
	if s := tab.Get("a", t0.Add(2*time.Minute)); s.Started {
		t.Fatalf("a remembered past its ttl: %+v", s)
	}
	tab.Put("b", t0.Add(time.Second), true, nil)
	tab.Put("c", t0.Add(2*time.Second), true, nil) // evicts a, the least recently seen
	if tab.Get("a", t0.Add(3*time.Second)).Started || !tab.Get("b", t0.Add(3*time.Second)).Started || !tab.Get("c", t0.Add(3*time.Second)).Started {
		t.Fatal("eviction did not drop the oldest")
	}
	tab.Put("b", t0.Add(4*time.Second), false, nil) // ended
	if tab.Get("b", t0.Add(5*time.Second)).Started {
		t.Fatal("an ended conversation still counts as started")
	}
}

func TestMatchChoice(t *testing.T) {
	choices := []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Web", URL: "https://example.com"}, {Title: "Book", Payload: "book"}}
	for text, want := range map[string]string{"1": "hours", " opening HOURS ": "hours", "3.": "book", "2": "", "4": "", "web": "", "": "", "booking": ""} {
		ch, ok := MatchChoice(text, choices)
		if got := ch.Payload; ok != (want != "") || got != want {
			t.Errorf("MatchChoice(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
}

func TestLastChoicesAndMessageText(t *testing.T) {
	replies := []dialog.Reply{
		{Messages: []dialog.Message{{Text: "a", Choices: []dialog.Choice{{Title: "x"}}}}},
		{Messages: []dialog.Message{{SSML: "<speak>Hello <break time='1s'/> there</speak>", Choices: []dialog.Choice{{Title: "y"}, {Title: "z"}}}, {Text: "no choices"}}},
	}
	if got := LastChoices(replies); len(got) != 2 || got[0].Title != "y" {
		t.Errorf("LastChoices = %+v", got)
	}
	if got := MessageText(replies[1].Messages[0]); got != "Hello there" {
		t.Errorf("MessageText(SSML) = %q", got)
	}
	if got := MessageText(dialog.Message{Audio: &dialog.Audio{Text: "spoken"}}); got != "spoken" {
		t.Errorf("MessageText(audio) = %q", got)
	}
}

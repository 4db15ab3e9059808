package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/connectors/teams"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/telephony"
)

type sentNote struct {
	user string
	text string
}

type fakeNotifier struct {
	sent []sentNote
	fail map[string]bool
}

func (f *fakeNotifier) Notify(ctx context.Context, user string, r dialog.Reply) (teams.NotifyResult, error) {
	if f.fail[user] {
		return teams.NotifyResult{}, errors.New("unknown user")
	}
	f.sent = append(f.sent, sentNote{user, r.Messages[0].Text})
	return teams.NotifyResult{ConversationID: "a:1"}, nil
}

type fakeTranscript []store.Entry

func (f fakeTranscript) Transcript(ctx context.Context, id string) ([]store.Entry, error) {
	if id != "call-7" {
		return nil, errors.New("no such conversation")
	}
	return f, nil
}

// An ended call's summary (caller, leg, length, what was said) goes to every
// configured user; one user's failure does not stop the others.
func TestCallSummary(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tr := fakeTranscript{
		store.EventEntry("sip", dialog.Event{Type: dialog.EventStart, Time: t0}),
		store.ReplyEntry("sip", dialog.Say("Welcome. What would you like?"), t0),
		store.EventEntry("sip", dialog.Event{Type: dialog.EventText, Text: "book an appointment", Time: t0.Add(5 * time.Second)}),
		store.ReplyEntry("sip", dialog.Say("Which day would you like to come?"), t0.Add(5*time.Second)),
		store.EventEntry("sip", dialog.Event{Type: dialog.EventDTMF, Digits: "1", Time: t0.Add(9 * time.Second)}),
		store.EventEntry("sip", dialog.Event{Type: dialog.EventEnd, Time: t0.Add(72 * time.Second)}),
	}
	n := &fakeNotifier{fail: map[string]bool{"29:gone": true}}
	c := &callSummaries{to: []string{"29:gone", "29:ops"}, send: n, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: time.Second}
	c.callEnded(context.Background(), telephony.Info{ID: "call-7", Channel: "sip", From: "+33612345678", To: "2000"}, tr)
	if len(n.sent) != 1 || n.sent[0].user != "29:ops" {
		t.Fatalf("sent %+v", n.sent)
	}
	want := "Call call-7 from +33612345678 to 2000 (sip), 1m12s:\nBot: Welcome. What would you like?\nCaller: book an appointment\nBot: Which day would you like to come?\nCaller pressed 1"
	if got := n.sent[0].text; got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
	// A call whose transcript cannot be read sends nothing.
	n.sent = nil
	c.callEnded(context.Background(), telephony.Info{ID: "other", Channel: "sip"}, tr)
	if len(n.sent) != 0 {
		t.Errorf("sent %+v for an unreadable transcript", n.sent)
	}
}

// Long calls quote their last lines only.
func TestCallSummaryBounded(t *testing.T) {
	var tr []store.Entry
	for i := range 30 {
		tr = append(tr, store.EventEntry("sip", dialog.Event{Type: dialog.EventText, Text: strings.Repeat("x", i+1)}))
	}
	s := summarize(telephony.Info{ID: "c", Channel: "webrtc"}, tr)
	if !strings.Contains(s, "(10 earlier lines)") || strings.Count(s, "\nCaller: ") != maxSummaryLines || !strings.HasSuffix(s, strings.Repeat("x", 30)) {
		t.Errorf("summary:\n%s", s)
	}
}

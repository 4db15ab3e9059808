package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/teams"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/telephony"
)

// maxSummaryLines bounds the transcript lines a call summary quotes (the
// last ones).
const maxSummaryLines = 20

// notifier sends a proactive message to a user of a text channel:
// *teams.Connector is one.
type notifier interface {
	Notify(ctx context.Context, userKey string, reply dialog.Reply) (teams.NotifyResult, error)
}

// transcriptReader reads a conversation's transcript: *runner.Runner is one.
type transcriptReader interface {
	Transcript(ctx context.Context, conversationID string) ([]store.Entry, error)
}

// callSummaries sends a summary of every ended call to the configured
// users of a text channel (connectors.teams.call_summary_to).
type callSummaries struct {
	to      []string
	send    notifier
	log     *slog.Logger
	timeout time.Duration
}

// callEnded reads the call's transcript and sends its summary. It runs on
// the call's goroutine once the session is over, so a slow channel delays
// nothing but itself; shutting down does not cut a summary short.
func (c *callSummaries) callEnded(ctx context.Context, info telephony.Info, tr transcriptReader) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	entries, err := tr.Transcript(ctx, info.ID)
	if err != nil {
		c.log.Warn("call summary: no transcript", "call", info.ID, "error", err)
		return
	}
	text := summarize(info, entries)
	for _, user := range c.to {
		if _, err := c.send.Notify(ctx, user, dialog.Say(text)); err != nil {
			c.log.Warn("call summary not sent", "call", info.ID, "user", user, "error", err)
		}
	}
}

// summarize writes a call's summary: who called whom on which leg, how long
// the conversation lasted, and the last lines of its transcript.
func summarize(info telephony.Info, entries []store.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Call %s", info.ID)
	if info.From != "" || info.To != "" {
		fmt.Fprintf(&b, " from %s to %s", orUnknown(info.From), orUnknown(info.To))
	}
	fmt.Fprintf(&b, " (%s)", info.Channel)
	if len(entries) > 1 {
		fmt.Fprintf(&b, ", %s", entries[len(entries)-1].Time.Sub(entries[0].Time).Round(time.Second))
	}
	b.WriteString(":")
	var lines []string
	for _, e := range entries {
		switch {
		case e.Event != nil && e.Event.Type == dialog.EventText:
			lines = append(lines, "Caller: "+e.Event.Text)
		case e.Event != nil && e.Event.Type == dialog.EventDTMF:
			lines = append(lines, "Caller pressed "+e.Event.Digits)
		case e.Event != nil && e.Event.Type == dialog.EventNoInput:
			lines = append(lines, "Caller: (silence)")
		case e.Event != nil && e.Event.Type == dialog.EventNoMatch:
			lines = append(lines, "Caller: (not understood)")
		case e.Reply != nil:
			var said []string
			for _, m := range e.Reply.Messages {
				if m.Text != "" {
					said = append(said, m.Text)
				}
			}
			if len(said) > 0 {
				lines = append(lines, "Bot: "+strings.Join(said, " "))
			}
		}
	}
	if len(lines) > maxSummaryLines {
		fmt.Fprintf(&b, "\n(%d earlier lines)", len(lines)-maxSummaryLines)
		lines = lines[len(lines)-maxSummaryLines:]
	}
	for _, l := range lines {
		b.WriteString("\n")
		b.WriteString(l)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

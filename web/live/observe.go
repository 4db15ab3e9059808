package live

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
)

// CallObserver returns the observer of one voice call, for
// session.Config.Observer: it shows the call in the view from CallStarted
// to CallEnded with its transcript (interim results, finals, digits,
// replies, barge-ins, errors) and a latency waterfall per turn. Like every
// session observer it returns at once: it never waits for a subscriber.
func (h *Hub) CallObserver(info telephony.Info) session.Observer {
	return session.ObserverFunc(func(e session.Event) { h.observeCall(info, e) })
}

func (h *Hub) observeCall(info telephony.Info, e session.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	c := h.convs[info.ID]
	if e.Kind == session.CallStarted {
		c = h.startLocked(info.ID, info.Channel, info.From, info.To, true, true, now)
		if c != nil {
			c.fromCall = true
		}
	}
	if c == nil || !c.fromCall { // not shown (the view was full), or gone
		return
	}
	ent := Entry{Time: now, AtMS: ms(e.At), Turn: e.Turn}
	switch e.Kind {
	case session.CallStarted, session.Listening:
		c.c.LastEvent = now
		return
	case session.Interim:
		h.interimLocked(c, e.Text, e.Turn, now)
		return
	case session.CallEnded:
		h.endLocked(c, e.Reason, now)
		return
	case session.Final:
		ent.Kind, ent.Text, ent.Confidence, ent.Rejected = EntryUser, e.Text, e.Confidence, e.Rejected
	case session.Digits:
		ent.Kind, ent.Text = EntryDTMF, e.Text
	case session.NoInput:
		ent.Kind = EntryNoInput
	case session.NoMatch:
		ent.Kind = EntryNoMatch
	case session.Reply:
		ent.Kind, ent.Text = EntryBot, e.Text
		if e.Reply != nil {
			ent.Text = replyText(*e.Reply)
		}
	case session.BargeIn:
		ent.Kind, ent.Heard, ent.Cut = EntryBargeIn, e.Heard, e.Cut
		c.c.Interim = ""
	case session.FalseBargeIn:
		ent.Kind = EntryFalseBargeIn
	case session.Latency:
		if e.Trace == nil {
			return
		}
		ent.Kind, ent.Latency = EntryLatency, LatencyOf(e.Trace)
	case session.Recorded:
		ent.Kind, ent.Text = EntryRecorded, e.Text
	case session.Error:
		ent.Kind, ent.Text = EntryError, e.Engine
		if e.Err != nil {
			ent.Text = e.Engine + ": " + e.Err.Error()
		}
	default:
		return
	}
	h.addLocked(c, ent)
}

// replyText is what the view shows of a reply: its messages' text, the
// choices offered and the action taken.
func replyText(r dialog.Reply) string {
	var b strings.Builder
	b.WriteString(r.Text())
	line := func(s string) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	var choices []string
	for _, m := range r.Messages {
		for _, c := range m.Choices {
			choices = append(choices, "["+c.Title+"]")
		}
	}
	if len(choices) > 0 {
		line(strings.Join(choices, " "))
	}
	switch {
	case r.Transfer != nil:
		line("→ transfer to " + r.Transfer.Target)
	case r.Hangup:
		line("→ hang up")
	case r.Record != nil:
		line("→ record")
	}
	return b.String()
}

// Dialog is what text channels call for each event: *runner.Runner, and
// the handler every connector takes (connectors/web.Handler).
type Dialog interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// Wrap returns a Dialog that shows each conversation going through next
// in the view — the user's event, the bot's reply or error, and the
// dialog's time as a one-stage waterfall — and otherwise passes
// everything through unchanged. Conversations a [Hub.CallObserver]
// reports (the voice session calls its dialog with the call's id) are
// left to it, so one runner may be wrapped for every channel.
func (h *Hub) Wrap(next Dialog) Dialog { return &wrapped{h: h, next: next} }

type wrapped struct {
	h    *Hub
	next Dialog
}

func (w *wrapped) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	turn, ok := w.h.textEvent(s, ev)
	if !ok {
		return w.next.Handle(ctx, s, ev)
	}
	t0 := time.Now()
	reply, err := w.next.Handle(ctx, s, ev)
	w.h.textReply(s, ev, turn, reply, err, time.Since(t0))
	return reply, err
}

// textEvent shows a text channel's event; ok is false when the
// conversation is not the wrapper's to show.
func (h *Hub) textEvent(s runner.Session, ev dialog.Event) (turn int, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.convs[s.ConversationID]; c != nil && c.fromCall {
		return 0, false
	}
	now := h.now()
	c := h.startLocked(s.ConversationID, s.Channel, s.ChannelUserID, "", s.Voice, false, now)
	if c == nil {
		return 0, false
	}
	turn = c.events
	c.events++
	ent := Entry{Time: now, Turn: turn}
	switch ev.Type {
	case dialog.EventText:
		ent.Kind, ent.Text = EntryUser, ev.Text
		if ev.Confidence < 1 {
			ent.Confidence = ev.Confidence
		}
	case dialog.EventChoice:
		ent.Kind, ent.Text = EntryChoice, ev.Choice
	case dialog.EventDTMF:
		ent.Kind, ent.Text = EntryDTMF, ev.Digits
	case dialog.EventAttachment:
		ent.Kind = EntryAttachment
		if ev.Attachment != nil {
			ent.Text = cmp.Or(ev.Attachment.Name, ev.Attachment.URL)
		}
	case dialog.EventNoInput:
		ent.Kind = EntryNoInput
	case dialog.EventNoMatch:
		ent.Kind = EntryNoMatch
	default: // start, end: no transcript line
		c.c.Turn, c.c.LastEvent = turn, now
		return turn, true
	}
	h.addLocked(c, ent)
	return turn, true
}

func (h *Hub) textReply(s runner.Session, ev dialog.Event, turn int, reply dialog.Reply, err error, took time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.convs[s.ConversationID]
	if c == nil || c.fromCall || !c.c.Ended.IsZero() {
		return
	}
	now := h.now()
	if err != nil {
		h.addLocked(c, Entry{Time: now, Turn: turn, Kind: EntryError, Text: "dialog: " + err.Error()})
	} else if t := replyText(reply); t != "" {
		h.addLocked(c, Entry{Time: now, Turn: turn, Kind: EntryBot, Text: t})
	}
	if ev.Type != dialog.EventEnd {
		d := ms(took)
		h.addLocked(c, Entry{Time: now, Turn: turn, Kind: EntryLatency, Latency: &Latency{
			Turn: turn, Input: string(ev.Type), TotalMS: d,
			Stages: []Stage{{Name: "dialog", DurationMS: d}},
		}})
	}
	if ev.Type == dialog.EventEnd || (err == nil && reply.Hangup) {
		h.endLocked(c, "conversation ended", now)
	}
}

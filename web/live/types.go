package live

import (
	"time"

	"github.com/parole-voice/parole/telephony/session"
)

// EntryKind says what a transcript [Entry] records.
type EntryKind string

// Transcript entry kinds.
const (
	// EntryUser: what the user said (final transcript) or typed; Rejected
	// marks speech the recognizer rejected.
	EntryUser EntryKind = "user"
	// EntryChoice: a button or quick reply the user picked (Text is its
	// payload).
	EntryChoice EntryKind = "choice"
	// EntryDTMF: keypad digits (Text).
	EntryDTMF EntryKind = "dtmf"
	// EntryAttachment: a file the user sent (Text is its name or URL).
	EntryAttachment EntryKind = "attachment"
	// EntryBot: the bot's reply (Text).
	EntryBot EntryKind = "bot"
	// EntryBargeIn: the caller interrupted a prompt (Heard, Cut).
	EntryBargeIn EntryKind = "barge_in"
	// EntryFalseBargeIn: speech over a prompt too short to interrupt it.
	EntryFalseBargeIn EntryKind = "false_barge_in"
	// EntryNoInput: the user said nothing before the timeout.
	EntryNoInput EntryKind = "no_input"
	// EntryNoMatch: the user's input could not be used.
	EntryNoMatch EntryKind = "no_match"
	// EntryRecorded: a recording was written (Text is its URL).
	EntryRecorded EntryKind = "recorded"
	// EntryError: an engine or the channel failed (Text).
	EntryError EntryKind = "error"
	// EntryLatency: a turn's latency waterfall (Latency).
	EntryLatency EntryKind = "latency"
)

// Entry is one line of a live transcript.
type Entry struct {
	// Time is the wall-clock time the hub got it.
	Time time.Time `json:"time"`
	// AtMS is the call time in milliseconds of received audio (voice
	// calls), 0 on text channels.
	AtMS float64 `json:"at_ms,omitempty"`
	// Turn is the conversation's turn.
	Turn int `json:"turn"`
	// Kind says which fields are set.
	Kind EntryKind `json:"kind"`
	// Text is the transcript, digits, reply, error or URL.
	Text string `json:"text,omitempty"`
	// Confidence of a recognized utterance.
	Confidence float64 `json:"confidence,omitempty"`
	// Rejected marks an utterance the recognizer rejected.
	Rejected bool `json:"rejected,omitempty"`
	// Heard and Cut split an interrupted prompt (EntryBargeIn).
	Heard string `json:"heard,omitempty"`
	Cut   string `json:"cut,omitempty"`
	// Latency is the turn's waterfall (EntryLatency).
	Latency *Latency `json:"latency,omitempty"`
}

// Stage is one bar of a latency waterfall, in milliseconds from the end
// of the user's input.
type Stage struct {
	// Name is one of "endpointing" (end of speech → endpoint decision),
	// "stt" (→ final transcript), "dialog" (→ reply), "tts" (→ first
	// audio), "playout" (→ first frame played) and "session" (the rest of
	// the session's own time in the turn, drawn last).
	Name       string  `json:"name"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
}

// Latency is a turn's waterfall: stages laid end to end.
type Latency struct {
	Turn int `json:"turn"`
	// Input says what ended the turn: "speech", "dtmf", "no_input", …,
	// or "text" on text channels.
	Input  string  `json:"input"`
	Stages []Stage `json:"stages"`
	// TotalMS is from the end of the user's input to the first frame
	// played (voice) or to the reply (text): the end of the last stage.
	TotalMS float64 `json:"total_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// LatencyOf lays a session trace out as a waterfall: endpointing, stt,
// dialog, tts and playout end to end, then "session" for the part of
// Trace.Overhead that is not playout, so that the stages after endpointing
// add up to Trace.Total.
func LatencyOf(t *session.Trace) *Latency {
	l := &Latency{Turn: t.Turn, Input: t.Input, Stages: make([]Stage, 0, 6)}
	at := 0.0
	add := func(name string, d time.Duration) {
		v := ms(max(d, 0))
		l.Stages = append(l.Stages, Stage{Name: name, StartMS: at, DurationMS: v})
		at += v
	}
	add("endpointing", t.Endpointing)
	add("stt", t.STT)
	add("dialog", t.Dialog)
	add("tts", t.TTS)
	add("playout", t.Playout)
	if rest := t.Total - t.STT - t.Dialog - t.TTS - t.Playout; rest > 0 {
		add("session", rest)
	}
	l.TotalMS = at
	return l
}

// Conversation is one conversation of the view.
type Conversation struct {
	// ID is the channel's conversation id (a call's id).
	ID string `json:"id"`
	// Channel names the channel: "sip", "webrtc", "web", "teams", …
	Channel string `json:"channel"`
	// Voice is true for calls (voice sessions).
	Voice bool `json:"voice"`
	// From and To are the caller and callee (voice) or the channel user
	// id (From, text).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Started, LastEvent and Ended (zero while active) are wall-clock
	// times.
	Started   time.Time `json:"started"`
	LastEvent time.Time `json:"last_event"`
	Ended     time.Time `json:"ended,omitzero"`
	// Reason says why it ended.
	Reason string `json:"reason,omitempty"`
	// Interim is the caller's partial transcript while they speak.
	Interim string `json:"interim,omitempty"`
	// Turn is the current turn.
	Turn int `json:"turn"`
	// Transcript holds the latest entries, oldest first; Dropped counts
	// the older ones no longer kept.
	Transcript []Entry `json:"transcript"`
	Dropped    int     `json:"dropped,omitempty"`
}

// Snapshot is the state of the view at event Seq.
type Snapshot struct {
	// Seq is the sequence number of the last event applied; the events
	// that follow a snapshot on a stream have larger ones.
	Seq uint64 `json:"seq"`
	// Now is the server's time, for the page's duration clocks.
	Now time.Time `json:"now"`
	// MaxTranscript and KeepEndedMS tell the page the hub's bounds.
	MaxTranscript int     `json:"max_transcript"`
	KeepEndedMS   float64 `json:"keep_ended_ms"`
	// Conversations, oldest first.
	Conversations []Conversation `json:"conversations"`
}

// EventType names a hub [Event].
type EventType string

// Hub event types.
const (
	// EventStart: a conversation began (Conversation, without transcript).
	EventStart EventType = "start"
	// EventEntry: a transcript entry was added (Entry).
	EventEntry EventType = "entry"
	// EventInterim: the caller's partial transcript changed (Text; empty
	// clears it).
	EventInterim EventType = "interim"
	// EventEnd: the conversation ended (Reason, Time).
	EventEnd EventType = "end"
	// EventRemove: an ended conversation left the view.
	EventRemove EventType = "remove"
)

// Event is one change of the view, as the event stream sends it (the
// SSE event name is Type).
type Event struct {
	Seq            uint64        `json:"seq"`
	Type           EventType     `json:"type"`
	ConversationID string        `json:"conversation"`
	Time           time.Time     `json:"time"`
	Conversation   *Conversation `json:"conversation_info,omitempty"`
	Entry          *Entry        `json:"entry,omitempty"`
	Text           string        `json:"text,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	// Turn is the conversation's turn after the event.
	Turn int `json:"turn"`
}

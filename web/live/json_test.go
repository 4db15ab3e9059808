package live

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/telephony/session"
)

// TestJSONShape pins the wire format the page reads: field names, which
// fields are omitted, times in RFC 3339 and durations in milliseconds.
func TestJSONShape(t *testing.T) {
	clk := newClock()
	h := newHub(t, Config{MaxTranscript: 50, KeepEnded: 90 * time.Second}, WithClock(clk.now))
	sub, _, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	clk.add(2 * time.Second)
	obs.Observe(session.Event{Kind: session.Interim, Turn: 1, Text: "hel", At: 1900 * time.Millisecond})
	obs.Observe(session.Event{Kind: session.Final, Turn: 1, Text: "hello", Confidence: 0.5, At: 2 * time.Second})
	obs.Observe(session.Event{Kind: session.Latency, Turn: 2, Trace: &session.Trace{Turn: 1, Input: "speech",
		Endpointing: 700 * time.Millisecond, STT: 100 * time.Millisecond, Dialog: 1500 * time.Microsecond, TTS: 50 * time.Millisecond, Total: 151500 * time.Microsecond}})
	clk.add(time.Second)
	if _, err := h.Wrap(echo{}).Handle(context.Background(), runner.Session{ConversationID: "web:u", Channel: "web", ChannelUserID: "u"}, dialog.Event{Type: dialog.EventEnd}); err != nil {
		t.Fatal(err)
	}

	got, err := json.Marshal(h.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	want := `{
	  "seq": 6, "now": "2025-03-14T09:26:56Z", "max_transcript": 50, "keep_ended_ms": 90000,
	  "conversations": [
	    {"id": "call-1", "channel": "sip", "voice": true, "from": "sip:+33123456789@example.net", "to": "sip:bot@parole",
	     "started": "2025-03-14T09:26:53Z", "last_event": "2025-03-14T09:26:55Z", "turn": 2,
	     "transcript": [
	       {"time": "2025-03-14T09:26:55Z", "at_ms": 2000, "turn": 1, "kind": "user", "text": "hello", "confidence": 0.5},
	       {"time": "2025-03-14T09:26:55Z", "turn": 2, "kind": "latency", "latency": {"turn": 1, "input": "speech", "total_ms": 851.5, "stages": [
	         {"name": "endpointing", "start_ms": 0, "duration_ms": 700},
	         {"name": "stt", "start_ms": 700, "duration_ms": 100},
	         {"name": "dialog", "start_ms": 800, "duration_ms": 1.5},
	         {"name": "tts", "start_ms": 801.5, "duration_ms": 50},
	         {"name": "playout", "start_ms": 851.5, "duration_ms": 0}]}}]},
	    {"id": "web:u", "channel": "web", "voice": false, "from": "u",
	     "started": "2025-03-14T09:26:56Z", "last_event": "2025-03-14T09:26:56Z", "ended": "2025-03-14T09:26:56Z",
	     "reason": "conversation ended", "turn": 0, "transcript": []}
	  ]}`
	sameJSON(t, "snapshot", got, want)

	var events []string
	for len(sub.Updates()) > 0 {
		events = append(events, string((<-sub.Updates()).JSON))
	}
	if len(events) != 6 {
		t.Fatalf("%d events", len(events))
	}
	sameJSON(t, "start event", []byte(events[0]), `{"seq": 1, "type": "start", "conversation": "call-1", "time": "2025-03-14T09:26:53Z", "turn": 0,
	  "conversation_info": {"id": "call-1", "channel": "sip", "voice": true, "from": "sip:+33123456789@example.net", "to": "sip:bot@parole",
	    "started": "2025-03-14T09:26:53Z", "last_event": "2025-03-14T09:26:53Z", "turn": 0, "transcript": []}}`)
	sameJSON(t, "interim event", []byte(events[1]), `{"seq": 2, "type": "interim", "conversation": "call-1", "time": "2025-03-14T09:26:55Z", "turn": 1, "text": "hel"}`)
	sameJSON(t, "entry event", []byte(events[2]), `{"seq": 3, "type": "entry", "conversation": "call-1", "time": "2025-03-14T09:26:55Z", "turn": 1,
	  "entry": {"time": "2025-03-14T09:26:55Z", "at_ms": 2000, "turn": 1, "kind": "user", "text": "hello", "confidence": 0.5}}`)
	sameJSON(t, "end event", []byte(events[5]), `{"seq": 6, "type": "end", "conversation": "web:u", "time": "2025-03-14T09:26:56Z", "turn": 0, "reason": "conversation ended"}`)
}

func sameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		var pg, pw bytes.Buffer
		_ = json.Indent(&pg, got, "", " ")
		_ = json.Indent(&pw, []byte(want), "", " ")
		t.Errorf("%s JSON\n got %s\nwant %s", what, pg.Bytes(), pw.Bytes())
	}
}

package webrtc

import (
	"encoding/json"
	"sync"

	pion "github.com/pion/webrtc/v4"

	"github.com/parole-voice/parole/telephony/session"
)

// Message types of the websocket signalling.
const (
	msgConfig     = "config"
	msgOffer      = "offer"
	msgAnswer     = "answer"
	msgCandidate  = "candidate"
	msgHangup     = "hangup"
	msgDTMF       = "dtmf"
	msgTranscript = "transcript"
	msgEvent      = "event"
	msgError      = "error"
)

// message is one websocket message, either way.
type message struct {
	Type string `json:"type"`
	// SDP of an offer or an answer.
	SDP string `json:"sdp,omitempty"`
	// Candidate of a trickled ICE candidate.
	Candidate *pion.ICECandidateInit `json:"candidate,omitempty"`
	// Digits of a dtmf message.
	Digits string `json:"digits,omitempty"`
	// ICEServers of the config message.
	ICEServers []ICEServer `json:"iceServers,omitempty"`
	// CallID of the config message and of the answer.
	CallID string `json:"callId,omitempty"`
	// Codec of the answer.
	Codec string `json:"codec,omitempty"`
	// Reason of a hangup, Error of an error message.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`

	// Transcript and event fields.
	Kind       string        `json:"kind,omitempty"`
	Text       string        `json:"text,omitempty"`
	Turn       int           `json:"turn,omitempty"`
	AtMS       float64       `json:"atMs,omitempty"`
	Confidence float64       `json:"confidence,omitempty"`
	Rejected   bool          `json:"rejected,omitempty"`
	Heard      string        `json:"heard,omitempty"`
	Cut        string        `json:"cut,omitempty"`
	Trace      *traceMessage `json:"trace,omitempty"`
	Engine     string        `json:"engine,omitempty"`
}

// traceMessage is a session.Trace in milliseconds.
type traceMessage struct {
	Input       string  `json:"input"`
	Endpointing float64 `json:"endpointing"`
	STT         float64 `json:"stt"`
	Dialog      float64 `json:"dialog"`
	TTS         float64 `json:"tts"`
	Playout     float64 `json:"playout"`
	Total       float64 `json:"total"`
	Overhead    float64 `json:"overhead"`
}

func ms[T ~int64](d T) float64 { return float64(d) / 1e6 }

// eventMessage renders a session event for the page.
func eventMessage(e session.Event) message {
	m := message{Type: msgEvent, Kind: string(e.Kind), Text: e.Text, Turn: e.Turn, AtMS: ms(e.At)}
	switch e.Kind {
	case session.Interim, session.Final, session.Reply, session.Digits:
		m.Type = msgTranscript
		m.Confidence, m.Rejected = e.Confidence, e.Rejected
	case session.BargeIn:
		m.Heard, m.Cut = e.Heard, e.Cut
	case session.Latency:
		if t := e.Trace; t != nil {
			m.Trace = &traceMessage{Input: t.Input, Endpointing: ms(t.Endpointing), STT: ms(t.STT), Dialog: ms(t.Dialog),
				TTS: ms(t.TTS), Playout: ms(t.Playout), Total: ms(t.Total), Overhead: ms(t.Overhead)}
		}
	case session.Error:
		m.Engine = e.Engine
		if e.Err != nil {
			m.Error = e.Err.Error()
		}
	case session.CallEnded:
		m.Reason = e.Reason
	}
	return m
}

// outbox queues messages for the websocket writer without blocking the
// sender; once closed, sends are dropped.
type outbox struct {
	mu      sync.Mutex
	ch      chan []byte
	closed  bool
	dropped int
}

func newOutbox(n int) *outbox { return &outbox{ch: make(chan []byte, n)} }

func (o *outbox) send(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	select {
	case o.ch <- b:
	default:
		o.dropped++
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.ch)
	}
}

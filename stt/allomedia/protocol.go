package allomedia

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Commands of the uh!live voicebot protocol, sent as JSON text frames.
const (
	CmdOpen             = "OPEN"
	CmdSetParams        = "SET-PARAMS"
	CmdDefineGrammar    = "DEFINE-GRAMMAR"
	CmdRecognize        = "RECOGNIZE"
	CmdStartInputTimers = "START-INPUT-TIMERS"
	CmdStop             = "STOP"
	CmdClose            = "CLOSE"
)

// Event names of the uh!live voicebot protocol, received as JSON text
// frames.
const (
	EvOpened                = "OPENED"
	EvParamsSet             = "PARAMS-SET"
	EvDefaultParams         = "DEFAULT-PARAMS"
	EvGrammarDefined        = "GRAMMAR-DEFINED"
	EvRecognitionInProgress = "RECOGNITION-IN-PROGRESS"
	EvInputTimersStarted    = "INPUT-TIMERS-STARTED"
	EvStartOfInput          = "START-OF-INPUT"
	EvRecognitionComplete   = "RECOGNITION-COMPLETE"
	EvStopped               = "STOPPED"
	EvClosed                = "CLOSED"
	EvMethodNotValid        = "METHOD-NOT-VALID"
	EvMethodFailed          = "METHOD-FAILED"
	EvInvalidParamValue     = "INVALID-PARAM-VALUE"
	EvMissingParam          = "MISSING-PARAM"
	EvMethodNotAllowed      = "METHOD-NOT-ALLOWED"
)

// Completion causes of RECOGNITION-COMPLETE (and of failed commands).
const (
	CauseSuccess               = "Success"
	CausePartialMatch          = "PartialMatch"
	CausePartialMatchMaxtime   = "PartialMatchMaxtime"
	CauseNoMatch               = "NoMatch"
	CauseNoMatchMaxtime        = "NoMatchMaxtime"
	CauseHotwordMaxtime        = "HotwordMaxtime"
	CauseNoInputTimeout        = "NoInputTimeout"
	CauseTooMuchSpeechTimeout  = "TooMuchSpeechTimeout"
	CauseGramDefinitionFailure = "GramDefinitionFailure"
	CauseGramLoadFailure       = "GramLoadFailure"
	CauseLanguageUnsupported   = "LanguageUnsupported"
	CauseError                 = "Error"
)

// ErrEvent: a text frame from the server is not a well-formed event.
var ErrEvent = errors.New("allomedia: malformed event")

// MaxEventSize bounds a text frame from the server; larger ones are
// refused (ErrEvent) without being parsed.
const MaxEventSize = 1 << 20

// Command is one command frame: {"command", "request_id", "channel_id",
// "headers", "body"}, as the uh!live SDK writes it.
type Command struct {
	Command   string         `json:"command"`
	RequestID int            `json:"request_id"`
	ChannelID string         `json:"channel_id"`
	Headers   map[string]any `json:"headers"`
	Body      string         `json:"body"`
}

// Event is one event frame from the server.
type Event struct {
	Event            string         `json:"event"`
	RequestID        int            `json:"request_id"`
	ChannelID        string         `json:"channel_id"`
	Headers          map[string]any `json:"headers"`
	CompletionCause  string         `json:"completion_cause"`
	CompletionReason string         `json:"completion_reason"`
	// Body is the decoded body of RECOGNITION-COMPLETE, nil otherwise.
	Body *RecognitionBody `json:"-"`
	// RawBody is the body as sent.
	RawBody json.RawMessage `json:"body"`
}

// RecognitionBody is the body of RECOGNITION-COMPLETE: the transcript,
// the interpretation by the grammar, the grammar that matched and the
// other hypotheses.
type RecognitionBody struct {
	ASR          *Transcript       `json:"asr"`
	NLU          *Interpretation   `json:"nlu"`
	GrammarURI   string            `json:"grammar_uri"`
	Alternatives []RecognitionBody `json:"alternatives"`
}

// Transcript is the ASR part of a result; Start and End are Unix times in
// milliseconds.
type Transcript struct {
	Transcript string  `json:"transcript"`
	Confidence float64 `json:"confidence"`
	Start      int64   `json:"start"`
	End        int64   `json:"end"`
}

// Interpretation is the NLU part of a result: the grammar type and its
// structured value (a string for keywords and spelling, an object for
// dates and addresses, a boolean for speech/boolean).
type Interpretation struct {
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	Confidence float64         `json:"confidence"`
}

// ParseEvent decodes one event frame. The body is decoded for
// RECOGNITION-COMPLETE (an empty string or null body is no body); any
// other event may carry any body. Unknown event names, missing names and
// bad JSON are errors wrapping ErrEvent.
func ParseEvent(data []byte) (Event, error) {
	var ev Event
	if len(data) > MaxEventSize {
		return ev, fmt.Errorf("%w: %d bytes", ErrEvent, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrEvent, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: trailing data", ErrEvent)
	}
	if !knownEvent(ev.Event) {
		return Event{}, fmt.Errorf("%w: unknown event %q", ErrEvent, ev.Event)
	}
	if ev.Event == EvRecognitionComplete && !emptyBody(ev.RawBody) {
		var b RecognitionBody
		if err := json.Unmarshal(ev.RawBody, &b); err != nil {
			return Event{}, fmt.Errorf("%w: %s body: %v", ErrEvent, ev.Event, err)
		}
		ev.Body = &b
	}
	return ev, nil
}

func emptyBody(b json.RawMessage) bool {
	s := strings.TrimSpace(string(b))
	return s == "" || s == "null" || s == `""`
}

func knownEvent(name string) bool {
	switch name {
	case EvOpened, EvParamsSet, EvDefaultParams, EvGrammarDefined, EvRecognitionInProgress,
		EvInputTimersStarted, EvStartOfInput, EvRecognitionComplete, EvStopped, EvClosed,
		EvMethodNotValid, EvMethodFailed, EvInvalidParamValue, EvMissingParam, EvMethodNotAllowed:
		return true
	}
	return false
}

// isFailure reports whether the event refuses a command.
func isFailure(name string) bool {
	switch name {
	case EvMethodNotValid, EvMethodFailed, EvInvalidParamValue, EvMissingParam, EvMethodNotAllowed:
		return true
	}
	return false
}

// ValueString renders an interpretation value as Result.Value: a JSON
// string as its text, anything else (numbers, booleans, objects) as
// compact JSON; null or absent as "".
func (i *Interpretation) ValueString() string {
	if i == nil || emptyBody(i.Value) {
		return ""
	}
	var s string
	if err := json.Unmarshal(i.Value, &s); err == nil {
		return s
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, i.Value); err != nil {
		return ""
	}
	return buf.String()
}

// KeywordsGrammar returns the builtin keywords grammar URI (without the
// "builtin:" prefix) accepting the phrases: speech/keywords?alternatives=
// a|b|c. In each phrase the characters the grammar reads as pattern syntax
// are escaped with a backslash (as the uh!live SDK's examples escape "-"),
// and the URI delimiters % & # = are percent-encoded.
func KeywordsGrammar(phrases []string) string {
	var b strings.Builder
	b.WriteString("speech/keywords?alternatives=")
	for i, p := range phrases {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(escapeKeyword(p))
	}
	return b.String()
}

func escapeKeyword(p string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(p), " ") {
		switch r {
		case '\\', '.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '-':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%', '&', '#', '=':
			b.WriteString(url.QueryEscape(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

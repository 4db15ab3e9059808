package dialog

import (
	"errors"
	"fmt"
	"time"
)

// EventType says what the user (or the channel) did.
type EventType string

// The event types every channel maps its input to.
const (
	// EventStart opens a conversation: a call was answered, a chat opened.
	EventStart EventType = "start"
	// EventText carries words the user typed or said, in Event.Text.
	EventText EventType = "text"
	// EventDTMF carries telephone keypad digits, in Event.Digits.
	EventDTMF EventType = "dtmf"
	// EventChoice carries the payload of a choice (button, quick reply,
	// card action) the user picked, in Event.Choice.
	EventChoice EventType = "choice"
	// EventNoInput says the user gave no input before the gather's timeout.
	EventNoInput EventType = "no_input"
	// EventNoMatch says the user gave input the channel could not use: the
	// recognizer rejected it, or it matched none of the expected options.
	EventNoMatch EventType = "no_match"
	// EventEnd closes a conversation: the caller hung up, the chat closed.
	EventEnd EventType = "end"
	// EventAttachment carries a file the user sent, in Event.Attachment.
	EventAttachment EventType = "attachment"
)

// ErrInvalidEvent is wrapped by the errors of [Event.Validate].
var ErrInvalidEvent = errors.New("dialog: invalid event")

// Event is one thing the user did, as a channel reports it to the [Bot].
type Event struct {
	// Type says which of the fields below are set.
	Type EventType `json:"type"`
	// Time is when the channel received the input.
	Time time.Time `json:"time"`
	// Text is what the user typed or the recognizer heard (EventText).
	Text string `json:"text,omitempty"`
	// Confidence is how sure the recognizer is of Text, from 0 to 1; typed
	// text has confidence 1.
	Confidence float64 `json:"confidence,omitempty"`
	// Alternatives are the recognizer's other hypotheses, best first.
	Alternatives []Alternative `json:"alternatives,omitempty"`
	// Digits are the keys pressed, from "0123456789*#ABCD" (EventDTMF).
	Digits string `json:"digits,omitempty"`
	// Choice is the payload of the choice the user picked (EventChoice).
	Choice string `json:"choice,omitempty"`
	// Attachment is the file the user sent (EventAttachment).
	Attachment *Attachment `json:"attachment,omitempty"`
	// Metadata holds channel-specific facts a bot may use (caller number,
	// platform message id, …). Bots must not depend on it to work.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Alternative is one recognition hypothesis.
type Alternative struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// Attachment is a file sent by the user or the bot.
type Attachment struct {
	// URL is where the file can be fetched.
	URL string `json:"url"`
	// Name is the file's name as shown to a person.
	Name string `json:"name,omitempty"`
	// ContentType is the file's MIME type, e.g. "image/png".
	ContentType string `json:"content_type,omitempty"`
}

// Text returns a text event with confidence 1, as a typed message is.
func Text(s string) Event { return Event{Type: EventText, Text: s, Confidence: 1} }

// Validate reports whether e carries what its type needs. The error wraps
// [ErrInvalidEvent].
func (e Event) Validate() error {
	switch e.Type {
	case EventStart, EventNoInput, EventNoMatch, EventEnd:
	case EventText:
		if e.Confidence < 0 || e.Confidence > 1 {
			return fmt.Errorf("%w: text confidence %v out of [0,1]", ErrInvalidEvent, e.Confidence)
		}
	case EventDTMF:
		if e.Digits == "" {
			return fmt.Errorf("%w: dtmf event without digits", ErrInvalidEvent)
		}
		for _, r := range e.Digits {
			if !isDTMF(r) {
				return fmt.Errorf("%w: dtmf digit %q not one of 0-9 * # A-D", ErrInvalidEvent, r)
			}
		}
	case EventChoice:
		if e.Choice == "" {
			return fmt.Errorf("%w: choice event without a payload", ErrInvalidEvent)
		}
	case EventAttachment:
		if e.Attachment == nil || e.Attachment.URL == "" {
			return fmt.Errorf("%w: attachment event without a URL", ErrInvalidEvent)
		}
	case "":
		return fmt.Errorf("%w: no type", ErrInvalidEvent)
	default:
		return fmt.Errorf("%w: unknown type %q", ErrInvalidEvent, e.Type)
	}
	return nil
}

func isDTMF(r rune) bool {
	return r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D'
}

package alexa

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The request types of a custom skill the connector answers.
const (
	TypeLaunch       = "LaunchRequest"
	TypeIntent       = "IntentRequest"
	TypeSessionEnded = "SessionEndedRequest"
)

// ErrInvalidRequest is wrapped by the errors of a request body that is not
// a usable Alexa request envelope; the connector answers it with 400.
var ErrInvalidRequest = errors.New("alexa: invalid request")

// RequestEnvelope is the JSON body Alexa posts to a custom skill's
// endpoint (Alexa Skills Kit request and response JSON reference).
type RequestEnvelope struct {
	Version string   `json:"version"`
	Session *Session `json:"session,omitempty"`
	Context *Context `json:"context,omitempty"`
	Request Request  `json:"request"`
}

// Session is the envelope's session object.
type Session struct {
	New         bool                       `json:"new"`
	SessionID   string                     `json:"sessionId"`
	Application Application                `json:"application"`
	Attributes  map[string]json.RawMessage `json:"attributes,omitempty"`
	User        User                       `json:"user"`
}

// Application names the skill.
type Application struct {
	ApplicationID string `json:"applicationId"`
}

// User is the Alexa user: an id stable per skill enablement and, once the
// account is linked, the access token the skill's authorization server
// issued.
type User struct {
	UserID      string `json:"userId"`
	AccessToken string `json:"accessToken,omitempty"`
}

// Context is the envelope's context object; only System is read.
type Context struct {
	System *System `json:"System,omitempty"`
}

// System holds the application and user of the request.
type System struct {
	Application Application `json:"application"`
	User        User        `json:"user"`
}

// Request is the envelope's request object.
type Request struct {
	Type        string  `json:"type"`
	RequestID   string  `json:"requestId"`
	Timestamp   string  `json:"timestamp"`
	Locale      string  `json:"locale,omitempty"`
	DialogState string  `json:"dialogState,omitempty"`
	Intent      *Intent `json:"intent,omitempty"`
	// Reason and Error come with a SessionEndedRequest.
	Reason string        `json:"reason,omitempty"`
	Error  *RequestError `json:"error,omitempty"`
}

// RequestError says why a session ended with reason ERROR.
type RequestError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Intent is the intent Alexa recognised, with its slots by name.
type Intent struct {
	Name               string          `json:"name"`
	ConfirmationStatus string          `json:"confirmationStatus,omitempty"`
	Slots              map[string]Slot `json:"slots,omitempty"`
}

// Slot is one slot of an intent: the value heard and, for custom slot
// types, the entity resolutions.
type Slot struct {
	Name               string       `json:"name"`
	Value              string       `json:"value,omitempty"`
	ConfirmationStatus string       `json:"confirmationStatus,omitempty"`
	Resolutions        *Resolutions `json:"resolutions,omitempty"`
}

// Resolutions are a slot's entity resolution results.
type Resolutions struct {
	ResolutionsPerAuthority []Resolution `json:"resolutionsPerAuthority"`
}

// Resolution is one authority's result.
type Resolution struct {
	Authority string `json:"authority"`
	Status    struct {
		Code string `json:"code"`
	} `json:"status"`
	Values []struct {
		Value struct {
			Name string `json:"name"`
			ID   string `json:"id"`
		} `json:"value"`
	} `json:"values"`
}

// Resolved returns the slot's canonical value: the first entity resolution
// match's name, or the value as heard.
func (s Slot) Resolved() string {
	if s.Resolutions != nil {
		for _, r := range s.Resolutions.ResolutionsPerAuthority {
			if r.Status.Code == "ER_SUCCESS_MATCH" && len(r.Values) > 0 && r.Values[0].Value.Name != "" {
				return r.Values[0].Value.Name
			}
		}
	}
	return s.Value
}

// ApplicationID returns the skill id the request is for, from
// context.System or, in older requests, session.
func (e *RequestEnvelope) ApplicationID() string {
	if e.Context != nil && e.Context.System != nil && e.Context.System.Application.ApplicationID != "" {
		return e.Context.System.Application.ApplicationID
	}
	if e.Session != nil {
		return e.Session.Application.ApplicationID
	}
	return ""
}

// User returns the request's user, from session or context.System.
func (e *RequestEnvelope) User() User {
	if e.Session != nil && e.Session.User.UserID != "" {
		return e.Session.User
	}
	if e.Context != nil && e.Context.System != nil {
		return e.Context.System.User
	}
	return User{}
}

// Time parses the request's timestamp (ISO 8601, as Alexa sends it).
func (e *RequestEnvelope) Time() (time.Time, error) {
	t, err := time.Parse(time.RFC3339, e.Request.Timestamp)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp %q: %w", ErrInvalidRequest, e.Request.Timestamp, err)
	}
	return t, nil
}

// maxIDLen bounds the ids the connector accepts (session, user, intent).
const maxIDLen = 512

// check reports whether the envelope carries what the connector needs:
// a known request type with a session, and an intent name for an
// IntentRequest.
func (e *RequestEnvelope) check() error {
	switch e.Request.Type {
	case TypeLaunch, TypeIntent, TypeSessionEnded:
	case "":
		return fmt.Errorf("%w: no request type", ErrInvalidRequest)
	default:
		return fmt.Errorf("%w: unsupported request type %q", ErrInvalidRequest, e.Request.Type)
	}
	if e.Session == nil || e.Session.SessionID == "" {
		return fmt.Errorf("%w: %s without session.sessionId", ErrInvalidRequest, e.Request.Type)
	}
	if len(e.Session.SessionID) > maxIDLen || len(e.User().UserID) > maxIDLen {
		return fmt.Errorf("%w: session or user id longer than %d bytes", ErrInvalidRequest, maxIDLen)
	}
	if e.Request.Type == TypeIntent {
		if e.Request.Intent == nil || e.Request.Intent.Name == "" {
			return fmt.Errorf("%w: IntentRequest without intent.name", ErrInvalidRequest)
		}
		if len(e.Request.Intent.Name) > maxIDLen {
			return fmt.Errorf("%w: intent name longer than %d bytes", ErrInvalidRequest, maxIDLen)
		}
	}
	if _, err := e.Time(); err != nil {
		return err
	}
	return nil
}

// ResponseEnvelope is the JSON body a skill answers with.
type ResponseEnvelope struct {
	Version           string                     `json:"version"`
	SessionAttributes map[string]json.RawMessage `json:"sessionAttributes,omitempty"`
	Response          Response                   `json:"response"`
}

// Response is the envelope's response object.
type Response struct {
	OutputSpeech     *OutputSpeech `json:"outputSpeech,omitempty"`
	Card             *Card         `json:"card,omitempty"`
	Reprompt         *Reprompt     `json:"reprompt,omitempty"`
	ShouldEndSession *bool         `json:"shouldEndSession,omitempty"`
}

// OutputSpeech is speech of type "SSML" (the connector always sends SSML)
// or "PlainText".
type OutputSpeech struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	SSML string `json:"ssml,omitempty"`
}

// Card is a card shown in the Alexa app: "Simple" (title and content) or
// "LinkAccount".
type Card struct {
	Type    string `json:"type"`
	Title   string `json:"title,omitempty"`
	Content string `json:"content,omitempty"`
}

// Reprompt is what Alexa says when the user does not answer.
type Reprompt struct {
	OutputSpeech *OutputSpeech `json:"outputSpeech"`
}

package slack

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Envelope is the outer body of an Events API request: a url_verification
// challenge, or an event_callback wrapping one event.
type Envelope struct {
	Type           string          `json:"type"`
	Token          string          `json:"token,omitempty"`
	Challenge      string          `json:"challenge,omitempty"`
	TeamID         string          `json:"team_id,omitempty"`
	APIAppID       string          `json:"api_app_id,omitempty"`
	Event          *Event          `json:"event,omitempty"`
	EventID        string          `json:"event_id,omitempty"`
	EventTime      int64           `json:"event_time,omitempty"`
	Authorizations []Authorization `json:"authorizations,omitempty"`
}

// Authorization says for whom an event is delivered: the bot user of the
// installation.
type Authorization struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	IsBot  bool   `json:"is_bot"`
}

// Event is the inner event of an event_callback: a message or an
// app_mention (other types are acknowledged and ignored).
type Event struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype,omitempty"`
	User        string `json:"user,omitempty"`
	BotID       string `json:"bot_id,omitempty"`
	Text        string `json:"text,omitempty"`
	TS          string `json:"ts,omitempty"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	Channel     string `json:"channel,omitempty"`
	ChannelType string `json:"channel_type,omitempty"`
	EventTS     string `json:"event_ts,omitempty"`
	Team        string `json:"team,omitempty"`
}

// Envelope types.
const (
	TypeURLVerification = "url_verification"
	TypeEventCallback   = "event_callback"
)

// ErrPayload is wrapped by the errors of [ParseEnvelope] and
// [ParseInteraction]; they also wrap httpx.ErrBadBody (400).
var ErrPayload = errors.New("slack: malformed payload")

// ParseEnvelope decodes and checks an Events API body: a url_verification
// needs its challenge, an event_callback its event_id and event type.
func ParseEnvelope(body []byte) (*Envelope, error) {
	var e Envelope
	if err := httpx.DecodeJSON(body, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	switch e.Type {
	case TypeURLVerification:
		if e.Challenge == "" {
			return nil, fmt.Errorf("%w: %w: url_verification without a challenge", ErrPayload, httpx.ErrBadBody)
		}
	case TypeEventCallback:
		if e.EventID == "" || e.Event == nil || e.Event.Type == "" {
			return nil, fmt.Errorf("%w: %w: event_callback without event_id or event type", ErrPayload, httpx.ErrBadBody)
		}
	case "":
		return nil, fmt.Errorf("%w: %w: no type", ErrPayload, httpx.ErrBadBody)
	}
	return &e, nil
}

// BotUserID returns the bot user the event was delivered to, "" when the
// envelope does not say.
func (e *Envelope) BotUserID() string {
	for _, a := range e.Authorizations {
		if a.IsBot && a.UserID != "" {
			return a.UserID
		}
	}
	return ""
}

// Interaction is an interactive payload: block_actions when a user clicks
// a button (other types are acknowledged and ignored).
type Interaction struct {
	Type string `json:"type"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username,omitempty"`
	} `json:"user"`
	Channel *struct {
		ID string `json:"id"`
	} `json:"channel,omitempty"`
	Container struct {
		Type      string `json:"type"`
		MessageTS string `json:"message_ts,omitempty"`
		ChannelID string `json:"channel_id,omitempty"`
		ThreadTS  string `json:"thread_ts,omitempty"`
	} `json:"container"`
	Message *struct {
		TS       string `json:"ts,omitempty"`
		ThreadTS string `json:"thread_ts,omitempty"`
	} `json:"message,omitempty"`
	TriggerID   string   `json:"trigger_id,omitempty"`
	ResponseURL string   `json:"response_url,omitempty"`
	Actions     []Action `json:"actions,omitempty"`
}

// Action is one interactive element used.
type Action struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id,omitempty"`
	Value    string `json:"value,omitempty"`
	ActionTS string `json:"action_ts,omitempty"`
	Text     *Text  `json:"text,omitempty"`
}

// TypeBlockActions is the interaction type of a button click.
const TypeBlockActions = "block_actions"

// ChannelID returns the channel the interaction happened in.
func (in *Interaction) ChannelID() string {
	if in.Channel != nil && in.Channel.ID != "" {
		return in.Channel.ID
	}
	return in.Container.ChannelID
}

// ParseInteraction decodes an interactive request body, the form
// payload=<JSON>, and checks that a block_actions payload names its team,
// user and channel.
func ParseInteraction(body []byte) (*Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrPayload, httpx.ErrBadBody, err)
	}
	p := form.Get("payload")
	if p == "" {
		return nil, fmt.Errorf("%w: %w: no payload field", ErrPayload, httpx.ErrBadBody)
	}
	var in Interaction
	if err := httpx.DecodeJSON([]byte(p), &in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if in.Type == "" {
		return nil, fmt.Errorf("%w: %w: payload without a type", ErrPayload, httpx.ErrBadBody)
	}
	if in.Type == TypeBlockActions && (in.Team.ID == "" || in.User.ID == "" || in.ChannelID() == "") {
		return nil, fmt.Errorf("%w: %w: block_actions without team, user or channel", ErrPayload, httpx.ErrBadBody)
	}
	return &in, nil
}

// Outgoing Web API bodies.

// PostMessage is the body of chat.postMessage.
type PostMessage struct {
	Channel  string  `json:"channel"`
	Text     string  `json:"text"`
	Blocks   []Block `json:"blocks,omitempty"`
	ThreadTS string  `json:"thread_ts,omitempty"`
	// UnfurlLinks false keeps Slack from previewing the links of a reply.
	UnfurlLinks bool `json:"unfurl_links"`
}

// Block is a Block Kit layout block: section, actions or image.
type Block struct {
	Type      string    `json:"type"`
	BlockID   string    `json:"block_id,omitempty"`
	Text      *Text     `json:"text,omitempty"`
	Accessory *Element  `json:"accessory,omitempty"`
	Elements  []Element `json:"elements,omitempty"`
	ImageURL  string    `json:"image_url,omitempty"`
	AltText   string    `json:"alt_text,omitempty"`
}

// Text is a Block Kit text object: plain_text or mrkdwn.
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Element is a block element: a button, or an image accessory.
type Element struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	ActionID string `json:"action_id,omitempty"`
	Value    string `json:"value,omitempty"`
	URL      string `json:"url,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	AltText  string `json:"alt_text,omitempty"`
}

// APIResponse is the Web API's answer: ok, or an error code.
type APIResponse struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	// Warning lists non-fatal problems ("missing_charset", …).
	Warning string `json:"warning,omitempty"`
}

package googlechat

import (
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"strings"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// Event types of the interaction events the connector handles.
const (
	TypeMessage          = "MESSAGE"
	TypeAddedToSpace     = "ADDED_TO_SPACE"
	TypeRemovedFromSpace = "REMOVED_FROM_SPACE"
	TypeCardClicked      = "CARD_CLICKED"
)

// ChoiceFunction is the action function of the connector's choice buttons,
// and PayloadParam the parameter holding the choice's payload.
const (
	ChoiceFunction = "parole_choice"
	PayloadParam   = "payload"
)

// Event is a Chat interaction event in the v1 (HTTP endpoint) format.
type Event struct {
	Type      string   `json:"type"`
	EventTime string   `json:"eventTime"`
	Space     *Space   `json:"space"`
	Message   *Message `json:"message"`
	User      *User    `json:"user"`
	Action    *Action  `json:"action"`
	Common    *Common  `json:"common"`
}

// Space is where the event happened.
type Space struct {
	Name            string `json:"name"`
	Type            string `json:"type"`      // ROOM or DM (deprecated)
	SpaceType       string `json:"spaceType"` // SPACE, GROUP_CHAT or DIRECT_MESSAGE
	DisplayName     string `json:"displayName"`
	SingleUserBotDM bool   `json:"singleUserBotDm"`
}

// IsDM reports whether the space is a direct message with the app.
func (s *Space) IsDM() bool {
	return s.SpaceType == "DIRECT_MESSAGE" || s.Type == "DM" || s.SingleUserBotDM
}

// Message is the message that triggered a MESSAGE event.
type Message struct {
	Name         string `json:"name"`
	Sender       *User  `json:"sender"`
	CreateTime   string `json:"createTime"`
	Text         string `json:"text"`
	ArgumentText string `json:"argumentText"`
	Thread       *struct {
		Name string `json:"name"`
	} `json:"thread"`
}

// User is a Chat user (HUMAN or BOT).
type User struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Type        string `json:"type"`
}

// Action is a CARD_CLICKED event's action.
type Action struct {
	ActionMethodName string        `json:"actionMethodName"`
	Parameters       []ActionParam `json:"parameters"`
}

// ActionParam is one key/value of an action.
type ActionParam struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Common is the client's information: locale, time zone, the invoked
// function and its parameters.
type Common struct {
	UserLocale      string            `json:"userLocale"`
	HostApp         string            `json:"hostApp"`
	Platform        string            `json:"platform"`
	InvokedFunction string            `json:"invokedFunction"`
	Parameters      map[string]string `json:"parameters"`
	TimeZone        *struct {
		ID     string `json:"id"`
		Offset int    `json:"offset"`
	} `json:"timeZone"`
}

// ParseEvent parses an interaction event; it needs a type, a space and a
// user. Errors wrap httpx.ErrBadBody and ErrBadRequest.
func ParseEvent(body []byte) (*Event, error) {
	var e Event
	if err := httpx.DecodeJSON(body, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if e.Type == "" || e.Space == nil || e.Space.Name == "" || e.User == nil || e.User.Name == "" {
		return nil, fmt.Errorf("%w: %w: type, space.name and user.name are required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &e, nil
}

// payload is the choice payload of a CARD_CLICKED event.
func (e *Event) payload() string {
	if e.Action != nil {
		for _, p := range e.Action.Parameters {
			if p.Key == PayloadParam {
				return p.Value
			}
		}
	}
	if e.Common != nil {
		return e.Common.Parameters[PayloadParam]
	}
	return ""
}

// Response is the synchronous answer: a Chat message.
type Response struct {
	Text           string          `json:"text,omitempty"`
	CardsV2        []CardWithID    `json:"cardsV2,omitempty"`
	ActionResponse *ActionResponse `json:"actionResponse,omitempty"`
}

// ActionResponse says how the answer is posted.
type ActionResponse struct {
	Type string `json:"type"`
}

// CardWithID is a card of a message.
type CardWithID struct {
	CardID string `json:"cardId"`
	Card   Card   `json:"card"`
}

// Card is a cards v2 card.
type Card struct {
	Header   *CardHeader `json:"header,omitempty"`
	Sections []Section   `json:"sections"`
}

// CardHeader is a card's header.
type CardHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
	ImageURL string `json:"imageUrl,omitempty"`
}

// Section holds widgets.
type Section struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one of a text paragraph, an image or a button list.
type Widget struct {
	TextParagraph *TextParagraph `json:"textParagraph,omitempty"`
	Image         *Image         `json:"image,omitempty"`
	ButtonList    *ButtonList    `json:"buttonList,omitempty"`
}

// TextParagraph is a paragraph of formatted text.
type TextParagraph struct {
	Text string `json:"text"`
}

// Image is an image widget.
type Image struct {
	ImageURL string `json:"imageUrl"`
	AltText  string `json:"altText,omitempty"`
}

// ButtonList is a row of buttons.
type ButtonList struct {
	Buttons []Button `json:"buttons"`
}

// Button is a text button.
type Button struct {
	Text    string  `json:"text"`
	OnClick OnClick `json:"onClick"`
}

// OnClick is what a click does: an action back to the app, or a link.
type OnClick struct {
	Action   *CardAction `json:"action,omitempty"`
	OpenLink *OpenLink   `json:"openLink,omitempty"`
}

// CardAction calls the app's function with parameters.
type CardAction struct {
	Function   string        `json:"function"`
	Parameters []ActionParam `json:"parameters,omitempty"`
}

// OpenLink opens a URL.
type OpenLink struct {
	URL string `json:"url"`
}

// Render turns the replies of one turn into one Chat message: plain
// messages into its text, messages with choices into cards with a text
// paragraph and a button list (a click comes back as CARD_CLICKED with
// function ChoiceFunction and the payload in parameter PayloadParam),
// dialog cards into cards with a header, images into image widgets.
func Render(replies ...dialog.Reply) Response {
	var r Response
	var lines []string
	for _, rep := range replies {
		for _, m := range rep.Messages {
			text := convs.MessageText(m)
			var widgets []Widget
			if len(m.Choices) > 0 {
				if text != "" {
					widgets = append(widgets, Widget{TextParagraph: &TextParagraph{Text: text}})
					text = ""
				}
				widgets = append(widgets, Widget{ButtonList: &ButtonList{Buttons: buttons(m.Choices)}})
			}
			if a := m.Attachment; a != nil {
				if strings.HasPrefix(a.ContentType, "image/") {
					widgets = append(widgets, Widget{Image: &Image{ImageURL: a.URL, AltText: a.Name}})
				} else {
					name := a.Name
					if name == "" {
						name = a.URL
					}
					lines = append(lines, "<"+a.URL+"|"+name+">")
				}
			}
			if text != "" {
				lines = append(lines, text)
			}
			if cd := m.Card; cd != nil {
				c := Card{Header: &CardHeader{Title: cd.Title, Subtitle: cd.Subtitle, ImageURL: cd.ImageURL}}
				if len(cd.Buttons) > 0 {
					c.Sections = []Section{{Widgets: []Widget{{ButtonList: &ButtonList{Buttons: buttons(cd.Buttons)}}}}}
				} else {
					c.Sections = []Section{{Widgets: []Widget{{TextParagraph: &TextParagraph{Text: cd.Title}}}}}
				}
				r.CardsV2 = append(r.CardsV2, CardWithID{CardID: fmt.Sprintf("card%d", len(r.CardsV2)+1), Card: c})
			}
			if len(widgets) > 0 {
				r.CardsV2 = append(r.CardsV2, CardWithID{CardID: fmt.Sprintf("card%d", len(r.CardsV2)+1), Card: Card{Sections: []Section{{Widgets: widgets}}}})
			}
		}
		if rep.Transfer != nil {
			lines = append(lines, "→ "+rep.Transfer.Target)
		}
	}
	r.Text = strings.Join(lines, "\n")
	return r
}

func buttons(choices []dialog.Choice) []Button {
	out := make([]Button, 0, len(choices))
	for _, ch := range choices {
		b := Button{Text: ch.Title}
		if ch.URL != "" {
			b.OnClick.OpenLink = &OpenLink{URL: ch.URL}
		} else {
			b.OnClick.Action = &CardAction{Function: ChoiceFunction, Parameters: []ActionParam{{Key: PayloadParam, Value: ch.Value()}}}
		}
		out = append(out, b)
	}
	return out
}

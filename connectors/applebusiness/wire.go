package applebusiness

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"strings"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// Message types of the contract.
const (
	TypeText        = "text"
	TypeInteractive = "interactive"
	TypeClose       = "close"
)

// ListPickerBID is the balloon id Apple gives the list picker.
const ListPickerBID = "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.icloud.apps.messages.business.extension"

// Inbound is a message the provider posts: from a customer (sourceId, the
// opaque Messages for Business user id) to the business (destinationId).
type Inbound struct {
	ID              string           `json:"id"`
	SourceID        string           `json:"sourceId"`
	DestinationID   string           `json:"destinationId"`
	Type            string           `json:"type"`
	Body            string           `json:"body"`
	Locale          string           `json:"locale"`
	InteractiveData *InteractiveData `json:"interactiveData"`
}

// ParseInbound parses an inbound message; it needs an id, a source, a
// destination and a type. Errors wrap httpx.ErrBadBody and ErrBadRequest.
func ParseInbound(body []byte) (*Inbound, error) {
	var m Inbound
	if err := httpx.DecodeJSON(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if m.ID == "" || m.SourceID == "" || m.DestinationID == "" || m.Type == "" {
		return nil, fmt.Errorf("%w: %w: id, sourceId, destinationId and type are required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &m, nil
}

// Selected returns the identifiers of the list picker items a customer's
// interactive reply selected: the items marked "selected": true, or all
// its items when none carries the mark.
func (m *Inbound) Selected() []string {
	if m.InteractiveData == nil || m.InteractiveData.Data.ListPicker == nil {
		return nil
	}
	var all, marked []string
	hasMark := false
	for _, s := range m.InteractiveData.Data.ListPicker.Sections {
		for _, it := range s.Items {
			if it.Identifier == "" {
				continue
			}
			all = append(all, it.Identifier)
			if it.Selected != nil {
				hasMark = true
				if *it.Selected {
					marked = append(marked, it.Identifier)
				}
			}
		}
	}
	if hasMark {
		return marked
	}
	return all
}

// Outbound is a message the connector posts to the provider: from the
// business (sourceId) to the customer (destinationId).
type Outbound struct {
	ID              string           `json:"id"`
	SourceID        string           `json:"sourceId"`
	DestinationID   string           `json:"destinationId"`
	Type            string           `json:"type"`
	Body            string           `json:"body"`
	InteractiveData *InteractiveData `json:"interactiveData,omitempty"`
}

// InteractiveData is an interactive message: a list picker, with the
// bubble the customer sees (receivedMessage) and the one their answer
// shows (replyMessage), as in Apple's interactive message format.
type InteractiveData struct {
	BID  string          `json:"bid,omitempty"`
	Data InteractiveBody `json:"data"`
}

// InteractiveBody is the interactive message's data.
type InteractiveBody struct {
	Version           string      `json:"version,omitempty"`
	RequestIdentifier string      `json:"requestIdentifier,omitempty"`
	ListPicker        *ListPicker `json:"listPicker,omitempty"`
	ReceivedMessage   *Bubble     `json:"receivedMessage,omitempty"`
	ReplyMessage      *Bubble     `json:"replyMessage,omitempty"`
}

// ListPicker is a list of sections of items.
type ListPicker struct {
	Sections []Section `json:"sections"`
}

// Section is a titled group of items.
type Section struct {
	Title             string `json:"title,omitempty"`
	Order             int    `json:"order"`
	MultipleSelection bool   `json:"multipleSelection"`
	Items             []Item `json:"items"`
}

// Item is one pickable item.
type Item struct {
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
	Order      int    `json:"order,omitempty"`
	Style      string `json:"style,omitempty"`
	Selected   *bool  `json:"selected,omitempty"`
}

// Bubble is the layout of a message bubble.
type Bubble struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
	Style    string `json:"style,omitempty"`
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Render turns a reply into outbound messages to customer from business:
// a text message per message, and a list picker (one section, or the
// card's titled section) for choices — its items' identifiers are the
// choices' payloads, which come back in the customer's selection. URL
// choices and files are sent as text links (rich links are not rendered).
func Render(business, customer string, r dialog.Reply) []Outbound {
	var out []Outbound
	text := func(s string) {
		if s != "" {
			out = append(out, Outbound{ID: newID(), SourceID: business, DestinationID: customer, Type: TypeText, Body: s})
		}
	}
	picker := func(title, subtitle string, choices []dialog.Choice) {
		var items []Item
		for i, ch := range choices {
			if ch.URL != "" {
				text(ch.Title + ": " + ch.URL)
				continue
			}
			items = append(items, Item{Identifier: ch.Value(), Title: ch.Title, Order: i, Style: "default"})
		}
		if len(items) == 0 {
			return
		}
		if title == "" {
			title = "Choose"
		}
		out = append(out, Outbound{ID: newID(), SourceID: business, DestinationID: customer, Type: TypeInteractive,
			Body: fallback(title, items),
			InteractiveData: &InteractiveData{BID: ListPickerBID, Data: InteractiveBody{
				Version: "1.0", RequestIdentifier: newID(),
				ListPicker:      &ListPicker{Sections: []Section{{Title: subtitle, Items: items}}},
				ReceivedMessage: &Bubble{Title: title, Style: "icon"},
				ReplyMessage:    &Bubble{Title: "Selected", Style: "icon"},
			}}})
	}
	for _, m := range r.Messages {
		t := convs.MessageText(m)
		if len(m.Choices) > 0 {
			text(t)
			picker(shorten(t, 85), "", m.Choices)
		} else {
			text(t)
		}
		if cd := m.Card; cd != nil {
			if len(cd.Buttons) == 0 {
				text(strings.TrimSpace(cd.Title + "\n" + cd.Subtitle))
			} else {
				picker(cd.Title, cd.Subtitle, cd.Buttons)
			}
		}
		if a := m.Attachment; a != nil {
			if a.Name != "" {
				text(a.Name + ": " + a.URL)
			} else {
				text(a.URL)
			}
		}
	}
	if r.Transfer != nil {
		text("→ " + r.Transfer.Target)
	}
	return out
}

// fallback is the body of a list picker for devices that cannot show it.
func fallback(title string, items []Item) string {
	var b strings.Builder
	b.WriteString(title)
	for _, it := range items {
		b.WriteString("\n- ")
		b.WriteString(it.Title)
	}
	return b.String()
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

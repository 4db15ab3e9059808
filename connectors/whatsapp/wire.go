package whatsapp

import (
	"errors"
	"fmt"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Webhook is the body Meta posts for a WhatsApp Business Account
// subscription: object "whatsapp_business_account" and its entries.
type Webhook struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one business account's batch of changes.
type Entry struct {
	// ID is the WhatsApp Business Account id.
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

// Change is one change: field "messages" carries messages and statuses.
type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

// Value is the content of a messages change.
type Value struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts,omitempty"`
	Messages         []Message `json:"messages,omitempty"`
	// Statuses (sent, delivered, read, failed) are ignored.
	Statuses []map[string]any `json:"statuses,omitempty"`
}

// Metadata names the business phone number the change is for.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is the sender's profile.
type Contact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

// Message is a received message.
type Message struct {
	From        string       `json:"from"`
	ID          string       `json:"id"`
	Timestamp   string       `json:"timestamp"`
	Type        string       `json:"type"`
	Text        *Text        `json:"text,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	Button      *TemplateBtn `json:"button,omitempty"`
	Context     *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context,omitempty"`
}

// Text is a text message's content.
type Text struct {
	Body string `json:"body"`
}

// Interactive is the reply to an interactive message: a reply button or a
// list row.
type Interactive struct {
	Type        string `json:"type"`
	ButtonReply *Reply `json:"button_reply,omitempty"`
	ListReply   *Reply `json:"list_reply,omitempty"`
}

// Reply is the button or row the user picked.
type Reply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// TemplateBtn is the quick-reply button of a template message the user
// tapped.
type TemplateBtn struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// ErrWebhook is wrapped by the errors of [Parse]; they also wrap
// httpx.ErrBadBody (400).
var ErrWebhook = errors.New("whatsapp: malformed webhook")

// Parse decodes and checks a webhook body: object
// "whatsapp_business_account", every message with a sender, an id and a
// type, in a change naming its phone number id.
func Parse(body []byte) (*Webhook, error) {
	var wh Webhook
	if err := httpx.DecodeJSON(body, &wh); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebhook, err)
	}
	if wh.Object != "whatsapp_business_account" {
		return nil, fmt.Errorf("%w: %w: object %q, want whatsapp_business_account", ErrWebhook, httpx.ErrBadBody, wh.Object)
	}
	for i, e := range wh.Entry {
		for j, ch := range e.Changes {
			if len(ch.Value.Messages) > 0 && ch.Value.Metadata.PhoneNumberID == "" {
				return nil, fmt.Errorf("%w: %w: entry %d change %d: messages without metadata.phone_number_id", ErrWebhook, httpx.ErrBadBody, i, j)
			}
			for k, m := range ch.Value.Messages {
				if m.From == "" || m.ID == "" || m.Type == "" {
					return nil, fmt.Errorf("%w: %w: entry %d change %d message %d: from, id and type are required", ErrWebhook, httpx.ErrBadBody, i, j, k)
				}
			}
		}
	}
	return &wh, nil
}

// Outgoing Cloud API bodies.

// OutMessage is the body of POST /{version}/{phone-number-id}/messages.
type OutMessage struct {
	MessagingProduct string          `json:"messaging_product"`
	RecipientType    string          `json:"recipient_type,omitempty"`
	To               string          `json:"to,omitempty"`
	Type             string          `json:"type,omitempty"`
	Text             *OutText        `json:"text,omitempty"`
	Interactive      *OutInteractive `json:"interactive,omitempty"`
	Image            *Media          `json:"image,omitempty"`
	Audio            *Media          `json:"audio,omitempty"`
	Video            *Media          `json:"video,omitempty"`
	Document         *Media          `json:"document,omitempty"`
	// Status "read" with MessageID marks a received message read.
	Status          string           `json:"status,omitempty"`
	MessageID       string           `json:"message_id,omitempty"`
	TypingIndicator *TypingIndicator `json:"typing_indicator,omitempty"`
}

// OutText is a text message.
type OutText struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

// Media is an image, audio, video or document sent by link.
type Media struct {
	Link     string `json:"link"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// TypingIndicator shows the user that a reply is being written.
type TypingIndicator struct {
	Type string `json:"type"`
}

// OutInteractive is an interactive message: reply buttons, a list or a
// call-to-action URL button.
type OutInteractive struct {
	Type   string    `json:"type"`
	Header *Header   `json:"header,omitempty"`
	Body   BodyText  `json:"body"`
	Footer *BodyText `json:"footer,omitempty"`
	Action Action    `json:"action"`
}

// Header is an interactive message's header: text or an image.
type Header struct {
	Type  string `json:"type"`
	Text  string `json:"text,omitempty"`
	Image *Media `json:"image,omitempty"`
}

// BodyText is a body or footer.
type BodyText struct {
	Text string `json:"text"`
}

// Action holds the buttons, the list sections, or the URL.
type Action struct {
	Buttons    []OutButton `json:"buttons,omitempty"`
	Button     string      `json:"button,omitempty"`
	Sections   []Section   `json:"sections,omitempty"`
	Name       string      `json:"name,omitempty"`
	Parameters *CTAParams  `json:"parameters,omitempty"`
}

// OutButton is a reply button.
type OutButton struct {
	Type  string `json:"type"`
	Reply Reply  `json:"reply"`
}

// Section is a list section.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is a list row.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// CTAParams is a call-to-action URL button.
type CTAParams struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// SendResponse is the Cloud API's answer to a message.
type SendResponse struct {
	MessagingProduct string `json:"messaging_product"`
	Contacts         []struct {
		Input string `json:"input"`
		WaID  string `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

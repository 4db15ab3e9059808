package messenger

import (
	"errors"
	"fmt"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Webhook is the body Meta posts for a Page subscription: object "page"
// and its entries.
type Webhook struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one Page's batch of events.
type Entry struct {
	// ID is the Page id.
	ID string `json:"id"`
	// Time is when the batch was sent, in milliseconds since the epoch.
	Time      int64       `json:"time"`
	Messaging []Messaging `json:"messaging"`
}

// Messaging is one event: a message, a postback, or something the
// connector ignores (delivery, read, reaction, …).
type Messaging struct {
	Sender    Party `json:"sender"`
	Recipient Party `json:"recipient"`
	// Timestamp in milliseconds since the epoch.
	Timestamp int64     `json:"timestamp"`
	Message   *Message  `json:"message,omitempty"`
	Postback  *Postback `json:"postback,omitempty"`
}

// Party is a sender or recipient: a PSID or the Page id.
type Party struct {
	ID string `json:"id"`
}

// Message is a received message.
type Message struct {
	MID         string       `json:"mid"`
	Text        string       `json:"text,omitempty"`
	IsEcho      bool         `json:"is_echo,omitempty"`
	QuickReply  *QuickReply  `json:"quick_reply,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// QuickReply is the quick reply the user tapped.
type QuickReply struct {
	Payload string `json:"payload"`
}

// Attachment is a file the user sent.
type Attachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL string `json:"url,omitempty"`
	} `json:"payload"`
}

// Postback is a postback button tapped (including Get Started).
type Postback struct {
	MID     string `json:"mid,omitempty"`
	Title   string `json:"title,omitempty"`
	Payload string `json:"payload"`
}

// ErrWebhook is wrapped by the errors of [Parse]; they also wrap
// httpx.ErrBadBody (400).
var ErrWebhook = errors.New("messenger: malformed webhook")

// Parse decodes and checks a webhook body: object "page", every messaging
// event with a sender and a recipient, every message with an id.
func Parse(body []byte) (*Webhook, error) {
	var wh Webhook
	if err := httpx.DecodeJSON(body, &wh); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebhook, err)
	}
	if wh.Object != "page" {
		return nil, fmt.Errorf("%w: %w: object %q, want page", ErrWebhook, httpx.ErrBadBody, wh.Object)
	}
	for i, e := range wh.Entry {
		for j, m := range e.Messaging {
			if m.Sender.ID == "" || m.Recipient.ID == "" {
				return nil, fmt.Errorf("%w: %w: entry %d messaging %d: no sender or recipient", ErrWebhook, httpx.ErrBadBody, i, j)
			}
			if m.Message != nil && m.Message.MID == "" {
				return nil, fmt.Errorf("%w: %w: entry %d messaging %d: message without mid", ErrWebhook, httpx.ErrBadBody, i, j)
			}
		}
	}
	return &wh, nil
}

// Outgoing Send API bodies.

// SendRequest is the body of POST /{version}/me/messages.
type SendRequest struct {
	Recipient     Party       `json:"recipient"`
	MessagingType string      `json:"messaging_type,omitempty"`
	Message       *OutMessage `json:"message,omitempty"`
	SenderAction  string      `json:"sender_action,omitempty"`
}

// OutMessage is a message the bot sends: text or an attachment, with
// optional quick replies.
type OutMessage struct {
	Text         string          `json:"text,omitempty"`
	Attachment   *OutAttachment  `json:"attachment,omitempty"`
	QuickReplies []OutQuickReply `json:"quick_replies,omitempty"`
}

// OutQuickReply is a text quick reply.
type OutQuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
	ImageURL    string `json:"image_url,omitempty"`
}

// OutAttachment is a file or a template.
type OutAttachment struct {
	Type    string         `json:"type"`
	Payload AttachmentBody `json:"payload"`
}

// AttachmentBody is the payload of an [OutAttachment]: a URL for files,
// template fields for templates.
type AttachmentBody struct {
	URL          string    `json:"url,omitempty"`
	IsReusable   bool      `json:"is_reusable,omitempty"`
	TemplateType string    `json:"template_type,omitempty"`
	Text         string    `json:"text,omitempty"`
	Buttons      []Button  `json:"buttons,omitempty"`
	Elements     []Element `json:"elements,omitempty"`
}

// Button is a template button: web_url or postback.
type Button struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	URL     string `json:"url,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// Element is a generic template element (a card).
type Element struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// SendResponse is the Send API's answer.
type SendResponse struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

package rocketchat

import (
	"encoding/json"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// Webhook is the request of an outgoing integration ("Message Sent"
// event). Rocket.Chat may add more fields (the user, the room), which are
// ignored.
type Webhook struct {
	Token       string          `json:"token"`
	Bot         json.RawMessage `json:"bot"`
	ChannelID   string          `json:"channel_id"`
	ChannelName string          `json:"channel_name"`
	MessageID   string          `json:"message_id"`
	Timestamp   string          `json:"timestamp"`
	UserID      string          `json:"user_id"`
	UserName    string          `json:"user_name"`
	Text        string          `json:"text"`
	SiteURL     string          `json:"siteUrl"`
	TMID        string          `json:"tmid"`
}

// IsBot reports whether the message comes from a bot: Rocket.Chat sets
// "bot" to false for people and to an object for bots and integrations.
func (m *Webhook) IsBot() bool {
	b := strings.TrimSpace(string(m.Bot))
	return b != "" && b != "false" && b != "null"
}

func (m *Webhook) time(now time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
		return t
	}
	return now
}

// ParseWebhook parses an outgoing integration's JSON body; it needs a
// channel and a user. Errors wrap httpx.ErrBadBody and ErrBadRequest.
func ParseWebhook(body []byte) (*Webhook, error) {
	var m Webhook
	if err := httpx.DecodeJSON(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if m.ChannelID == "" || m.UserID == "" {
		return nil, fmt.Errorf("%w: %w: channel_id and user_id are required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &m, nil
}

// PostMessage is the body of POST /api/v1/chat.postMessage.
type PostMessage struct {
	RoomID      string       `json:"roomId"`
	Text        string       `json:"text,omitempty"`
	TMID        string       `json:"tmid,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a message attachment, with action buttons.
type Attachment struct {
	Title           string   `json:"title,omitempty"`
	TitleLink       string   `json:"title_link,omitempty"`
	Text            string   `json:"text,omitempty"`
	ImageURL        string   `json:"image_url,omitempty"`
	ButtonAlignment string   `json:"button_alignment,omitempty"`
	Actions         []Action `json:"actions,omitempty"`
}

// Action is an attachment button: a reply button sends Msg in the room as
// the user (msg_in_chat_window), a link button opens URL.
type Action struct {
	Type              string `json:"type"`
	Text              string `json:"text"`
	Msg               string `json:"msg,omitempty"`
	MsgInChatWindow   bool   `json:"msg_in_chat_window,omitempty"`
	MsgProcessingType string `json:"msg_processing_type,omitempty"`
	URL               string `json:"url,omitempty"`
}

// Render turns a reply into chat.postMessage bodies, one per message.
// Choices become buttons that send their title in the room as the user —
// the connector maps that text back to the choice; URL choices become
// link buttons; a card an attachment with title, text, image and buttons.
func Render(roomID, tmid string, r dialog.Reply) []PostMessage {
	var out []PostMessage
	for _, m := range r.Messages {
		p := PostMessage{RoomID: roomID, TMID: tmid, Text: convs.MessageText(m)}
		if cd := m.Card; cd != nil {
			p.Attachments = append(p.Attachments, Attachment{Title: cd.Title, Text: cd.Subtitle, ImageURL: cd.ImageURL,
				ButtonAlignment: "vertical", Actions: buttons(cd.Buttons)})
		}
		if len(m.Choices) > 0 {
			p.Attachments = append(p.Attachments, Attachment{ButtonAlignment: "vertical", Actions: buttons(m.Choices)})
		}
		if a := m.Attachment; a != nil {
			att := Attachment{Title: a.Name, TitleLink: a.URL}
			if strings.HasPrefix(a.ContentType, "image/") {
				att.ImageURL = a.URL
			}
			if att.Title == "" {
				att.Title = a.URL
			}
			p.Attachments = append(p.Attachments, att)
		}
		if p.Text == "" && len(p.Attachments) == 0 {
			continue
		}
		out = append(out, p)
	}
	if r.Transfer != nil {
		out = append(out, PostMessage{RoomID: roomID, TMID: tmid, Text: "→ " + r.Transfer.Target})
	}
	return out
}

func buttons(choices []dialog.Choice) []Action {
	var out []Action
	for _, ch := range choices {
		if ch.URL != "" {
			out = append(out, Action{Type: "button", Text: ch.Title, URL: ch.URL})
			continue
		}
		out = append(out, Action{Type: "button", Text: ch.Title, Msg: ch.Title, MsgInChatWindow: true, MsgProcessingType: "sendMessage"})
	}
	return out
}

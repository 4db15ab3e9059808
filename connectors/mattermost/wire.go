package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// Webhook is the outgoing webhook's request, form-encoded or JSON as the
// webhook is configured.
type Webhook struct {
	Token       string `json:"token"`
	TeamID      string `json:"team_id"`
	TeamDomain  string `json:"team_domain"`
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	Timestamp   any    `json:"timestamp"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	PostID      string `json:"post_id"`
	Text        string `json:"text"`
	TriggerWord string `json:"trigger_word"`
	FileIDs     string `json:"file_ids"`
}

// time is the post's time (timestamp in seconds or milliseconds), or now.
func (p *Webhook) time(now time.Time) time.Time {
	var n int64
	switch v := p.Timestamp.(type) {
	case string:
		n, _ = strconv.ParseInt(v, 10, 64)
	case json.Number:
		n, _ = v.Int64()
	}
	switch {
	case n > 1e12:
		return time.UnixMilli(n).UTC()
	case n > 0:
		return time.Unix(n, 0).UTC()
	}
	return now
}

// ParseWebhook parses an outgoing webhook's body of media type mt
// ("application/json" or "application/x-www-form-urlencoded"). It needs a
// channel and a user; errors wrap httpx.ErrBadBody and ErrBadRequest.
func ParseWebhook(body []byte, mt string) (*Webhook, error) {
	var p Webhook
	if mt == "application/x-www-form-urlencoded" {
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %w: form: %w", httpx.ErrBadBody, ErrBadRequest, err)
		}
		p = Webhook{Token: q.Get("token"), TeamID: q.Get("team_id"), TeamDomain: q.Get("team_domain"),
			ChannelID: q.Get("channel_id"), ChannelName: q.Get("channel_name"), Timestamp: q.Get("timestamp"),
			UserID: q.Get("user_id"), UserName: q.Get("user_name"), PostID: q.Get("post_id"), Text: q.Get("text"),
			TriggerWord: q.Get("trigger_word"), FileIDs: q.Get("file_ids")}
	} else if err := httpx.DecodeJSON(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p.ChannelID == "" || p.UserID == "" {
		return nil, fmt.Errorf("%w: %w: channel_id and user_id are required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &p, nil
}

// Action is the request Mattermost posts to a button's integration URL
// when the user clicks it.
type Action struct {
	UserID      string        `json:"user_id"`
	UserName    string        `json:"user_name"`
	ChannelID   string        `json:"channel_id"`
	ChannelName string        `json:"channel_name"`
	TeamID      string        `json:"team_id"`
	TeamDomain  string        `json:"team_domain"`
	PostID      string        `json:"post_id"`
	TriggerID   string        `json:"trigger_id"`
	Type        string        `json:"type"`
	DataSource  string        `json:"data_source"`
	Context     ActionContext `json:"context"`
}

// ActionContext is the context the connector puts in each button: the
// choice's payload and an HMAC binding it to the channel and thread.
type ActionContext struct {
	Payload string `json:"payload"`
	RootID  string `json:"root_id,omitempty"`
	Sig     string `json:"sig"`
}

// ParseAction parses a button action request; errors wrap
// httpx.ErrBadBody and ErrBadRequest.
func ParseAction(body []byte) (*Action, error) {
	var a Action
	if err := httpx.DecodeJSON(body, &a); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if a.ChannelID == "" || a.UserID == "" || a.Context.Payload == "" {
		return nil, fmt.Errorf("%w: %w: channel_id, user_id and context.payload are required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &a, nil
}

// Post is the body of POST /api/v4/posts.
type Post struct {
	ChannelID string     `json:"channel_id"`
	Message   string     `json:"message"`
	RootID    string     `json:"root_id,omitempty"`
	Props     *PostProps `json:"props,omitempty"`
}

// PostProps holds a post's message attachments.
type PostProps struct {
	Attachments []Attachment `json:"attachments"`
}

// Attachment is a message attachment (Slack-compatible) with buttons.
type Attachment struct {
	Fallback  string       `json:"fallback,omitempty"`
	Title     string       `json:"title,omitempty"`
	TitleLink string       `json:"title_link,omitempty"`
	Text      string       `json:"text,omitempty"`
	ImageURL  string       `json:"image_url,omitempty"`
	Actions   []PostAction `json:"actions,omitempty"`
}

// PostAction is a message button.
type PostAction struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Type        string             `json:"type,omitempty"`
	Integration *ActionIntegration `json:"integration,omitempty"`
}

// ActionIntegration says where a click goes and with what context.
type ActionIntegration struct {
	URL     string        `json:"url"`
	Context ActionContext `json:"context"`
}

// Render turns a reply into posts for a channel (and thread): one post per
// message; choices become buttons when ActionURL is set, a numbered list
// otherwise; a card an attachment; a URL choice a markdown link.
func (c *Connector) Render(channelID, rootID string, r dialog.Reply) []Post {
	var out []Post
	for _, m := range r.Messages {
		p := Post{ChannelID: channelID, RootID: rootID, Message: convs.MessageText(m)}
		var att *Attachment
		if m.Card != nil {
			att = &Attachment{Fallback: m.Card.Title, Title: m.Card.Title, Text: m.Card.Subtitle, ImageURL: m.Card.ImageURL}
			p.Message, att.Actions = c.choices(p.Message, channelID, rootID, m.Card.Buttons, att)
		}
		if len(m.Choices) > 0 {
			if att == nil {
				att = &Attachment{Fallback: p.Message}
			}
			p.Message, att.Actions = c.choices(p.Message, channelID, rootID, m.Choices, att)
		}
		if a := m.Attachment; a != nil {
			if strings.HasPrefix(a.ContentType, "image/") {
				if att == nil {
					att = &Attachment{Fallback: a.Name}
				}
				att.ImageURL = a.URL
			} else {
				p.Message = joinLines(p.Message, fmt.Sprintf("[%s](%s)", mdLabel(a.Name, a.URL), a.URL))
			}
		}
		if att != nil && (len(att.Actions) > 0 || att.Title != "" || att.ImageURL != "" || att.Text != "") {
			p.Props = &PostProps{Attachments: []Attachment{*att}}
		}
		if p.Message == "" && p.Props == nil {
			continue
		}
		out = append(out, p)
	}
	if r.Transfer != nil {
		out = append(out, Post{ChannelID: channelID, RootID: rootID, Message: "→ " + r.Transfer.Target})
	}
	return out
}

// choices renders choices as buttons (or as text), returning the message
// text and the buttons.
func (c *Connector) choices(text, channelID, rootID string, choices []dialog.Choice, att *Attachment) (string, []PostAction) {
	var actions []PostAction
	n := 0
	for _, ch := range choices {
		if ch.URL != "" {
			text = joinLines(text, fmt.Sprintf("[%s](%s)", mdLabel(ch.Title, ch.URL), ch.URL))
			continue
		}
		n++
		if c.cfg.ActionURL == "" {
			text = joinLines(text, fmt.Sprintf("%d. %s", n, ch.Title))
			continue
		}
		actions = append(actions, PostAction{
			ID:   fmt.Sprintf("choice%d", n),
			Name: ch.Title,
			Type: "button",
			Integration: &ActionIntegration{URL: c.cfg.ActionURL, Context: ActionContext{
				Payload: ch.Value(), RootID: rootID, Sig: c.sign(channelID, rootID, ch.Value()),
			}},
		})
	}
	return text, actions
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

func mdLabel(name, u string) string {
	if name == "" {
		name = u
	}
	return strings.NewReplacer("[", "(", "]", ")").Replace(name)
}

// Post sends one post with the bot's token: POST {server}/api/v4/posts,
// retried on network errors, 429 (after Retry-After) and 5xx.
func (c *Connector) Post(ctx context.Context, p Post) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = c.retry.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ServerURL+"/api/v4/posts", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.BotToken)
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	})
	return err
}

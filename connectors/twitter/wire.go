package twitter

import (
	"fmt"
	"github.com/parole-voice/parole/connectors/internal/convs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// Events is an Account Activity API delivery. Only direct_message_events
// are used; the other activities (tweets, follows, typing, …) are
// accepted and ignored.
type Events struct {
	ForUserID           string           `json:"for_user_id"`
	DirectMessageEvents []DMEvent        `json:"direct_message_events"`
	Users               map[string]*User `json:"users"`
}

// DMEvent is a direct message event.
type DMEvent struct {
	Type             string         `json:"type"`
	ID               string         `json:"id"`
	CreatedTimestamp string         `json:"created_timestamp"`
	MessageCreate    *MessageCreate `json:"message_create"`
}

func (e *DMEvent) time(now time.Time) time.Time {
	if ms, err := strconv.ParseInt(e.CreatedTimestamp, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return now
}

// MessageCreate is a message_create: who sent what to whom.
type MessageCreate struct {
	Target struct {
		RecipientID string `json:"recipient_id"`
	} `json:"target"`
	SenderID    string      `json:"sender_id"`
	SourceAppID string      `json:"source_app_id"`
	MessageData MessageData `json:"message_data"`
}

// MessageData is a message's content.
type MessageData struct {
	Text               string              `json:"text"`
	QuickReplyResponse *QuickReplyResponse `json:"quick_reply_response"`
}

// QuickReplyResponse is the quick-reply option a user picked.
type QuickReplyResponse struct {
	Type     string `json:"type"`
	Metadata string `json:"metadata"`
}

// User is a hydrated user of a delivery.
type User struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ScreenName string `json:"screen_name"`
}

// ParseEvents parses an Account Activity delivery; it needs for_user_id.
// Errors wrap httpx.ErrBadBody and ErrBadRequest.
func ParseEvents(body []byte) (*Events, error) {
	var p Events
	if err := httpx.DecodeJSON(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p.ForUserID == "" {
		return nil, fmt.Errorf("%w: %w: for_user_id is required", httpx.ErrBadBody, ErrBadRequest)
	}
	return &p, nil
}

// Render turns a reply into direct message texts, one per message. The
// v2 send endpoint has no quick replies, so choices are a numbered list
// the user answers by number or title; URL choices, cards' buttons and
// attachments are shown with their links. Each text is cut to
// MaxDMLength characters.
func Render(r dialog.Reply) []string {
	var out []string
	for _, m := range r.Messages {
		var b strings.Builder
		add := func(s string) {
			if s == "" {
				return
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(s)
		}
		add(convs.MessageText(m))
		n := 0
		list := func(choices []dialog.Choice) {
			for _, ch := range choices {
				if ch.URL != "" {
					add(ch.Title + ": " + ch.URL)
					continue
				}
				n++
				add(strconv.Itoa(n) + ". " + ch.Title)
			}
		}
		if cd := m.Card; cd != nil {
			add(cd.Title)
			add(cd.Subtitle)
			add(cd.ImageURL)
			list(cd.Buttons)
		}
		list(m.Choices)
		if a := m.Attachment; a != nil {
			if a.Name != "" {
				add(a.Name + ": " + a.URL)
			} else {
				add(a.URL)
			}
		}
		if b.Len() > 0 {
			out = append(out, truncate(b.String(), MaxDMLength))
		}
	}
	if r.Transfer != nil {
		out = append(out, "→ "+r.Transfer.Target)
	}
	return out
}

// truncate cuts s to at most n characters, on a character boundary.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Activity types of the Bot Framework v3 schema the connector handles.
const (
	TypeMessage            = "message"
	TypeConversationUpdate = "conversationUpdate"
	TypeInvoke             = "invoke"
	TypeMessageReaction    = "messageReaction"
	TypeTyping             = "typing"
)

// Conversation types of Teams (conversation.conversationType).
const (
	ConversationPersonal  = "personal"
	ConversationGroupChat = "groupChat"
	ConversationChannel   = "channel"
)

// InvokeAdaptiveCardAction is the name of the invoke activity an Adaptive
// Card's Action.Execute sends (Universal Actions).
const InvokeAdaptiveCardAction = "adaptiveCard/action"

// ChoiceKey is the key of the card action data that carries a choice's
// payload: messageBack buttons and Action.Submit send {"choice": payload}
// back in the activity's value.
const ChoiceKey = "choice"

// Activity is a Bot Framework v3 activity, with the fields Teams uses. It
// is both what Teams posts to the bot and what the bot posts back.
type Activity struct {
	Type             string               `json:"type"`
	ID               string               `json:"id,omitempty"`
	Name             string               `json:"name,omitempty"`
	Timestamp        *time.Time           `json:"timestamp,omitempty"`
	LocalTimestamp   string               `json:"localTimestamp,omitempty"`
	ServiceURL       string               `json:"serviceUrl,omitempty"`
	ChannelID        string               `json:"channelId,omitempty"`
	From             *ChannelAccount      `json:"from,omitempty"`
	Conversation     *ConversationAccount `json:"conversation,omitempty"`
	Recipient        *ChannelAccount      `json:"recipient,omitempty"`
	TextFormat       string               `json:"textFormat,omitempty"`
	AttachmentLayout string               `json:"attachmentLayout,omitempty"`
	Text             string               `json:"text,omitempty"`
	Attachments      []Attachment         `json:"attachments,omitempty"`
	Entities         []Entity             `json:"entities,omitempty"`
	ChannelData      *ChannelData         `json:"channelData,omitempty"`
	Locale           string               `json:"locale,omitempty"`
	ReplyToID        string               `json:"replyToId,omitempty"`
	Value            json.RawMessage      `json:"value,omitempty"`
	MembersAdded     []ChannelAccount     `json:"membersAdded,omitempty"`
	MembersRemoved   []ChannelAccount     `json:"membersRemoved,omitempty"`
	ReactionsAdded   []MessageReaction    `json:"reactionsAdded,omitempty"`
	ReactionsRemoved []MessageReaction    `json:"reactionsRemoved,omitempty"`
}

// ChannelAccount is a user or bot on the channel.
type ChannelAccount struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// ConversationAccount is the conversation an activity belongs to.
type ConversationAccount struct {
	ID               string `json:"id"`
	Name             string `json:"name,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
}

// Entity is an entry of an activity's entities: a "mention" (Mentioned,
// Text) or a "clientInfo" (Locale, Country, Platform, Timezone).
type Entity struct {
	Type      string          `json:"type"`
	Mentioned *ChannelAccount `json:"mentioned,omitempty"`
	Text      string          `json:"text,omitempty"`
	Locale    string          `json:"locale,omitempty"`
	Country   string          `json:"country,omitempty"`
	Platform  string          `json:"platform,omitempty"`
	Timezone  string          `json:"timezone,omitempty"`
}

// ChannelData is Teams' channelData: the tenant, and for channels the team
// and channel; EventType names conversationUpdate events.
type ChannelData struct {
	EventType string       `json:"eventType,omitempty"`
	Tenant    *TenantInfo  `json:"tenant,omitempty"`
	Team      *TeamInfo    `json:"team,omitempty"`
	Channel   *ChannelInfo `json:"channel,omitempty"`
}

// TenantInfo names an Entra ID (Azure AD) tenant.
type TenantInfo struct {
	ID string `json:"id"`
}

// TeamInfo names a team.
type TeamInfo struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

// ChannelInfo names a channel of a team.
type ChannelInfo struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// MessageReaction is a reaction (like, heart, …) to a message.
type MessageReaction struct {
	Type string `json:"type"`
}

// Attachment is a file or card of an activity.
type Attachment struct {
	ContentType  string `json:"contentType"`
	ContentURL   string `json:"contentUrl,omitempty"`
	Content      any    `json:"content,omitempty"`
	Name         string `json:"name,omitempty"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
}

// ResourceResponse is the Connector API's answer to a sent activity.
type ResourceResponse struct {
	ID string `json:"id"`
}

// ConversationParameters is the body of POST /v3/conversations.
type ConversationParameters struct {
	Bot         ChannelAccount   `json:"bot"`
	Members     []ChannelAccount `json:"members,omitempty"`
	ChannelData *ChannelData     `json:"channelData,omitempty"`
	IsGroup     bool             `json:"isGroup"`
	TenantID    string           `json:"tenantId,omitempty"`
	Activity    *Activity        `json:"activity,omitempty"`
}

// ConversationResourceResponse is the answer of POST /v3/conversations.
type ConversationResourceResponse struct {
	ID         string `json:"id"`
	ActivityID string `json:"activityId,omitempty"`
	ServiceURL string `json:"serviceUrl,omitempty"`
}

// InvokeResponse is the body of the answer to an adaptiveCard/action invoke
// (AdaptiveCardInvokeResponse).
type InvokeResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value,omitempty"`
}

// ErrActivity is wrapped by the errors of [ParseActivity]; it wraps
// httpx.ErrBadBody, so the connector answers 400.
var ErrActivity = fmt.Errorf("teams: malformed activity: %w", httpx.ErrBadBody)

// ParseActivity decodes and checks an incoming activity: one JSON object
// with a type, and for the types the connector acts on (message,
// conversationUpdate, invoke) a usable serviceUrl, a conversation id, and
// for messages and invokes a sender.
func ParseActivity(body []byte) (*Activity, error) {
	var a Activity
	if err := httpx.DecodeJSON(body, &a); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrActivity, err)
	}
	if a.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrActivity)
	}
	switch a.Type {
	case TypeMessage, TypeConversationUpdate, TypeInvoke:
	default:
		return &a, nil
	}
	if err := checkServiceURL(a.ServiceURL); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrActivity, err)
	}
	if a.Conversation == nil || a.Conversation.ID == "" {
		return nil, fmt.Errorf("%w: no conversation id", ErrActivity)
	}
	if a.Recipient == nil || a.Recipient.ID == "" {
		return nil, fmt.Errorf("%w: no recipient", ErrActivity)
	}
	if a.Type != TypeConversationUpdate && (a.From == nil || a.From.ID == "") {
		return nil, fmt.Errorf("%w: no sender", ErrActivity)
	}
	return &a, nil
}

// errServiceURL is wrapped by the errors of checkServiceURL.
var errServiceURL = errors.New("bad serviceUrl")

// checkServiceURL accepts absolute https URLs, and http ones on loopback
// hosts (the Bot Framework Emulator, tests).
func checkServiceURL(s string) error {
	if s == "" {
		return fmt.Errorf("%w: missing", errServiceURL)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: %q", errServiceURL, s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not https", errServiceURL, s)
}

// conversationType returns the activity's conversation type; when Teams
// gives none, a group flag or a thread id ("19:…") means a channel or
// group chat, anything else a personal chat.
func (a *Activity) conversationType() string {
	if a.Conversation == nil {
		return ConversationPersonal
	}
	if t := a.Conversation.ConversationType; t != "" {
		return t
	}
	if a.Conversation.IsGroup || strings.HasPrefix(a.Conversation.ID, "19:") {
		return ConversationChannel
	}
	return ConversationPersonal
}

// tenantID is channelData.tenant.id, or conversation.tenantId.
func (a *Activity) tenantID() string {
	if a.ChannelData != nil && a.ChannelData.Tenant != nil && a.ChannelData.Tenant.ID != "" {
		return a.ChannelData.Tenant.ID
	}
	if a.Conversation != nil {
		return a.Conversation.TenantID
	}
	return ""
}

// locale is the activity's locale, or the clientInfo entity's.
func (a *Activity) locale() string {
	if a.Locale != "" {
		return a.Locale
	}
	for _, e := range a.Entities {
		if strings.EqualFold(e.Type, "clientInfo") && e.Locale != "" {
			return e.Locale
		}
	}
	return ""
}

// clientInfo returns the clientInfo entity, if any.
func (a *Activity) clientInfo() *Entity {
	for i, e := range a.Entities {
		if strings.EqualFold(e.Type, "clientInfo") {
			return &a.Entities[i]
		}
	}
	return nil
}

// mentionsBot reports whether a mention entity names the recipient (the
// bot).
func (a *Activity) mentionsBot() bool {
	for _, e := range a.Entities {
		if a.isBotMention(e) {
			return true
		}
	}
	return false
}

func (a *Activity) isBotMention(e Entity) bool {
	return strings.EqualFold(e.Type, "mention") && e.Mentioned != nil && a.Recipient != nil &&
		strings.EqualFold(e.Mentioned.ID, a.Recipient.ID)
}

// cleanText returns the message text without the bot's mentions, other
// users' <at> tags reduced to their names, HTML entities decoded and white
// space collapsed: what the dialog matches.
func (a *Activity) cleanText() string {
	text := a.Text
	for _, e := range a.Entities {
		if !strings.EqualFold(e.Type, "mention") || e.Mentioned == nil {
			continue
		}
		bot := a.isBotMention(e)
		forms := []string{e.Text}
		if e.Mentioned.Name != "" {
			forms = append(forms, "<at>"+e.Mentioned.Name+"</at>", "<at>@"+e.Mentioned.Name+"</at>")
		}
		for _, f := range forms {
			if f == "" || !strings.Contains(text, f) {
				continue
			}
			repl := ""
			if !bot {
				repl = e.Mentioned.Name
			}
			text = strings.ReplaceAll(text, f, repl)
			break
		}
	}
	// Remaining <at> tags (a mention without its entity) keep their text.
	text = strings.NewReplacer("<at>", "", "</at>", "").Replace(text)
	text = html.UnescapeString(text)
	return strings.Join(strings.Fields(text), " ")
}

// choice returns the choice payload a card action carries in the
// activity's value: {"choice": …} from a messageBack button or an
// Action.Submit, or for an adaptiveCard/action invoke the action's
// data.choice, else its verb.
func (a *Activity) choice() string {
	if len(a.Value) == 0 {
		return ""
	}
	var v struct {
		Choice any `json:"choice"`
		Action *struct {
			Verb string         `json:"verb"`
			Data map[string]any `json:"data"`
		} `json:"action"`
	}
	if json.Unmarshal(a.Value, &v) != nil {
		return ""
	}
	if s, ok := v.Choice.(string); ok && s != "" {
		return s
	}
	if v.Action != nil {
		if s, ok := v.Action.Data[ChoiceKey].(string); ok && s != "" {
			return s
		}
		return v.Action.Verb
	}
	return ""
}

// attachment returns the first file the user sent: an attachment with a
// content URL other than the HTML copy of the message Teams adds.
func (a *Activity) attachment() *Attachment {
	for i, at := range a.Attachments {
		if at.ContentURL != "" && !strings.EqualFold(at.ContentType, "text/html") {
			return &a.Attachments[i]
		}
	}
	return nil
}

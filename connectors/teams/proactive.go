package teams

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/dialog"
)

// ActivityRef names an activity the bot sent: its Teams conversation id
// (without the "teams:" prefix) and activity id. ServiceURL, when empty,
// is the one remembered for the conversation.
type ActivityRef struct {
	ConversationID string `json:"conversation_id"`
	ActivityID     string `json:"activity_id"`
	ServiceURL     string `json:"service_url,omitempty"`
}

// NotifyResult says where a proactive message went.
type NotifyResult struct {
	// ConversationID is the personal chat's Teams conversation id.
	ConversationID string `json:"conversation_id"`
	// ActivityIDs are the ids of the activities posted, one per message.
	ActivityIDs []string `json:"activity_ids"`
}

// LastActivity returns the last message the bot sent in a Teams
// conversation (id without the "teams:" prefix), for [Connector.Update]
// or [Connector.Delete]: the dialog can edit its last answer.
func (c *Connector) LastActivity(conversationID string) (ActivityRef, bool) {
	st, ok := c.convs.get(conversationID)
	if !ok || st.lastSent == "" {
		return ActivityRef{}, false
	}
	return ActivityRef{ConversationID: conversationID, ActivityID: st.lastSent, ServiceURL: st.serviceURL}, true
}

// Update replaces a message the bot sent with reply, which must render to
// one message: PUT /v3/conversations/{id}/activities/{activityId}.
func (c *Connector) Update(ctx context.Context, ref ActivityRef, reply dialog.Reply) error {
	serviceURL, st, err := c.target(ref)
	if err != nil {
		return err
	}
	acts := c.render(ctx, reply, "")
	if len(acts) != 1 {
		return fmt.Errorf("%w: the reply renders to %d messages", ErrUpdate, len(acts))
	}
	act := acts[0]
	act.ID = ref.ActivityID
	act.Conversation = &ConversationAccount{ID: ref.ConversationID}
	if st.bot.ID != "" {
		bot := st.bot
		act.From = &bot
	}
	path := "/v3/conversations/" + escapeSegment(ref.ConversationID) + "/activities/" + escapeSegment(ref.ActivityID)
	return c.call(ctx, http.MethodPut, serviceURL, path, act, nil, 0)
}

// Delete deletes a message the bot sent:
// DELETE /v3/conversations/{id}/activities/{activityId}.
func (c *Connector) Delete(ctx context.Context, ref ActivityRef) error {
	serviceURL, _, err := c.target(ref)
	if err != nil {
		return err
	}
	path := "/v3/conversations/" + escapeSegment(ref.ConversationID) + "/activities/" + escapeSegment(ref.ActivityID)
	if err := c.call(ctx, http.MethodDelete, serviceURL, path, nil, nil, 0); err != nil {
		return err
	}
	c.convs.update(ref.ConversationID, func(s *convState) {
		if s.lastSent == ref.ActivityID {
			s.lastSent = ""
		}
	})
	return nil
}

func (c *Connector) target(ref ActivityRef) (string, convState, error) {
	if ref.ConversationID == "" || ref.ActivityID == "" {
		return "", convState{}, fmt.Errorf("%w: conversation and activity ids are required", ErrNoConversation)
	}
	st, _ := c.convs.get(ref.ConversationID)
	serviceURL := ref.ServiceURL
	if serviceURL == "" {
		serviceURL = st.serviceURL
	}
	if serviceURL == "" {
		return "", st, fmt.Errorf("%w: %q", ErrNoConversation, ref.ConversationID)
	}
	return serviceURL, st, nil
}

// Notify sends reply to a user the bot knows from an earlier conversation
// (userKey is the user's Teams id, from.id): it opens (or finds) the
// personal chat with POST /v3/conversations — bot, the user as the one
// member, the tenant, isGroup false — then posts the messages to it with
// POST /v3/conversations/{id}/activities. Unknown users give an error
// wrapping ErrUnknownUser.
func (c *Connector) Notify(ctx context.Context, userKey string, reply dialog.Reply) (NotifyResult, error) {
	ref, err := c.refs.Ref(ctx, userKey)
	if err != nil {
		return NotifyResult{}, err
	}
	acts := c.render(ctx, reply, ref.Locale)
	if len(acts) == 0 {
		return NotifyResult{}, ErrNothingToSend
	}
	bot := ref.Bot
	if bot.ID == "" {
		bot = ChannelAccount{ID: "28:" + c.cfg.AppID}
	}
	user := ChannelAccount{ID: ref.UserKey, Name: ref.UserName}
	params := ConversationParameters{
		Bot:      bot,
		Members:  []ChannelAccount{{ID: ref.UserKey}},
		IsGroup:  false,
		TenantID: ref.TenantID,
	}
	if ref.TenantID != "" {
		params.ChannelData = &ChannelData{Tenant: &TenantInfo{ID: ref.TenantID}}
	}
	var conv ConversationResourceResponse
	if err := c.call(ctx, http.MethodPost, ref.ServiceURL, "/v3/conversations", params, &conv, 0); err != nil {
		return NotifyResult{}, err
	}
	if conv.ID == "" {
		return NotifyResult{}, errors.New("teams: create conversation: the answer has no id")
	}
	serviceURL := ref.ServiceURL
	if conv.ServiceURL != "" && checkServiceURL(conv.ServiceURL) == nil {
		serviceURL = conv.ServiceURL
	}
	c.convs.update(conv.ID, func(s *convState) {
		s.serviceURL, s.seen, s.bot, s.user = serviceURL, c.now(), bot, user
	})
	res := NotifyResult{ConversationID: conv.ID}
	path := "/v3/conversations/" + escapeSegment(conv.ID) + "/activities"
	for _, act := range acts {
		act.From, act.Recipient = &bot, &user
		act.Conversation = &ConversationAccount{ID: conv.ID}
		var rr ResourceResponse
		if err := c.call(ctx, http.MethodPost, serviceURL, path, act, &rr, 0); err != nil {
			return res, err
		}
		res.ActivityIDs = append(res.ActivityIDs, rr.ID)
		if rr.ID != "" {
			c.convs.update(conv.ID, func(s *convState) { s.lastSent, s.lastUpdated = rr.ID, c.now() })
		}
	}
	if ref.ConversationID != conv.ID || ref.ConversationType != ConversationPersonal {
		ref.ConversationID, ref.ConversationType, ref.ServiceURL, ref.Updated = conv.ID, ConversationPersonal, serviceURL, c.now()
		if err := c.refs.SaveRef(ctx, ref); err != nil {
			c.log.Error("teams: saving a conversation reference", "user", userKey, "err", err)
		}
	}
	return res, nil
}

// NotifyRequest is the body of POST {path}/notify: a user key and either a
// text or a full reply.
type NotifyRequest struct {
	User  string        `json:"user"`
	Text  string        `json:"text,omitempty"`
	Reply *dialog.Reply `json:"reply,omitempty"`
}

// serveNotify answers POST {path}/notify.
func (c *Connector) serveNotify(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || !httpx.TokenEqual(strings.TrimSpace(tok), c.cfg.NotifyToken) {
		httpx.WriteError(w, fmt.Errorf("%w: bad or missing notify token", httpx.ErrUnauthorized))
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "application/json")
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	var req NotifyRequest
	if err := httpx.DecodeJSON(body, &req); err != nil {
		httpx.WriteError(w, err)
		return
	}
	reply, err := req.reply()
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	res, err := c.Notify(r.Context(), req.User, reply)
	switch {
	case errors.Is(err, ErrUnknownUser):
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrNothingToSend):
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		c.log.Error("teams: notify", "user", req.User, "err", err)
		httpx.WriteJSON(w, http.StatusBadGateway, map[string]string{"error": "sending the notification failed"})
	default:
		httpx.WriteJSON(w, http.StatusOK, res)
	}
}

// reply checks the request and returns the reply it asks to send.
func (req NotifyRequest) reply() (dialog.Reply, error) {
	switch {
	case req.User == "":
		return dialog.Reply{}, fmt.Errorf("%w: user is required", httpx.ErrBadBody)
	case (req.Text == "") == (req.Reply == nil):
		return dialog.Reply{}, fmt.Errorf("%w: give either text or reply", httpx.ErrBadBody)
	case req.Reply != nil:
		if err := req.Reply.Validate(); err != nil {
			return dialog.Reply{}, fmt.Errorf("%w: %w", httpx.ErrBadBody, err)
		}
		return *req.Reply, nil
	}
	return dialog.Say(req.Text), nil
}

package googleassistant

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Names of the Actions Builder platform.
const (
	// HandlerHealthCheck is the handler Google calls to check the webhook
	// is up; it is answered {} without reaching the dialog.
	HandlerHealthCheck = "actions.handler.HEALTH_CHECK"
	// SceneEndConversation is the system scene that ends the conversation.
	SceneEndConversation = "actions.scene.END_CONVERSATION"
	// Session and user parameters the connector owns.
	ParamChoices = "parole_choices"
	ParamUser    = "parole_user"
)

// Device capabilities of Actions Builder requests.
const (
	CapabilitySpeech       = "SPEECH"
	CapabilityRichResponse = "RICH_RESPONSE"
)

// ParseHandlerRequest decodes and checks an Actions Builder webhook request
// body. Errors wrap [ErrInvalidRequest].
func ParseHandlerRequest(body []byte) (*HandlerRequest, error) {
	var req HandlerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	return &req, nil
}

func (req *HandlerRequest) check() error {
	if req.Handler.Name == "" {
		return fmt.Errorf("%w: no handler.name", ErrInvalidRequest)
	}
	if req.Handler.Name == HandlerHealthCheck {
		return nil
	}
	if err := checkID("session.id", req.Session.ID); err != nil {
		return err
	}
	if u, ok := req.User.Params[ParamUser]; ok {
		if s, isStr := u.(string); !isStr || len(s) > maxIDLen {
			return fmt.Errorf("%w: user.params.%s is not an id", ErrInvalidRequest, ParamUser)
		}
	}
	if _, err := req.offered(); err != nil {
		return err
	}
	return nil
}

// offered returns the suggestion chips the last response offered, kept in
// the session parameters.
func (req *HandlerRequest) offered() (map[string]string, error) {
	raw, ok := req.Session.Params[ParamChoices]
	if !ok || raw == nil {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: session.params.%s is not an object", ErrInvalidRequest, ParamChoices)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: session.params.%s.%s is not a string", ErrInvalidRequest, ParamChoices, k)
		}
		out[k] = s
	}
	return out, nil
}

func (req *HandlerRequest) has(capability string) bool {
	for _, c := range req.Device.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

func (c *Connector) serveBuilder(w http.ResponseWriter, r *http.Request) (any, error) {
	if !c.cfg.InsecureSkipVerify {
		if _, err := c.verifier.Verify(r.Context(), r.Header.Get(HeaderActionsSignature)); err != nil {
			return nil, err
		}
	}
	var req HandlerRequest
	if err := c.readJSON(w, r, &req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	if req.Handler.Name == HandlerHealthCheck {
		return struct{}{}, nil
	}
	// After account linking the Authorization header carries the user's
	// access token.
	token, _ := strings.CutPrefix(r.Header.Get(HeaderAuthorization), "Bearer ")
	return c.builderTurn(r.Context(), &req, strings.TrimSpace(token))
}

// builderTurn runs an Actions Builder request through the handler and
// renders the answer.
func (c *Connector) builderTurn(ctx context.Context, req *HandlerRequest, token string) (*HandlerResponse, error) {
	out := &HandlerResponse{}
	userID, _ := req.User.Params[ParamUser].(string)
	if userID == "" {
		// Keep an id in the user's storage (kept for verified users).
		userID = newUserID()
		params := maps.Clone(req.User.Params)
		if params == nil {
			params = map[string]any{}
		}
		params[ParamUser] = userID
		out.User = &Params{Params: params}
	}
	rich := req.has(CapabilityRichResponse)
	locale := req.User.Locale
	if locale == "" {
		locale = req.Session.LanguageCode
	}
	sess := runner.Session{
		ConversationID: ChannelAssistant + ":" + req.Session.ID,
		Channel:        ChannelAssistant,
		ChannelUserID:  userID,
		Locale:         locale,
		Voice:          !rich,
		UserID:         c.account(ctx, token),
	}
	offered, _ := req.offered() // checked
	in := req.Intent
	meta := map[string]string{"google.handler": req.Handler.Name, "google.intent": in.Name, "google.scene": req.Scene.Name}
	params := make(map[string]any, len(in.Params))
	for k, p := range in.Params {
		params[k] = p.Resolved
	}
	addParams(meta, "google.param.", params)
	kind := ""
	forceEnd := false
	switch {
	case strings.HasPrefix(in.Name, "actions.intent.NO_MATCH"):
		// The Assistant understood nothing: parole's matching may.
		kind = kindText
	case strings.HasPrefix(in.Name, "actions.intent.NO_INPUT"):
		kind = kindNoInput
		forceEnd = in.Name == "actions.intent.NO_INPUT_FINAL"
	case in.Name == "" && in.Query == "" && req.Handler.Name != "":
		// A scene's own handler (on enter, slot filled) without an intent.
		kind = kindNoMatch
	}
	ev := c.event(kind, in.Name, in.Query, offered, meta)
	reply, err := c.h.Handle(ctx, sess, ev)
	if err != nil {
		return nil, fmt.Errorf("googleassistant: %w", err)
	}
	rd := layout(reply)
	if ev.Type == dialog.EventEnd || forceEnd {
		rd.end = true
	}
	renderBuilder(out, rd, req, rich)
	return out, nil
}

// renderBuilder writes a laid-out reply into an Actions Builder response.
func renderBuilder(out *HandlerResponse, rd rendered, req *HandlerRequest, rich bool) {
	params := maps.Clone(req.Session.Params)
	if params == nil {
		params = map[string]any{}
	}
	delete(params, ParamChoices)
	out.Session = &Session{ID: req.Session.ID, Params: params}
	p := &Prompt{}
	simple := func(b part) *Simple {
		s := &Simple{Speech: b.speech, Text: b.display}
		if b.ssml {
			s.Speech = b.speakDoc()
		}
		return s
	}
	if len(rd.bubbles) > 0 {
		p.FirstSimple = simple(rd.bubbles[0])
	}
	if len(rd.bubbles) > 1 {
		p.LastSimple = simple(rd.bubbles[1])
	}
	if rich {
		if cd := rd.card; cd != nil {
			card := &Card{Title: cd.Title, Subtitle: cd.Subtitle}
			if cd.ImageURL != "" {
				card.Image = &BuilderImage{URL: cd.ImageURL, Alt: cd.Title}
			}
			for _, b := range cd.Buttons {
				if b.URL != "" {
					card.Button = &Link{Name: b.Title, Open: OpenURL{URL: b.URL}}
					break
				}
			}
			if card.Image == nil {
				card.Text = cd.Subtitle
			}
			p.Content = &Content{Card: card}
		}
		if !rd.end {
			for _, s := range rd.suggestions {
				p.Suggestions = append(p.Suggestions, Suggestion{Title: s})
			}
			if len(rd.choices) > 0 {
				m := make(map[string]any, len(rd.choices))
				for k, v := range rd.choices {
					m[k] = v
				}
				params[ParamChoices] = m
			}
		}
		if l := rd.link; l != nil {
			p.Link = &Link{Name: truncate(l.Title, 20), Open: OpenURL{URL: l.URL}}
		}
	}
	if p.FirstSimple != nil || p.LastSimple != nil || p.Content != nil || len(p.Suggestions) > 0 || p.Link != nil {
		out.Prompt = p
	}
	if rd.end {
		out.Scene = &SceneChange{Name: req.Scene.Name, Next: &NextScene{Name: SceneEndConversation}}
		return
	}
	if len(rd.hints) > 0 {
		out.Expected = &Expected{Speech: rd.hints}
	}
}

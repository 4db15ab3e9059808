package googleassistant

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Dialogflow names.
const (
	// ContextChoices is the output context (after "<session>/contexts/")
	// in which the connector keeps the quick replies it offered.
	ContextChoices = "parole_choices"
	// SourceGoogle and SourceTelephony are the originalDetectIntentRequest
	// sources of the Assistant and of the Dialogflow phone gateway.
	SourceGoogle    = "google"
	SourceTelephony = "GOOGLE_TELEPHONY"
	// PlatformTelephony is the platform of phone gateway messages.
	PlatformTelephony = "TELEPHONY"
)

// sessionRE is the shape of a Dialogflow ES session name.
var sessionRE = regexp.MustCompile(`^projects/[^/]+(/locations/[^/]+)?/agent(/environments/[^/]+/users/[^/]+)?/sessions/[^/]+$`)

// e164RE is a phone number the gateway can transfer to.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// ParseWebhookRequest decodes and checks a Dialogflow ES fulfillment
// request body. Errors wrap [ErrInvalidRequest].
func ParseWebhookRequest(body []byte) (*WebhookRequest, error) {
	var req WebhookRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	return &req, nil
}

func (req *WebhookRequest) check() error {
	if err := checkID("session", req.Session); err != nil {
		return err
	}
	if !sessionRE.MatchString(req.Session) {
		return fmt.Errorf("%w: session %q is not projects/…/agent/sessions/…", ErrInvalidRequest, req.Session)
	}
	if req.QueryResult == nil {
		return fmt.Errorf("%w: no queryResult", ErrInvalidRequest)
	}
	if c := req.QueryResult.SpeechRecognitionConfidence; c < 0 || c > 1 {
		return fmt.Errorf("%w: speechRecognitionConfidence %v out of [0,1]", ErrInvalidRequest, c)
	}
	if _, err := req.offered(); err != nil {
		return err
	}
	if o := req.OriginalDetectIntentRequest; o != nil && o.Source == SourceGoogle && len(o.Payload) > 0 {
		var app AppRequest
		if err := json.Unmarshal(o.Payload, &app); err != nil {
			return fmt.Errorf("%w: originalDetectIntentRequest.payload: %w", ErrInvalidRequest, err)
		}
	}
	return nil
}

// contextName returns the full name of the choices context.
func (req *WebhookRequest) contextName() string {
	return req.Session + "/contexts/" + ContextChoices
}

// offered returns the quick replies the last response offered.
func (req *WebhookRequest) offered() (map[string]string, error) {
	for _, cx := range req.QueryResult.OutputContexts {
		if cx.Name != req.contextName() {
			continue
		}
		raw, ok := cx.Parameters["choices"]
		if !ok {
			return nil, nil
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: context %s: choices is not an object", ErrInvalidRequest, ContextChoices)
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%w: context %s: choice %q is not a string", ErrInvalidRequest, ContextChoices, k)
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, nil
}

// authDialogflow checks the basic credentials and headers configured in
// the agent's fulfillment settings, in constant time.
func (c *Connector) authDialogflow(r *http.Request) error {
	if c.cfg.InsecureSkipVerify {
		return nil
	}
	ok := true
	if c.cfg.DialogflowUsername != "" {
		u, p, has := r.BasicAuth()
		uok := subtle.ConstantTimeCompare([]byte(u), []byte(c.cfg.DialogflowUsername)) == 1
		pok := subtle.ConstantTimeCompare([]byte(p), []byte(c.cfg.DialogflowPassword)) == 1
		ok = has && uok && pok
	}
	for name, want := range c.cfg.DialogflowHeaders {
		got := r.Header.Get(name)
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%w: Dialogflow credentials or headers missing or wrong", ErrUnauthorized)
	}
	return nil
}

func (c *Connector) serveDialogflow(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := c.authDialogflow(r); err != nil {
		return nil, err
	}
	var req WebhookRequest
	if err := c.readJSON(w, r, &req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	return c.dialogflowTurn(r.Context(), &req)
}

// dialogflowTurn runs a Dialogflow request through the handler and renders
// the answer.
func (c *Connector) dialogflowTurn(ctx context.Context, req *WebhookRequest) (*WebhookResponse, error) {
	qr := req.QueryResult
	sess := runner.Session{
		ConversationID: ChannelDialogflow + ":" + req.Session,
		Channel:        ChannelDialogflow,
		Locale:         qr.LanguageCode,
	}
	if _, rest, ok := strings.Cut(req.Session, "/users/"); ok {
		sess.ChannelUserID, _, _ = strings.Cut(rest, "/")
	}
	var app *AppRequest
	screen := true
	if o := req.OriginalDetectIntentRequest; o != nil {
		switch o.Source {
		case SourceTelephony:
			var p struct {
				Telephony struct {
					CallerID string `json:"caller_id"`
				} `json:"telephony"`
			}
			if json.Unmarshal(o.Payload, &p) == nil && p.Telephony.CallerID != "" && len(p.Telephony.CallerID) <= maxIDLen {
				sess.ChannelUserID = p.Telephony.CallerID
			}
			sess.Voice, screen = true, false
		case SourceGoogle:
			app = &AppRequest{}
			if len(o.Payload) > 0 {
				_ = json.Unmarshal(o.Payload, app) // checked
			}
			screen = app.has(CapabilityScreen)
			sess.Voice = !screen
			if u := app.User; u != nil {
				if u.UserID != "" && len(u.UserID) <= maxIDLen {
					sess.ChannelUserID = u.UserID
				}
				sess.UserID = c.account(ctx, u.AccessToken)
				if sess.Locale == "" {
					sess.Locale = u.Locale
				}
			}
		}
	}
	offered, _ := req.offered() // checked
	meta := map[string]string{"dialogflow.response_id": req.ResponseID}
	kind, name := "", ""
	if in := qr.Intent; in != nil {
		name = in.DisplayName
		meta["dialogflow.intent"] = in.DisplayName
		if in.IsFallback {
			kind = kindText
		}
	}
	if qr.Action != "" {
		meta["dialogflow.action"] = qr.Action
	}
	switch qr.Action {
	case "input.welcome":
		kind = kindStart
	case "input.unknown":
		kind = kindText
	}
	if to, ok := c.intents[name]; ok && name != "" {
		kind = to
	}
	addParams(meta, "dialogflow.param.", qr.Parameters)
	ev := c.event(kind, name, qr.QueryText, offered, meta)
	if ev.Type == dialog.EventText && qr.SpeechRecognitionConfidence > 0 {
		ev.Confidence = qr.SpeechRecognitionConfidence
	}
	reply, err := c.h.Handle(ctx, sess, ev)
	if err != nil {
		return nil, fmt.Errorf("googleassistant: %w", err)
	}
	rd := layout(reply)
	if ev.Type == dialog.EventEnd {
		rd.end = true
	}
	return c.renderDialogflow(rd, req, screen, app), nil
}

// renderDialogflow writes a laid-out reply as a fulfillment response: text
// and quick replies for every integration, the Assistant's rich response
// (with its SSML) in payload.google, TELEPHONY messages with v2beta1, and
// the request's contexts kept with the choices context updated.
func (c *Connector) renderDialogflow(rd rendered, req *WebhookRequest, screen bool, app *AppRequest) *WebhookResponse {
	out := &WebhookResponse{Source: "parole"}
	var texts []string
	for _, b := range rd.bubbles {
		t := b.display
		if t == "" {
			t = b.speech
		}
		if t != "" {
			texts = append(texts, t)
		}
	}
	out.FulfillmentText = strings.Join(texts, "\n")
	if len(texts) > 0 {
		out.FulfillmentMessages = append(out.FulfillmentMessages, Message{Text: &TextMessage{Text: texts}})
	}
	if len(rd.suggestions) > 0 && !rd.end {
		out.FulfillmentMessages = append(out.FulfillmentMessages, Message{QuickReplies: &QuickReplies{QuickReplies: rd.suggestions}})
	}
	if c.cfg.DialogflowV2Beta1 {
		for _, b := range rd.bubbles {
			out.FulfillmentMessages = append(out.FulfillmentMessages, Message{
				Platform:                  PlatformTelephony,
				TelephonySynthesizeSpeech: &SynthesizeSpeech{SSML: b.speakDoc()},
			})
		}
		if rd.transfer != "" && e164RE.MatchString(rd.transfer) {
			out.FulfillmentMessages = append(out.FulfillmentMessages, Message{
				Platform:              PlatformTelephony,
				TelephonyTransferCall: &TransferCall{PhoneNumber: rd.transfer},
			})
		}
		out.EndInteraction = rd.end
	}
	g := &GooglePayload{ExpectUserResponse: !rd.end, RichResponse: richResponse(rd, screen)}
	if rd.end {
		g.RichResponse.Suggestions = nil
	}
	if app != nil && app.User != nil {
		g.UserStorage = app.User.UserStorage
	}
	out.Payload = &Payload{Google: g}
	// Keep the agent's contexts; ours holds the quick replies offered.
	name := req.contextName()
	had := false
	for _, cx := range req.QueryResult.OutputContexts {
		if cx.Name == name {
			had = true
			continue
		}
		out.OutputContexts = append(out.OutputContexts, cx)
	}
	switch {
	case len(rd.choices) > 0 && !rd.end:
		choices := make(map[string]any, len(rd.choices))
		for k, v := range rd.choices {
			choices[k] = v
		}
		out.OutputContexts = append(out.OutputContexts, Context{Name: name, LifespanCount: 1, Parameters: map[string]any{"choices": choices}})
	case had:
		out.OutputContexts = append(out.OutputContexts, Context{Name: name, LifespanCount: 0})
	}
	if rd.end && c.cfg.DialogflowEndEvent != "" {
		// Dialogflow ignores the messages when a followup event is set:
		// they go to the event's intent as parameters.
		ssml := ""
		if len(rd.bubbles) > 0 {
			ssml = merge(rd.bubbles).speakDoc()
		}
		out.FollowupEventInput = &EventInput{
			Name:         c.cfg.DialogflowEndEvent,
			LanguageCode: req.QueryResult.LanguageCode,
			Parameters:   map[string]any{"text": out.FulfillmentText, "ssml": ssml},
		}
	}
	return out
}

package googleassistant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Surface capabilities of the conversation webhook.
const (
	CapabilityScreen = "actions.capability.SCREEN_OUTPUT"
	CapabilityAudio  = "actions.capability.AUDIO_OUTPUT"
)

// convState is what the connector keeps in the conversation token: the
// suggestion chips offered, by normalized title, so a tapped chip comes
// back as its choice.
type convState struct {
	Choices map[string]string `json:"choices,omitempty"`
}

// storageState is the part of userStorage the connector owns.
type storageState struct {
	User string `json:"parole_user,omitempty"`
}

// ParseAppRequest decodes and checks a conversation webhook request body.
// Errors wrap [ErrInvalidRequest].
func ParseAppRequest(body []byte) (*AppRequest, *convState, error) {
	var req AppRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	st, err := req.check()
	if err != nil {
		return nil, nil, err
	}
	return &req, st, nil
}

func (req *AppRequest) check() (*convState, error) {
	if err := checkID("conversation.conversationId", req.Conversation.ConversationID); err != nil {
		return nil, err
	}
	if len(req.Inputs) == 0 || req.Inputs[0].Intent == "" {
		return nil, fmt.Errorf("%w: no input intent", ErrInvalidRequest)
	}
	if u := req.User; u != nil && len(u.UserID) > maxIDLen {
		return nil, fmt.Errorf("%w: user.userId longer than %d bytes", ErrInvalidRequest, maxIDLen)
	}
	st := &convState{}
	if tok := req.Conversation.ConversationToken; tok != "" {
		if err := json.Unmarshal([]byte(tok), st); err != nil {
			return nil, fmt.Errorf("%w: conversationToken is not parole's: %w", ErrInvalidRequest, err)
		}
	}
	return st, nil
}

// has reports whether the request's surface has capability name.
func (req *AppRequest) has(name string) bool {
	if req.Surface == nil {
		return false
	}
	for _, c := range req.Surface.Capabilities {
		if c.Name == name {
			return true
		}
	}
	return false
}

// query returns the user's words of the first input.
func (in Input) query() (string, string) {
	for _, r := range in.RawInputs {
		if r.Query != "" {
			return r.Query, r.InputType
		}
	}
	return "", ""
}

// argument returns the argument called name.
func (in Input) argument(name string) (Argument, bool) {
	for _, a := range in.Arguments {
		if a.Name == name {
			return a, true
		}
	}
	return Argument{}, false
}

func (c *Connector) serveConversation(w http.ResponseWriter, r *http.Request) (any, error) {
	if !c.cfg.InsecureSkipVerify {
		if _, err := c.verifier.Verify(r.Context(), r.Header.Get(HeaderAuthorization)); err != nil {
			return nil, err
		}
	}
	var req AppRequest
	if err := c.readJSON(w, r, &req); err != nil {
		return nil, err
	}
	st, err := req.check()
	if err != nil {
		return nil, err
	}
	return c.conversationTurn(r.Context(), &req, st)
}

// conversationTurn runs a conversation webhook request through the
// handler and renders the answer.
func (c *Connector) conversationTurn(ctx context.Context, req *AppRequest, st *convState) (*AppResponse, error) {
	user := req.User
	if user == nil {
		user = &AppUser{}
	}
	storage := user.UserStorage
	userID := user.UserID
	var owned storageState
	if storage != "" && json.Unmarshal([]byte(storage), &owned) == nil && owned.User != "" && len(owned.User) <= maxIDLen {
		userID = owned.User
	}
	if userID == "" && storage == "" {
		// Google no longer sends user ids: keep one in userStorage.
		userID = newUserID()
		b, _ := json.Marshal(storageState{User: userID})
		storage = string(b)
	}
	screen := req.has(CapabilityScreen)
	sess := runner.Session{
		ConversationID: ChannelAssistant + ":" + req.Conversation.ConversationID,
		Channel:        ChannelAssistant,
		ChannelUserID:  userID,
		Locale:         user.Locale,
		Voice:          !screen,
		UserID:         c.account(ctx, user.AccessToken),
	}
	in := req.Inputs[0]
	query, inputType := in.query()
	meta := map[string]string{"google.intent": in.Intent, "google.conversation_type": req.Conversation.Type}
	if inputType != "" {
		meta["google.input_type"] = inputType
	}
	kind := ""
	forceEnd := false
	switch in.Intent {
	case "actions.intent.OPTION":
		if a, ok := in.argument("OPTION"); ok && a.TextValue != "" {
			kind = a.TextValue
		} else {
			kind = kindNoMatch
		}
	case "actions.intent.NO_INPUT":
		if a, ok := in.argument("IS_FINAL_REPROMPT"); ok && a.BoolValue != nil && *a.BoolValue {
			forceEnd = true
		}
	}
	ev := c.event(kind, in.Intent, query, st.Choices, meta)
	reply, err := c.h.Handle(ctx, sess, ev)
	if err != nil {
		return nil, fmt.Errorf("googleassistant: %w", err)
	}
	rd := layout(reply)
	if ev.Type == dialog.EventEnd || forceEnd {
		rd.end = true
	}
	return renderConversation(rd, screen, storage), nil
}

// renderConversation writes a laid-out reply as a conversation webhook
// response.
func renderConversation(rd rendered, screen bool, storage string) *AppResponse {
	out := &AppResponse{UserStorage: storage}
	rich := richResponse(rd, screen)
	if rd.end {
		if len(rich.Items) > 0 {
			rich.Suggestions = nil // not allowed in a final response
			out.FinalResponse = &FinalResponse{RichResponse: rich}
		}
		return out
	}
	out.ExpectUserResponse = true
	if len(rich.Items) == 0 {
		// A prompt needs a simple response first.
		rich.Items = []Item{{SimpleResponse: &SimpleResponse{SSML: `<speak><break time="300ms"/></speak>`}}}
	}
	if len(rd.choices) > 0 && screen {
		b, _ := json.Marshal(convState{Choices: rd.choices})
		out.ConversationToken = string(b)
	}
	out.ExpectedInputs = []ExpectedInput{{
		InputPrompt:        InputPrompt{RichInitialPrompt: rich},
		PossibleIntents:    []ExpectedIntent{{Intent: "actions.intent.TEXT"}},
		SpeechBiasingHints: rd.hints,
	}}
	return out
}

// richResponse writes the bubbles, card, suggestions and link of rd (the
// last three on screens only).
func richResponse(rd rendered, screen bool) RichResponse {
	rich := RichResponse{Items: []Item{}}
	for _, b := range rd.bubbles {
		sr := &SimpleResponse{}
		if b.ssml {
			sr.SSML = b.speakDoc()
		} else {
			sr.TextToSpeech = b.speech
		}
		if b.display != "" && (b.ssml || b.display != b.speech) {
			sr.DisplayText = b.display
		}
		rich.Items = append(rich.Items, Item{SimpleResponse: sr})
	}
	if !screen || len(rich.Items) == 0 {
		// Cards and chips need a screen, and a simple response before them.
		return rich
	}
	if rd.card != nil || rd.image != nil {
		rich.Items = append(rich.Items, Item{BasicCard: basicCard(rd)})
	}
	for _, s := range rd.suggestions {
		rich.Suggestions = append(rich.Suggestions, Suggestion{Title: s})
	}
	if l := rd.link; l != nil {
		rich.LinkOutSuggestion = &LinkOutSuggestion{
			DestinationName: truncate(l.Title, 20),
			OpenURLAction:   &OpenURLAction{URL: l.URL},
		}
	}
	return rich
}

// basicCard writes rd's card (or image) as a basic card, which needs an
// image or formatted text.
func basicCard(rd rendered) *BasicCard {
	bc := &BasicCard{}
	if cd := rd.card; cd != nil {
		bc.Title, bc.Subtitle = cd.Title, cd.Subtitle
		if cd.ImageURL != "" {
			bc.Image = &Image{URL: cd.ImageURL, AccessibilityText: cd.Title}
		}
		for _, b := range cd.Buttons {
			if b.URL != "" {
				bc.Buttons = []CardButton{{Title: truncate(b.Title, MaxSuggestionTitle), OpenURLAction: OpenURLAction{URL: b.URL}}}
				break
			}
		}
	}
	if bc.Image == nil && rd.image != nil {
		alt := rd.image.Name
		if alt == "" {
			alt = "image"
		}
		bc.Image = &Image{URL: rd.image.URL, AccessibilityText: alt}
	}
	if bc.Image == nil {
		bc.FormattedText = bc.Subtitle
		if bc.FormattedText == "" {
			bc.FormattedText = bc.Title
		}
	}
	return bc
}

package googleassistant

import "encoding/json"

// The wire formats, with the JSON field names of Google's references. Only
// the fields parole reads or writes are declared; the decoder ignores the
// others.

// ---- Actions on Google conversation webhook (Actions SDK v2) ----

// AppRequest is a conversation webhook request.
type AppRequest struct {
	User              *AppUser        `json:"user,omitempty"`
	Conversation      Conversation    `json:"conversation"`
	Inputs            []Input         `json:"inputs"`
	Surface           *Surface        `json:"surface,omitempty"`
	AvailableSurfaces []Surface       `json:"availableSurfaces,omitempty"`
	IsInSandbox       bool            `json:"isInSandbox,omitempty"`
	Device            json.RawMessage `json:"device,omitempty"`
}

// AppUser is the user of an [AppRequest].
type AppUser struct {
	UserID      string `json:"userId,omitempty"`
	Locale      string `json:"locale,omitempty"`
	AccessToken string `json:"accessToken,omitempty"`
	UserStorage string `json:"userStorage,omitempty"`
	IDToken     string `json:"idToken,omitempty"`
	LastSeen    string `json:"lastSeen,omitempty"`
}

// Conversation is the conversation of an [AppRequest]: its id, NEW or
// ACTIVE, and the token the last response set.
type Conversation struct {
	ConversationID    string `json:"conversationId"`
	Type              string `json:"type,omitempty"`
	ConversationToken string `json:"conversationToken,omitempty"`
}

// Input is one input of an [AppRequest]: the intent it triggered, what the
// user said or typed, and the intent's arguments.
type Input struct {
	Intent    string     `json:"intent"`
	RawInputs []RawInput `json:"rawInputs,omitempty"`
	Arguments []Argument `json:"arguments,omitempty"`
}

// RawInput is what the user said (VOICE), typed (KEYBOARD) or touched.
type RawInput struct {
	InputType string `json:"inputType,omitempty"`
	Query     string `json:"query,omitempty"`
}

// Argument is an intent argument: OPTION carries the key of the selected
// option, REPROMPT_COUNT and IS_FINAL_REPROMPT come with NO_INPUT.
type Argument struct {
	Name      string      `json:"name"`
	RawText   string      `json:"rawText,omitempty"`
	TextValue string      `json:"textValue,omitempty"`
	BoolValue *bool       `json:"boolValue,omitempty"`
	IntValue  json.Number `json:"intValue,omitempty"`
}

// Surface lists the capabilities of the user's device.
type Surface struct {
	Capabilities []Capability `json:"capabilities,omitempty"`
}

// Capability is one surface capability, e.g.
// "actions.capability.SCREEN_OUTPUT".
type Capability struct {
	Name string `json:"name"`
}

// AppResponse is a conversation webhook response.
type AppResponse struct {
	ExpectUserResponse bool            `json:"expectUserResponse"`
	ConversationToken  string          `json:"conversationToken,omitempty"`
	UserStorage        string          `json:"userStorage,omitempty"`
	ExpectedInputs     []ExpectedInput `json:"expectedInputs,omitempty"`
	FinalResponse      *FinalResponse  `json:"finalResponse,omitempty"`
}

// ExpectedInput is the prompt of a response expecting an answer.
type ExpectedInput struct {
	InputPrompt        InputPrompt      `json:"inputPrompt"`
	PossibleIntents    []ExpectedIntent `json:"possibleIntents"`
	SpeechBiasingHints []string         `json:"speechBiasingHints,omitempty"`
}

// InputPrompt holds the rich prompt.
type InputPrompt struct {
	RichInitialPrompt RichResponse `json:"richInitialPrompt"`
}

// ExpectedIntent is an intent the answer may trigger.
type ExpectedIntent struct {
	Intent string `json:"intent"`
}

// FinalResponse ends the conversation.
type FinalResponse struct {
	RichResponse RichResponse `json:"richResponse"`
}

// RichResponse is a list of items (simple responses first), suggestion
// chips and a link.
type RichResponse struct {
	Items             []Item             `json:"items"`
	Suggestions       []Suggestion       `json:"suggestions,omitempty"`
	LinkOutSuggestion *LinkOutSuggestion `json:"linkOutSuggestion,omitempty"`
}

// Item is one item of a rich response.
type Item struct {
	SimpleResponse *SimpleResponse `json:"simpleResponse,omitempty"`
	BasicCard      *BasicCard      `json:"basicCard,omitempty"`
}

// SimpleResponse is one chat bubble: spoken as textToSpeech or ssml (one
// <speak> document), shown as displayText.
type SimpleResponse struct {
	TextToSpeech string `json:"textToSpeech,omitempty"`
	SSML         string `json:"ssml,omitempty"`
	DisplayText  string `json:"displayText,omitempty"`
}

// BasicCard is a card with a title, text, an image and a link button.
type BasicCard struct {
	Title         string       `json:"title,omitempty"`
	Subtitle      string       `json:"subtitle,omitempty"`
	FormattedText string       `json:"formattedText,omitempty"`
	Image         *Image       `json:"image,omitempty"`
	Buttons       []CardButton `json:"buttons,omitempty"`
}

// Image is a card's image.
type Image struct {
	URL               string `json:"url"`
	AccessibilityText string `json:"accessibilityText"`
}

// CardButton opens a URL.
type CardButton struct {
	Title         string        `json:"title"`
	OpenURLAction OpenURLAction `json:"openUrlAction"`
}

// OpenURLAction is the URL a button or link opens.
type OpenURLAction struct {
	URL string `json:"url"`
}

// Suggestion is a suggestion chip; tapping it sends its title as the
// user's text.
type Suggestion struct {
	Title string `json:"title"`
}

// LinkOutSuggestion is a chip opening a URL.
type LinkOutSuggestion struct {
	DestinationName string         `json:"destinationName"`
	OpenURLAction   *OpenURLAction `json:"openUrlAction,omitempty"`
}

// ---- Actions Builder / Conversational Actions webhook ----

// HandlerRequest is an Actions Builder webhook request.
type HandlerRequest struct {
	Handler HandlerRef    `json:"handler"`
	Intent  BuilderIntent `json:"intent"`
	Scene   Scene         `json:"scene"`
	Session Session       `json:"session"`
	User    BuilderUser   `json:"user"`
	Home    *Params       `json:"home,omitempty"`
	Device  Device        `json:"device"`
}

// HandlerRef names the webhook handler the scene called.
type HandlerRef struct {
	Name string `json:"name"`
}

// BuilderIntent is the intent matched, its parameters and the user's query.
type BuilderIntent struct {
	Name   string                 `json:"name"`
	Params map[string]IntentParam `json:"params,omitempty"`
	Query  string                 `json:"query,omitempty"`
}

// IntentParam is an intent parameter as said and as resolved.
type IntentParam struct {
	Original string `json:"original,omitempty"`
	Resolved any    `json:"resolved,omitempty"`
}

// Scene is the current scene.
type Scene struct {
	Name              string                     `json:"name"`
	SlotFillingStatus string                     `json:"slotFillingStatus,omitempty"`
	Slots             map[string]json.RawMessage `json:"slots,omitempty"`
	Next              *NextScene                 `json:"next,omitempty"`
}

// NextScene names the scene to go to.
type NextScene struct {
	Name string `json:"name"`
}

// Session is the conversation session: its id, parameters and language.
type Session struct {
	ID            string            `json:"id"`
	Params        map[string]any    `json:"params"`
	TypeOverrides []json.RawMessage `json:"typeOverrides,omitempty"`
	LanguageCode  string            `json:"languageCode,omitempty"`
}

// BuilderUser is the user: locale, parameters kept across conversations,
// account linking and verification status.
type BuilderUser struct {
	Locale               string         `json:"locale,omitempty"`
	Params               map[string]any `json:"params,omitempty"`
	AccountLinkingStatus string         `json:"accountLinkingStatus,omitempty"`
	VerificationStatus   string         `json:"verificationStatus,omitempty"`
	LastSeenTime         string         `json:"lastSeenTime,omitempty"`
}

// Params holds parameters (home storage).
type Params struct {
	Params map[string]any `json:"params,omitempty"`
}

// Device lists the device's capabilities: SPEECH, RICH_RESPONSE,
// LONG_FORM_AUDIO, INTERACTIVE_CANVAS, WEB_LINK, HOME_STORAGE.
type Device struct {
	Capabilities []string `json:"capabilities,omitempty"`
}

// HandlerResponse is an Actions Builder webhook response.
type HandlerResponse struct {
	Session  *Session     `json:"session,omitempty"`
	Prompt   *Prompt      `json:"prompt,omitempty"`
	Scene    *SceneChange `json:"scene,omitempty"`
	User     *Params      `json:"user,omitempty"`
	Expected *Expected    `json:"expected,omitempty"`
}

// Prompt is what the Assistant says and shows, appended to the scene's
// prompts unless Override.
type Prompt struct {
	Override    bool         `json:"override"`
	FirstSimple *Simple      `json:"firstSimple,omitempty"`
	Content     *Content     `json:"content,omitempty"`
	LastSimple  *Simple      `json:"lastSimple,omitempty"`
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	Link        *Link        `json:"link,omitempty"`
}

// Simple is a simple prompt: speech (text or one <speak> document) and
// the text shown.
type Simple struct {
	Speech string `json:"speech"`
	Text   string `json:"text,omitempty"`
}

// Content is a prompt's rich content.
type Content struct {
	Card *Card `json:"card,omitempty"`
}

// Card is an Actions Builder basic card.
type Card struct {
	Title    string        `json:"title,omitempty"`
	Subtitle string        `json:"subtitle,omitempty"`
	Text     string        `json:"text,omitempty"`
	Image    *BuilderImage `json:"image,omitempty"`
	Button   *Link         `json:"button,omitempty"`
}

// BuilderImage is a card image.
type BuilderImage struct {
	URL string `json:"url"`
	Alt string `json:"alt"`
}

// Link opens a URL.
type Link struct {
	Name string  `json:"name"`
	Open OpenURL `json:"open"`
}

// OpenURL is a link's target.
type OpenURL struct {
	URL string `json:"url"`
}

// SceneChange sets the next scene.
type SceneChange struct {
	Name string     `json:"name,omitempty"`
	Next *NextScene `json:"next,omitempty"`
}

// Expected tells the Assistant what the user will likely say next.
type Expected struct {
	Speech       []string `json:"speech,omitempty"`
	LanguageCode string   `json:"languageCode,omitempty"`
}

// ---- Dialogflow ES fulfillment webhook (v2) ----

// WebhookRequest is a Dialogflow ES fulfillment request.
type WebhookRequest struct {
	ResponseID                  string           `json:"responseId"`
	Session                     string           `json:"session"`
	QueryResult                 *QueryResult     `json:"queryResult"`
	OriginalDetectIntentRequest *OriginalRequest `json:"originalDetectIntentRequest,omitempty"`
}

// QueryResult is the result of Dialogflow's intent detection.
type QueryResult struct {
	QueryText                   string            `json:"queryText"`
	LanguageCode                string            `json:"languageCode,omitempty"`
	SpeechRecognitionConfidence float64           `json:"speechRecognitionConfidence,omitempty"`
	Action                      string            `json:"action,omitempty"`
	Parameters                  map[string]any    `json:"parameters,omitempty"`
	AllRequiredParamsPresent    bool              `json:"allRequiredParamsPresent,omitempty"`
	FulfillmentText             string            `json:"fulfillmentText,omitempty"`
	FulfillmentMessages         []json.RawMessage `json:"fulfillmentMessages,omitempty"`
	OutputContexts              []Context         `json:"outputContexts,omitempty"`
	Intent                      *Intent           `json:"intent,omitempty"`
	IntentDetectionConfidence   float64           `json:"intentDetectionConfidence,omitempty"`
}

// Intent is the intent Dialogflow matched.
type Intent struct {
	Name        string `json:"name,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	IsFallback  bool   `json:"isFallback,omitempty"`
}

// Context is a Dialogflow context.
type Context struct {
	Name          string         `json:"name"`
	LifespanCount int            `json:"lifespanCount"`
	Parameters    map[string]any `json:"parameters,omitempty"`
}

// OriginalRequest is the integration's request: source "google" carries
// the Assistant's [AppRequest] as payload, "GOOGLE_TELEPHONY" the phone
// gateway's {"telephony":{"caller_id":…}}.
type OriginalRequest struct {
	Source  string          `json:"source,omitempty"`
	Version string          `json:"version,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WebhookResponse is a Dialogflow ES fulfillment response.
type WebhookResponse struct {
	FulfillmentText     string      `json:"fulfillmentText,omitempty"`
	FulfillmentMessages []Message   `json:"fulfillmentMessages,omitempty"`
	Source              string      `json:"source,omitempty"`
	Payload             *Payload    `json:"payload,omitempty"`
	OutputContexts      []Context   `json:"outputContexts,omitempty"`
	FollowupEventInput  *EventInput `json:"followupEventInput,omitempty"`
	// EndInteraction exists in the v2beta1 API only (Config.DialogflowV2Beta1).
	EndInteraction bool `json:"endInteraction,omitempty"`
}

// Message is one of Dialogflow's rich messages.
type Message struct {
	Platform                  string            `json:"platform,omitempty"`
	Text                      *TextMessage      `json:"text,omitempty"`
	QuickReplies              *QuickReplies     `json:"quickReplies,omitempty"`
	TelephonySynthesizeSpeech *SynthesizeSpeech `json:"telephonySynthesizeSpeech,omitempty"`
	TelephonyTransferCall     *TransferCall     `json:"telephonyTransferCall,omitempty"`
}

// TextMessage is a text response.
type TextMessage struct {
	Text []string `json:"text"`
}

// QuickReplies are quick reply buttons.
type QuickReplies struct {
	Title        string   `json:"title,omitempty"`
	QuickReplies []string `json:"quickReplies"`
}

// SynthesizeSpeech is what the phone gateway says (v2beta1).
type SynthesizeSpeech struct {
	Text string `json:"text,omitempty"`
	SSML string `json:"ssml,omitempty"`
}

// TransferCall transfers a phone gateway call (v2beta1).
type TransferCall struct {
	PhoneNumber string `json:"phoneNumber"`
}

// Payload is the custom payload; Google carries the Assistant's response.
type Payload struct {
	Google *GooglePayload `json:"google,omitempty"`
}

// GooglePayload is the Actions on Google response of a Dialogflow agent.
type GooglePayload struct {
	ExpectUserResponse bool         `json:"expectUserResponse"`
	UserStorage        string       `json:"userStorage,omitempty"`
	RichResponse       RichResponse `json:"richResponse"`
}

// EventInput triggers a Dialogflow event.
type EventInput struct {
	Name         string         `json:"name"`
	LanguageCode string         `json:"languageCode,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
}

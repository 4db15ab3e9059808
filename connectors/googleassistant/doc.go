// Package googleassistant is parole's Google channel: the webhooks Google's
// voice platforms call with what the user said, after their own speech
// recognition. The connector turns each request into a dialog event for the
// same dialog, with the same conversation state, as a phone call or a web
// chat, and renders the reply in the platform's JSON.
//
// Google shut Conversational Actions (Actions on Google, the Actions SDK
// and Actions Builder) down in June 2023. The two Actions formats stay
// here for the platforms and self-hosted gateways that still speak them;
// Dialogflow ES fulfillment is how Google telephony (the Dialogflow phone
// gateway, CCAI) reaches a webhook today.
//
// # Formats
//
// POST {assistant_path} (default /io/google/assistant): the Actions on
// Google conversation webhook (v2 JSON). inputs[0].intent
// actions.intent.MAIN → [dialog.EventStart]; actions.intent.TEXT →
// [dialog.EventText] with rawInputs[].query, through parole's own matching
// (a query equal to a suggestion chip of the last response is that chip's
// [dialog.EventChoice]); actions.intent.OPTION → a choice with the OPTION
// argument's textValue; actions.intent.CANCEL → [dialog.EventEnd];
// actions.intent.NO_INPUT → [dialog.EventNoInput] (the final reprompt ends
// the conversation). The answer is expectUserResponse with one
// expectedInput (richInitialPrompt, possibleIntents actions.intent.TEXT,
// speechBiasingHints from the step's phrase hints) or a finalResponse when
// the reply hangs up or transfers. The conversation token carries the
// chips offered; userStorage keeps a parole user id when Google sends none.
//
// POST {actions_path} (default /io/google/actions): the Actions Builder
// webhook. intent.name actions.intent.MAIN → start; actions.intent.CANCEL →
// end; actions.intent.NO_MATCH_* → the query as text through parole's
// matching; actions.intent.NO_INPUT_* → no-input (NO_INPUT_FINAL ends);
// handler actions.handler.HEALTH_CHECK → {}. The answer sets
// prompt.firstSimple (and lastSimple), suggestions, a card, the session
// params (with the chips offered), expected.speech (phrase hints) and
// scene.next actions.scene.END_CONVERSATION when the conversation ends.
//
// POST {dialogflow_path} (default /io/google/dialogflow): the Dialogflow
// ES fulfillment webhook. The Default Welcome Intent (action input.welcome)
// → start; a fallback intent (isFallback, input.unknown) → queryText as
// text through parole's matching; any other intent is a precomputed intent:
// a [dialog.EventChoice] with its display name, parameters in
// Event.Metadata ("dialogflow.param.NAME"). The answer has fulfillmentText,
// fulfillmentMessages (text, quickReplies), payload.google (the
// Assistant's richResponse with SSML and expectUserResponse), the
// request's output contexts kept plus "parole_choices" (the quick replies
// offered). With dialogflow_v2beta1, TELEPHONY messages
// (telephonySynthesizeSpeech with SSML, telephonyTransferCall to an E.164
// number) and endInteraction are added for the phone gateway; with
// dialogflow_end_event, the end is a followupEventInput to an intent marked
// "end of conversation".
//
// Any format: Config.Intents maps platform intents to events ("start",
// "end", "no_input", "no_match", "text" or a choice payload such as
// "global:help"); an intent not mapped is a precomputed intent, a choice
// with its name.
//
// # Rendering
//
// The platform's limits are kept by merging: at most two simple responses
// (all messages but the last merged in the first, the last — the question
// — in the second), each one <speak> document (the reply's SSML filtered
// to the Assistant's elements by [FilterSSML], text escaped), display text
// at most 640 characters; choices become suggestion chips (at most 8,
// titles cut to 25 characters), link choices a link-out suggestion, the
// first card a basic card (screens only); phrase hints become speech
// biasing hints (at most 1000). A device without a screen is a voice
// conversation (runner.Session.Voice), so flows send it their spoken
// prompts.
//
// # Verification
//
// On by default. Actions requests carry a JWT signed by Google —
// Authorization (conversation webhook; "Bearer " optional) or
// Google-Assistant-Signature (Actions Builder) — checked for RS256 only,
// a key of Google's JWKS (https://www.googleapis.com/oauth2/v3/certs,
// cached for its Cache-Control max-age, fetched again on an unknown key id
// at most once a minute; [WithKeySet] replaces it), aud the project id,
// iss accounts.google.com or https://accounts.google.com, exp required,
// exp/iat/nbf within ClockSkew. Dialogflow requests must carry the basic
// credentials and/or custom headers set in the agent's fulfillment
// settings. A request failing verification gets 401 and never reaches the
// dialog; bodies over MaxBodyBytes get 413, other media types 415,
// malformed JSON or a request missing its ids 400.
//
// # Account linking
//
// The linked user's access token (v2 user.accessToken, the Authorization
// header of Actions Builder requests, the Assistant payload of Dialogflow
// requests) resolves to a parole user id — an HS256 JWT signed with
// Config.AccountJWTSecret whose "sub" is the user id ([JWTAccounts]), or
// [WithAccounts] — passed as runner.Session.UserID, so the user's open
// conversation continues whatever channel started it.
//
// # Configuration
//
//	googleassistant:
//	  project_id: my-action-project        # Actions routes; JWT audience
//	  dialogflow_username: parole          # Dialogflow route (basic auth)
//	  dialogflow_password: change-me
//	  dialogflow_headers: {X-Parole-Token: change-me}
//	  dialogflow_v2beta1: false
//	  dialogflow_end_event: ""
//	  assistant_path: /io/google/assistant
//	  actions_path: /io/google/actions
//	  dialogflow_path: /io/google/dialogflow
//	  jwks_url: https://www.googleapis.com/oauth2/v3/certs
//	  clock_skew: 60s
//	  intents: {"Opening hours": hours}
//	  account_jwt_secret: ""
//	  max_body_bytes: 131072
//	  insecure_skip_verify: false
//
// # Example request
//
//	curl -u parole:change-me -H 'Content-Type: application/json' \
//	  localhost:8080/io/google/dialogflow -d '{
//	  "responseId": "r1",
//	  "session": "projects/my-agent/agent/sessions/s1",
//	  "queryResult": {"queryText": "when are you open", "languageCode": "en",
//	    "intent": {"displayName": "Default Fallback Intent", "isFallback": true}}}'
//
// answers {"fulfillmentText": "Welcome to the Parole demo line.\n…",
// "fulfillmentMessages": [{"text": {"text": [...]}}, {"quickReplies": …}],
// "payload": {"google": {"expectUserResponse": true, "richResponse": …}}, …}.
package googleassistant

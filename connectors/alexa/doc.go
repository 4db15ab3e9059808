// Package alexa is parole's Alexa channel: the web-service endpoint of an
// Alexa custom skill. Alexa does the speech recognition and synthesis and
// posts what the user said; the connector turns it into dialog events for
// the same dialog, with the same conversation state, as a phone call or a
// web chat, and renders the reply as Alexa's response JSON.
//
// # Requests
//
// POST {path} (default /io/alexa) with Alexa's request envelope:
//
//   - LaunchRequest → [dialog.EventStart], so the bot's welcome comes;
//   - IntentRequest with a filled catch-all slot (AMAZON.SearchQuery,
//     named by Config.TextSlots, default "query") → [dialog.EventText] with
//     the raw utterance, which goes through parole's own intent matching;
//   - IntentRequest of a built-in intent → the event [DefaultIntents] (or
//     Config.Intents) names: AMAZON.HelpIntent, RepeatIntent, CancelIntent,
//     NavigateHomeIntent and StopIntent → a choice of the flow's global
//     intents help, repeat, cancel, cancel and goodbye; FallbackIntent →
//     [dialog.EventNoMatch]; YesIntent/NoIntent → choices "yes"/"no";
//   - any other IntentRequest → a precomputed intent: [dialog.EventChoice]
//     with the intent's name, or, when it has filled slots, the (entity
//     resolved) value of the first one by name — a date, a phone number, a
//     list value — which the flow's steps take as a choice; intent and slots
//     are also in Event.Metadata ("alexa.intent", "alexa.slot.NAME");
//   - SessionEndedRequest → [dialog.EventEnd] (metadata "alexa.reason"),
//     answered with an empty response as Alexa requires (with
//     Config.KeepLinkedConversations, a linked user's session end does not
//     reach the dialog, so the conversation stays open for other channels).
//
// The conversation is "alexa:"+sessionId, the channel user the Alexa
// userId, the locale the request's. Session attributes come back unchanged
// in every response, and their string values are in Event.Metadata as
// "alexa.attr.NAME".
//
// # Responses
//
// [Render] documents the mapping: one SSML outputSpeech (text escaped, the
// reply's SSML filtered to Alexa's tags by [FilterSSML]), a reprompt
// repeating the question, shouldEndSession on hangup/transfer, and a
// Simple card with the reply's text.
//
// # Verification
//
// On by default, as Amazon requires of skills hosted as web services. Every
// request must carry Signature-256 (base64 RSA/SHA-256 over the raw body)
// and SignatureCertChainUrl, an https URL on s3.amazonaws.com (any case),
// port 443 if given, whose normalised path starts with /echo.api/. The
// chain there (cached by URL until it expires) must be currently valid,
// name echo-api.amazon.com in its SAN and chain to a trusted root (the
// system's; [WithRoots] and [WithCertFetcher] replace them in tests). The
// request's timestamp must be within 150 s of now and its applicationId
// the configured skill id. A failure gets 401 and never reaches the
// dialog; Config.InsecureSkipVerify turns all of it off (logged as a
// warning). Bodies over MaxBodyBytes get 413, other media types 415,
// malformed or unsupported requests 400.
//
// # Account linking
//
// When the user linked their account, session.user.accessToken is resolved
// to a parole user id — by default as an HS256 JWT signed with
// Config.AccountJWTSecret whose "sub" is the user id, the same kind of
// token the web chat accepts ([JWTAccounts]; [WithAccounts] plugs in
// another resolver) — and passed as runner.Session.UserID: the runner then
// continues that user's open conversation whatever channel started it. A
// token that does not resolve gets a LinkAccount card, as does a user
// without one when Config.RequireAccount is set.
//
// # Configuration
//
//	alexa:
//	  path: /io/alexa
//	  skill_id: amzn1.ask.skill.00000000-0000-0000-0000-000000000000
//	  account_jwt_secret: change-me      # optional
//	  require_account: false
//	  keep_linked_conversations: false
//	  card_title: Parole
//	  text_slots: [query]
//	  intents: {AMAZON.StopIntent: "global:goodbye"}
//	  max_body_bytes: 131072
//	  insecure_skip_verify: false
//
// # Example request
//
// With verification off (a local test; Alexa itself signs its requests):
//
//	curl -X POST localhost:8080/io/alexa -H 'Content-Type: application/json' -d '{
//	  "version": "1.0",
//	  "session": {"new": true, "sessionId": "amzn1.echo-api.session.1",
//	    "application": {"applicationId": "amzn1.ask.skill.1"},
//	    "user": {"userId": "amzn1.ask.account.1"}},
//	  "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.1",
//	    "timestamp": "2026-11-25T10:00:00Z", "locale": "en-US"}}'
//
// answers
//
//	{"version":"1.0","response":{"outputSpeech":{"type":"SSML","ssml":"<speak>Welcome to the Parole demo line. …</speak>"},
//	 "card":{"type":"Simple","title":"Parole","content":"Welcome to the Parole demo line. …"},
//	 "reprompt":{"outputSpeech":{"type":"SSML","ssml":"<speak>Say opening hours, or press 1. …</speak>"}},
//	 "shouldEndSession":false}}
package alexa

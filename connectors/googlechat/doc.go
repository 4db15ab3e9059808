// Package googlechat is parole's Google Chat channel: the HTTP endpoint of
// a Chat app, receiving interaction events in the v1 format and answering
// each synchronously with a message (text and cards v2).
//
// # Protocol
//
// Chat posts each event to Path (default /io/googlechat) as JSON:
//
//	{"type": "MESSAGE", "eventTime": "…", "space": {"name": "spaces/…", "type": "ROOM"},
//	 "message": {"name": "…", "sender": {…}, "text": "@Bot Hello", "argumentText": " Hello"},
//	 "user": {"name": "users/…", "displayName": "…", "email": "…"},
//	 "action": {"actionMethodName": "…", "parameters": [{"key": "…", "value": "…"}]},
//	 "common": {"userLocale": "en", "invokedFunction": "…", "parameters": {…}}}
//
// with "Authorization: Bearer <JWT>". With the app's authentication
// audience set to "Project Number", the token is an RS256 JWT issued by
// chat@system.gserviceaccount.com for the audience ProjectNumber; the
// connector checks the signature against the certificates Google
// publishes at CertsURL (fetched, cached for their Cache-Control max-age,
// fetched again — at most once a minute — for an unknown key id), the
// issuer, the audience, expiry and issued-at with ClockSkew. A missing or
// invalid token gets 401, as Google asks; a body that is not JSON or lacks
// type, space.name or user.name 400; another content type 415; a body
// over MaxBodyBytes 413. None of them reaches the dialog. The key source
// is injectable ([WithKeys]). The "HTTP endpoint URL" audience (OIDC ID
// tokens from accounts.google.com) is not supported.
//
// The answer is a Chat message (200):
//
//	{"text": "…", "cardsV2": [{"cardId": "card1", "card": {"sections": [{"widgets": [
//	  {"textParagraph": {"text": "What would you like?"}},
//	  {"buttonList": {"buttons": [{"text": "Opening hours", "onClick": {"action":
//	    {"function": "parole_choice", "parameters": [{"key": "payload", "value": "hours"}]}}}]}}]}]}}]}
//
// Asynchronous messages through the Chat REST API (spaces.messages.create,
// with a service account) are not implemented: every answer is the
// synchronous response to the user's event.
//
// # Events
//
//   - ADDED_TO_SPACE: [dialog.EventStart], then the message's text when the
//     app was added by a message mentioning it.
//   - MESSAGE: [dialog.Text] of argumentText (the text without the app's
//     @mention), else text; a conversation's first message is preceded by
//     [dialog.EventStart].
//   - CARD_CLICKED on a button of this package (function parole_choice):
//     [dialog.EventChoice] with the payload parameter; answered as a new
//     message (actionResponse NEW_MESSAGE). Other functions get 400.
//   - REMOVED_FROM_SPACE: [dialog.EventEnd]; the answer is empty.
//   - Messages of bots and other event types are acknowledged with {}.
//
// The conversation is "googlechat:{space}" in a direct message and
// "googlechat:{space}:{user}" in a shared space (each member has their own
// dialog); the locale is common.userLocale, else Locale.
//
// Rendering: plain messages go to the text; a message with choices becomes
// a card (text paragraph and button list, URL choices as openLink
// buttons); a dialog card a card with a header (title, subtitle, image)
// and buttons; an image attachment an image widget, another file a
// <url|name> link; a transfer shows its target.
//
// # Configuration
//
//	googlechat:
//	  path: /io/googlechat
//	  project_number: "1234567890"
//	  certs_url: https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com
//	  clock_skew: 1m
//	  locale: en-US
//	  max_body_bytes: 262144
//	  conversation_ttl: 24h
//	  max_conversations: 100000
//	  insecure_skip_verify: false
//
// Try it (with insecure_skip_verify: true, as there is no Google token):
//
//	curl -X POST localhost:8080/io/googlechat -H 'Content-Type: application/json' \
//	  -d '{"type":"MESSAGE","space":{"name":"spaces/A","type":"DM"},"user":{"name":"users/1"},"message":{"text":"hello"}}'
package googlechat

// Package allomedia is parole's channel for the Allo-Media voice platform,
// with the contract Tock's AlloMediaConnector defines (the connector of the
// AlloCovid bot): the platform answers the phone, does the speech
// recognition and synthesis, and posts what the caller said.
//
// # Protocol
//
// POST {path}/call (default /io/allomedia/call) with HTTP Basic
// credentials and a JSON [Request]:
//
//	{"session": {"sessionId": "…", "user": {"accessToken": "…"}},
//	 "text": "je voudrais prendre rendez-vous", "intent": null, "locale": "fr_FR"}
//
// answers 201 with a [Response]:
//
//	{"sessionId": "…", "outputText": {"textToSpeech": "Quel jour souhaitez-vous venir ?"},
//	 "conversationEnd": false}
//
// Bad or missing credentials get 401 and a content type other than
// application/json 400, as in Tock; a malformed body (not JSON, no
// session.sessionId, a field of the wrong type) 400 and a body over
// MaxBodyBytes 413. None of them reaches the dialog.
//
// # Events
//
// The conversation is "allomedia:"+sessionId. A call's first request opens
// it with [dialog.EventStart] (the bot's welcome); then a non-blank intent
// is a precomputed intent, sent as [dialog.EventChoice] so parole's own
// matching is skipped (the text is kept in metadata "allomedia.text"), a
// text is [dialog.EventText], and a later request with neither is
// [dialog.EventNoInput]. The locale is the request's ("fr_FR" becomes
// "fr-FR"), else the call's last, else DefaultLocale ("fr-FR", as Tock).
// The connector remembers calls (for the start event and the locale) in
// memory for SessionTTL: behind several parole nodes, route a call's
// requests to one node or a call may be welcomed twice.
//
// The answer's textToSpeech is [SpeechText] of the replies, one message a
// line as Tock joins its sentences; conversationEnd is true when the bot
// hung up or transferred.
//
// # Account linking
//
// session.user.accessToken, when present and a resolver is set (an HS256
// JWT signed with AccountJWTSecret whose "sub" is the parole user id, or
// [WithAccounts]), becomes runner.Session.UserID: the caller continues the
// conversation they have open on another channel. A token that does not
// resolve gets 401.
//
// # Configuration
//
//	allomedia:
//	  path: /io/allomedia
//	  username: allomedia
//	  password: change-me
//	  account_jwt_secret: change-me   # optional
//	  default_locale: fr-FR
//	  max_body_bytes: 65536
//	  session_ttl: 1h
//	  max_sessions: 100000
//	  insecure_skip_verify: false
//
// # Example request
//
//	curl -i -u allomedia:change-me -H 'Content-Type: application/json' \
//	  localhost:8080/io/allomedia/call \
//	  -d '{"session":{"sessionId":"call-1","user":{"accessToken":null}},"text":"horaires","intent":null,"locale":"fr_FR"}'
package allomedia

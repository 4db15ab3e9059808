// Package web is parole's web chat channel: an HTTP endpoint that speaks
// the wire format of Tock's web connector (connector-web), so Tock's
// front-ends such as tock-react-kit talk to parole unchanged, and the
// chat page parole serves (web/static/chat.html) uses it too.
//
// # Protocol
//
// POST {path} with a JSON [Request]:
//
//	{"query": "When are you open?", "userId": "u1", "locale": "en"}
//	{"payload": "hours", "userId": "u1", "locale": "fr-FR"}
//
// answers a [Response]:
//
//	{"responses": [{"text": "...", "buttons": [{"type": "quick_reply", "title": "Yes", "payload": "yes"}], "version": "1"}],
//	 "metadata": {"RESPONSE_ID": "..."}}
//
// A query is a text event, a payload (a clicked button) a choice event.
// The conversation is "web:"+userId and continues by userId. The first
// request of a user is preceded by a start event, so the bot's welcome
// comes first; a request with neither query nor payload only does that
// (or nothing for a known user), which lets a page fetch the welcome and
// the history when it opens. A ref (referral) sends a start event with
// metadata "ref". With returnsHistory the answer's "history" holds the
// earlier messages, from the store's transcript when the handler can read
// it (*runner.Runner can), otherwise from a bounded history the connector
// keeps per user in memory.
//
// GET {path}/sse?userId=… (tock-react-kit writes userid) is the user's
// server-sent event stream: "event: message" frames whose data is a
// Response, and "event: ping" / "data: 1" every PingInterval. Once a user
// has opened a stream, every reply also goes to it with the same
// RESPONSE_ID as the POST answer, as Tock does, so clients show it once;
// with streamedResponse the POST answers at once with no responses and
// the reply only goes to the stream. [Connector.Push] sends proactive
// replies the same way. Frames carry an id; messages not yet written to
// any stream of the user (up to QueueSize) are replayed when a stream
// connects, and a reconnecting EventSource's Last-Event-ID replays what
// followed it if still queued.
//
// [Render] documents how a [dialog.Reply] becomes Tock messages.
//
// # Safety
//
// CORS: pages of the connector's own origin, and of origins matching
// AllowedOrigins, may call it; others get 403 and preflights are
// answered. Authentication (off by default): a static bearer token or an
// HS256 JWT (signature, exp and nbf checked with the standard library; its
// "sub" replaces the request's userId), in the Authorization header or,
// for the stream, the access_token parameter; failures get 401. Bodies
// beyond MaxBodyBytes get 413, users over their token bucket 429 with
// Retry-After, malformed requests 400; every error body is JSON
// {"error": "...", "code": "..."}. Only a failing bot gives 500.
//
// Streams end when the client goes or [Connector.Close] is called; call
// it on server shutdown.
package web

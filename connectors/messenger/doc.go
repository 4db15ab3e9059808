// Package messenger is parole's Facebook Messenger channel: the webhook of
// a Meta app subscribed to a Page, answered with the Messenger Send API,
// so the same dialog that answers the phone answers on Messenger.
//
// # Webhook
//
// One path (default /io/messenger) takes both requests Meta sends:
//
//   - GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…, the
//     verification made when the webhook is configured: 200 with the
//     challenge when the token is Config.VerifyToken, 403 otherwise.
//   - POST of {"object":"page","entry":[{"messaging":[…]}]}, signed with
//     X-Hub-Signature-256: sha256= and the HMAC-SHA256 of the raw body
//     keyed with the app secret. A missing or wrong signature gets 401
//     and reaches nothing; a body over the limit 413; not JSON 415; a
//     malformed one 400.
//
// A POST is answered 200 "EVENT_RECEIVED" as soon as its events are
// queued; the dialog runs afterwards, one turn at a time per conversation,
// so a slow dialog or Send API never makes Meta retry. Deliveries Meta
// repeats are dropped by message id.
//
// # Events
//
//   - message with a quick_reply: [dialog.EventChoice] with its payload;
//   - message with text: a [dialog.Text] event;
//   - message with an attachment (image, audio, video, file): an
//     attachment event with its URL;
//   - postback: the Get Started button's payload (Config.GetStartedPayload)
//     starts the conversation, any other is a [dialog.EventChoice];
//   - echoes, deliveries, reads, reactions: ignored.
//
// A conversation's first event is preceded by a start event, so the bot's
// welcome comes. Sessions are "messenger:"+page id+":"+PSID, channel
// "messenger", the PSID as channel user; metadata "messenger.page_id" and
// "messenger.mid".
//
// # Replies
//
// Each reply is sent with POST {graph_url}/{graph_version}/me/messages
// ?access_token={page_access_token}, messaging_type RESPONSE, after a
// typing_on sender action (see [Render] for the formats): text up to 2000
// characters a message, choices as quick replies (13 at most, titles cut
// to 20 characters), links as button templates, cards as generic
// templates, files as attachments. Calls are retried on network errors,
// 429 (after Retry-After) and 5xx.
//
// # Configuration
//
//	messenger:
//	  path: /io/messenger
//	  app_secret: ${MESSENGER_APP_SECRET}
//	  verify_token: ${MESSENGER_VERIFY_TOKEN}
//	  page_access_token: ${MESSENGER_PAGE_TOKEN}
//
// Try it with a signed event:
//
//	body='{"object":"page","entry":[{"id":"PAGE","time":1,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE"},"timestamp":1,"message":{"mid":"m1","text":"hello"}}]}]}'
//	sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$MESSENGER_APP_SECRET" | sed 's/^.* //')
//	curl -H 'Content-Type: application/json' -H "X-Hub-Signature-256: sha256=$sig" -d "$body" http://localhost:8080/io/messenger
package messenger

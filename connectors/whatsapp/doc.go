// Package whatsapp is parole's WhatsApp channel over Meta's WhatsApp
// Cloud API, so the same dialog that answers the phone answers on
// WhatsApp.
//
// # Webhook
//
// One path (default /io/whatsapp) takes both requests Meta sends:
//
//   - GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…, the
//     verification made when the webhook is configured: 200 with the
//     challenge when the token is Config.VerifyToken, 403 otherwise.
//   - POST of {"object":"whatsapp_business_account","entry":[{"changes":
//     [{"field":"messages","value":{…}}]}]}, signed with
//     X-Hub-Signature-256 (sha256= and the HMAC-SHA256 of the raw body
//     keyed with the app secret): 401 when missing or wrong, 413 over the
//     limit, 415 not JSON, 400 malformed.
//
// A POST is answered 200 as soon as its messages are queued; the dialog
// runs afterwards, one turn at a time per conversation. Deliveries Meta
// repeats are dropped by message id (wamid).
//
// # Messages
//
//   - text: a [dialog.Text] event;
//   - interactive button_reply and list_reply: a [dialog.EventChoice]
//     with the button or row id (the choice's payload);
//   - button (a template's quick-reply button): a [dialog.EventChoice]
//     with its payload;
//   - statuses (sent, delivered, read, failed): ignored;
//   - other types (media, location, contacts, reactions): logged and
//     ignored — fetching media needs the media endpoint, not covered yet.
//
// Messages for another phone number of the business account are ignored.
// A conversation's first message is preceded by a start event. Sessions
// are "whatsapp:"+phone number id+":"+wa_id, channel "whatsapp", the
// wa_id as channel user; metadata carries the message id, the account and
// phone number ids and the profile name ("whatsapp.*").
//
// # Replies
//
// The received message is marked read with a typing indicator, then each
// reply is sent with POST {graph_url}/{graph_version}/{phone_number_id}/
// messages, Authorization: Bearer {access_token} (see [Render]): text up
// to 4096 characters, up to 3 choices as reply buttons, more as lists of
// up to 10 rows, links as call-to-action URL buttons, cards as buttons
// with an image header, files by link. Calls are retried on network
// errors, 429 (after Retry-After) and 5xx. Free-form messages reach a
// user only within 24 hours of their last message; template messages are
// not covered.
//
// # Configuration
//
//	whatsapp:
//	  path: /io/whatsapp
//	  app_secret: ${WHATSAPP_APP_SECRET}
//	  verify_token: ${WHATSAPP_VERIFY_TOKEN}
//	  access_token: ${WHATSAPP_TOKEN}
//	  phone_number_id: "106540352242922"
//
// Try it with a signed message:
//
//	body='{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"messages":[{"from":"16505551234","id":"wamid.1","timestamp":"1749416383","type":"text","text":{"body":"hello"}}]}}]}]}'
//	sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$WHATSAPP_APP_SECRET" | sed 's/^.* //')
//	curl -H 'Content-Type: application/json' -H "X-Hub-Signature-256: sha256=$sig" -d "$body" http://localhost:8080/io/whatsapp
package whatsapp

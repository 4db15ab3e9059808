// Package twitter is parole's X (Twitter) direct-message channel over the
// Account Activity API: X delivers the bot account's DM events to a
// webhook, and the replies go out with the X API v2 DM endpoint.
//
// # Protocol
//
// The webhook URL's Path (default /io/twitter) answers:
//
//   - GET ?crc_token=… (the Challenge-Response Check, at registration and
//     periodically): 200 {"response_token": "sha256=" +
//     base64(HMAC-SHA256(consumer secret, crc_token))}; no crc_token is 400.
//   - POST of a delivery: {"for_user_id": …, "direct_message_events":
//     [{"type": "message_create", "id", "created_timestamp",
//     "message_create": {"target": {"recipient_id"}, "sender_id",
//     "message_data": {"text", "quick_reply_response": {"metadata"}}}}],
//     "users": {…}}. Its x-twitter-webhooks-signature header must be
//     "sha256=" + base64(HMAC-SHA256(consumer secret, body)), checked in
//     constant time: missing, malformed or wrong is 401. Not JSON, or no
//     for_user_id, is 400; not application/json 415; over MaxBodyBytes 413.
//     None of them reaches the dialog. Deliveries for another subscribed
//     account, other activities, the bot's own messages (X echoes sent DMs)
//     and redelivered event ids are acknowledged (200) and dropped.
//
// Replies are sent with the v2 endpoint POST
// {api_url}/2/dm_conversations/with/{sender_id}/messages {"text": …},
// authorized by the bot account's OAuth 2.0 user access token (Bearer,
// scopes dm.write dm.read users.read; [WithTokenSource] for refreshing
// tokens), one DM per reply message, retried on network errors, 5xx and
// 429 — X's x-rate-limit-reset is turned into the wait, and a wait past
// the bound gives up. A send that fails makes the webhook answer 502, a
// dialog error 500; the event id is kept, so X's redelivery is not
// answered twice (at most once).
//
// # Choices
//
// The v2 endpoint has no quick replies (those belong to the v1.1
// direct_messages/events/new endpoint, which needs OAuth 1.0a and is not
// used), so choices are sent as a numbered list ("1. Opening hours") and
// the user answers with the number or the title; the connector remembers
// the last choices offered to each user and sends [dialog.EventChoice]
// with the choice's payload. A message carrying a quick_reply_response
// (from quick replies sent by other means) is a choice of its metadata.
// Cards are shown as their title, subtitle, image URL and numbered
// buttons; URL choices and attachments as links (media upload is not
// done). A DM is cut to 10,000 characters.
//
// # Events
//
// The conversation is "twitter:{sender_id}". A user's first message is
// preceded by [dialog.EventStart] (the bot's welcome); other messages are
// [dialog.Text]. Metadata: twitter.event_id, twitter.screen_name.
//
// # Configuration
//
//	twitter:
//	  path: /io/twitter
//	  consumer_secret: app-consumer-secret
//	  user_id: "4337869213"            # the bot account
//	  access_token: oauth2-user-access-token
//	  api_url: https://api.x.com
//	  locale: en-US
//	  max_body_bytes: 1048576
//	  conversation_ttl: 24h
//	  max_conversations: 100000
//	  insecure_skip_verify: false
//
// Try it:
//
//	curl 'localhost:8080/io/twitter?crc_token=abc'
//	body='{"for_user_id":"4337869213","direct_message_events":[{"type":"message_create","id":"1","message_create":{"sender_id":"42","message_data":{"text":"hi"}}}]}'
//	sig=$(printf %s "$body" | openssl dgst -sha256 -hmac app-consumer-secret -binary | base64)
//	curl -X POST localhost:8080/io/twitter -H 'Content-Type: application/json' \
//	  -H "x-twitter-webhooks-signature: sha256=$sig" -d "$body"
package twitter

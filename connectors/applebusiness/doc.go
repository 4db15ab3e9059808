// Package applebusiness is parole's Apple Messages for Business channel
// through a messaging service provider (MSP).
//
// Apple's own Messages for Business REST API is open only to Apple-approved
// providers, so this package does not speak it. It implements the generic
// MSP-style contract below, which an operator's provider (or a thin
// adapter in front of one) must follow. It borrows Apple's vocabulary —
// opaque customer ids, sourceId/destinationId, and the interactive list
// picker layout (bid, data.listPicker.sections[].items[], receivedMessage,
// replyMessage) — but no real provider was tested against it.
//
// # Inbound: provider → parole
//
// POST {path} (default /io/applebusiness), application/json:
//
//	{"id": "message id", "sourceId": "urn:mbid:… (opaque customer id)",
//	 "destinationId": "{business_id}", "type": "text" | "interactive" | "close" | …,
//	 "body": "Hello", "locale": "en_US",
//	 "interactiveData": {"bid": "…", "data": {"listPicker": {"sections": [{"items": [
//	   {"identifier": "hours", "title": "Opening hours", "selected": true}]}]}}}}
//
// Verification (on by default), one of:
//
//   - auth "hmac": X-MSP-Timestamp (Unix seconds, within MaxSkew of now)
//     and X-MSP-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp +
//     "." + raw body)), compared in constant time ([Sign] computes it);
//   - auth "bearer": Authorization: Bearer {inbound_token}, constant time.
//
// A failed check is 401; a body that is not JSON, lacks id, sourceId,
// destinationId or type, is addressed to another business, or is an
// interactive message without a selection, 400; another content type 415;
// over MaxBodyBytes 413. None of them reaches the dialog. A message id
// seen before is acknowledged and dropped. Answer: 200 {} once handled,
// 500 when the dialog fails, 502 when the provider refused a reply.
//
// Mapping: "text" → [dialog.Text] (a customer's first message preceded by
// [dialog.EventStart]); "interactive" → [dialog.EventChoice] with the
// identifier of the selected list picker item (the items marked
// "selected": true, else all items; the first one is the choice, all of
// them in metadata applebusiness.selected); "close" → [dialog.EventEnd];
// other types (typing indicators, …) are acknowledged and ignored. The
// conversation is "applebusiness:{sourceId}"; the locale is the message's
// ("en_US" → "en-US"), else Locale.
//
// # Outbound: parole → provider
//
// POST {msp_url}/messages with Authorization: Bearer {api_token}, one call
// per message, retried on network errors, 429 (after Retry-After) and 5xx;
// each carries a fresh UUID id so a provider can drop duplicates of a
// retry:
//
//	{"id": "uuid", "sourceId": "{business_id}", "destinationId": "{customer}",
//	 "type": "text", "body": "We are open Monday to Friday."}
//
//	{"id": "uuid", "sourceId": "…", "destinationId": "…", "type": "interactive",
//	 "body": "fallback text with the items",
//	 "interactiveData": {"bid": "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.icloud.apps.messages.business.extension",
//	   "data": {"version": "1.0", "requestIdentifier": "uuid",
//	     "listPicker": {"sections": [{"order": 0, "multipleSelection": false, "items": [
//	       {"identifier": "hours", "title": "Opening hours", "style": "default"}]}]},
//	     "receivedMessage": {"title": "…", "style": "icon"},
//	     "replyMessage": {"title": "Selected", "style": "icon"}}}}
//
// receivedMessage and replyMessage sit in interactiveData.data, where
// Apple's interactive messages carry them.
//
// Rendering: text and SSML (tags removed) as text messages; choices as a
// list picker after the message's text (item identifier = choice
// payload); a card with buttons as a list picker titled by the card; URL
// choices, files and transfers as text.
//
// # Not covered
//
// Apple's own API and its authentication, attachments in either direction
// (Apple's encrypted attachment download/upload), rich links, Apple Pay,
// time pickers, forms, authentication (OAuth) messages, iMessage apps,
// typing indicators sent by the bot, and hand-over to live agents.
//
// # Configuration
//
//	applebusiness:
//	  path: /io/applebusiness
//	  business_id: 2a9c1b7e-1f3d-4e5a-9b8c-7d6e5f4a3b2c
//	  msp_url: https://msp.example.com/v1
//	  api_token: msp-api-token
//	  auth: hmac                 # or bearer
//	  secret: msp-shared-secret  # auth hmac
//	  inbound_token: ""          # auth bearer
//	  max_skew: 5m
//	  locale: en-US
//	  max_body_bytes: 262144
//	  conversation_ttl: 24h
//	  max_conversations: 100000
//	  insecure_skip_verify: false
//
// Try it:
//
//	body='{"id":"m1","sourceId":"urn:mbid:AQAA","destinationId":"2a9c1b7e-1f3d-4e5a-9b8c-7d6e5f4a3b2c","type":"text","body":"hello"}'
//	ts=$(date +%s)
//	sig=$(printf %s "$ts.$body" | openssl dgst -sha256 -hmac msp-shared-secret | sed 's/^.* //')
//	curl -X POST localhost:8080/io/applebusiness -H 'Content-Type: application/json' \
//	  -H "X-MSP-Timestamp: $ts" -H "X-MSP-Signature: sha256=$sig" -d "$body"
package applebusiness

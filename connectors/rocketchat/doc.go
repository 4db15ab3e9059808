// Package rocketchat is parole's Rocket.Chat channel: an outgoing
// integration ("Message Sent" event) brings the users' messages in, the
// bot user's REST API posts the replies, and attachment buttons answer
// choices.
//
// # Protocol
//
// Rocket.Chat posts JSON to Path (default /io/rocketchat):
//
//	{"token": "…", "bot": false, "channel_id": "…", "channel_name": "…",
//	 "message_id": "…", "timestamp": "2021-03-18T03:37:15.725Z",
//	 "user_id": "…", "user_name": "…", "text": "hi", "siteUrl": "…"}
//
// The token is compared in constant time with Config.Token: a wrong or
// missing one gets 401; a body that is not JSON, or lacks channel_id or
// user_id, 400; another content type 415; a body over MaxBodyBytes 413.
// None of them reaches the dialog. Messages of the bot user (UserID), of
// other bots ("bot" set) and without text are ignored (200).
//
// The replies are sent with POST {server_url}/api/v1/chat.postMessage and
// the X-Auth-Token / X-User-Id headers, one message per reply message:
//
//	{"roomId": "…", "text": "…", "tmid": "…",
//	 "attachments": [{"button_alignment": "vertical", "actions": [
//	   {"type": "button", "text": "Opening hours", "msg": "Opening hours",
//	    "msg_in_chat_window": true, "msg_processing_type": "sendMessage"}]}]}
//
// Sends are retried on network errors, 429 (honouring Retry-After) and
// 5xx; an answer with "success": false ([ErrRefused]) or a 4xx makes the
// webhook answer 502, a dialog error 500. On success it answers 200 {}.
//
// # Buttons
//
// Rocket.Chat does not call back on a button: a reply button makes the
// user send its msg in the room, which comes back through the outgoing
// integration as a message. The connector remembers the choices it
// offered last in each conversation and maps a message equal to one of
// their titles (or to its 1-based number) to [dialog.EventChoice] with
// the choice's payload. URL choices are link buttons.
//
// # Events
//
// The conversation is "rocketchat:{channel_id}:{user_id}". Its first
// message is preceded by [dialog.EventStart] (the bot's welcome); other
// texts are [dialog.Text]. Cards become attachments (title, text, image,
// buttons), files attachments with a title link (and the image for
// images); a transfer shows its target.
//
// # Configuration
//
//	rocketchat:
//	  path: /io/rocketchat
//	  token: ir7hozblv4               # the outgoing integration's token
//	  server_url: https://chat.example.com
//	  auth_token: personal-access-token
//	  user_id: aobEdbYhXfu5hkeqG      # the bot user
//	  reply_in_thread: false
//	  locale: en-US
//	  max_body_bytes: 262144
//	  conversation_ttl: 24h
//	  max_conversations: 100000
//	  insecure_skip_verify: false
//
// Try it:
//
//	curl -X POST localhost:8080/io/rocketchat -H 'Content-Type: application/json' \
//	  -d '{"token":"ir7hozblv4","channel_id":"GENERAL","user_id":"u1","user_name":"ana","text":"hello"}'
package rocketchat

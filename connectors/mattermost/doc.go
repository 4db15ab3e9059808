// Package mattermost is parole's Mattermost channel: an outgoing webhook
// brings the users' messages in, the bot account's REST API posts the
// replies, and message buttons (interactive message actions) come back as
// choices.
//
// # Protocol
//
// Mattermost posts the outgoing webhook to Path (default /io/mattermost),
// form-encoded or JSON as the webhook is configured, with the fields of
// its documentation: token, team_id, team_domain, channel_id,
// channel_name, timestamp, user_id, user_name, post_id, text,
// trigger_word, file_ids. The token is compared in constant time with
// Config.Token; a wrong or missing one gets 401, a body that is not JSON
// or a form, or lacks channel_id or user_id, 400; a content type other
// than those two 415; a body over MaxBodyBytes 413. None of them reaches
// the dialog. Posts of BotUserID (the bot itself) are ignored.
//
// The replies are posted with POST {server_url}/api/v4/posts and
// "Authorization: Bearer {bot_token}", one post per message:
//
//	{"channel_id": "…", "message": "…", "root_id": "…",
//	 "props": {"attachments": [{"actions": [{"id": "choice1", "name": "Opening hours", "type": "button",
//	   "integration": {"url": "{action_url}", "context": {"payload": "hours", "sig": "…"}}}]}]}}
//
// Sends are retried on network errors, 429 (honouring Retry-After) and
// 5xx; a post Mattermost refuses makes the webhook answer 502, a dialog
// error 500. On success the webhook answers 200 with {} (no inline post).
//
// A click on a button makes Mattermost POST the integration request
// (user_id, channel_id, post_id, context, …) to ActionURL, which must
// reach Path+"/actions". Mattermost does not sign these requests, so the
// connector signs each button's context: an HMAC-SHA256 (keyed with
// ActionSecret, default Token) of the channel, thread and payload. A click
// whose context does not verify, or comes from another channel, gets 401.
// Without ActionURL, choices are listed as a numbered list and the user
// types the number or the title.
//
// # Events
//
// The conversation is "mattermost:{channel_id}:{user_id}" (outgoing
// webhooks fire in public channels: each user has their own dialog). The
// first message of a conversation is preceded by [dialog.EventStart], so
// the bot's welcome comes first; a text is [dialog.Text]; a button click,
// or a typed number or title of the last offered choices (list mode), is
// [dialog.EventChoice]. Cards become attachments with title, text, image
// and buttons; image attachments an attachment image, other files and URL
// choices markdown links; a transfer shows its target.
//
// # Configuration
//
//	mattermost:
//	  path: /io/mattermost
//	  token: zmigewsanbbsdf59xnmduzypjc      # the outgoing webhook's token
//	  server_url: https://chat.example.com
//	  bot_token: xoxo-bot-access-token
//	  bot_user_id: botuserid00000000000000000
//	  action_url: https://parole.example.com/io/mattermost/actions
//	  action_secret: ""                      # default: token
//	  reply_in_thread: false
//	  locale: en-US
//	  max_body_bytes: 65536
//	  conversation_ttl: 24h
//	  max_conversations: 100000
//	  insecure_skip_verify: false
//
// Try it:
//
//	curl -X POST localhost:8080/io/mattermost \
//	  -d 'token=zmigewsanbbsdf59xnmduzypjc&channel_id=c1&user_id=u1&text=hello'
package mattermost

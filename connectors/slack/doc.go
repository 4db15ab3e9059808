// Package slack is parole's Slack channel: a Slack app's Events API and
// interactivity request URLs, answered with chat.postMessage, so the same
// dialog that answers the phone answers in Slack.
//
// # Requests
//
// Slack POSTs to {path}/events (the Events API request URL) and
// {path}/interactions (the interactivity request URL); each route takes
// both kinds of body. Every request is checked first, as Slack documents:
// X-Slack-Request-Timestamp within five minutes of the clock (replays are
// refused), and X-Slack-Signature equal to v0= and the hex HMAC-SHA256,
// keyed with the signing secret, of "v0:" + timestamp + ":" + raw body.
// A failure gets 401 and reaches nothing; a body over the limit 413,
// another content type 415, a malformed body 400.
//
//   - url_verification: the challenge is answered as text/plain.
//   - event_callback: a direct message (message with channel_type im) or
//     an app_mention (the bot's mention stripped) becomes a
//     [dialog.Text] event; a bare mention a start. Messages with a bot_id
//     or a subtype (bot messages, edits, joins), the bot's own, channel
//     messages without a mention and other event types are ignored.
//     Events are deduplicated by event_id, so Slack's retries
//     (X-Slack-Retry-Num) run once.
//   - interactive payloads (form field payload=JSON): block_actions of
//     parole's buttons become a [dialog.EventChoice] with the button's
//     value; other apps' elements, link buttons and other payload types
//     are acknowledged and ignored.
//
// The request is answered 200 as soon as its turn is queued; the dialog
// runs afterwards, one turn at a time per conversation, since Slack wants
// an answer within 3 seconds. When too many turns wait the answer is 503
// and Slack retries.
//
// A conversation's first event is preceded by a start event, so the bot's
// welcome comes. Sessions are "slack:"+team+":"+channel+":"+user (one
// conversation per user in each channel or DM), channel "slack", the user
// id as channel user; metadata carries the team, channel, ts and event id
// ("slack.*").
//
// # Replies
//
// Each message of a reply is one chat.postMessage (POST {api_url}/
// chat.postMessage, Authorization: Bearer {bot_token}, JSON) in the
// channel, and in the thread when the user wrote in one (or under a
// mention with reply_in_thread). See [Render]: mrkdwn sections (escaped),
// choices as buttons in actions blocks, cards, images, and the plain text
// as notification fallback. Calls are retried on network errors, 429
// (after Retry-After) and 5xx; an "ok": false answer is an error wrapping
// [ErrAPI].
//
// # Configuration
//
//	slack:
//	  path: /io/slack
//	  signing_secret: ${SLACK_SIGNING_SECRET}
//	  bot_token: ${SLACK_BOT_TOKEN}
//
// The app needs the bot scopes chat:write, im:history and app_mentions:read,
// the bot events message.im and app_mention, and interactivity on.
// Try it with a signed event:
//
//	body='{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel_type":"im","channel":"D1","user":"U1","text":"hello","ts":"1700000000.000100"}}'
//	ts=$(date +%s)
//	sig=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SLACK_SIGNING_SECRET" | sed 's/^.* //')
//	curl -H 'Content-Type: application/json' -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: v0=$sig" -d "$body" http://localhost:8080/io/slack/events
package slack

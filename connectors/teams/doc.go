// Package teams is parole's Microsoft Teams channel: the messaging
// endpoint of an Azure Bot, speaking Bot Framework v3 activities, so the
// same dialog that answers the phone answers in Teams.
//
// # Incoming
//
// Teams POSTs activities to {path} (default /io/teams):
//
//   - message: text becomes a [dialog.Text] event (with the bot's
//     @mention stripped), a card action's value {"choice": …} (messageBack
//     buttons, Action.Submit) a [dialog.EventChoice], a file an
//     attachment event. In personal chats every message goes to the
//     dialog; in group chats and channels (conversation.conversationType
//     groupChat or channel) only those that @mention the bot, or act on
//     its cards.
//   - conversationUpdate: the bot added to a chat starts the conversation
//     ([dialog.EventStart], so the welcome comes); the bot removed ends it.
//   - invoke: adaptiveCard/action (Action.Execute) and Hero card invoke
//     buttons carrying a choice run a choice event, post the replies and
//     answer 200 with the invoke response; other invokes get 501.
//   - messageReaction and other types: 200, nothing sent to the dialog.
//
// A conversation's first message is preceded by a start event. Sessions
// are "teams:"+conversation.id, channel "teams", the user from.id, the
// locale from the activity or its clientInfo entity; the event metadata
// carries the tenant, team, channel, conversation type, user name,
// Entra object id and time zone ("teams.*" keys).
//
// # Authentication
//
// On by default, as the Bot Framework documents it ("Authentication with
// the Bot Connector API"): the Authorization bearer JWT must be RS256,
// signed with a key of the JWKS named by the OpenID metadata
// (https://login.botframework.com/v1/.well-known/openidconfiguration),
// issued by https://api.botframework.com for audience app_id, unexpired
// within 5 minutes of skew; its key must be endorsed for the activity's
// channelId and its serviceurl claim equal the activity's serviceUrl.
// Missing or bad tokens get 401, tokens that do not cover the activity
// 403, and nothing reaches the dialog. Keys are cached for keys_ttl and
// refetched on an unknown key id at most once per key_refresh_interval.
//
// # Outgoing
//
// The bot's token comes from the client-credentials grant (scope
// https://api.botframework.com/.default) at
// https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token, or
// the tenant's own authority for single-tenant apps, and is reused until
// 5 minutes before it expires. Replies go to the conversation's service
// URL — remembered per conversation and replaced when a newer activity
// brings another — with POST /v3/conversations/{id}/activities/{replyToId};
// typing activities show while the dialog works. [Connector.Update] and
// [Connector.Delete] edit or remove a sent message (PUT / DELETE
// /v3/conversations/{id}/activities/{activityId}), [Connector.LastActivity]
// names the last one. [Connector.Notify] and POST {path}/notify (bearer
// notify_token, body {"user": from.id, "text": …} or {"user": …, "reply":
// {…}}) message a user known from an earlier conversation: POST
// /v3/conversations opens the personal chat, then the messages are posted
// to it. References are kept in memory or in a [RefStore].
//
// [Render] documents how a [dialog.Reply] becomes Teams messages.
package teams

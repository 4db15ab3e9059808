// Package twilio answers Twilio bidirectional Media Streams as
// [telephony.Call] legs.
//
// A Twilio number's voice webhook points at POST {Path}/twiml, which answers
// with
//
//	<Response><Connect><Stream url="wss://{public host}{Path}">
//	  <Parameter name="From" value="…"/><Parameter name="To" value="…"/>
//	</Stream></Connect></Response>
//
// Twilio then opens the websocket at {Path} and sends, as JSON text
// messages, connected, start (streamSid, accountSid, callSid, tracks,
// customParameters, mediaFormat audio/x-mulaw 8000 Hz mono), media (track,
// chunk, timestamp, base64 μ-law payload, 20 ms each), dtmf (digit), mark
// (the echo of a mark the leg sent, once the audio before it has played) and
// stop. The leg sends media (streamSid, media.payload), mark (mark.name) and
// clear (barge-in: Twilio drops the audio it buffers and echoes the pending
// marks).
//
// With an AuthToken configured, the websocket upgrade and the webhook must
// carry a valid X-Twilio-Signature: the base64 HMAC-SHA1, keyed with the auth
// token, of the full URL as Twilio called it (wss://… for the websocket,
// https://… for the webhook, so set PublicURL behind a proxy) followed by the
// POST parameters sorted by name. A missing or wrong signature gets 403.
//
// Order is checked: the start message must come first (after connected); a
// media, dtmf, mark or stop before it, bad JSON or base64, an unknown event
// or a message over MaxMessageBytes closes the websocket with a close frame
// (1002, or 1009 for the size) and no call reaches OnCall; during a call the
// same errors end it with an error wrapping stream.ErrProtocol.
//
// Media Streams carry no DTMF towards the caller: SendDTMF plays the keys in
// band. Transfer is unsupported (it needs Twilio's REST API).
package twilio

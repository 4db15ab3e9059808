// Package webrtc is the browser call leg: a [Call] is one WebRTC peer
// connection (github.com/pion/webrtc/v4) carrying the caller's microphone
// in and the bot's voice out, DTLS-SRTP encrypted, and it implements
// [telephony.Call] so that the voice session (telephony/session) runs it
// like a phone call.
//
// A [Server] is an http.Handler with two ways in:
//
//   - a websocket at Config.Path (the softphone page, web/static/phone.html):
//     the server first sends {"type":"config","iceServers":[…]}; the page
//     sends {"type":"offer","sdp":…} and gets {"type":"answer","sdp":…};
//     ICE candidates trickle both ways as {"type":"candidate","candidate":
//     {candidate, sdpMid, sdpMLineIndex}}; either side ends the call with
//     {"type":"hangup"} or by closing the socket. While the call runs the
//     server sends {"type":"transcript",…} events (the caller's interim and
//     final transcripts, the bot's replies as text) from the session's
//     observer ([Call.Observer]), and the page may send
//     {"type":"dtmf","digits":"12#"}.
//   - WHIP-style HTTP (draft-ietf-wish-whip): POST Config.WHIPPath with an
//     application/sdp offer answers 201 Created with the SDP answer (all
//     candidates gathered, no trickle) and a Location; DELETE Location
//     hangs up.
//
// The session's audio is 16 kHz ([Rate]) whatever the wire codec: Opus
// (preferred; decoded and encoded at 16 kHz by libopus, 48 kHz RTP clock),
// G.722, or PCMU (resampled 8↔16 kHz). Caller audio is decoded as its
// packets arrive, in sequence order (losses concealed, late packets
// dropped), with no playout deadline: the recognizer would rather hear a
// late word than none, and a loaded machine delays the caller's words
// instead of losing them. While the page sends nothing Recv gets silence
// on the wall clock. The bot's frames are paced out every 20 ms by
// media/pacer into a pion TrackLocalStaticSample, and Clear drops what is
// queued (barge-in).
//
// Keys from the page arrive as RFC 4733 telephone-events (the page's
// RTCDTMFSender.insertDTMF, decoded by media/dtmf) or, as a fallback, as
// text on a data channel labelled "dtmf"; both reach Recv as Input.Digit.
// SendDTMF plays keys in band (browsers do not surface received
// telephone-events to the page) and tells the page with {"type":"dtmf"}.
//
// A call ends when the page hangs up or closes (websocket closed, DTLS
// close), when ICE fails (peer connection state failed), when no media
// arrived for Config.MediaTimeout, or on Hangup; Recv then returns an error
// wrapping telephony.ErrHangup.
package webrtc

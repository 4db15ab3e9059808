// Package stream holds what the SIP-bridge websocket legs share, and the legs
// themselves in sub-packages: a telephony platform or PBX answers the call
// and streams its audio to parole over a socket, parole streams the bot's
// audio back.
//
//   - [github.com/parole-voice/parole/telephony/stream/twilio]: Twilio Media
//     Streams, bidirectional (<Connect><Stream>), μ-law 8 kHz in base64 JSON
//     over a websocket, with the X-Twilio-Signature check and a TwiML
//     endpoint for a number's voice webhook.
//   - [github.com/parole-voice/parole/telephony/stream/audiosocket]: Asterisk
//     AudioSocket over TCP (type/length frames, slin 8 kHz).
//   - [github.com/parole-voice/parole/telephony/stream/audiofork]: FreeSWITCH
//     mod_audio_fork and jambonz listen websockets (a JSON metadata text
//     frame, then binary L16 frames).
//
// Every leg implements [telephony.Call] and runs the calls it accepts through
// an [OnCall] callback, usually the voice session
// ([github.com/parole-voice/parole/telephony/session.Run]).
//
// The shared parts: [Out], the paced outbound queue every leg plays through
// (frames leave on an absolute 20 ms schedule, Send blocks while the queue
// holds QueueFrames frames, Clear drops them on barge-in); [Assembler], which
// cuts the peer's audio, whatever its message size, into 20 ms frames; and
// [DTMFTones], in-band keys for legs whose protocol carries none outbound.
package stream

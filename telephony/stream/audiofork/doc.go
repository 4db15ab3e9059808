// Package audiofork answers FreeSWITCH mod_audio_fork and jambonz listen
// websockets as [telephony.Call] legs.
//
// The variant implemented, from the published descriptions of
// mod_audio_fork (drachtio-freeswitch-modules) and of jambonz's listen verb:
//
//   - The peer opens a websocket to Config.Path (subprotocol
//     audio.jambonz.org or audio.drachtio.org offered; optional HTTP basic
//     authentication, jambonz's wsAuth).
//   - Its first message is a JSON text frame of metadata: jambonz's call
//     attributes (callSid, from, to, …) with sampleRate and mixType, or
//     mod_audio_fork's metadata argument. The call id is callSid, else uuid,
//     callId or call_id; the rate is sampleRate (8000 or 16000, "8k"/"16k"
//     too) or Config.SampleRate; a stereo mix is refused (mono or mixed).
//   - Then binary frames of L16: signed 16-bit little-endian mono PCM at that
//     rate, of any length (cut into 20 ms frames).
//   - Text frames after the metadata: jambonz passDtmf's
//     {"event":"dtmf","dtmf":"5",…} (a key) and {"type":"playDone"}; any
//     other text frame is a protocol error.
//
// Replies. In ModeStreaming (jambonz listen with bidirectionalAudio
// {"enabled":true,"streaming":true,"sampleRate":<the call's rate>}), the
// bot's audio goes back as binary L16 frames of 20 ms, paced on the wall
// clock. In ModePlayAudio (mod_audio_fork, jambonz without streaming) it goes
// back as {"type":"playAudio","data":{"audioContentType":"raw",
// "sampleRate":8000,"audioContent":"<base64 L16>"}} text frames of
// ChunkFrames frames each (and at the end of each run of audio); the peer
// plays each one as a file. Barge-in (Clear) sends {"type":"killAudio"};
// Hangup sends {"type":"disconnect"} and closes the websocket. No
// transcription messages are sent. SendDTMF plays keys in band; Transfer is
// unsupported.
//
// Order and size are checked: audio before the metadata, metadata that is not
// a JSON object, an odd binary length, an unknown text frame or a message
// over MaxMessageBytes closes the websocket (1002, or 1009 for the size);
// before the metadata no call reaches OnCall.
package audiofork

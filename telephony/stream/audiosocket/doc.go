// Package audiosocket answers Asterisk AudioSocket connections as
// [telephony.Call] legs.
//
// Asterisk's dialplan connects a call to parole with
//
//	exten => 100,1,Answer()
//	 same => n,AudioSocket(${UUID()},parole.example.com:9092)
//
// (or Dial(AudioSocket/host:port/uuid)). The protocol is Asterisk's
// AudioSocket (res_audiosocket): over one TCP connection per call, frames of
// a 3-byte header — the kind (1 byte), the payload length (2 bytes,
// big-endian) — and the payload:
//
//	0x00 hangup (no payload)      0x01 UUID (16 bytes, the first frame)
//	0x03 DTMF (1 ASCII key)       0x10 audio: slin16 8 kHz mono, little-endian
//	0xff error (optional 1-byte code: 0x01 hangup, 0x02 frame, 0x04 memory)
//
// parole takes the 8 kHz slin format only: the higher-rate kinds 0x11-0x18
// of recent Asterisk versions are refused as protocol errors. A connection
// whose first frame is not the UUID, an unknown kind, a length that does not
// fit the kind (an audio frame over MaxAudioBytes or of odd length, a UUID
// not 16 bytes, a DTMF frame not one key) or a frame cut short is closed
// after an error frame, and never reaches OnCall (before the UUID) or ends
// the call with an error wrapping stream.ErrProtocol (after).
//
// Audio towards Asterisk leaves as 20 ms slin frames (320 bytes) paced on
// the wall clock; SendDTMF plays keys in band; Hangup sends a hangup frame
// and closes the socket; Transfer is unsupported.
package audiosocket

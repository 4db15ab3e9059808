// Package media holds parole's audio primitives: the PCM [Frame] every call
// carries, and (in sub-packages) the codecs, resampler, jitter buffer, voice
// activity detection, DTMF and playout pacing built on it.
//
// Nothing in media does I/O: packages here transform samples and packets
// handed to them, so they can be tested and benchmarked in isolation and
// reused by every telephony leg.
//
// Sub-packages:
//
//   - media/g711: ITU-T G.711 μ-law and A-law
//   - media/g722: ITU-T G.722 64 kbit/s wideband codec, pure Go
//   - media/opus: Opus through libopus (cgo)
//   - media/wav: WAV files with PCM16, μ-law and A-law payloads
//   - media/mp3: MP3 decoding into frames at any rate
//   - media/resample: polyphase windowed-sinc sample-rate conversion
//   - media/jitter: RTP jitter buffer with loss concealment and RFC 3550 stats
//   - media/vad: voice activity detection and end-of-utterance endpointing
//   - media/dtmf: RFC 4733 telephone events, in-band Goertzel detection, tones
//   - media/pacer: 20 ms playout pacing on absolute time
package media

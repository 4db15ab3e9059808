// Package vad detects voice activity and the end of an utterance in 20 ms
// frames of 16-bit PCM at 8 or 16 kHz.
//
// A [Detector] compares each frame's energy with an adaptive noise floor. The
// floor follows the background while nobody speaks: it falls quickly to a
// quieter background and rises slowly to a louder one (more slowly still
// while the frame looks like speech, so speech does not lift it, but never
// stops rising, so a lasting step in the noise cannot hold the detector in
// speech for ever). A frame more than [Config.ThresholdDB] above the floor is
// a speech frame; with [Config.ZCR] set, frames only a little above the
// threshold must also have a zero-crossing rate unlike the background's.
// [Config.Onset] speech frames in a row start speech ([SpeechStart],
// back-dated to the first of them) and [Config.Hangover] of non-speech after
// the last speech frame ends it ([SpeechEnd]).
//
// An [Endpointer] adds [EndOfUtterance] once [EndpointConfig.Silence] has
// passed since the last speech frame: the moment a voice bot stops listening
// and answers. The no-input timeout (the caller said nothing at all) is left
// to the caller, who knows when the prompt finished playing: see
// [Endpointer.Heard] and [Endpointer.Elapsed].
//
// Both process a frame without allocating. Neither is safe for concurrent
// use; run one per call leg.
package vad

// Package session runs one voice session per call: the caller's audio
// through voice activity detection and a speech-to-text stream, the
// transcript to the dialog (through a [Dialog], usually a
// [runner.Runner], so that conversations are stored with their
// transcripts), the dialog's reply through text-to-speech back to the
// caller. It works on any [telephony.Call]: SIP, WebRTC, a websocket
// bridge, a WAV file ([github.com/parole-voice/parole/telephony/filecall]).
//
// # A call
//
// [Run] sends [dialog.EventStart] and plays the reply. For every reply the
// messages are said in order — SSML when set, Text otherwise, synthesized
// at the call's rate; an Audio message with a local path or file:// URL
// plays the WAV or MP3 file (by extension), resampled, or says its Text
// when the file cannot be read (the Observer gets an "audio" [Error]); an
// Audio message with an http(s) URL is not fetched: its Text is said
// instead — and then the action runs:
//
//   - Gather (or no action: a default gather with speech and barge-in)
//     listens: a recognizer stream per turn with the gather's language,
//     hints and grammar, the call's rate, interim results and the end
//     silence. The turn ends on the recognizer's final result or when the
//     VAD has heard Config.EndSilence (or the gather's) after speech; the
//     stream is then half-closed and its final result awaited. A final
//     text goes to the dialog as [dialog.EventText] with its confidence
//     and alternatives; a rejected or empty final is a
//     [dialog.EventNoMatch]. Silence for the no-input timeout, counted from
//     the end of the prompt, is a [dialog.EventNoInput]. Keys are collected
//     as the gather's [dialog.DTMFOptions] say: one key (a key outside
//     Options is a no-match), or a string ended by MaxDigits, the
//     terminator or the inter-digit timeout (shorter than MinDigits: a
//     no-match), sent as [dialog.EventDTMF].
//   - Transfer calls telephony.Call.Transfer and ends the session.
//   - Hangup calls telephony.Call.Hangup and ends the session.
//   - Record writes the caller's audio to a WAV file under
//     Config.RecordDir until the end silence or the maximum duration and
//     sends a [dialog.EventAttachment] with its file:// URL (and
//     Metadata["duration_ms"]); a caller silent for the no-input timeout
//     leaves no file and a [dialog.EventNoInput]. Without a RecordDir the
//     dialog gets a no-match (after the fallback message).
//
// When the caller hangs up the dialog gets [dialog.EventEnd]; so it does
// when the bot hung up or transferred.
//
// # Barge-in
//
// When the reply's gather allows barge-in the recognizer listens while the
// prompt plays. Speech detected by the VAD (after its onset frames), an
// interim or final result with words, or a DTMF key stops playout at once:
// no further frame is sent and telephony.Call.Clear drops what the leg
// buffers. If the speech lasts Config.MinBargeIn or words are recognized,
// the interruption is real: synthesis is stopped and the session listens.
// If the speech ends sooner with no word, it was a false interruption (a
// cough, "uh-huh"): the prompt resumes where it stopped.
//
// The dialog learns what the caller actually heard: the prompt's text is
// cut after the word being played when playout stopped, from the
// synthesizer's word marks ([tts.Mark]) or, without marks, from the
// fraction of the audio played. The next dialog event carries it in
// Event.Metadata["heard"] (with Metadata["barge_in"] = "true"), so the
// conversation's transcript records it, and the Observer gets a [BargeIn]
// event with the heard and the cut text.
//
// Keys pressed during a prompt without barge-in are ignored.
//
// A prompt without barge-in opens the recognizer stream when it ends; a
// caller who started speaking before that would lose the start of the
// utterance. While no stream takes the audio the session keeps the
// caller's last Config.PreRoll (1 s) of frames, and a stream that opens
// while the VAD hears speech is first given the frames from the VAD's
// start of speech (TestPreRollSpeechBeforeStream: 50 of 50 speech frames
// reach the stream, 29 without). With barge-in the stream opens as the
// prompt starts and hears everything.
//
// # Failures
//
// When the recognizer, the synthesizer or the dialog fails, the Observer
// gets an [Error] event and the caller hears Config.Fallback ("Sorry, we
// have a technical problem."), or a short tone when the synthesizer cannot
// say it either. The call then goes on — the dialog gets a no-match (after
// a dialog failure, the session listens again) — until Config.MaxFailures
// failures in a row, when it hangs up. A call never goes silent.
//
// # Time
//
// The session's timers (no-input, end silence, maximum utterance,
// inter-digit timeout, barge-in length, recording length) count the call's
// received audio, 20 ms per frame, not the wall clock: a file leg runs
// faster than real time with the same decisions. The wall clock is used for
// the latency trace and to bound the wait for a final result after the
// end of speech (Config.ResultTimeout).
//
// On live legs playout runs in its own goroutine, paced by
// telephony.Call.Send. Legs whose time is their own (a file leg, with a
// Lockstep() bool method that returns true, or Config.Lockstep) are run in
// lockstep instead: one frame played per frame received, and the engines
// waited for without receiving, so that engine time takes no call time and
// a file call plays out deterministically.
//
// # Latency
//
// Every turn gets a [Trace]: the end silence waited for, the wait for the
// final result, the dialog, the synthesizer's first audio and the first
// frame played, and the session's own overhead. It goes to the Observer
// ([Latency] events), to Config.Metrics (per stage), to the log at debug
// level, and into the [Summary] of the [CallEnded] event.
// BenchmarkTurnOverhead measures the overhead with instant fake engines.
//
// # Goroutines
//
// Run starts one goroutine per recognizer stream (to receive its results)
// and, on live legs, one for playout; all have stopped when Run returns.
// Cancelling ctx ends the session at once.
package session

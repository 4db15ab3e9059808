// Package google is parole's adapter for Google Cloud Speech-to-Text v1
// streaming recognition (cloud.google.com/go/speech/apiv1,
// StreamingRecognize). It implements stt.Recognizer.
//
// # What is sent
//
// The first request of every call carries the StreamingRecognitionConfig
// and nothing else: encoding, sample rate, language (stt.Config.Language,
// "en-US" when empty), interim results, single utterance, voice activity
// events, the model (Config.Model; "phone_call" at 8 kHz and "latest_long"
// otherwise by default) and use_enhanced, word time offsets and word
// confidence, max alternatives, and speech contexts: stt.Config.Hints with
// Config.HintBoost and the phrases of stt.Config.Grammar with
// Config.GrammarBoost. The service's phrase limits (100 characters a
// phrase, 5,000 phrases, 100,000 characters) are checked by Stream, which
// refuses more with stt.ErrUnsupported. The later requests carry audio
// only, Config.ChunkDuration (100 ms) at a time: 800 bytes at 8 kHz,
// 3,200 bytes of LINEAR16 at 16 kHz, far below the 25 KB request limit.
//
// Frames are PCM. 8 kHz streams send G.711 μ-law (MULAW) by default: the
// PCM of a PCMU call leg re-encodes to the very bytes the leg received
// (except that μ-law's negative zero, 0x7F, comes back as 0xFF, the same
// sample), at half the bytes of LINEAR16. A leg that has the μ-law payload
// can skip the round trip with the stream's WriteUlaw ([UlawWriter]).
// Other rates send LINEAR16 at the frame rate, not resampled.
//
// Write never waits for the network: it encodes the frame into a queue
// (no allocation in steady state, BenchmarkWriteOnly) that the stream's
// goroutine sends; Write fails with ErrBacklog if more than
// Config.MaxBacklog piles up unsent.
//
// # Results
//
// Final results become stt.Results with the best alternative's transcript
// and confidence, the other alternatives, word times, End from
// result_end_time and Start from the first word (or the previous final's
// end). Times are on the stream's time line, from its first frame, across
// rotations. Interim results (when asked) carry the concatenated
// transcripts of the response's non-final results. With a grammar, a final
// whose transcript (see [Normalize]: case, punctuation, digits) is one of
// the grammar's phrases gets that rule's Value; otherwise the first
// alternative that is one is promoted; otherwise the result is Rejected
// and keeps the service's text. With SingleUtterance the stream stops
// sending at END_OF_SINGLE_UTTERANCE and ends after the first final
// result; later Writes get stt.ErrClosed.
//
// # Rotation, retries, errors
//
// The service ends a stream after 5 minutes. The adapter keeps the audio
// sent since the last final result (at most Config.MaxReplay, 1 minute by
// default) and, once a call has carried Config.RotateAfter of audio
// (4m30s) or has been open that long, cancels it and opens a new one,
// which first gets the kept audio: an utterance in progress is recognized
// whole by the new call and reported once (results of the cancelled call
// that had not arrived are dropped). TestRotation checks, byte for byte,
// that the calls together carry all the audio. When no final result comes
// for longer than MaxReplay (long noise), the oldest kept audio is dropped
// with a warning.
//
// gRPC errors wrap sentinels: Unauthenticated and PermissionDenied
// ErrUnauthenticated, ResourceExhausted ErrQuota, DeadlineExceeded
// ErrDeadline, Unavailable ErrUnavailable; status.Code still reads the
// code. Unavailable is retried (Config.MaxRetries, 3 per stream, with a
// backoff from Config.RetryBackoff, doubling) by a new call that replays
// the kept audio, unless some of it was dropped; so are OutOfRange (the
// service's own end of a stream past its limit) and a call the service
// ends before the audio did. The client library's own retry of the
// call's opening is turned off. After CloseSend the results must
// end within Config.FinalTimeout (10 s), or Recv returns ErrDeadline.
//
// Not done: the v2 API (recognizers, Chirp), voice activity timeouts
// (stt.Config.EndSilence is not sent: v1 has no endpointing setting of
// that meaning), multi-channel audio.
package google

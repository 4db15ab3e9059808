// Package google is parole's adapter for Google Cloud Text-to-Speech
// (cloud.google.com/go/texttospeech/apiv1). It implements tts.Synthesizer.
//
// # Unary synthesis
//
// By default each request is a SynthesizeSpeech call: the text (or the
// SSML, in the ssml field), the voice, and an AudioConfig with the
// encoding, the request's sample rate and its speaking rate (Rate 0 is 1;
// outside the service's 0.25…2 it is refused with tts.ErrUnsupported).
// Encodings (Config.Encoding):
//
//   - "linear16" (default): the service answers a WAV; media/wav strips the
//     header, and audio at another rate than asked is an ErrAudio;
//   - "mulaw": for 8 kHz requests, a WAV of G.711 μ-law decoded by
//     media/wav (other rates ask LINEAR16);
//   - "mp3": asked without a sample rate (the voice's own, 24 kHz: MPEG-2.5
//     rates are not decoded) and decoded and resampled to the request's
//     rate by media/mp3.
//
// The decoded audio is delivered as 100 ms chunks. A text longer than
// Config.SplitAbove (200 bytes) is split into sentences ([Sentences]), one
// call each, made one after another: the first sentence's audio is
// delivered while the next is synthesized (TestSplitFirstAudio holds the
// second call until the first chunk has been received). No text piece
// exceeds the service's 5,000-byte input limit; SSML is never split and is
// refused above it.
//
// SSML is checked with encoding/xml before any call: malformed XML, DTDs,
// several roots or a nested <speak> give tts.ErrBadSSML; a fragment without
// <speak> is wrapped in one. The service checks the elements themselves.
//
// # Streaming synthesis
//
// With Config.Streaming, text requests use StreamingSynthesize (voices that
// support it: Chirp 3 HD): the first request carries the
// StreamingSynthesizeConfig (voice, PCM at the request's rate, speaking
// rate) and nothing else, then one input per sentence, then half-close.
// Every audio response becomes a chunk as soon as it arrives (a sample
// split between two responses is put back together). SSML requests go
// unary: the streaming API takes no SSML.
//
// # Voices
//
// tts.Request.Voice names the voice; otherwise Config.Voices maps the
// request's language (then its primary subtag: "fr" for "fr-CA") to one;
// otherwise the service picks one for the language. The language defaults
// to the voice name's prefix ("de-DE-Neural2-B" → "de-DE"), then "en-US".
//
// # Errors, retries, timeouts
//
// gRPC errors wrap sentinels: Unauthenticated and PermissionDenied
// ErrUnauthenticated, ResourceExhausted ErrQuota, DeadlineExceeded (or
// Config.Timeout, 30 s, per call) ErrDeadline, Unavailable ErrUnavailable,
// InvalidArgument tts.ErrUnsupported; status.Code still reads the code.
// The client library's own retries (up to 300 s) are turned off; the
// adapter retries Unavailable Config.MaxRetries times (2) with a doubling
// backoff, and a streaming call only before its first audio (a retry
// would repeat what was played). Close and ctx cancel the call at once.
//
// Word marks (tts.Chunk.Marks) are not given: timepoints exist only in the
// v1beta1 API.
//
// tts/cache works in front of the synthesizer like in front of any other
// (see the example).
package google

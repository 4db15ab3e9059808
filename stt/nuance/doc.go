// Package nuance is parole's speech recognizer on Nuance Mix ASRaaS (the
// Krypton engine), through its gRPC API nuance.asr.v1 Recognizer/Recognize
// (code generated in internal/nuancepb/asr). It implements stt.Recognizer.
//
// # Protocol
//
// Each stream is one bidirectional Recognize RPC. The first message is the
// RecognitionInitMessage: the language, the audio format (PCM at the
// stream's 8 or 16 kHz, or G.711 μ-law/A-law at 8 kHz), the utterance
// detection mode (SINGLE for stt.Config.SingleUtterance, else MULTIPLE),
// the result type (PARTIAL with stt.Config.InterimResults, else FINAL),
// the no-input and recognition timers, the end-of-utterance silence
// (stt.Config.EndSilence) and the n-best size; its resources are a domain
// LM (Config.DomainLM), an inline wordset with the phrase hints, and an
// inline GrXML grammar built from stt.Config.Grammar. The service answers
// with status 100 Continue; only then is audio sent (written frames wait in
// a queue meanwhile), in one message per 20 ms frame. Results come back as
// Result messages (partial, then final), and the recognition ends with
// status 200 (or 204, no result), or an error status (StatusError).
//
// # Grammars
//
// GrXML writes one private rule per phrase ("p0", "p1", …) under a public
// root, each with its value as a literal semantic tag. ASRaaS results carry
// no semantic interpretation, but each word names the grammar rule that
// recognized it: that rule gives Result.Value. A final result matching no
// phrase, a hypothesis the service marks rejected, and a final result
// without hypotheses all come back Rejected.
//
// # Authentication, errors and retries
//
// Tokens are OAuth2 client credentials from Config.TokenURL, reused until
// Config.RefreshBefore their expiry and sent as a bearer token with each
// RPC. gRPC errors wrap ErrUnauthenticated, ErrResourceExhausted,
// ErrDeadlineExceeded or ErrUnavailable (and the status error). A stream
// that fails with UNAVAILABLE or RESOURCE_EXHAUSTED, or whose init message
// gets no answer in Config.OpenTimeout, is restarted (Config.MaxRetries
// times, with doubling backoff) as long as no result was delivered and all
// the audio sent is still held for replay (Config.Replay): the new RPC gets
// the same init message and the audio again, so nothing is lost.
package nuance

// Package allomedia is parole's speech recognizer on Allo-Media's uh!live
// voicebot API ("Stream H2B"), a websocket protocol of JSON commands and
// events with binary audio frames, as documented by Allo-Media and
// implemented by its Python SDK (uhlive.stream.recognition). It implements
// stt.Recognizer.
//
// # Protocol
//
// Each stream is one websocket session on Config.URL
// (wss://api.uh.live/bots), opened with "Authorization: bearer <token>".
// Commands are text frames {"command", "request_id", "channel_id",
// "headers", "body"} with request ids counting from 1; events come back as
// {"event", "request_id", "channel_id", "headers", "completion_cause",
// "completion_reason", "body"}. A stream runs:
//
//	OPEN {custom_id, audio_codec: linear|g711a|g711u}   → OPENED (channel_id)
//	SET-PARAMS {speech_language, speech_complete_timeout,
//	    recognition_timeout, [no_input_timeout, speech_incomplete_timeout,
//	    speech_nomatch_timeout, confidence_threshold]}  → PARAMS-SET
//	DEFINE-GRAMMAR {content_id: parole, content_type: text/uri-list}
//	    body builtin:speech/keywords?alternatives=…     → GRAMMAR-DEFINED
//	RECOGNIZE {recognition_mode: normal|hotword, content_type:
//	    text/uri-list, start_input_timers, [hotword_max_duration]}
//	    body: grammar URIs, one a line                  → RECOGNITION-IN-PROGRESS
//	binary audio frames, 20 ms each                     → START-OF-INPUT,
//	                                                      RECOGNITION-COMPLETE
//	CLOSE                                               → CLOSED
//
// Stream returns once RECOGNITION-IN-PROGRESS arrived (each set-up answer
// within Config.OpenTimeout). Audio is 8 kHz only: frames at other rates
// are resampled to 8 kHz (media/resample) and sent as 16-bit little-endian
// PCM or G.711 (Config.Codec).
//
// # Results
//
// uh!live gives no interim hypotheses: a recognition ends with one
// RECOGNITION-COMPLETE. Success, PartialMatch and PartialMatchMaxtime give
// a final result (body.asr: text, confidence, start and end — Unix
// milliseconds, placed relative to the first frame written; body.nlu: the
// grammar's value, with its confidence; body.alternatives: the other
// hypotheses). NoMatch, NoMatchMaxtime, HotwordMaxtime, and
// TooMuchSpeechTimeout without interpretation give a Rejected final result
// (the session's no-match). NoInputTimeout ends the stream with io.EOF and
// no result: the voice session runs its own no-input timer. Error,
// GramLoadFailure and GramDefinitionFailure end it with ErrRecognition,
// LanguageUnsupported with ErrRecognition and stt.ErrUnsupported.
// METHOD-FAILED, INVALID-PARAM-VALUE, MISSING-PARAM, METHOD-NOT-VALID and
// METHOD-NOT-ALLOWED are ErrRefused; malformed frames, binary frames from
// the server and unexpected closes are ErrProtocol; a lost connection is
// ErrUnavailable.
//
// After a result the stream sends RECOGNIZE again and goes on listening,
// unless stt.Config.SingleUtterance is set or the audio ended; audio sent
// between the result and the new RECOGNITION-IN-PROGRESS (one round trip)
// is not recognized. When the recognition is over the stream sends CLOSE.
//
// # End of audio
//
// The protocol has no end-of-audio command: uh!live's endpointer decides
// when the caller stopped, from the silence it hears
// (speech_complete_timeout, set from stt.Config.EndSilence). CloseSend
// therefore sends that much silence at once, then a silent 20 ms frame
// every 20 ms until RECOGNITION-COMPLETE. If no speech was heard
// (no START-OF-INPUT), the recognition is stopped (STOP) after
// EndSilence + 500 ms and the stream ends with io.EOF; if speech was heard
// and no result comes within Config.FinalTimeout, it is stopped and the
// stream ends with ErrTimeout.
//
// # Grammars and hints
//
// stt.Config.Grammar becomes uh!live's builtin keywords grammar, defined
// for the session as "session:parole": the phrases joined by "|", with the
// characters the grammar reads as pattern syntax escaped by a backslash
// (as the SDK's examples escape "-") and % & # = percent-encoded. The
// keyword recognized (body.nlu.value) is mapped back to its rule's value
// (Result.Value). Hints that are grammar URIs ("builtin:speech/date",
// "builtin:speech/spelling/digits?regex=…", "session:…") are added to
// RECOGNIZE: their interpretation is Result.Value (a string as is, other
// JSON values — dates, addresses, booleans — compact JSON). Other hints
// are ignored: uh!live has no phrase boosting. A stream with neither uses
// Config.Grammar (builtin:speech/transcribe, free speech).
//
// # Authentication, timeouts and retries
//
// Tokens come from the OpenID Connect token endpoint (Config.TokenURL,
// https://id.uh.live/realms/uhlive/protocol/openid-connect/token) by the
// client credentials grant, the client id and secret in the form body as
// the SDK sends them; a token is reused until Config.RefreshBefore its
// expiry, then a new one is fetched. Config.Token gives a fixed token
// instead. A handshake refused with 401/403 is ErrUnauthenticated; a
// connection that fails or is answered 429/5xx is retried
// (Config.MaxRetries, doubling backoff from Config.RetryBackoff), then
// ErrUnavailable.
//
// # Configuration
//
//	stt:
//	  allomedia:
//	    url: wss://api.uh.live/bots
//	    client_id: ${UHLIVE_CLIENT_ID}
//	    client_secret: ${UHLIVE_CLIENT_SECRET}
//	    codec: g711a        # linear (default), g711a, g711u
//	    language: fr        # when the gather gives none
//	    custom_id: parole
//
// # What it does not do
//
// No interim results (the protocol has none); no phrase boosting; one
// websocket session per stream (no session reuse across turns);
// GET-PARAMS and START-INPUT-TIMERS are not used (the session times
// no-input itself, unless Config.StartInputTimers).
package allomedia

// Package voxygen is parole's speech synthesizer on the Voxygen TTS HTTP
// API (the Voxygen Cloud at https://api.voxygen.fr/tts, or an on-premise
// server exposing the same API). It implements tts.Synthesizer.
//
// # Protocol
//
// One HTTP POST per sentence to Config.URL, "Authorization: Bearer
// <token>", body application/x-www-form-urlencoded (as the API
// documentation asks for POST requests) with:
//
//	text               the sentence, or the whole SSML document
//	voice              Request.Voice, else Config.Voices[language], else Config.Voice
//	language           Request.Language, else Config.Language (BCP 47)
//	coding             mp3, or lin (16-bit linear PCM)
//	frequency          the sample rate asked for (Config.Frequency)
//	header             wav-stream-header, with coding=lin
//	articulation-rate  Request.Rate as a percentage, when not 1
//
// The answer streams the audio (Content-Type audio/*): MP3 is decoded by
// media/mp3 (go-mp3, resampled to the call's rate), a WAV stream by
// media/wav and resampled by media/resample when its rate is not the
// call's. Chunks are 20 ms and carry no word marks (the streaming API
// gives none).
//
// The parameter names text, voice, language, coding, frequency, header
// and articulation-rate, the values wav-stream-header, headerless and lin
// come from Voxygen's documentation and SDK; coding=mp3 and SSML sent in
// the text parameter (the documentation says mark-up is accepted in text)
// are assumptions to check against an account.
//
// # Sentences
//
// A plain-text request is cut into sentences (SplitSentences) and each is
// one request: the first is sent by Synthesize, which returns as soon as
// its answer began, and the next is requested as soon as the previous
// answer began (one ahead, read into memory while the current one is
// decoded), so the first audio plays after one sentence's latency and the
// next is ready when it ends. SSML is sent whole (cutting mark-up is not
// safe). Config.NoSplit sends the text whole; texts over Config.MaxChars
// (2000, the service's limit) are cut at a space either way.
//
// The stream's ResumeOffset tells a fallback (tts/fallback) where the text
// not yet entirely delivered starts: the sentence being played.
//
// # Errors, timeouts and retries
//
// 401 and 403 are ErrUnauthorized; 429, 5xx and connection failures are
// retried (Config.MaxRetries, doubling backoff, Retry-After honoured up to
// 2 s), then ErrUnavailable; other 4xx and non-audio answers are
// ErrRequest, with the start of the answer's body. No headers within
// Config.Timeout, or a request longer than Config.SegmentTime, is
// ErrTimeout. Audio that cannot be decoded is ErrAudio; audio cut off by
// the connection is ErrUnavailable (the decoders take a cut stream for its
// end, so the transport's error is watched); more than Config.MaxAudioBytes
// in one answer is ErrTooLarge.
//
// # Configuration
//
//	tts:
//	  voxygen:
//	    url: https://api.voxygen.fr/tts
//	    token: ${VOXYGEN_TOKEN}
//	    language: fr-FR
//	    voice: Loic
//	    voices: {en: Judith_NTTS}
//	    coding: mp3          # or lin
//
// # What it does not do
//
// No word marks (barge-in estimates what was heard from the audio played);
// no JSON answer mode (/tts2, download URLs); MP3 only at call rates of 8,
// 16, 24 or 48 kHz (media/mp3's targets), and MP3 is asked at 16 or 24 kHz
// because MPEG-2.5 (8 kHz) is not decoded.
package voxygen

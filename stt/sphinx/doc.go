// Package sphinx is parole's embedded offline speech recognizer: CMU
// pocketsphinx 5prealpha (Debian's libpocketsphinx3, through cgo) with the
// en-us acoustic model of pocketsphinx-en-us. It implements stt.Recognizer.
//
// # Streams and decoders
//
// Every stream runs its own pocketsphinx decoder (decoders are not safe for
// concurrent use). Loading one takes the acoustic model, the 134,000-word
// dictionary and the language model: about 0.27–0.54 s on the 2-core test
// machine, so decoders are pooled per front-end setting (Config.PoolSize idle
// ones kept, Config.MaxDecoders alive at once) and a stream on a pooled
// decoder with its grammar already loaded opens in about 30–140 µs. Write
// runs the decoder in the caller's goroutine (no goroutine is started);
// Recv waits for the results it queues. Endpointing is pocketsphinx's own
// voice activity detector, with stt.Config.EndSilence as its hangover
// (-vad_postspeech): one final result per utterance, and one for the
// utterance in progress at CloseSend. Interim hypotheses are read every 100
// ms of speech. Word times come from the best path's segmentation.
//
// # 8 kHz telephone audio
//
// The en-us model is a 16 kHz model. Two ways to feed it 8 kHz audio were
// measured on the Asterisk prompts (benchmarks/stt): upsampling to 16 kHz
// with media/resample (Upsample, the default) and an 8 kHz front end
// (Native8k: -samprate 8000 -nfft 256, filter bank to 3800 Hz). With
// grammars of 10 prompt sentences, Upsample recognized 96% of in-grammar
// prompts exactly against 18% for Native8k; Native8k is worse on the
// espeak-ng phrases too. Upsampled telephone audio has cepstral means far
// from the model's wideband -cmninit, which made the first utterance of a
// fresh decoder fail; 8 kHz streams therefore get a telephone -cmninit
// (feat.params overrides the command line in 5prealpha, so the recognizer
// writes model directories of its own, of symbolic links and an edited
// feat.params).
//
// # Grammars and rejection
//
// With stt.Config.Grammar the decoder searches a JSGF grammar built from the
// rules' phrases (see Normalize: lower case, punctuation dropped, digits as
// words); phrases with words missing from the dictionary are left out
// (CheckGrammar lists them). Beside the phrases the grammar has a loop of
// the 39 phones, each weighted Config.GarbageWeight (1e-10): speech outside
// the grammar is absorbed by the loop and comes back Rejected instead of
// forced onto the nearest phrase. A result is also rejected when garbage
// and pauses inside the phrase take more than 30% of its frames. The
// recognized phrase maps back to its rule's Value. The weight was tuned on
// the first Asterisk prompt groups of benchmarks/stt (96% of in-grammar
// prompts exact, 2% falsely rejected, 2% wrong; 88% of out-of-grammar
// prompts rejected); on the held-out prompt groups 100% of 50 in-grammar
// prompts are exact and 86% of 43 out-of-grammar ones rejected. Posterior confidences of
// pocketsphinx's FSG search are always 1, so Config.MinConfidence is of
// little use with grammars.
//
// Pocketsphinx's spectral noise subtraction (-remove_noise) is off: on
// clean band-limited speech it cost a fifth of the espeak-ng phrases
// (benchmarks/stt, held-out voices: 42.5% → 54.8% exact with it off; real
// prompts unchanged). Config.Args may turn it back on; front-end arguments
// there (-upperf, -nfilt, -cmninit, …) are written into the model
// directory's feat.params, the only place 5prealpha reads them from.
//
// Synthetic speech stays far below the 95% target: the demo flow's phrases
// spoken by espeak-ng voices not used for tuning (en-gb, en-us+m3 at 155
// and 185 words a minute, 8 kHz) come out 54.8% exact, 39.2% rejected,
// 6.0% wrong, with 88% of Asterisk prompts rejected against the demo
// grammars. The ceiling is the acoustic model's: with the out-of-grammar
// loop off (every utterance forced onto its nearest phrase) the same
// utterances are 76.2% exact at 8 kHz and 92.5% exact at 16 kHz; the en-us
// model, trained on real wideband speech, tells espeak-ng's phrases apart
// poorly, and worse once the band stops at 4 kHz. Lowering the garbage
// weight trades rejections for wrong phrases and lets out-of-grammar
// speech through (tune split, 1e-20: 69.9% exact, 13.0% wrong, 50% of
// prompts rejected). An 8 kHz-matched filter bank on the 16 kHz model
// (-upperf 3500 or 3800) breaks it (16.9% exact, forced choice), as do
// -dither (45.8%) and -fsgusefiller no.
//
// The live cepstral mean (CMN) of a pooled decoder carries over from one
// stream to the next: results depend a little on the audio the decoder
// heard before. Resetting it to the telephone -cmninit at every stream was
// measured and is worse (tune split 53.9% → 45.2% exact, prompts 94.9% →
// 89.7% rejected): adapting to the line helps more than determinism.
//
// When the voice detector heard speech but the search kept no path (a
// grammar nothing fits), the utterance still gets a final result,
// Rejected with no text: a no-match, never silence.
//
// A phrase inside a longer sentence is found when the rest is short
// enough: "I would like to book an appointment" (espeak-ng's default
// voice, and en-us) gives "book an appointment" with the demo menu
// grammar.
//
// Without a grammar the full language model decodes free text; hints do not
// change the search (pocketsphinx's keyword spotting detected nothing in
// our tests). Free text on these 8 kHz prompts is poor, as the engine is
// known to be: see benchmarks/stt for the word error rate.
//
// With stt.Config.MaxAlternatives above one, a free-text final result carries
// the n-best list from the lattice (pocketsphinx's A* search, paths that
// differ only in fillers merged). A grammar result has none: the grammar
// search's lattice keeps only the winning phrase and its garbage and timing
// variants.
package sphinx

// Package stt measures parole's speech recognizers on real telephone
// prompts (the Asterisk core sounds, 8 kHz, with their published
// transcripts) and on espeak-ng renderings of the demo call flow's phrases.
//
//	go test -run TestReport -v ./benchmarks/stt/        # about 20 minutes
//	PAROLE_STT_FRONTEND=0 PAROLE_STT_PROMPTS=50 …       # one front end, fewer prompts
//	PAROLE_STT_GARBAGE=1e-12 …                          # try another rejection weight
//
// TestReport is skipped unless -run names it (or PAROLE_STT_REPORT=1); it
// prints, for stt/sphinx with each 8 kHz front end:
//
//   - free text: word error rate over every prompt with a transcript (353
//     prompts, 2964 words), from a word-level Levenshtein alignment after
//     sphinx.Normalize of both sides; hypotheses are the final results that
//     were not rejected, joined;
//   - grammar, prompts: 50 one-sentence prompts in grammars of 10 sentences
//     (first final result of a single-utterance stream must carry the
//     prompt's value), and 50 other prompts against those grammars, which
//     must be rejected;
//   - grammar, demo: every English phrase of the demo flow's menu, yes/no
//     and a digits grammar (each with the global intents), spoken by
//     espeak-ng and converted to 8 kHz by sox, against its grammar; and
//     Asterisk prompts against each demo grammar for rejection. Two
//     disjoint splits: "tune" (en-us, en+f3 at -s 140 and 170; every 14th
//     prompt) for choosing settings, "held" (en-gb, en-us+m3 at -s 155 and
//     185; the prompts 7 further on) for the reported figure
//     (PAROLE_STT_SPLIT=tune or held runs one);
//   - stream setup time with a new decoder and with a pooled one.
//
// Each utterance gets 0.5 s of silence before and after. Figures of one run
// on the shared 2-core machine (pocketsphinx 0.8+5prealpha+1-15):
//
//	free text, upsample-16k: WER 70.8% (sub 1544, del 69, ins 486), x-realtime 4.5
//	grammar prompts, upsample-16k: in-grammar 96.0% exact, 2.0% rejected, 2.0% wrong;
//	    out-of-grammar 90.0% rejected; x-realtime 43
//	grammar prompts, native-8k: in-grammar 18.0% exact, 80.0% rejected;
//	    out-of-grammar 100% rejected
//	demo phrases (espeak-ng), upsample-16k, held-out split: 40.4% exact,
//	    53.9% rejected, 5.7% wrong (menu 45.2%, yes/no 42.7%, digits 32.7%);
//	    prompts vs demo grammars 82.7% rejected
//	    (tune split: 41.9% exact, 53.0% rejected, 5.1% wrong; 89.7% rejected)
//	demo phrases (espeak-ng), native-8k: 2.2% exact, 94.6% rejected
//	stream setup: new decoder 265 ms median; pooled decoder 26 µs median
//
// The rejection weight (sphinx.DefaultGarbageWeight) was tuned on the same
// prompt groups, so their figures are optimistic; the espeak-ng figures are
// not tuned and miss the 95% target by far: most misses are rejections
// (the phone loop wins over short synthetic phrases) or no final result
// (pocketsphinx's voice activity detector never triggers).
//
// A lower rejection weight does not close the gap (tune split,
// PAROLE_STT_GARBAGE): at 1e-20, 61.4% exact, 20.8% rejected, 17.8% wrong,
// prompts 47.4% rejected; at 1e-30, 63.6% / 13.3% / 23.2%, prompts 39.7%
// rejected. With the phone loop nearly out of the way, a quarter of the
// synthetic phrases are still decoded as the wrong phrase: the en-us
// acoustic model itself matches espeak-ng's speech poorly, so no rejection
// rule on top of the search reaches 95%. A second decoding pass with the
// phone loop alone, comparing per-frame acoustic scores (ps_seg_prob's
// ascr) of the whole utterance, was tried: it separated right, wrong and
// out-of-grammar results too poorly to help (no setting of it and of the
// garbage share kept 90% of the prompts rejected while raising the exact
// share on the tune split), and was not kept.
package stt

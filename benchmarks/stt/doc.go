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
//     must be rejected, for each split (tune, held: see below);
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
// Each utterance gets 0.5 s of silence before and after.
//
// A fast subset (about 1–2 minutes instead of 20):
//
//	PAROLE_STT_CACHE=/tmp/stt-cache PAROLE_STT_FRONTEND=0 PAROLE_STT_SPLIT=held \
//	  go test -run 'TestReport/(GrammarPrompts|GrammarDemo|Ceiling|Setup)' -v ./benchmarks/stt/
//
// PAROLE_STT_CACHE keeps the espeak-ng renderings between runs;
// PAROLE_STT_ARGS adds pocketsphinx arguments ("-remove_noise yes" gives
// the figures from before that change). The prompt groups are split too:
// tune = the first 50 in-grammar and 50 out-of-grammar eligible prompts
// (the ones the rejection weight was tuned on), held = the next 50 + 43.
// Ceiling decodes the held-out demo phrases with the out-of-grammar loop
// off (forced choice) at 8 kHz and at 16 kHz.
//
// Figures of one run on the shared 2-core machine (pocketsphinx
// 0.8+5prealpha+1-15, upsample-16k front end, -remove_noise no), held-out
// splits:
//
//	grammar prompts: in-grammar 50: 100% exact; out-of-grammar 43: 86.0% rejected
//	    (tune split: 96.0% exact, 2.0% rejected, 2.0% wrong; 88.0% rejected)
//	demo phrases (espeak-ng): 332: 54.8% exact, 39.2% rejected, 6.0% wrong
//	    (menu 55.8%, yes/no 62.1%, digits 45.2%); Asterisk prompts against
//	    the demo grammars 88.0% rejected; x-realtime 33
//	    (tune split: 53.9% exact, 41.3% rejected, 4.8% wrong; 94.9% rejected)
//	ceiling, forced choice: 76.2% exact at 8 kHz, 92.5% at 16 kHz
//	stream setup: new decoder 287 ms median; pooled decoder 30 µs median
//	free text, first 120 prompts (1448 words): WER 68.9% (sub 717, del 34,
//	    ins 246), x-realtime 2.2 (two runs sharing the 2 cores);
//	    with -remove_noise yes 72.4% (sub 755, del 28, ins 265)
//
// Before -remove_noise no (same code, PAROLE_STT_ARGS="-remove_noise yes"):
// demo phrases held-out 42.5% exact, 52.1% rejected, 5.4% wrong, prompts
// against the demo grammars 84.0% rejected; grammar prompts held-out 100%
// exact, 83.7% rejected.
//
// Older figures (before the split of the prompt groups and that change):
//
//	free text, upsample-16k: WER 70.8% (sub 1544, del 69, ins 486), x-realtime 4.5
//	grammar prompts, native-8k: in-grammar 18.0% exact, 80.0% rejected;
//	    out-of-grammar 100% rejected
//	demo phrases (espeak-ng), native-8k: 2.2% exact, 94.6% rejected
//
// The espeak-ng figures miss the 95% target by far, and the ceiling says
// why: forced onto the nearest phrase with no rejection at all, only 76%
// of the held-out phrases at 8 kHz (92.5% at 16 kHz) come out right. The
// en-us acoustic model, trained on real wideband speech, matches
// espeak-ng's voice poorly, and the telephone band removes a third of its
// filter bank's range. No rejection rule or weight on top of the search
// reaches 95% under that ceiling.
//
// Tried on the tune split and not kept (figures: exact / rejected / wrong,
// prompts vs demo grammars rejected): an 8 kHz filter bank on the
// upsampled audio (-upperf 3800 or 3500, forced choice 16.9% exact
// against 65.4%); -dither yes (forced 45.8%); -fsgusefiller no (19.9% /
// 73.8% / 6.3%); wider beams (-beam 1e-60 -pbeam 1e-60 -wbeam 1e-40: 55.1%
// / 39.8% / 5.1%, 96.2%, at half the speed: within noise); garbage weight
// 1e-15 (64.5% / 24.1% / 11.4%, 69.2%) and 1e-20 (69.9% / 17.2% / 13.0%,
// 50.0%); the wideband -cmninit (forced 76.8% against 77.1%); resetting
// the CMN at every stream (45.2% / 48.8% / 6.0%, 89.7%); dictionary
// alternates "yeah" Y EH and "schedule" SH EH JH UW L (53.0% / 41.0% /
// 6.0%: "say that again" became "yeah").
package stt

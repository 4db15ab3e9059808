// Package intent turns a caller's words into something a dialog can branch on:
// the intent among a flow's intents, a spoken number, a yes or a no.
//
// Input is either typed text (accents, typos, punctuation, capitals) or the
// output of speech recognition (lower-case, unpunctuated, numbers spelled out,
// near-miss words). Everything starts with [Normalize]: lower-case, accents
// folded to ASCII (é→e, ç→c, œ→oe, ß→ss), punctuation removed, French
// elisions split (l'heure → l heure) and spaces collapsed.
//
// The pieces:
//
//   - [Matcher] ranks a set of [Intent]s, each given by example phrases,
//     against an utterance. The score mixes how much of an example the
//     utterance covers with how much of the utterance the example explains,
//     both weighted by inverse document frequency over the intents, and
//     accepts fuzzy token matches (Damerau–Levenshtein with a
//     length-dependent bound) so that typos and recognition near-misses
//     still match. Everything that does not depend on the utterance is
//     computed once by [NewMatcher].
//   - [ParseNumber], [Digits] and [Value] read English and French numbers,
//     spelled out ("quatre-vingt-dix-neuf", "one thousand two hundred"),
//     read digit by digit ("four five six", "double five", "oh") or in the
//     French pairs of telephone numbers ("zéro six, douze, trente-quatre"),
//     or already written as digits.
//   - [YesNo] decides whether an answer is a yes or a no in English or
//     French, handling negation ("not correct", "pas d'accord") and refusing
//     to guess when the answer is unsure or contradictory.
//   - [ParseDate] reads the day a caller names ("tomorrow", "lundi
//     prochain", "le 3 mars", "march 3rd") relative to a reference time.
//   - [NLU] is the contract of a natural-language understanding back end.
//     [Matcher] implements it, and so does [Rasa], a client for the
//     /model/parse endpoint of a Rasa server's HTTP API.
//
// Languages are given as BCP 47 tags; only the primary subtag is looked at
// ("fr-FR" and "fr" are the same). The empty tag means "any language".
package intent

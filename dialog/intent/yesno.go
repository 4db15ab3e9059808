package intent

import "strings"

// Answer is the meaning of a reply to a closed question.
type Answer int

// Answers.
const (
	// Unknown is neither yes nor no: unsure, contradictory or off topic.
	Unknown Answer = iota
	// Yes agrees.
	Yes
	// No refuses or denies.
	No
)

// String returns "yes", "no" or "unknown".
func (a Answer) String() string {
	switch a {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// The phrase lists are normalised forms; the longest phrase at a position
// wins, so "no problem" is a yes and "of course not" a no.
var yesNoPhrases = map[string]map[Answer][]string{
	"en": {
		Yes: {"yes", "yeah", "yea", "yep", "yup", "ya", "yes please", "sure", "sure thing", "of course",
			"correct", "thats correct", "that is correct", "thats right", "that is right", "right",
			"absolutely", "ok", "okay", "alright", "all right", "definitely", "certainly", "indeed",
			"affirmative", "exactly", "uh huh", "mhm", "go ahead", "please do", "no problem", "of course yes",
			"thats it", "that is it", "it is", "i do", "fine", "perfect", "agreed", "i agree", "i think so"},
		No: {"no", "nope", "nah", "no thanks", "no thank you", "not really", "negative", "never",
			"not at all", "absolutely not", "certainly not", "definitely not", "of course not",
			"incorrect", "wrong", "thats wrong", "thats not it", "no way", "i dont", "it isnt",
			"not now", "dont", "do not", "i do not", "i dont think so", "i do not think so"},
		Unknown: {"not sure", "im not sure", "maybe", "perhaps", "i dont know", "dont know", "dunno",
			"i do not know", "not certain", "possibly", "it depends", "depends"},
	},
	"fr": {
		Yes: {"oui", "ouais", "ouai", "ouaip", "ouep", "voui", "si si", "mais si", "ben si", "bah si", "bien sur", "d accord", "dac", "daccord",
			"exactement", "exact", "tout a fait", "c est ca", "c est bien ca", "c est exact", "c est correct",
			"c est juste", "correct", "absolument", "ok", "okay", "parfait", "volontiers", "evidemment",
			"carrement", "bien entendu", "effectivement", "certainement", "avec plaisir", "pas de probleme",
			"pas de souci", "pas de soucis", "sans probleme", "allez y", "entendu", "oui merci",
			"oui s il vous plait", "tres bien", "ca marche", "c est bon", "bien sur que oui", "je confirme",
			"confirme", "affirmatif", "tout a fait ca"},
		No: {"non", "nan", "non merci", "pas du tout", "pas vraiment", "jamais", "absolument pas",
			"surtout pas", "certainement pas", "pas question", "c est faux", "faux", "c est pas ca",
			"ce n est pas ca", "pas ca", "negatif", "bien sur que non", "non pas du tout", "pas maintenant",
			"aucunement", "nullement", "je ne veux pas", "je veux pas", "pas la peine", "c est pas bon",
			"ce n est pas bon", "pas d accord", "je ne crois pas", "je crois pas", "je ne pense pas", "je pense pas"},
		Unknown: {"pas sur", "je ne suis pas sur", "je suis pas sur", "peut etre", "je ne sais pas",
			"je sais pas", "sais pas", "chais pas", "j sais pas", "aucune idee", "ca depend", "possible", "pourquoi pas"},
	},
}

// negators turn a following yes into a no: "not correct", "pas d'accord".
var negators = map[string]bool{"not": true, "isnt": true, "wasnt": true, "pas": true, "never": true, "jamais": true}

type phraseTable struct {
	m      map[string]Answer
	maxLen int
}

var yesNoTables = func() map[string]*phraseTable {
	build := func(langs ...string) *phraseTable {
		t := &phraseTable{m: map[string]Answer{}}
		for _, l := range langs {
			for a, list := range yesNoPhrases[l] {
				for _, p := range list {
					t.m[p] = a
					t.maxLen = max(t.maxLen, strings.Count(p, " ")+1)
				}
			}
		}
		return t
	}
	return map[string]*phraseTable{"en": build("en"), "fr": build("fr"), "": build("en", "fr")}
}()

// YesNo reads a reply to a yes/no question in lang ("en", "fr"; empty for
// both). It reports ok only when the reply says yes or says no without
// also saying the opposite or doubting: "yes", "of course", "that's right",
// "bien sûr", "d'accord" are yes; "no thanks", "not really", "pas du tout",
// "not correct" are no; "not sure", "je ne sais pas", "oui… non" are not
// ok. Words that are neither ("euh", "well", "merci") are ignored.
func YesNo(text, lang string) (Answer, bool) {
	tab, ok := yesNoTables[primary(lang)]
	if !ok {
		tab = yesNoTables[""]
	}
	t := getTokens(text)
	defer putTokens(t)
	var yes, no, unsure int
	if len(t.toks) == 1 && string(t.word(0)) == "si" && primary(lang) != "en" {
		// "Si" answers yes to a negative question; elsewhere it is "if".
		return Yes, true
	}
	var key []byte
	for i := 0; i < len(t.toks); {
		found, n := Unknown, 0
		for l := min(tab.maxLen, len(t.toks)-i); l >= 1; l-- {
			key = t.buf[t.toks[i].start:t.toks[i+l-1].end]
			if a, ok := tab.m[string(key)]; ok {
				found, n = a, l
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		if found == Yes && i > 0 && negators[string(t.word(i-1))] {
			found = No
		}
		switch found {
		case Yes:
			yes++
		case No:
			no++
		default:
			unsure++
		}
		i += n
	}
	switch {
	case unsure > 0, yes > 0 && no > 0:
		return Unknown, false
	case yes > 0:
		return Yes, true
	case no > 0:
		return No, true
	}
	return Unknown, false
}

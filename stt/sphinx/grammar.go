package sphinx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/parole-voice/parole/stt"
)

// Errors callers branch on.
var (
	// ErrModel: the acoustic model, dictionary or language model could not
	// be loaded.
	ErrModel = errors.New("sphinx: cannot load model")
	// ErrGrammar: a grammar has no usable phrase, or pocketsphinx refused it.
	ErrGrammar = errors.New("sphinx: invalid grammar")
	// ErrUnknownWord: a grammar phrase or hint uses a word the dictionary
	// does not have (the error names the words).
	ErrUnknownWord = errors.New("sphinx: word not in dictionary")
)

// garbagePrefix names the phone-loop words of the out-of-grammar path.
const garbagePrefix = "gbg_"

// phones of the CMU en-us model, one garbage word each.
var phones = strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH")

var ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

var tens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

// numberWords spells a run of ASCII digits: numbers below 100 as words
// ("18" → "eighteen", "42" → "forty two"), longer runs (phone numbers,
// codes) digit by digit.
func numberWords(digits string) []string {
	if len(digits) > 2 || (len(digits) == 2 && digits[0] == '0') {
		out := make([]string, 0, len(digits))
		for _, c := range digits {
			out = append(out, ones[c-'0'])
		}
		return out
	}
	n, _ := strconv.Atoi(digits)
	switch {
	case n < 20:
		return []string{ones[n]}
	case n%10 == 0:
		return []string{tens[n/10]}
	default:
		return []string{tens[n/10], ones[n%10]}
	}
}

// Normalize turns a phrase into the words the recognizer hears: lower case,
// punctuation dropped (apostrophes inside words kept: "I'd" → "i'd"),
// hyphens and slashes as spaces, and digits spelled as words ("press 1" →
// "press one", "9 am" → "nine am", "0612" → "zero six one two").
func Normalize(phrase string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		w := strings.Trim(cur.String(), "'")
		cur.Reset()
		if w == "" {
			return
		}
		// split letter/digit runs: "9am" → "9", "am"
		start := 0
		for i := 1; i <= len(w); i++ {
			if i == len(w) || isDigit(w[i]) != isDigit(w[i-1]) {
				part := w[start:i]
				if isDigit(part[0]) {
					words = append(words, numberWords(part)...)
				} else if p := strings.Trim(part, "'"); p != "" {
					words = append(words, p)
				}
				start = i
			}
		}
	}
	for _, r := range phrase {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			cur.WriteByte('\'')
		default:
			flush()
		}
	}
	flush()
	return words
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// compiled is a grammar turned into JSGF, with the map from recognized
// text back to rule values.
type compiled struct {
	name   string
	jsgf   string
	values map[string]string // normalized phrase → Rule.Value
}

// UnknownWordsError lists the phrases of a grammar (or hints) that use
// words missing from the dictionary. It wraps ErrUnknownWord.
type UnknownWordsError struct {
	// Phrases maps each rejected phrase to its unknown words.
	Phrases map[string][]string
}

func (e *UnknownWordsError) Error() string {
	var b strings.Builder
	b.WriteString("sphinx: words not in dictionary:")
	n := 0
	for p, ws := range e.Phrases {
		if n == 3 {
			fmt.Fprintf(&b, " … (%d phrases)", len(e.Phrases))
			break
		}
		fmt.Fprintf(&b, " %q in %q;", strings.Join(ws, " "), p)
		n++
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap returns ErrUnknownWord.
func (e *UnknownWordsError) Unwrap() error { return ErrUnknownWord }

// compileGrammar builds the JSGF of g. Phrases with words not in the
// dictionary are left out and reported in unknown (nil when none); the
// error is set only when no phrase is left. garbageWeight is the weight of
// the phone loop against 1 for the phrases (0 disables it).
func compileGrammar(g *stt.Grammar, has func(string) bool, garbageWeight float64) (c *compiled, unknown *UnknownWordsError, err error) {
	if g == nil || len(g.Rules) == 0 {
		return nil, nil, fmt.Errorf("%w: no rules", ErrGrammar)
	}
	c = &compiled{values: make(map[string]string, len(g.Rules))}
	var alts []string
	for _, r := range g.Rules {
		words := Normalize(r.Phrase)
		if len(words) == 0 {
			continue
		}
		var missing []string
		for _, w := range words {
			if !has(w) {
				missing = append(missing, w)
			}
		}
		if len(missing) > 0 {
			if unknown == nil {
				unknown = &UnknownWordsError{Phrases: map[string][]string{}}
			}
			unknown.Phrases[r.Phrase] = missing
			continue
		}
		key := strings.Join(words, " ")
		if _, dup := c.values[key]; dup {
			continue // the first rule with this phrase wins
		}
		c.values[key] = r.Value
		alts = append(alts, "("+key+")")
	}
	if len(alts) == 0 {
		if unknown != nil {
			return nil, unknown, fmt.Errorf("%w: no phrase left: %w", ErrGrammar, unknown)
		}
		return nil, nil, fmt.Errorf("%w: no words in any phrase", ErrGrammar)
	}
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar parole;\n")
	if garbageWeight > 0 {
		// sphinxbase applies JSGF weights to words, not to rule
		// references: every phone of the loop carries the weight.
		wt := "/" + strconv.FormatFloat(garbageWeight, 'f', -1, 64) + "/ "
		b.WriteString("public <utt> = <phrase> | <garbage>;\n")
		b.WriteString("<garbage> = (")
		for i, p := range phones {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(wt + garbagePrefix + strings.ToLower(p))
		}
		b.WriteString(")+;\n")
		b.WriteString("<phrase> = ")
	} else {
		b.WriteString("public <utt> = ")
	}
	b.WriteString(strings.Join(alts, " | "))
	b.WriteString(";\n")
	c.jsgf = b.String()
	sum := sha256.Sum256([]byte(c.jsgf))
	c.name = "g" + hex.EncodeToString(sum[:8])
	return c, unknown, nil
}

// isFiller reports words that are not speech: pocketsphinx's silence and
// noise fillers and sentence markers.
func isFiller(w string) bool {
	return w == "" || w[0] == '<' || w[0] == '[' || w[0] == '+' || w == "(NULL)"
}

// baseWord drops an alternate-pronunciation suffix: "and(2)" → "and".
func baseWord(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
		return w[:i]
	}
	return w
}

package google

import (
	"strings"
	"unicode"

	"github.com/parole-voice/parole/stt"
)

var ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

var tens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

// numberWords spells a run of digits the way it is spoken: one or two
// digits as a number ("42" → "forty two"), longer runs digit by digit
// (phone numbers, codes).
func numberWords(digits string) []string {
	if len(digits) <= 2 {
		n := 0
		for i := 0; i < len(digits); i++ {
			n = n*10 + int(digits[i]-'0')
		}
		switch {
		case len(digits) == 2 && digits[0] == '0':
			return []string{ones[0], ones[n]}
		case n < 20:
			return []string{ones[n]}
		case n%10 == 0:
			return []string{tens[n/10]}
		default:
			return []string{tens[n/10], ones[n%10]}
		}
	}
	w := make([]string, len(digits))
	for i := 0; i < len(digits); i++ {
		w[i] = ones[digits[i]-'0']
	}
	return w
}

// Normalize turns a phrase or a transcript into the words compared against
// a grammar: lower case, punctuation dropped (apostrophes inside words
// kept, typographic ones made straight), hyphens as spaces, digit runs
// spelled out ("press 42" → "press forty two", "0612" → "zero six one
// two"), so that Google's "Press 4." matches the rule "press four".
func Normalize(s string) string {
	var words []string
	var cur strings.Builder
	flush := func() {
		w := strings.Trim(cur.String(), "'")
		cur.Reset()
		if w != "" {
			words = append(words, w)
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r >= '0' && r <= '9':
			flush()
			j := i
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			words = append(words, numberWords(string(rs[i:j]))...)
			i = j - 1
		case unicode.IsLetter(r) || unicode.IsMark(r):
			cur.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			cur.WriteByte('\'')
		default:
			flush()
		}
	}
	flush()
	return strings.Join(words, " ")
}

// grammar is a compiled stt.Grammar: normalized phrase → value.
type grammar struct {
	values map[string]string
}

func compileGrammar(g *stt.Grammar) *grammar {
	if g == nil || len(g.Rules) == 0 {
		return nil
	}
	c := &grammar{values: make(map[string]string, len(g.Rules))}
	for _, r := range g.Rules {
		n := Normalize(r.Phrase)
		if _, dup := c.values[n]; !dup && n != "" {
			c.values[n] = r.Value
		}
	}
	return c
}

// match returns the value of the rule whose phrase is text, normalized.
func (g *grammar) match(text string) (string, bool) {
	v, ok := g.values[Normalize(text)]
	return v, ok
}

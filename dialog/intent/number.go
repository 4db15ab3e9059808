package intent

import (
	"strconv"
)

type numKind uint8

const (
	kNone    numKind = iota
	kUnit            // 0–9
	kTeen            // 10–19
	kTens            // 20, 30, … 90
	kHundred         // hundred, cent
	kScale           // thousand, million, billion; mille, million, milliard
	kOh              // "oh": zero, only inside a digit sequence
	kRepeat          // double, triple
	kAnd             // "and", "et" inside a number
	kA               // "a" in "a hundred"
	kDigits          // a word of ASCII digits
)

type numWord struct {
	kind numKind
	val  int64
}

var numEN = map[string]numWord{
	"zero": {kUnit, 0}, "nought": {kUnit, 0}, "naught": {kUnit, 0},
	"one": {kUnit, 1}, "two": {kUnit, 2}, "three": {kUnit, 3}, "four": {kUnit, 4},
	"five": {kUnit, 5}, "six": {kUnit, 6}, "seven": {kUnit, 7}, "eight": {kUnit, 8}, "nine": {kUnit, 9},
	"ten": {kTeen, 10}, "eleven": {kTeen, 11}, "twelve": {kTeen, 12}, "thirteen": {kTeen, 13},
	"fourteen": {kTeen, 14}, "fifteen": {kTeen, 15}, "sixteen": {kTeen, 16},
	"seventeen": {kTeen, 17}, "eighteen": {kTeen, 18}, "nineteen": {kTeen, 19},
	"twenty": {kTens, 20}, "thirty": {kTens, 30}, "forty": {kTens, 40}, "fourty": {kTens, 40},
	"fifty": {kTens, 50}, "sixty": {kTens, 60}, "seventy": {kTens, 70}, "eighty": {kTens, 80}, "ninety": {kTens, 90},
	"hundred": {kHundred, 100}, "hundreds": {kHundred, 100},
	"thousand": {kScale, 1000}, "million": {kScale, 1_000_000}, "billion": {kScale, 1_000_000_000},
	"oh": {kOh, 0}, "o": {kOh, 0},
	"double": {kRepeat, 2}, "triple": {kRepeat, 3},
	"and": {kAnd, 0}, "a": {kA, 1},
}

var numFR = map[string]numWord{
	"zero": {kUnit, 0}, "un": {kUnit, 1}, "une": {kUnit, 1}, "deux": {kUnit, 2}, "trois": {kUnit, 3},
	"quatre": {kUnit, 4}, "cinq": {kUnit, 5}, "six": {kUnit, 6}, "sept": {kUnit, 7},
	"huit": {kUnit, 8}, "neuf": {kUnit, 9},
	"dix": {kTeen, 10}, "onze": {kTeen, 11}, "douze": {kTeen, 12}, "treize": {kTeen, 13},
	"quatorze": {kTeen, 14}, "quinze": {kTeen, 15}, "seize": {kTeen, 16},
	"vingt": {kTens, 20}, "vingts": {kTens, 20}, "trente": {kTens, 30}, "quarante": {kTens, 40},
	"cinquante": {kTens, 50}, "soixante": {kTens, 60},
	// Belgian and Swiss French.
	"septante": {kTens, 70}, "huitante": {kTens, 80}, "octante": {kTens, 80}, "nonante": {kTens, 90},
	"cent": {kHundred, 100}, "cents": {kHundred, 100},
	"mille": {kScale, 1000}, "mil": {kScale, 1000}, "million": {kScale, 1_000_000}, "millions": {kScale, 1_000_000},
	"milliard": {kScale, 1_000_000_000}, "milliards": {kScale, 1_000_000_000},
	"double": {kRepeat, 2}, "triple": {kRepeat, 3},
	"et": {kAnd, 0},
}

var numAll = func() map[string]numWord {
	m := map[string]numWord{}
	for k, v := range numEN {
		m[k] = v
	}
	for k, v := range numFR {
		m[k] = v
	}
	return m
}()

// Number is a number found in an utterance.
type Number struct {
	// Digits is the number written in decimal digits. Leading zeros said or
	// written are kept: "zéro six douze" gives "0612".
	Digits string
	// Value is Digits as an integer, or -1 when Digits has more than 18
	// digits.
	Value int64
	// Sequence tells that the number was read as a sequence of numbers put
	// side by side ("four five six", "zéro six douze trente-quatre") rather
	// than as one quantity ("four hundred fifty-six").
	Sequence bool
	// Start and End delimit the words of the number in the text, in bytes.
	Start, End int
}

// maxValueDigits is the longest digit string [Number.Value] holds.
const maxValueDigits = 18

// ParseNumber finds the first number spoken or written in text: words of
// lang ("en" or "fr"; empty for both) or digits. Numbers said digit by digit
// or in groups ("four five six", "oh", "double five", the French pairs
// of telephone numbers) are put side by side; spelled-out numbers
// ("quatre-vingt-dix-neuf", "one thousand two hundred and five") are
// composed. Words around the number are ignored.
func ParseNumber(text, lang string) (Number, bool) {
	var first Number
	found := false
	scanNumbers(text, lang, func(n Number) bool {
		first, found = n, true
		return false
	})
	return first, found
}

// FindNumbers returns every number in text, in order (see [ParseNumber]).
func FindNumbers(text, lang string) []Number {
	var all []Number
	scanNumbers(text, lang, func(n Number) bool {
		all = append(all, n)
		return true
	})
	return all
}

// Digits returns the digits of the first number in text, keeping leading
// zeros: the reading for telephone, account and reference numbers.
func Digits(text, lang string) (string, bool) {
	n, ok := ParseNumber(text, lang)
	return n.Digits, ok
}

// Value returns the first number in text as an integer: the reading for
// quantities. It is false when there is no number or it has more than 18
// digits.
func Value(text, lang string) (int64, bool) {
	n, ok := ParseNumber(text, lang)
	if !ok || n.Value < 0 {
		return 0, false
	}
	return n.Value, true
}

type numScanner struct {
	t     *tokens
	table map[string]numWord
	fr    bool
}

func (s *numScanner) word(i int) (numWord, bool) {
	if i >= len(s.t.toks) {
		return numWord{}, false
	}
	w := s.t.word(i)
	if allDigits(w) {
		return numWord{kind: kDigits}, true
	}
	nw, ok := s.table[string(w)]
	return nw, ok
}

func allDigits(w []byte) bool {
	if len(w) == 0 {
		return false
	}
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// group is one number being composed.
type group struct {
	active    bool
	total     int64 // thousands and above
	cur       int64 // below the last scale
	lastScale int64
	last      numKind
	lastVal   int64
	lit       []byte // the digits of a kDigits word
}

func scanNumbers(text, lang string, yield func(Number) bool) {
	s := numScanner{table: numAll, fr: true}
	switch primary(lang) {
	case "en":
		s.table, s.fr = numEN, false
	case "fr":
		s.table = numFR
	}
	s.t = getTokens(text)
	defer putTokens(s.t)
	n := len(s.t.toks)
	var digits []byte
	for i := 0; i < n; {
		digits = digits[:0]
		end, groups, real := s.span(i, &digits)
		if end == i {
			i++
			continue
		}
		if real > 0 {
			num := Number{
				Digits:   string(digits),
				Value:    -1,
				Sequence: groups > 1,
				Start:    s.t.toks[i].ostart,
				End:      s.t.toks[end-1].oend,
			}
			if len(digits) <= maxValueDigits {
				num.Value, _ = strconv.ParseInt(num.Digits, 10, 64)
			}
			if !yield(num) {
				return
			}
		}
		i = end
	}
}

// span reads the number starting at word i, appending its digits, and
// returns the index after its last word, the number of groups and how many
// of them are not a bare "oh" (end == i when no number starts at i).
func (s *numScanner) span(i int, digits *[]byte) (end, groups, real int) {
	var g group
	flush := func() {
		if !g.active {
			return
		}
		if g.lit != nil {
			*digits = append(*digits, g.lit...)
		} else {
			*digits = strconv.AppendInt(*digits, g.total+g.cur, 10)
		}
		g = group{}
		groups++
		real++
	}
	j := i
scan:
	for ; j < len(s.t.toks); j++ {
		w, ok := s.word(j)
		if !ok {
			break
		}
		if j > i && s.t.toks[j].pause && g.last != kScale {
			// "trente, quatre-vingts" is 30 then 80; "one thousand, two
			// hundred" is one number.
			flush()
		}
		switch w.kind {
		case kAnd:
			if !s.andOK(&g, j) {
				break scan
			}
			g.last = kAnd
		case kA:
			next, _ := s.word(j + 1)
			if next.kind != kHundred && next.kind != kScale {
				break scan
			}
			flush()
			g = group{active: true, cur: 1, last: kUnit, lastVal: 1}
		case kRepeat:
			next, ok := s.word(j + 1)
			var d []byte
			switch {
			case !ok:
			case next.kind == kUnit || next.kind == kOh:
				d = []byte{byte('0' + next.val)}
			case next.kind == kDigits && len(s.t.word(j+1)) == 1:
				d = s.t.word(j + 1)
			}
			if d == nil {
				break scan
			}
			flush()
			for range w.val {
				*digits = append(*digits, d...)
				groups++
				real++
			}
			j++
		case kOh:
			next, ok := s.word(j + 1)
			if j == i && (!ok || next.kind == kAnd || next.kind == kA) {
				break scan // a lone "oh" is an interjection
			}
			flush()
			*digits = append(*digits, '0')
			groups++
		case kDigits:
			flush()
			g = group{active: true, last: kDigits, lit: s.t.word(j)}
			if len(g.lit) <= 3 {
				g.cur, _ = strconv.ParseInt(string(g.lit), 10, 64)
			}
		default:
			if !g.extend(w, s.fr) {
				flush()
				g.start(w)
			}
		}
	}
	flush()
	return j, groups, real
}

// andOK reports whether the "and"/"et" at word j joins two parts of a
// number: "one hundred and five", "vingt et un", "soixante et onze".
func (s *numScanner) andOK(g *group, j int) bool {
	if !g.active {
		return false
	}
	next, ok := s.word(j + 1)
	if !ok {
		return false
	}
	if string(s.t.word(j)) == "and" {
		return (g.last == kHundred || g.last == kScale) &&
			(next.kind == kUnit && next.val > 0 || next.kind == kTeen || next.kind == kTens)
	}
	return g.last == kTens && g.cur%10 == 0 &&
		(next.kind == kUnit && next.val == 1 || next.kind == kTeen && next.val == 11 && g.cur%100 == 60)
}

func (g *group) start(w numWord) {
	*g = group{active: true, last: w.kind, lastVal: w.val}
	switch w.kind {
	case kScale:
		g.total, g.lastScale = w.val, w.val
	default:
		g.cur = w.val
	}
}

// extend adds word w to the number being composed, or reports false when w
// starts a new number.
func (g *group) extend(w numWord, fr bool) bool {
	if !g.active {
		return false
	}
	if g.last == kDigits && w.kind != kHundred && w.kind != kScale {
		return false
	}
	afterJoin := g.last == kHundred || g.last == kScale || g.last == kAnd
	switch w.kind {
	case kUnit:
		if w.val == 0 {
			return false
		}
		switch {
		case afterJoin,
			g.last == kTens && g.cur%10 == 0 && g.cur%100 >= 20,
			fr && g.last == kTeen && g.lastVal == 10 && w.val >= 7:
			g.cur += w.val
		default:
			return false
		}
	case kTeen:
		switch {
		case afterJoin:
			g.cur += w.val
		case fr && g.last == kTens && (g.cur%100 == 60 || g.cur%100 == 80):
			g.cur += w.val
		default:
			return false
		}
	case kTens:
		switch {
		case afterJoin && g.cur%100 == 0:
			g.cur += w.val
		case fr && w.val == 20 && g.last == kUnit && g.cur%100 == 4:
			g.cur += 76 // quatre-vingts
		default:
			return false
		}
	case kHundred:
		switch {
		case g.last == kScale && g.cur == 0:
			g.cur = 100
		case g.last != kHundred && g.last != kAnd && g.cur > 0 && g.cur < 100:
			g.cur *= 100
		default:
			return false
		}
		g.lit = nil
	case kScale:
		if g.last == kScale || g.last == kAnd || g.lastScale != 0 && w.val >= g.lastScale {
			return false
		}
		if g.total == 0 && g.cur == 0 {
			return false
		}
		g.total += g.cur * w.val
		g.cur = 0
		g.lastScale = w.val
		g.lit = nil
	default:
		return false
	}
	g.last, g.lastVal = w.kind, w.val
	return true
}

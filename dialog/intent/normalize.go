package intent

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// fold maps the lower-case letters of Latin-1 Supplement and Latin
// Extended-A (U+00C0–U+017F) to their ASCII spelling; the empty string marks
// a rune that is not folded (the upper-case letters, ×, ÷).
var fold [0x180 - 0xC0]string

func init() {
	ranges := []struct {
		lo, hi rune
		to     string
	}{
		{0xC0, 0xC5, "a"}, {0xC6, 0xC6, "ae"}, {0xC7, 0xC7, "c"}, {0xC8, 0xCB, "e"},
		{0xCC, 0xCF, "i"}, {0xD0, 0xD0, "d"}, {0xD1, 0xD1, "n"}, {0xD2, 0xD6, "o"},
		{0xD8, 0xD8, "o"}, {0xD9, 0xDC, "u"}, {0xDD, 0xDD, "y"}, {0xDE, 0xDE, "th"},
		{0xDF, 0xDF, "ss"}, {0xE0, 0xE5, "a"}, {0xE6, 0xE6, "ae"}, {0xE7, 0xE7, "c"},
		{0xE8, 0xEB, "e"}, {0xEC, 0xEF, "i"}, {0xF0, 0xF0, "d"}, {0xF1, 0xF1, "n"},
		{0xF2, 0xF6, "o"}, {0xF8, 0xF8, "o"}, {0xF9, 0xFC, "u"}, {0xFD, 0xFD, "y"},
		{0xFE, 0xFE, "th"}, {0xFF, 0xFF, "y"},
		{0x100, 0x105, "a"}, {0x106, 0x10D, "c"}, {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
		{0x11C, 0x123, "g"}, {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
		{0x134, 0x135, "j"}, {0x136, 0x138, "k"}, {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
		{0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
		{0x162, 0x167, "t"}, {0x168, 0x173, "u"}, {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
		{0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
	}
	for _, r := range ranges {
		for c := r.lo; c <= r.hi; c++ {
			fold[c-0xC0] = r.to
		}
	}
}

// elisions are the French words that drop their vowel before an apostrophe:
// "l'heure" is the two words "l heure". Any other word keeps its apostrophe
// part attached ("aujourd'hui" → "aujourdhui", "don't" → "dont").
var elisions = map[string]bool{
	"l": true, "d": true, "j": true, "m": true, "n": true, "s": true, "t": true,
	"c": true, "qu": true, "jusqu": true, "lorsqu": true, "puisqu": true,
	"quoiqu": true, "presqu": true, "quelqu": true,
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2019', '\u2018', '\u02bc', '`', '\u00b4':
		return true
	}
	return false
}

// tok is one token: its normalised bytes buf[start:end] and the bytes
// text[ostart:oend] of the original text it comes from.
type tok struct {
	start, end   int
	ostart, oend int
	pause        bool // punctuation (a comma, a full stop…) comes before it
}

// tokens is a reusable tokeniser: after add, buf holds the normalised text
// (tokens separated by one space) and toks the tokens.
type tokens struct {
	buf   []byte
	toks  []tok
	open  bool // a token is being written
	pause bool // punctuation seen since the last token
}

// tokenPool recycles tokenisers between calls of the package functions.
var tokenPool = sync.Pool{New: func() any { return new(tokens) }}

func getTokens(text string) *tokens {
	t := tokenPool.Get().(*tokens)
	t.reset()
	t.add(text)
	return t
}

func putTokens(t *tokens) {
	if cap(t.buf) <= 4096 && cap(t.toks) <= 1024 {
		tokenPool.Put(t)
	}
}

func (t *tokens) reset() {
	t.buf = t.buf[:0]
	t.toks = t.toks[:0]
	t.open = false
	t.pause = false
}

func (t *tokens) word(i int) []byte { return t.buf[t.toks[i].start:t.toks[i].end] }

func (t *tokens) begin(at int) {
	if t.open {
		return
	}
	if len(t.buf) > 0 {
		t.buf = append(t.buf, ' ')
	}
	t.toks = append(t.toks, tok{start: len(t.buf), ostart: at, pause: t.pause && len(t.toks) > 0})
	t.open = true
	t.pause = false
}

func (t *tokens) extend(oend int) {
	k := &t.toks[len(t.toks)-1]
	k.end = len(t.buf)
	k.oend = oend
}

func (t *tokens) close() { t.open = false }

// letterAt reports whether text[i:] starts with a rune that Normalize keeps.
func letterAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// add tokenises text, appending its tokens.
func (t *tokens) add(text string) {
	t.close()
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		next := i + size
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			t.begin(i)
			t.buf = append(t.buf, byte(r))
			t.extend(next)
		case r >= 'A' && r <= 'Z':
			t.begin(i)
			t.buf = append(t.buf, byte(r+'a'-'A'))
			t.extend(next)
		case r < utf8.RuneSelf:
			switch r {
			case '\'':
				t.apostrophe(text, next)
			case ',', ';', '.', ':', '!', '?', '\n':
				t.close()
				t.pause = true
			default:
				t.close()
			}
		case isApostrophe(r):
			t.apostrophe(text, next)
		default:
			t.nonASCII(r, i, next)
		}
		i = next
	}
	t.close()
}

// apostrophe handles an apostrophe inside a word: it splits a French
// elision and is dropped otherwise.
func (t *tokens) apostrophe(text string, next int) {
	if !t.open || !letterAt(text, next) {
		t.close()
		return
	}
	k := t.toks[len(t.toks)-1]
	if elisions[string(t.buf[k.start:k.end])] {
		t.close()
	}
}

func (t *tokens) nonASCII(r rune, i, next int) {
	l := unicode.ToLower(r)
	if l >= 0xC0 && l < 0x180 && fold[l-0xC0] != "" {
		t.begin(i)
		t.buf = append(t.buf, fold[l-0xC0]...)
		t.extend(next)
		return
	}
	if r == '…' { // …
		t.close()
		t.pause = true
		return
	}
	if unicode.Is(unicode.Mn, r) {
		// A combining accent (decomposed input): dropped, the word goes on.
		return
	}
	if (unicode.IsLetter(l) || unicode.IsDigit(l)) && unicode.ToLower(l) == l && l != utf8.RuneError {
		t.begin(i)
		t.buf = utf8.AppendRune(t.buf, l)
		t.extend(next)
		return
	}
	t.close()
}

// Normalize returns text lower-cased, with accents folded to ASCII (é→e,
// ç→c, œ→oe, ß→ss, for Latin-1 and Latin Extended-A), punctuation and
// symbols turned into spaces, French elisions split ("l'heure" → "l heure",
// "j'aimerais" → "j aimerais"), other apostrophes dropped ("aujourd'hui" →
// "aujourdhui", "don't" → "dont"), hyphenated words split and spaces
// collapsed. Letters outside the folded ranges are kept (lower-cased).
// Normalize is idempotent.
func Normalize(text string) string {
	t := getTokens(text)
	defer putTokens(t)
	return string(t.buf)
}

// Tokens returns the words of [Normalize](text).
func Tokens(text string) []string {
	n := Normalize(text)
	if n == "" {
		return nil
	}
	return strings.Split(n, " ")
}

// primary returns the primary subtag of a BCP 47 language tag, lower-cased:
// "fr-FR" → "fr".
func primary(lang string) string {
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if !isLower(lang) {
		lang = strings.ToLower(lang)
	}
	return lang
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// stopWords lists, per language, the function words that weigh little when
// scoring an intent match. They are normalised forms.
var stopWords = map[string][]string{
	"en": strings.Fields(`a an the i im me my we our you your it its is are was be been am
		to of in on at for with by from and or but so if then than that this these those
		do does did please thanks thank hi hello um uh er erm oh well like just can could would
		will shall should want wanna need id ill ive some any there here what yes no ok okay`),
	"fr": strings.Fields(`le la les l un une des du de d au aux a et ou mais donc or ni car
		je j me m moi tu te t toi il elle on nous vous ils elles se s ce c ca cela ceci est
		sont suis es etre ai as avons avez ont mon ma mes ton ta tes son sa ses notre votre nos vos
		leur leurs que qu qui quoi dont en y ne n pas pour par avec sans sur dans chez
		bonjour bonsoir merci euh heu ben bah hum alors voila plait sil si oui non ok
		voudrais voudrait veux veut aimerais aimerait souhaite souhaiterais peux pouvez`),
}

// isStopWord reports whether the normalised word w is a stop word of lang
// (of any known language when lang is empty).
func isStopWord(w, lang string) bool {
	return stopSet(lang)[w]
}

var stopSets = func() map[string]map[string]bool {
	all := map[string]bool{}
	m := map[string]map[string]bool{"": all}
	for lang, words := range stopWords {
		s := map[string]bool{}
		for _, w := range words {
			s[w] = true
			all[w] = true
		}
		m[lang] = s
	}
	return m
}()

func stopSet(lang string) map[string]bool {
	if s, ok := stopSets[primary(lang)]; ok {
		return s
	}
	return stopSets[""]
}

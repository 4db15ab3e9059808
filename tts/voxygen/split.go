package voxygen

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is one piece of a request's text synthesized by one HTTP
// request: Text is text[Offset:Offset+len(Text)] trimmed of surrounding
// spaces (Offset points at its first non-space byte).
type Segment struct {
	Offset int
	Text   string
}

// abbreviations are words ending with a period that do not end a sentence
// (English and French), compared lower-case without the period.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "prof": true, "jr": true, "sr": true,
	"vs": true, "etc": false, "e.g": true, "i.e": true, "no": true, "n°": true,
	"m": true, "mm": true, "mme": true, "mmes": true, "mlle": true, "mlles": true, "me": true,
	"av": true, "bd": true, "tél": true, "tel": true, "cf": true, "p": true,
}

// SplitSentences cuts text into sentences so that the first can be
// synthesized and played while the next are requested. A sentence ends at
// ".", "!", "?", "…" (or several of them, with closing quotes or
// brackets) followed by a space, or at a blank line; a period after a
// single letter or a known abbreviation ("Mr.", "Dr.", "M.", "Mme.") does
// not end one. A sentence longer than maxChars bytes (maxChars > 0) is cut
// at the last space (or, failing one, rune boundary) before the limit.
// Blank input gives no segment.
func SplitSentences(text string, maxChars int) []Segment {
	return splitText(text, maxChars, true)
}

// splitText cuts text at sentence ends when sentences is set, and where it
// exceeds maxChars.
func splitText(text string, maxChars int, sentences bool) []Segment {
	var out []Segment
	add := func(start, end int) {
		for start < end {
			r, n := utf8.DecodeRuneInString(text[start:])
			if !unicode.IsSpace(r) {
				break
			}
			start += n
		}
		s := strings.TrimRightFunc(text[start:end], unicode.IsSpace)
		for maxChars > 0 && len(s) > maxChars {
			cut := strings.LastIndexFunc(s[:maxChars+1], unicode.IsSpace)
			if cut <= 0 {
				cut = maxChars
				for cut > 0 && !utf8.RuneStart(s[cut]) {
					cut--
				}
				if cut == 0 {
					cut = maxChars
				}
			}
			head := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
			if head != "" {
				out = append(out, Segment{Offset: start, Text: head})
			}
			rest := s[cut:]
			trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
			start += cut + len(rest) - len(trimmed)
			s = trimmed
		}
		if s != "" {
			out = append(out, Segment{Offset: start, Text: s})
		}
	}
	start := 0
	for i := 0; sentences && i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n' && strings.HasPrefix(strings.TrimLeft(text[i+n:], " \t\r"), "\n"):
			add(start, i)
			start = i + n
		case r == '.' || r == '!' || r == '?' || r == '…':
			j := i + n
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if !strings.ContainsRune(".!?…\"'»”’)]", r2) {
					// French typography: a space, then the closing quote.
					k := j
					for k < len(text) && (text[k] == ' ' || strings.HasPrefix(text[k:], "\u00a0") || strings.HasPrefix(text[k:], "\u202f")) {
						_, nk := utf8.DecodeRuneInString(text[k:])
						k += nk
					}
					if r3, n3 := utf8.DecodeRuneInString(text[k:]); k > j && k < len(text) && strings.ContainsRune("»”)", r3) {
						j = k + n3
						continue
					}
					break
				}
				j += n2
			}
			if j < len(text) {
				if r3, _ := utf8.DecodeRuneInString(text[j:]); !unicode.IsSpace(r3) {
					i = j
					continue
				}
			}
			if r == '.' && j == i+n && abbreviated(text[start:i]) {
				i = j
				continue
			}
			add(start, j)
			start = j
			i = j
			continue
		}
		i += n
	}
	add(start, len(text))
	return out
}

// abbreviated reports whether the word before a period is an abbreviation
// or a single letter (an initial).
func abbreviated(before string) bool {
	f := strings.Fields(before)
	if len(f) == 0 {
		return false
	}
	w := strings.ToLower(strings.TrimLeft(f[len(f)-1], "(\"'«“‘"))
	if strings.Contains(w, ".") { // p.m., e.g., U.S.
		return true
	}
	if utf8.RuneCountInString(w) == 1 {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsLetter(r)
	}
	return abbreviations[w]
}

package intent

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzNormalize checks that normalisation never panics, is idempotent,
// yields single-space-separated words without punctuation, and that token
// offsets stay inside the original text.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "J'aimerais un rendez-vous aujourd'hui !", "ŒUF Straße Ærø", "e\u0301te\u0301",
		"\xff\xfe", "l'", "'''", "Привет, мир", "06.12.34", "İstanbul ǅ ẞ", "a\u200bb", "…,;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, Normalize(n))
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("bad spacing %q", n)
		}
		if strings.ContainsAny(n, "'’.,;:!?-\t\n") {
			t.Fatalf("punctuation left in %q", n)
		}
		var tk tokens
		tk.add(s)
		if string(tk.buf) != n {
			t.Fatalf("tokens %q != Normalize %q", tk.buf, n)
		}
		for _, k := range tk.toks {
			if k.ostart < 0 || k.oend > len(s) || k.ostart >= k.oend || k.start >= k.end {
				t.Fatalf("bad token %+v in %q", k, s)
			}
		}
	})
}

// FuzzParseNumber checks that number parsing never panics and that what it
// returns is consistent: digits only, Value equal to Digits when it fits, a
// span inside the text, and the same number found again in the span alone.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"four five six", "quatre-vingt-dix-neuf", "zéro six, douze, trente-quatre",
		"one thousand, two hundred and five", "double oh", "a a a hundred", "et et un", "mille mille",
		"99999999999999999999999", "oh", "triple", "twelve hundred thousand million billion",
		"soixante et onze mille quatre vingts", "4 5 6", "le 29 février", "the thirty first of february",
		"in 99999 weeks", "lundi prochain", "dans quinze jours", "march 3rd 2199"} {
		f.Add(s, "en")
		f.Add(s, "fr")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		for _, n := range FindNumbers(s, lang) {
			if n.Digits == "" || strings.Trim(n.Digits, "0123456789") != "" {
				t.Fatalf("digits %q from %q", n.Digits, s)
			}
			if len(n.Digits) <= maxValueDigits {
				if n.Value < 0 || (strings.TrimLeft(n.Digits, "0") != "" && strings.TrimLeft(n.Digits, "0") != itoa(n.Value)) {
					t.Fatalf("value %d for digits %q from %q", n.Value, n.Digits, s)
				}
			} else if n.Value != -1 {
				t.Fatalf("value %d for %d digits", n.Value, len(n.Digits))
			}
			if n.Start < 0 || n.End > len(s) || n.Start >= n.End {
				t.Fatalf("span [%d,%d) of %q", n.Start, n.End, s)
			}
		}
		YesNo(s, lang)
		ref := time.Date(2026, time.February, 28, 12, 0, 0, 0, time.UTC)
		if d, ok := ParseDate(s, lang, ref); ok {
			if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > daysIn(d.Year, d.Month) {
				t.Fatalf("impossible date %v from %q", d, s)
			}
		}
	})
}

func itoa(v int64) string {
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}

// FuzzMatch checks that matching arbitrary text never panics and scores
// stay in [0,1], best first.
func FuzzMatch(f *testing.F) {
	m, err := NewMatcher(flowIntents[:5])
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "prendre rendez-vous", "rendezvous rendez vous", "\xff", strings.Repeat("a", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := m.Match(context.Background(), s, "fr")
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range got {
			if x.Score < 0 || x.Score > 1 || i > 0 && x.Score > got[i-1].Score {
				t.Fatalf("ranking %v", got)
			}
		}
	})
}

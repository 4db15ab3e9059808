package intent

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

func TestParseNumber(t *testing.T) {
	cases := []struct {
		text, lang string
		digits     string
		value      int64
		seq        bool
	}{
		// English, digit by digit and composed.
		{"four five six", "en", "456", 456, true},
		{"four hundred fifty six", "en", "456", 456, false},
		{"four hundred and fifty-six", "en", "456", 456, false},
		{"twenty-one", "en", "21", 21, false},
		{"twenty one", "en", "21", 21, false},
		{"one thousand two hundred", "en", "1200", 1200, false},
		{"a hundred", "en", "100", 100, false},
		{"a thousand and one", "en", "1001", 1001, false},
		{"twelve hundred", "en", "1200", 1200, false},
		{"five oh five", "en", "505", 505, true},
		{"oh one two three", "en", "0123", 123, true},
		{"double five", "en", "55", 55, true},
		{"double 5 triple oh", "en", "55000", 55000, true},
		{"seven double two", "en", "722", 722, true},
		{"nineteen ninety nine", "en", "1999", 1999, true},
		{"ten eight", "en", "108", 108, true},
		{"zero zero seven", "en", "007", 7, true},
		{"two million three hundred thousand", "en", "2300000", 2300000, false},
		{"my number is four five six please", "en", "456", 456, true},
		{"I'd like TWO tickets", "en", "2", 2, false},
		{"Four-Five-Six.", "en", "456", 456, true},
		// French.
		{"quatre cent vingt", "fr", "420", 420, false},
		{"soixante-dix-sept", "fr", "77", 77, false},
		{"soixante dix sept", "fr", "77", 77, false},
		{"quatre-vingt-dix-neuf", "fr", "99", 99, false},
		{"quatre-vingts", "fr", "80", 80, false},
		{"quatre vingt un", "fr", "81", 81, false},
		{"mille deux cent", "fr", "1200", 1200, false},
		{"mille deux cents", "fr", "1200", 1200, false},
		{"vingt et un", "fr", "21", 21, false},
		{"soixante et onze", "fr", "71", 71, false},
		{"dix-huit", "fr", "18", 18, false},
		{"cent quatre-vingts", "fr", "180", 180, false},
		{"deux mille vingt-quatre", "fr", "2024", 2024, false},
		{"sept cent quatre vingt dix neuf", "fr", "799", 799, false},
		{"septante-cinq", "fr", "75", 75, false},
		{"nonante-neuf", "fr", "99", 99, false},
		{"zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "fr", "0612345678", 612345678, true},
		{"zero six douze trente quatre cinquante six soixante dix huit", "fr", "0612345678", 612345678, true},
		{"ZÉRO SEPT, quatre-vingt-dix-neuf, zéro un, onze, vingt", "fr", "0799011120", 799011120, true},
		{"mon numéro c'est le zéro un quarante-deux", "fr", "0142", 142, true},
		{"double zéro trois", "fr", "003", 3, true},
		{"j'en veux trois", "fr", "3", 3, false},
		// Digits already written.
		{"4 5 6", "", "456", 456, true},
		{"456", "", "456", 456, false},
		{"06 12 34 56 78", "", "0612345678", 612345678, true},
		{"06.12.34.56.78", "fr", "0612345678", 612345678, true},
		{"2 thousand", "en", "2000", 2000, false},
		{"account 00012", "en", "00012", 12, false},
		{"1234567890123456789", "", "1234567890123456789", -1, false},
		// Any language.
		{"quatre cinq six", "", "456", 456, true},
		{"four cinq", "", "45", 45, true},
	}
	for _, c := range cases {
		n, ok := ParseNumber(c.text, c.lang)
		if !ok {
			t.Errorf("ParseNumber(%q, %q): no number", c.text, c.lang)
			continue
		}
		if n.Digits != c.digits || n.Value != c.value || n.Sequence != c.seq {
			t.Errorf("ParseNumber(%q, %q) = %q %d seq=%v, want %q %d seq=%v",
				c.text, c.lang, n.Digits, n.Value, n.Sequence, c.digits, c.value, c.seq)
		}
		if n.Start < 0 || n.End > len(c.text) || n.Start >= n.End {
			t.Errorf("ParseNumber(%q): span [%d,%d) bad", c.text, n.Start, n.End)
		}
	}
}

func TestNumberSpan(t *testing.T) {
	text := "My number is four five six, please."
	n, ok := ParseNumber(text, "en")
	if !ok || text[n.Start:n.End] != "four five six" {
		t.Fatalf("span %q, ok=%v", text[n.Start:n.End], ok)
	}
	text = "J'habite au quatre-vingt-dix-neuf rue de l'Église"
	n, ok = ParseNumber(text, "fr")
	if !ok || text[n.Start:n.End] != "quatre-vingt-dix-neuf" {
		t.Fatalf("span %q, ok=%v", text[n.Start:n.End], ok)
	}
}

func TestNoNumber(t *testing.T) {
	for _, c := range []struct{ text, lang string }{
		{"", "en"},
		{"hello there", "en"},
		{"oh really", "en"},
		{"oh", "en"},
		{"oh oh", "en"},
		{"a lot of them", "en"},
		{"and so on", "en"},
		{"double trouble", "en"},
		{"bonjour madame", "fr"},
		{"et alors", "fr"},
		{"c'est cent pour cent clair", "en"}, // French words, English table
		{"twenty", "fr"},
		{"3rd", ""},
	} {
		if n, ok := ParseNumber(c.text, c.lang); ok {
			t.Errorf("ParseNumber(%q, %q) = %+v, want none", c.text, c.lang, n)
		}
	}
}

func TestFindNumbers(t *testing.T) {
	got := FindNumbers("two adults and three children, room 12", "en")
	var ds []string
	for _, n := range got {
		ds = append(ds, n.Digits)
	}
	if strings.Join(ds, ",") != "2,3,12" {
		t.Fatalf("FindNumbers = %v", ds)
	}
}

func TestDigitsValue(t *testing.T) {
	if d, ok := Digits("zéro six douze", "fr"); !ok || d != "0612" {
		t.Errorf("Digits = %q %v", d, ok)
	}
	if v, ok := Value("zéro six douze", "fr"); !ok || v != 612 {
		t.Errorf("Value = %d %v", v, ok)
	}
	if v, ok := Value("deux cents", "fr"); !ok || v != 200 {
		t.Errorf("Value = %d %v", v, ok)
	}
	if _, ok := Value("12345678901234567890", ""); ok {
		t.Errorf("Value of 20 digits ok")
	}
	if _, ok := Value("nothing here", "en"); ok {
		t.Errorf("Value of no number ok")
	}
}

// num2words runs the Debian num2words Python library (an independent
// implementation of English and French number spelling) and returns, for
// each number, its spelling per mode.
func num2words(t *testing.T, script string) [][]string {
	t.Helper()
	testutil.RequireFile(t, "/usr/lib/python3/dist-packages/num2words/__init__.py", "python3-num2words")
	py := testutil.RequireFile(t, "/usr/bin/python3", "python3")
	out, err := exec.Command(py, "-c", "from num2words import num2words as n\n"+script).Output()
	if err != nil {
		t.Fatalf("num2words: %v", err)
	}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rows = append(rows, strings.Split(sc.Text(), "\t"))
	}
	return rows
}

// referenceNumbers lists the numbers checked against num2words: all up to
// 1100, then a spread up to ten million.
func referenceNumbers() []int {
	var ns []int
	for i := 0; i <= 1100; i++ {
		ns = append(ns, i)
	}
	for i := 1101; i < 10_000_000; i = i*11/10 + 7 {
		ns = append(ns, i)
	}
	return append(ns, 1_000_000, 2_000_001, 80_000, 71_071, 99_999, 180_180)
}

// TestNumbersAgainstNum2words spells numbers with num2words in English and
// French (cardinals, and English years) and checks that they parse back,
// both as typed (hyphens, commas, accents) and in the lower-case,
// unpunctuated shape of recognizer output.
func TestNumbersAgainstNum2words(t *testing.T) {
	ns := referenceNumbers()
	var list strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&list, "%d,", n)
	}
	rows := num2words(t, "for x in ["+list.String()+"]:\n"+
		" print('\\t'.join([str(x), n(x, lang='en'), n(x, lang='fr'), n(x, lang='en', to='year') if 1000 < x < 2100 else '']))")
	if len(rows) != len(ns) {
		t.Fatalf("num2words gave %d rows for %d numbers", len(rows), len(ns))
	}
	asr := strings.NewReplacer("-", " ", ",", "", "é", "e")
	checked := 0
	for _, r := range rows {
		want, _ := strconv.ParseInt(r[0], 10, 64)
		for i, lang := range []string{"en", "fr", "en"} {
			words := r[i+1]
			if words == "" {
				continue
			}
			for _, text := range []string{words, asr.Replace(words)} {
				v, ok := Value(text, lang)
				if !ok || v != want {
					t.Errorf("Value(%q, %q) = %d %v, want %d", text, lang, v, ok, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d spellings of %d numbers parsed back", checked, len(ns))
}

// TestFrenchPhoneNumbers reads French telephone numbers the way they are
// said, in pairs ("zéro six, douze, trente-quatre…"), with num2words
// spelling each pair and commas between pairs (as typed, or as a
// punctuating recognizer writes pauses), and checks that Digits gives the
// ten digits back.
func TestFrenchPhoneNumbers(t *testing.T) {
	rows := num2words(t, "for x in range(100):\n print(x, '\\t', n(x, lang='fr'), sep='')")
	if len(rows) != 100 {
		t.Fatalf("num2words gave %d rows", len(rows))
	}
	pair := func(p int) string {
		if p < 10 {
			return "zéro " + rows[p][1]
		}
		return rows[p][1]
	}
	seed := uint32(12345)
	for range 500 {
		var digits strings.Builder
		var said []string
		for k := range 5 {
			seed = seed*1664525 + 1013904223
			p := int(seed>>8) % 100
			if k == 0 {
				p = int(seed>>8)%9 + 1 // 01 … 09
			}
			fmt.Fprintf(&digits, "%02d", p)
			said = append(said, pair(p))
		}
		text := strings.Join(said, ", ")
		got, ok := Digits(text, "fr")
		if !ok || got != digits.String() {
			// The commas matter: without them "zéro quatre vingt-deux"
			// is also "0 82".
			t.Errorf("Digits(%q) = %q %v, want %s", text, got, ok, digits.String())
		}
	}
}

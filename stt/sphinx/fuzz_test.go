package sphinx

import (
	"strings"
	"testing"
	"unicode"

	"github.com/parole-voice/parole/stt"
)

// FuzzNormalize: any phrase normalizes without panicking to lower-case
// words without spaces or punctuation, and compiles to a grammar (or a
// clear error) with a dictionary that knows every word.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"I'd like to book", "press 1", "9am–6pm", "'''", "call 0612345678", "Ça va?", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := Normalize(s)
		for _, w := range words {
			if w == "" || strings.ContainsFunc(w, unicode.IsSpace) || strings.HasPrefix(w, "'") || strings.HasSuffix(w, "'") {
				t.Fatalf("%q → bad word %q in %q", s, w, words)
			}
			if strings.ToLower(w) != w {
				t.Fatalf("%q → %q not lower case", s, w)
			}
		}
		c, _, err := compileGrammar(&stt.Grammar{Rules: []stt.Rule{{Phrase: s, Value: "v"}}}, func(string) bool { return true }, DefaultGarbageWeight)
		if (err == nil) != (len(words) > 0) {
			t.Fatalf("%q: words %q, compile error %v", s, words, err)
		}
		if err == nil && c.values[strings.Join(words, " ")] != "v" {
			t.Fatalf("%q: value lost", s)
		}
	})
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Opening hours":        "opening hours",
		"I'd like to book.":    "i'd like to book",
		"that’s all":           "that's all",
		"Call-Forward on Busy": "call forward on busy",
		"from 9 am to 6 pm":    "from nine am to six pm",
		"press 42":             "press forty two",
		"press 10":             "press ten",
		"0612345678":           "zero six one two three four five six seven eight",
		"3D audio":             "three d audio",
		"'quoted'":             "quoted",
		"":                     "",
	} {
		if got := strings.Join(Normalize(in), " "); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

package intent

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Bonjour, Madame !", "bonjour madame"},
		{"J'aimerais prendre un rendez-vous.", "j aimerais prendre un rendez vous"},
		{"Quelle est l'heure ?", "quelle est l heure"},
		{"aujourd'hui", "aujourdhui"},
		{"Aujourd’hui, c’est possible", "aujourdhui c est possible"},
		{"jusqu'à demain", "jusqu a demain"},
		{"qu'est-ce que c'est", "qu est ce que c est"},
		{"Don't you dare", "dont you dare"},
		{"That's RIGHT!!!", "thats right"},
		{"Éléonore Ça Œuvre Straße", "eleonore ca oeuvre strasse"},
		{"Ærø Øresund Łódź Ñandú", "aero oresund lodz nandu"},
		{"ŒUF ÇA ÀÉÎÕÜ ÿ", "oeuf ca aeiou y"},
		{"e\u0301te\u0301", "ete"}, // decomposed accents
		{"tab\tand\nnewline", "tab and newline"},
		{"06.12.34.56.78", "06 12 34 56 78"},
		{"3€ + 4$ = 7 ×", "3 4 7"},
		{"Привет мир", "привет мир"},
		{"'quoted'", "quoted"},
		{"l'", "l"},
		{"it's 'twas", "its twas"},
		{"\xff\xfe bad utf8", "bad utf8"},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Normalize(Normalize(c.in)); got != c.want {
			t.Errorf("Normalize not idempotent on %q: %q", c.in, got)
		}
	}
}

func TestTokens(t *testing.T) {
	if got := strings.Join(Tokens("L'heure du rendez-vous ?"), "|"); got != "l|heure|du|rendez|vous" {
		t.Errorf("Tokens = %q", got)
	}
	if Tokens("?!") != nil {
		t.Errorf("Tokens of punctuation not nil")
	}
}

func TestTokenOffsets(t *testing.T) {
	text := "Où est l'hôtel, s'il vous plaît?"
	var tk tokens
	tk.add(text)
	want := []string{"Où", "est", "l", "hôtel", "s", "il", "vous", "plaît"}
	if len(tk.toks) != len(want) {
		t.Fatalf("%d tokens, want %d", len(tk.toks), len(want))
	}
	for i, w := range want {
		k := tk.toks[i]
		if text[k.ostart:k.oend] != w {
			t.Errorf("token %d spans %q, want %q", i, text[k.ostart:k.oend], w)
		}
	}
	if !tk.toks[4].pause || tk.toks[3].pause {
		t.Errorf("pause flags wrong: %+v", tk.toks)
	}
}

func TestStopWords(t *testing.T) {
	for _, c := range []struct {
		w, lang string
		want    bool
	}{
		{"the", "en", true}, {"le", "fr", true}, {"le", "en", false}, {"the", "", true},
		{"le", "fr-CA", true}, {"rendez", "fr", false}, {"appointment", "en", false},
	} {
		if got := isStopWord(c.w, c.lang); got != c.want {
			t.Errorf("isStopWord(%q, %q) = %v", c.w, c.lang, got)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3},
		{"appointement", "appointment", 1}, {"rendevous", "rendezvous", 1}, {"ca", "abc", 3},
	} {
		if got := editDistance([]byte(c.a), []byte(c.b), 5); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if got := editDistance([]byte("abcdef"), []byte("fedcba"), 2); got != 3 {
		t.Errorf("bounded distance = %d, want limit+1 = 3", got)
	}
	long := strings.Repeat("x", 40)
	if editDistance([]byte(long), []byte(long), 1) != 0 || editDistance([]byte(long), []byte(long+"y"), 1) != 2 {
		t.Errorf("long words")
	}
}

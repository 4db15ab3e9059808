package intent

import (
	"context"
	"errors"
	"testing"
)

// flowIntents is a call flow's intent set, as a callbot for a medical
// practice or a utility would have: French and English, a few phrases each.
var flowIntents = []Intent{
	{Name: "book", Lang: "fr", Examples: []string{"je voudrais prendre un rendez-vous", "prendre rendez-vous",
		"j'aimerais un rendez-vous", "réserver une consultation", "avoir un rendez-vous avec le docteur"}},
	{Name: "cancel", Lang: "fr", Examples: []string{"annuler mon rendez-vous", "je veux annuler", "annulation du rendez-vous",
		"je ne pourrai pas venir"}},
	{Name: "hours", Lang: "fr", Examples: []string{"quels sont vos horaires", "à quelle heure ouvrez-vous",
		"heures d'ouverture", "vous êtes ouverts quand"}},
	{Name: "bill", Lang: "fr", Examples: []string{"j'ai une question sur ma facture", "ma facture est trop élevée",
		"payer ma facture", "problème de facturation"}},
	{Name: "agent", Examples: []string{"je veux parler à un conseiller", "parler à quelqu'un", "un humain",
		"talk to an agent", "speak to a person", "operator"}},
	{Name: "book", Lang: "en", Examples: []string{"book an appointment", "i would like to make an appointment",
		"schedule a visit", "i need to see the doctor"}},
	{Name: "cancel", Lang: "en", Examples: []string{"cancel my appointment", "i want to cancel", "i can't make it"}},
	{Name: "hours", Lang: "en", Examples: []string{"what are your opening hours", "when are you open", "what time do you close"}},
	{Name: "bill", Lang: "en", Examples: []string{"question about my bill", "my invoice is wrong", "pay my bill"}},
}

// uniqueNames merges intents that share a name (one per language) the way
// a flow would declare them: NewMatcher wants unique names, so the English
// ones get a suffix that tests strip.
func flowMatcher(t testing.TB) *Matcher {
	t.Helper()
	var in []Intent
	for _, x := range flowIntents {
		if x.Lang == "en" {
			x.Name += "/en"
		}
		in = append(in, x)
	}
	m, err := NewMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	m := flowMatcher(t)
	cases := []struct {
		text, lang, want string
	}{
		// Exact and typed.
		{"Je voudrais prendre un rendez-vous.", "fr", "book"},
		{"prendre rendez vous", "fr", "book"},
		// Recognizer output: lower case, no punctuation, fillers.
		{"euh bonjour je voudrais prendre un rendez vous s il vous plait", "fr", "book"},
		{"oui bonjour c est pour prendre rendez vous", "fr", "book"},
		{"je voudrais annuler mon rendez vous de demain", "fr", "cancel"},
		{"c est quoi vos horaires", "fr", "hours"},
		{"j ai un souci avec ma facture", "fr", "bill"},
		{"je voudrais parler a un conseiller", "fr", "agent"},
		{"uh hi i would like to make an appointment please", "en", "book/en"},
		{"i need to cancel my appointment", "en", "cancel/en"},
		{"when are you guys open", "en", "hours/en"},
		{"there is a problem with my bill", "en", "bill/en"},
		{"can i talk to an agent", "en", "agent"},
		// Typos and near misses.
		{"je voudrais prendre un rendezvous", "fr", "book"},
		{"je voudrai prendre un rendé vous", "fr", "book"},
		{"anuler mon rendez-vous", "fr", "cancel"},
		{"i'd like to make an appointement", "en", "book/en"},
		{"cancell my apointment", "en", "cancel/en"},
		{"my invoise is wrong", "en", "bill/en"},
		{"quels sont vos horraires", "fr", "hours"},
		{"facturation probleme", "fr", "bill"},
		// Accents and case.
		{"RÉSERVER UNE CONSULTATION", "fr", "book"},
		{"reserver une consultation", "fr-FR", "book"},
	}
	ctx := context.Background()
	for _, c := range cases {
		got, err := m.Match(ctx, c.text, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].Intent != c.want {
			t.Errorf("Match(%q, %q) = %v, want %s first", c.text, c.lang, got, c.want)
			continue
		}
		for i, s := range got {
			if s.Score < m.threshold || s.Score > 1 || i > 0 && s.Score > got[i-1].Score {
				t.Errorf("Match(%q): bad ranking %v", c.text, got)
			}
		}
	}
}

func TestMatchExactIsOne(t *testing.T) {
	m := flowMatcher(t)
	got, _ := m.Match(context.Background(), "Annuler mon rendez-vous !", "fr")
	if len(got) == 0 || got[0] != (Scored{"cancel", 1}) {
		t.Fatalf("exact phrase: %v", got)
	}
	got, _ = m.Match(context.Background(), "annuler mon rendez vous demain", "fr")
	if len(got) == 0 || got[0].Score >= 1 {
		t.Fatalf("non-exact phrase scored 1: %v", got)
	}
}

func TestNoMatch(t *testing.T) {
	m := flowMatcher(t)
	for _, c := range []struct{ text, lang string }{
		{"", "fr"},
		{"euh", "fr"},
		{"quel temps fait-il à Paris", "fr"},
		{"je cherche une pizzeria", "fr"},
		{"bonjour", "fr"},
		{"what is the weather like", "en"},
		{"the cat sat on the mat", "en"},
		{"hello", "en"},
		{"blablabla zzz", ""},
		{"book an appointment", "fr"}, // English intent, French caller
		{"prendre rendez-vous", "en"},
	} {
		got, err := m.Match(context.Background(), c.text, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			t.Errorf("Match(%q, %q) = %v, want no match", c.text, c.lang, got)
		}
	}
}

func TestSharedNameAcrossLanguages(t *testing.T) {
	m, err := NewMatcher(flowIntents) // "book", "cancel"… in French and English
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, lang string }{
		{"je voudrais prendre un rendez vous", "fr"}, {"i would like to make an appointment", "en"},
		{"book an appointment", ""}, {"prendre rendez-vous", ""},
	} {
		got, _ := m.Match(context.Background(), c.text, c.lang)
		if len(got) == 0 || got[0].Intent != "book" {
			t.Errorf("Match(%q, %q) = %v", c.text, c.lang, got)
		}
		seen := map[string]bool{}
		for _, s := range got {
			if seen[s.Intent] {
				t.Errorf("Match(%q) lists %s twice: %v", c.text, s.Intent, got)
			}
			seen[s.Intent] = true
		}
	}
	if _, err := NewMatcher([]Intent{{Name: "a", Lang: "fr", Examples: []string{"x"}}, {Name: "a", Lang: "fr-FR", Examples: []string{"y"}}}); !errors.Is(err, ErrBadIntent) {
		t.Errorf("same name and language accepted: %v", err)
	}
}

func TestMatchAnyLanguage(t *testing.T) {
	m := flowMatcher(t)
	got, _ := m.Match(context.Background(), "book an appointment", "")
	if len(got) == 0 || got[0].Intent != "book/en" {
		t.Fatalf("Match with no language = %v", got)
	}
}

func TestMatchContext(t *testing.T) {
	m := flowMatcher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Match(ctx, "annuler", "fr"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestThreshold(t *testing.T) {
	strict, err := NewMatcher(flowIntents[:4], WithThreshold(0.95))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := strict.Match(context.Background(), "je voudrais annuler svp", "fr"); len(got) != 0 {
		t.Errorf("strict matcher matched %v", got)
	}
	if got, _ := strict.Match(context.Background(), "je veux annuler", "fr"); len(got) != 1 {
		t.Errorf("strict matcher missed the exact phrase: %v", got)
	}
}

func TestWithStopWords(t *testing.T) {
	in := []Intent{
		{Name: "transfer", Lang: "fr", Examples: []string{"passez-moi le service client"}},
		{Name: "other", Lang: "fr", Examples: []string{"autre chose"}},
	}
	plain, err := NewMatcher(in, WithThreshold(0))
	if err != nil {
		t.Fatal(err)
	}
	// Declaring "service" and "client" stop words leaves "passez" to carry
	// the intent, so an utterance with only those words scores lower.
	tuned, err := NewMatcher(in, WithThreshold(0), WithStopWords("fr", []string{"service", "client", "le", "moi"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, _ := plain.Match(ctx, "le service client", "fr")
	b, _ := tuned.Match(ctx, "le service client", "fr")
	if len(a) == 0 || len(b) == 0 || a[0].Intent != "transfer" || b[0].Score >= a[0].Score {
		t.Fatalf("plain %v, tuned %v", a, b)
	}
	// No stop words at all: function words count like any other.
	none, err := NewMatcher(in, WithThreshold(0), WithStopWords("fr", nil))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := none.Match(ctx, "le moi", "fr")
	d, _ := plain.Match(ctx, "le moi", "fr")
	if len(c) == 0 || len(d) == 0 || c[0].Score <= d[0].Score {
		t.Fatalf("no stop words %v, default %v", c, d)
	}
}

func TestNewMatcherErrors(t *testing.T) {
	for _, in := range [][]Intent{
		nil,
		{{Name: "", Examples: []string{"x"}}},
		{{Name: "a", Examples: []string{"x"}}, {Name: "a", Examples: []string{"y"}}},
		{{Name: "a"}},
		{{Name: "a", Examples: []string{"?!"}}},
	} {
		if _, err := NewMatcher(in); !errors.Is(err, ErrBadIntent) {
			t.Errorf("NewMatcher(%v) err = %v, want ErrBadIntent", in, err)
		}
	}
}

func TestAppendMatchNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m := flowMatcher(t)
	dst := make([]Scored, 0, 16)
	texts := []string{"euh bonjour je voudrais prendre un rendez vous s il vous plait", "cancell my apointment", "zzz"}
	for _, s := range texts { // warm the pool
		dst = m.AppendMatch(dst[:0], s, "")
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, s := range texts {
			dst = m.AppendMatch(dst[:0], s, "")
		}
	})
	if allocs != 0 {
		t.Errorf("AppendMatch allocates %.1f times per run", allocs)
	}
}

func TestMatcherParse(t *testing.T) {
	m := flowMatcher(t)
	text := "je voudrais prendre un rendez-vous pour deux personnes"
	r, err := m.Parse(context.Background(), text, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if r.Intent != "book" || r.Confidence <= 0.5 || r.Text != text || len(r.Ranking) == 0 {
		t.Fatalf("Parse = %+v", r)
	}
	// "un" is also a number in French.
	var nums []string
	for _, e := range r.Entities {
		if e.Entity != EntityNumber || text[e.Start:e.End] == "" {
			t.Errorf("entity %+v", e)
		}
		nums = append(nums, e.Value+"="+text[e.Start:e.End])
	}
	if len(nums) != 2 || nums[0] != "1=un" || nums[1] != "2=deux" {
		t.Errorf("entities %v", nums)
	}
	r, err = m.Parse(context.Background(), "quel temps fait-il", "fr")
	if err != nil || r.Intent != "" || r.Confidence != 0 {
		t.Fatalf("Parse of no match = %+v, %v", r, err)
	}
	var _ NLU = m
	var _ NLU = (*Rasa)(nil)
}

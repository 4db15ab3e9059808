package intent_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/parole-voice/parole/dialog/intent"
)

// Match a recognizer's output, with a typo, against a flow's intents.
func ExampleMatcher() {
	m, err := intent.NewMatcher([]intent.Intent{
		{Name: "book", Lang: "fr", Examples: []string{"je voudrais prendre un rendez-vous", "réserver une consultation"}},
		{Name: "cancel", Lang: "fr", Examples: []string{"annuler mon rendez-vous", "je veux annuler"}},
		{Name: "agent", Examples: []string{"parler à un conseiller", "talk to an agent"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, said := range []string{
		"Je veux annuler !",
		"euh bonjour je voudrais prendre un rendezvous s il vous plait",
		"quel temps fait-il",
	} {
		ranking, _ := m.Match(context.Background(), said, "fr")
		if len(ranking) == 0 {
			fmt.Printf("%q: no match\n", said)
			continue
		}
		fmt.Printf("%q: %s %.2f\n", said, ranking[0].Intent, ranking[0].Score)
	}
	// Output:
	// "Je veux annuler !": cancel 1.00
	// "euh bonjour je voudrais prendre un rendezvous s il vous plait": book 0.93
	// "quel temps fait-il": no match
}

// Read spoken numbers: a quantity, a number said digit by digit and a French
// phone number said in pairs.
func ExampleParseNumber() {
	for _, c := range []struct{ text, lang string }{
		{"four hundred and fifty-six", "en"},
		{"my number is four five six please", "en"},
		{"quatre-vingt-dix-neuf", "fr"},
		{"zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "fr"},
	} {
		n, ok := intent.ParseNumber(c.text, c.lang)
		fmt.Println(n.Digits, n.Value, n.Sequence, ok)
	}
	// Output:
	// 456 456 false true
	// 456 456 true true
	// 99 99 false true
	// 0612345678 612345678 true true
}

// Digits keeps the leading zeros that Value drops.
func ExampleDigits() {
	d, _ := intent.Digits("oh seven double two", "en")
	v, _ := intent.Value("oh seven double two", "en")
	fmt.Println(d, v)
	// Output: 0722 722
}

// Decide yes or no, and refuse to guess.
func ExampleYesNo() {
	for _, c := range []struct{ text, lang string }{
		{"Yeah, that's right", "en"},
		{"that's not correct", "en"},
		{"I'm not sure", "en"},
		{"Oui, bien sûr !", "fr"},
		{"pas vraiment", "fr"},
		{"oui… enfin non", "fr"},
	} {
		a, ok := intent.YesNo(c.text, c.lang)
		fmt.Println(a, ok)
	}
	// Output:
	// yes true
	// no true
	// unknown false
	// yes true
	// no true
	// unknown false
}

// Read the day a caller names, relative to when the call happens.
func ExampleParseDate() {
	now := time.Date(2026, time.November, 24, 15, 0, 0, 0, time.UTC) // a Tuesday
	for _, c := range []struct{ text, lang string }{
		{"tomorrow", "en"},
		{"next monday", "en"},
		{"march 3rd", "en"},
		{"après-demain", "fr"},
		{"lundi prochain", "fr"},
		{"le 3 mars", "fr"},
	} {
		d, ok := intent.ParseDate(c.text, c.lang, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2026-11-25 true
	// 2026-11-30 true
	// 2027-03-03 true
	// 2026-11-26 true
	// 2026-11-30 true
	// 2027-03-03 true
}

// Normalize typed and recognized text alike.
func ExampleNormalize() {
	fmt.Println(intent.Normalize("J'aimerais un rendez-vous aujourd'hui, à 14h30 ? Ça serait génial !"))
	// Output: j aimerais un rendez vous aujourdhui a 14h30 ca serait genial
}

// Use a Rasa server (here a stand-in answering like one) as the NLU of a
// flow.
func ExampleRasa() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A real server is started with: rasa run --enable-api --auth-token secret
		fmt.Println(r.Method, r.URL.Path, r.URL.Query().Get("token"))
		io.WriteString(w, `{"text": "book a table for two", "intent": {"name": "book", "confidence": 0.93},
			"entities": [{"entity": "people", "start": 17, "end": 20, "value": "two", "extractor": "DIETClassifier"}]}`)
	}))
	defer srv.Close()

	var nlu intent.NLU = &intent.Rasa{URL: srv.URL, Token: "secret", Timeout: 2 * time.Second}
	res, err := nlu.Parse(context.Background(), "book a table for two", "en")
	if err != nil {
		fmt.Println(err)
		return
	}
	e := res.Entities[0]
	fmt.Println(res.Intent, res.Confidence, e.Entity, e.Value, res.Text[e.Start:e.End])
	// Output:
	// POST /model/parse secret
	// book 0.93 people two two
}

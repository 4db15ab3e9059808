package allomedia

import (
	"strings"
	"testing"
)

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"event":"OPENED","request_id":0,"channel_id":"testuie46e4ui6","completion_cause":null,"completion_reason":null,"headers":{},"body":""}`,
		`{"event":"RECOGNITION-COMPLETE","request_id":3,"channel_id":"c","completion_cause":"Success","completion_reason":null,"headers":{},"body":{"asr":{"transcript":"bc 305","confidence":0.9,"start":1629453934909,"end":1629453944833},"nlu":{"type":"builtin:speech/spelling/mixed","value":"bc305fz","confidence":0.86},"grammar_uri":"session:immat"}}`,
		`{"event":"RECOGNITION-COMPLETE","request_id":3,"channel_id":"c","completion_cause":"NoMatch","completion_reason":null,"headers":{},"body":{"asr":null,"nlu":null,"grammar_uri":"","alternatives":[{"asr":{"transcript":"x","confidence":0.1,"start":0,"end":0},"nlu":null,"grammar_uri":""}]}}`,
		`{"event":"METHOD-FAILED","request_id":2,"channel_id":"c","completion_cause":"GramLoadFailure","completion_reason":"unknown grammar 'toto'","headers":{},"body":""}`,
		`{"event":"RECOGNITION-COMPLETE","body":{"nlu":{"value":{"day":1,"month":2}}}}`,
		`{"event":12}`, `[]`, `null`, `{"event":"OPENED"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			if ev.Event != "" {
				t.Fatalf("error %v with event %q", err, ev.Event)
			}
			return
		}
		if !knownEvent(ev.Event) {
			t.Fatalf("accepted unknown event %q", ev.Event)
		}
		if ev.Body != nil {
			if ev.Event != EvRecognitionComplete {
				t.Fatalf("body decoded for %s", ev.Event)
			}
			_ = ev.Body.NLU.ValueString()
			// Mapping to a result never panics.
			s := &stream{r: &Recognizer{cfg: Config{Grammar: DefaultGrammar}}, plan: plan{uris: []string{"session:parole"}, values: map[string]string{"a": "b"}}}
			s.result(ev)
		}
	})
}

func FuzzKeywordsGrammar(f *testing.F) {
	for _, s := range []string{"oui", "non-merci", "a|b", "x&y=z#%", `back\slash`, "été (à) 2 [x]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		g := KeywordsGrammar([]string{p, "other"})
		if strings.ContainsAny(g, "&#") || strings.Count(g, "=") != 1 {
			t.Fatalf("URI delimiter left in %q", g)
		}
		// Splitting on unescaped "|" gives back exactly two alternatives.
		alts := strings.TrimPrefix(g, "speech/keywords?alternatives=")
		n, esc := 1, false
		for _, r := range alts {
			switch {
			case esc:
				esc = false
			case r == '\\':
				esc = true
			case r == '|':
				n++
			}
		}
		if n != 2 || esc {
			t.Fatalf("%q: %d alternatives (dangling escape %v)", g, n, esc)
		}
	})
}

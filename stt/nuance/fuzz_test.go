package nuance

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/stt"
)

// FuzzResult feeds arbitrary Result messages (as the service could send
// them) to the mapping: it must not panic, and what it returns must hold
// together.
func FuzzResult(f *testing.F) {
	seed, _ := proto.Marshal(&asrpb.Result{ResultType: asrpb.EnumResultType_FINAL, AbsStartMs: 10, AbsEndMs: 900,
		Hypotheses: []*asrpb.Hypothesis{{FormattedText: "yes please", Words: []*asrpb.Word{word("yes", "p1"), word("please", "p1")}}, {FormattedText: "no"}}})
	f.Add(seed, uint8(2))
	f.Add([]byte{0x08, 0x01}, uint8(0))
	f.Add([]byte{0x2a, 0x02, 0x18, 0x01}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, alts uint8) {
		var r asrpb.Result
		if proto.Unmarshal(b, &r) != nil {
			return
		}
		s := &stream{cfg: stt.Config{Grammar: grammar, MaxAlternatives: int(alts % 8)}}
		out := s.toResult(&r)
		if len(out.Alternatives) > max(0, int(alts%8)-1) {
			t.Fatalf("%d alternatives for MaxAlternatives %d", len(out.Alternatives), alts%8)
		}
		if out.Final && len(r.GetHypotheses()) == 0 && !out.Rejected {
			t.Fatal("final result without hypotheses not rejected")
		}
		if out.Value != "" && out.Value != "no" && out.Value != "yes" && out.Value != `agent"1"` {
			t.Fatalf("value %q not from the grammar", out.Value)
		}
		if out.Final && !out.Rejected && out.Value == "" {
			t.Fatalf("accepted final result without a grammar value: %+v", out)
		}
	})
}

func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// FuzzGrXML builds grammars from arbitrary phrases and values: the result
// must be well-formed XML giving back each phrase and value.
func FuzzGrXML(f *testing.F) {
	f.Add("yes please", "yes", "en-US")
	f.Add("<b>&amp;</b>", `"'<>&`, "fr-FR")
	f.Add("  ]]> x", "", "")
	f.Fuzz(func(t *testing.T, phrase, value, lang string) {
		g := &stt.Grammar{Rules: []stt.Rule{{Phrase: phrase, Value: value}, {Phrase: "other", Value: "o"}}}
		doc, err := GrXML(lang, g)
		if err != nil {
			t.Fatal(err)
		}
		var gx struct {
			Rules []struct {
				ID   string `xml:"id,attr"`
				Text string `xml:",chardata"`
				Tag  string `xml:"tag"`
			} `xml:"rule"`
		}
		if err := xml.Unmarshal([]byte(doc), &gx); err != nil {
			t.Fatalf("not XML: %v\n%s", err, doc)
		}
		if !xmlSafe(phrase) || !xmlSafe(value) || !xmlSafe(lang) {
			return
		}
		want := strings.Join(strings.Fields(phrase), " ")
		byID := map[string][2]string{}
		for _, r := range gx.Rules {
			byID[r.ID] = [2]string{strings.Join(strings.Fields(r.Text), " "), r.Tag}
		}
		if want != "" && byID["p0"] != [2]string{want, value} {
			t.Fatalf("rule p0 %q, want phrase %q value %q\n%s", byID["p0"], want, value, doc)
		}
		if byID["p1"] != [2]string{"other", "o"} {
			t.Fatalf("rule p1 %q", byID["p1"])
		}
	})
}

// FuzzWordset: the wordset is JSON listing the hints.
func FuzzWordset(f *testing.F) {
	f.Add("yes please", "agent", "ENTITY")
	f.Fuzz(func(t *testing.T, a, b, entity string) {
		ws, ok := Wordset(entity, []string{a, b})
		if !ok {
			if strings.TrimSpace(a) != "" || strings.TrimSpace(b) != "" {
				t.Fatalf("no wordset for %q %q", a, b)
			}
			return
		}
		var m map[string][]struct{ Literal string }
		if err := json.Unmarshal([]byte(ws), &m); err != nil {
			t.Fatalf("%s: %v", ws, err)
		}
		if len(m) != 1 || len(m[entity]) == 0 && utf8.ValidString(entity) {
			t.Fatalf("wordset %s", ws)
		}
	})
}

package nuance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/stt"
)

// rootRule is the id of the public root rule of the grammars built from
// stt.Grammar; phrase i is the private rule "p<i>".
const rootRule = "parole"

// initMessage builds the first message of the stream from the recognizer's
// Config and the dialog step's stt.Config.
func (r *Recognizer) initMessage(cfg stt.Config) (*asrpb.RecognitionRequest, error) {
	lang := cfg.Language
	if lang == "" {
		lang = r.cfg.Language
	}
	format, err := audioFormat(r.cfg.Encoding, cfg.SampleRate)
	if err != nil {
		return nil, err
	}
	mode := asrpb.EnumUtteranceDetectionMode_MULTIPLE
	if cfg.SingleUtterance {
		mode = asrpb.EnumUtteranceDetectionMode_SINGLE
	}
	results := asrpb.EnumResultType_FINAL
	if cfg.InterimResults {
		results = asrpb.EnumResultType_PARTIAL
	}
	params := &asrpb.RecognitionParameters{
		Language:               lang,
		Topic:                  r.cfg.Topic,
		AudioFormat:            format,
		UtteranceDetectionMode: mode,
		ResultType:             results,
		RecognitionFlags:       &asrpb.RecognitionFlags{AutoPunctuate: r.cfg.AutoPunctuate},
		NoInputTimeoutMs:       uint32(r.cfg.NoInputTimeout.Milliseconds()),
		RecognitionTimeoutMs:   uint32(r.cfg.RecognitionTimeout.Milliseconds()),
		UtteranceEndSilenceMs:  uint32(cfg.EndSilence.Milliseconds()),
		MaxHypotheses:          uint32(max(1, cfg.MaxAlternatives)),
	}
	var resources []*asrpb.RecognitionResource
	if r.cfg.DomainLM != "" {
		resources = append(resources, &asrpb.RecognitionResource{
			ResourceUnion: &asrpb.RecognitionResource_ExternalReference{ExternalReference: &asrpb.ResourceReference{
				Type: asrpb.EnumResourceType_DOMAIN_LM, Uri: r.cfg.DomainLM,
			}},
			WeightUnion: &asrpb.RecognitionResource_WeightEnum{WeightEnum: asrpb.EnumWeight_MEDIUM},
		})
	}
	if ws, ok := Wordset(r.cfg.HintEntity, cfg.Hints); ok {
		resources = append(resources, &asrpb.RecognitionResource{
			ResourceUnion: &asrpb.RecognitionResource_InlineWordset{InlineWordset: ws},
			Reuse:         asrpb.EnumResourceReuse_LOW_REUSE,
		})
	}
	if cfg.Grammar != nil {
		g, err := GrXML(lang, cfg.Grammar)
		if err != nil {
			return nil, err
		}
		resources = append(resources, &asrpb.RecognitionResource{
			ResourceUnion: &asrpb.RecognitionResource_InlineGrammar{InlineGrammar: g},
			Reuse:         asrpb.EnumResourceReuse_LOW_REUSE,
		})
	}
	return &asrpb.RecognitionRequest{RequestUnion: &asrpb.RecognitionRequest_RecognitionInitMessage{
		RecognitionInitMessage: &asrpb.RecognitionInitMessage{
			Parameters: params,
			Resources:  resources,
			UserId:     r.cfg.UserID,
		},
	}}, nil
}

func audioFormat(enc Encoding, rate int) (*asrpb.AudioFormat, error) {
	switch enc {
	case ULaw, ALaw:
		if rate != 8000 {
			return nil, fmt.Errorf("%w: %s audio at %d Hz (8000 only)", stt.ErrUnsupported, enc, rate)
		}
		if enc == ULaw {
			return &asrpb.AudioFormat{AudioFormatUnion: &asrpb.AudioFormat_Ulaw{Ulaw: &asrpb.ULaw{}}}, nil
		}
		return &asrpb.AudioFormat{AudioFormatUnion: &asrpb.AudioFormat_Alaw{Alaw: &asrpb.ALaw{}}}, nil
	}
	if rate != 8000 && rate != 16000 {
		return nil, fmt.Errorf("%w: PCM at %d Hz (8000 or 16000)", stt.ErrUnsupported, rate)
	}
	return &asrpb.AudioFormat{AudioFormatUnion: &asrpb.AudioFormat_Pcm{Pcm: &asrpb.PCM{SampleRateHz: uint32(rate)}}}, nil
}

type wordsetEntry struct {
	Literal string `json:"literal"`
}

// Wordset returns the inline wordset JSON that lists hints as literals of
// entity, {"ENTITY":[{"literal":"…"},…]}, without blanks and duplicates;
// false when no hint is left.
func Wordset(entity string, hints []string) (string, bool) {
	seen := map[string]bool{}
	var list []wordsetEntry
	for _, h := range hints {
		h = strings.Join(strings.Fields(h), " ")
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		list = append(list, wordsetEntry{Literal: h})
	}
	if len(list) == 0 {
		return "", false
	}
	b, err := json.Marshal(map[string][]wordsetEntry{entity: list})
	if err != nil { // strings only: cannot happen
		return "", false
	}
	return string(b), true
}

// GrXML returns an SRGS 1.0 XML grammar (Nuance's GrXML) accepting the
// grammar's phrases: a public root rule referring to one private rule per
// phrase (id "p<i>" for g.Rules[i]), whose semantic tag (literal format) is
// the rule's Value. Words of a result name the rule that matched them
// (Word.grammar_rule), which maps back to the Value. Rules with a blank
// phrase are skipped; a grammar without any phrase is unsupported.
func GrXML(lang string, g *stt.Grammar) (string, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="voice" tag-format="semantics/1.0-literals" root="` + rootRule + `" xml:lang="`)
	xml.EscapeText(&b, []byte(lang))
	b.WriteString("\">\n")
	var refs, rules bytes.Buffer
	n := 0
	for i, r := range g.Rules {
		phrase := strings.Join(strings.Fields(r.Phrase), " ")
		if phrase == "" {
			continue
		}
		n++
		id := "p" + strconv.Itoa(i)
		refs.WriteString(`      <item><ruleref uri="#` + id + `"/></item>` + "\n")
		rules.WriteString(` <rule id="` + id + `" scope="private">`)
		xml.EscapeText(&rules, []byte(phrase))
		if r.Value != "" {
			rules.WriteString("<tag>")
			xml.EscapeText(&rules, []byte(r.Value))
			rules.WriteString("</tag>")
		}
		rules.WriteString("</rule>\n")
	}
	if n == 0 {
		return "", fmt.Errorf("%w: grammar without any phrase", stt.ErrUnsupported)
	}
	b.WriteString(` <rule id="` + rootRule + `" scope="public">` + "\n    <one-of>\n")
	b.Write(refs.Bytes())
	b.WriteString("    </one-of>\n </rule>\n")
	b.Write(rules.Bytes())
	b.WriteString("</grammar>\n")
	return b.String(), nil
}

// ruleIndex returns i for a grammar rule id "p<i>" of a grammar of n rules.
func ruleIndex(id string, n int) (int, bool) {
	s, ok := strings.CutPrefix(id, "p")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != s {
		return 0, false
	}
	return i, true
}

// normalize folds a phrase for comparison: lower case letters and digits,
// single spaces.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}), " ")
}

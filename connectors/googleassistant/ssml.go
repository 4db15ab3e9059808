package googleassistant

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

// supportedTags are the SSML elements the Google Assistant speaks ("SSML"
// reference of Conversational Actions). Others are dropped, their text
// kept. <speak> is the root the renderer adds once per simple response.
var supportedTags = map[string]bool{
	"audio": true, "break": true, "desc": true, "emphasis": true, "mark": true,
	"media": true, "p": true, "par": true, "prosody": true, "s": true,
	"say-as": true, "seq": true, "sub": true,
}

// maxSSMLDepth bounds the nesting of elements in a reply's SSML.
const maxSSMLDepth = 32

// ErrSSML is wrapped by the errors of [FilterSSML].
var ErrSSML = errors.New("googleassistant: malformed SSML")

// FilterSSML returns the content of an SSML document or fragment (without
// its <speak> root) keeping only the elements the Assistant supports: other
// elements are dropped and their text kept, text and attribute values are
// re-escaped. A document with more than one <speak>, a <speak> inside
// another element, or malformed XML is an error wrapping [ErrSSML].
func FilterSSML(ssml string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(ssml))
	dec.Strict = true
	var b strings.Builder
	type open struct {
		name string
		keep bool
	}
	var stack []open
	speaks := 0
	pending := false
	closePending := func() {
		if pending {
			b.WriteByte('>')
			pending = false
		}
	}
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrSSML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			closePending()
			name := qname(t.Name)
			if speaks > 0 && len(stack) == 0 {
				return "", fmt.Errorf("%w: <%s> after </speak>", ErrSSML, name)
			}
			if name == "speak" {
				if speaks > 0 || len(stack) > 0 {
					return "", fmt.Errorf("%w: more than one <speak>", ErrSSML)
				}
				speaks++
				stack = append(stack, open{name, false})
				continue
			}
			if len(stack) >= maxSSMLDepth {
				return "", fmt.Errorf("%w: nested deeper than %d", ErrSSML, maxSSMLDepth)
			}
			keep := supportedTags[name]
			stack = append(stack, open{name, keep})
			if !keep {
				continue
			}
			b.WriteByte('<')
			b.WriteString(name)
			for _, a := range t.Attr {
				b.WriteByte(' ')
				b.WriteString(qname(a.Name))
				b.WriteString(`="`)
				xml.EscapeText(&b, []byte(a.Value))
				b.WriteByte('"')
			}
			pending = true
		case xml.EndElement:
			// RawToken does not match end tags with start tags: do it here.
			if len(stack) == 0 || stack[len(stack)-1].name != qname(t.Name) {
				return "", fmt.Errorf("%w: unexpected </%s>", ErrSSML, qname(t.Name))
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !top.keep {
				continue
			}
			if pending {
				b.WriteString("/>")
				pending = false
				continue
			}
			b.WriteString("</")
			b.WriteString(top.name)
			b.WriteByte('>')
		case xml.CharData:
			if len(stack) == 0 && speaks > 0 && strings.TrimSpace(string(t)) != "" {
				return "", fmt.Errorf("%w: text after </speak>", ErrSSML)
			}
			closePending()
			xml.EscapeText(&b, t)
		case xml.Directive:
			return "", fmt.Errorf("%w: directives are not allowed", ErrSSML)
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("%w: <%s> not closed", ErrSSML, stack[len(stack)-1].name)
	}
	closePending()
	return strings.TrimSpace(b.String()), nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// plainText returns the text of an SSML document, tags removed; "" when it
// does not parse.
func plainText(ssml string) string {
	dec := xml.NewDecoder(strings.NewReader(ssml))
	dec.Strict = true
	var b strings.Builder
	for {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement, xml.EndElement:
			// Paragraphs, sentences and breaks separate words.
			var name string
			if se, ok := t.(xml.StartElement); ok {
				name = se.Name.Local
			} else {
				name = t.(xml.EndElement).Name.Local
			}
			if name == "p" || name == "s" || name == "break" || name == "speak" {
				b.WriteByte(' ')
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// escape returns s with the characters XML reserves escaped.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// part is one message as the Assistant gets it: what is said (an SSML
// fragment, or plain text when ssml is false) and what is shown.
type part struct {
	speech  string
	ssml    bool
	display string
}

// partOf returns the spoken and shown forms of m; ok is false for a message
// with nothing to say or show (only choices or a card).
func partOf(m dialog.Message) (p part, ok bool) {
	p.display = m.Text
	switch {
	case m.SSML != "":
		frag, err := FilterSSML(m.SSML)
		if err == nil && frag != "" {
			p.speech, p.ssml = frag, true
			if p.display == "" {
				p.display = plainText("<speak>" + frag + "</speak>")
			}
			return p, true
		}
		// Unusable SSML: say the text instead.
		if p.display == "" {
			p.display = plainText(m.SSML)
		}
		p.speech = p.display
	case m.Audio != nil:
		if p.display == "" {
			p.display = m.Audio.Text
		}
		p.speech = `<audio src="` + escape(m.Audio.URL) + `">` + escape(p.display) + `</audio>`
		p.ssml = true
		return p, true
	default:
		p.speech = m.Text
	}
	return p, p.speech != "" || p.display != ""
}

// merge joins parts into one: plain text stays plain, anything else makes
// the whole an SSML fragment (plain parts escaped).
func merge(parts []part) part {
	if len(parts) == 1 {
		return parts[0]
	}
	var out part
	for _, p := range parts {
		out.ssml = out.ssml || p.ssml
	}
	var sp, dp []string
	for _, p := range parts {
		s := p.speech
		if out.ssml && !p.ssml {
			s = escape(s)
		}
		if s != "" {
			sp = append(sp, s)
		}
		if p.display != "" {
			dp = append(dp, p.display)
		}
	}
	out.speech = strings.Join(sp, " ")
	out.display = strings.Join(dp, " ")
	return out
}

// speakDoc returns the part's speech as one <speak> document.
func (p part) speakDoc() string {
	if p.ssml {
		return "<speak>" + p.speech + "</speak>"
	}
	return "<speak>" + escape(p.speech) + "</speak>"
}

// truncate cuts s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

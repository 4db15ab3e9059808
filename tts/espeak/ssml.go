package espeak

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parole-voice/parole/tts"
)

// span places one word of the text handed to the library (runes
// [outStart, outEnd), 1-based like the library's event positions) in the
// request's text: bytes [off, off+n).
type span struct {
	outStart, outEnd int
	off, n           int
}

// script is what one request becomes for the library: the text, whether it
// is SSML, and the words mapped back to the request.
type script struct {
	text  string
	ssml  bool
	spans []span
}

// mark maps a word event at a 1-based rune position of the script text to
// the request's text: the word containing pos or, when pos falls between
// words (the library sometimes reports the space before a word), the next
// one. ok is false past the last word.
func (s *script) mark(pos int) (off, n int, ok bool) {
	lo, hi := 0, len(s.spans)
	for lo < hi { // first span with outEnd > pos
		m := (lo + hi) / 2
		if s.spans[m].outEnd <= pos {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s.spans) {
		return 0, 0, false
	}
	return s.spans[lo].off, s.spans[lo].n, true
}

// plainScript is the script of plain text: the text as is, its
// whitespace-separated words as spans.
func plainScript(text string) *script {
	s := &script{text: text}
	pos, start, startOff := 1, 0, -1
	for off, r := range text {
		if unicode.IsSpace(r) {
			if startOff >= 0 {
				s.spans = append(s.spans, span{start, pos, startOff, off - startOff})
				startOff = -1
			}
		} else if startOff < 0 {
			start, startOff = pos, off
		}
		pos++
	}
	if startOff >= 0 {
		s.spans = append(s.spans, span{start, pos, startOff, len(text) - startOff})
	}
	return s
}

// builder writes the SSML document handed to the library and records
// where its words come from.
type builder struct {
	out   strings.Builder
	pos   int // 1-based rune position of the next rune written
	spans []span
	// open word
	wordStart, wordOff, wordEnd int
	inWord                      bool
}

// markup writes markup (no words).
func (b *builder) markup(s string) {
	b.endWord()
	b.out.WriteString(s)
	b.pos += utf8.RuneCountInString(s)
}

// sep ends the current word and writes a space.
func (b *builder) sep() { b.markup(" ") }

func (b *builder) endWord() {
	if b.inWord {
		b.spans = append(b.spans, span{b.wordStart, b.pos, b.wordOff, b.wordEnd - b.wordOff})
		b.inWord = false
	}
}

// char writes r, which comes from the request's bytes [off, end).
func (b *builder) char(r rune, off, end int) {
	if unicode.IsSpace(r) {
		b.endWord()
		b.out.WriteByte(' ')
		b.pos++
		return
	}
	if !b.inWord {
		b.inWord, b.wordStart, b.wordOff = true, b.pos, off
	}
	b.wordEnd = end
	switch r {
	case '&':
		b.out.WriteString("&amp;")
		b.pos += 5
	case '<':
		b.out.WriteString("&lt;")
		b.pos += 4
	case '>':
		b.out.WriteString("&gt;")
		b.pos += 4
	default:
		b.out.WriteRune(r)
		b.pos++
	}
}

// sayAs modes.
const (
	sayNormal = iota
	sayDigits
	sayTelephone
	sayCharacters
)

// element is an open SSML element.
type element struct {
	name  string
	close string // markup closing what the element wrote
	say   int
	alias bool // a <sub>: its content is replaced by the alias
}

// breakStrength maps <break strength> to a pause, following the usual
// SSML engine defaults.
var breakStrength = map[string]int{
	"none": 0, "x-weak": 100, "weak": 200, "medium": 400, "strong": 700, "x-strong": 1000,
}

// rateWords maps <prosody rate> keywords to a percentage of the rate.
var rateWords = map[string]int{
	"x-slow": 50, "slow": 75, "medium": 100, "default": 100, "fast": 135, "x-fast": 175,
}

// maxBreak bounds one <break>.
const maxBreak = 10_000

func badSSML(format string, a ...any) error {
	return fmt.Errorf("%w: %s", tts.ErrBadSSML, fmt.Sprintf(format, a...))
}

// parseBreakTime parses "300ms" or "1.5s" into milliseconds.
func parseBreakTime(v string) (int, error) {
	v = strings.TrimSpace(v)
	mult := 1.0
	switch {
	case strings.HasSuffix(v, "ms"):
		v = v[:len(v)-2]
	case strings.HasSuffix(v, "s"):
		v, mult = v[:len(v)-1], 1000
	default:
		return 0, badSSML("break time %q: want e.g. 300ms or 1.5s", v)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f*mult > maxBreak || f != f {
		return 0, badSSML("break time %q: want 0 to %d ms", v, maxBreak)
	}
	return int(f*mult + 0.5), nil
}

// parseRate parses a <prosody rate> into a percentage of the current rate.
func parseRate(v string) (int, error) {
	v = strings.TrimSpace(v)
	if p, ok := rateWords[v]; ok {
		return p, nil
	}
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		rel := strings.HasPrefix(pct, "+") || strings.HasPrefix(pct, "-")
		f, err := strconv.ParseFloat(pct, 64)
		if err == nil && rel {
			f += 100
		}
		if err != nil || f < 20 || f > 400 {
			return 0, badSSML("prosody rate %q: want 20%% to 400%%", v)
		}
		return int(f + 0.5), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0.2 || f > 4 {
		return 0, badSSML("prosody rate %q: want a keyword, a percentage or a factor 0.2 to 4", v)
	}
	return int(f*100 + 0.5), nil
}

func attr(e xml.StartElement, name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// ssmlScript validates doc and rewrites it into the SSML espeak-ng
// renders well; word spans are byte offsets into doc.
func ssmlScript(doc string) (*script, error) {
	if !utf8.ValidString(doc) {
		return nil, badSSML("not UTF-8")
	}
	src, shift := doc, 0
	trim := strings.TrimLeftFunc(doc, unicode.IsSpace)
	if !strings.HasPrefix(trim, "<?xml") && !strings.HasPrefix(trim, "<speak") {
		// a fragment: parse it inside a root of our own
		const open = "<speak>"
		src, shift = open+doc+"</speak>", len(open)
	}
	d := xml.NewDecoder(strings.NewReader(src))
	d.Strict = true
	b := &builder{pos: 1}
	b.markup("<speak>")
	var stack []element
	roots := 0
	for {
		before := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, badSSML("line %d: %s", se.Line, se.Msg)
			}
			return nil, badSSML("%v", err)
		}
		after := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if roots > 1 || t.Name.Local != "speak" {
					return nil, badSSML("the root element must be one <speak>, got <%s>", t.Name.Local)
				}
				stack = append(stack, element{name: "speak"})
				continue
			}
			el, err := b.open(t, stack[len(stack)-1])
			if err != nil {
				return nil, err
			}
			if el.alias {
				v, _ := attr(t, "alias")
				for _, r := range v { // the alias' words all map to the <sub> tag
					b.char(r, before-shift, after-shift)
				}
				b.endWord()
			}
			stack = append(stack, el)
		case xml.EndElement:
			el := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if el.close != "" {
				b.markup(el.close)
			}
			if len(stack) == 0 {
				continue
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, badSSML("text outside <speak>")
				}
				continue
			}
			top := stack[len(stack)-1]
			if top.alias {
				continue
			}
			b.text(string(t), src[before:after], before-shift, top.say)
		case xml.Comment, xml.ProcInst, xml.Directive:
			if _, ok := tok.(xml.Directive); ok {
				return nil, badSSML("DTDs and directives are not accepted")
			}
		}
	}
	if roots == 0 {
		return nil, badSSML("no <speak> element")
	}
	b.markup("</speak>")
	return &script{text: b.out.String(), ssml: true, spans: b.spans}, nil
}

// open handles a start tag inside <speak>; parent is the enclosing element.
func (b *builder) open(t xml.StartElement, parent element) (element, error) {
	el := element{name: t.Name.Local, say: parent.say}
	switch t.Name.Local {
	case "break":
		ms := 400
		if v, ok := attr(t, "strength"); ok {
			p, known := breakStrength[v]
			if !known {
				return el, badSSML("break strength %q", v)
			}
			ms = p
		}
		if v, ok := attr(t, "time"); ok {
			p, err := parseBreakTime(v)
			if err != nil {
				return el, err
			}
			ms = p
		}
		b.markup(fmt.Sprintf(`<break time="%dms"/>`, ms))
	case "say-as":
		v, _ := attr(t, "interpret-as")
		switch v {
		case "digits", "number:digits":
			el.say = sayDigits
		case "telephone":
			el.say = sayTelephone
		case "characters", "spell-out", "letters":
			el.say = sayCharacters
			b.markup(`<say-as interpret-as="characters">`)
			el.close = "</say-as>"
		case "":
			return el, badSSML("say-as without interpret-as")
		default: // cardinal, date, …: read as written
		}
	case "prosody":
		if v, ok := attr(t, "rate"); ok {
			p, err := parseRate(v)
			if err != nil {
				return el, err
			}
			b.markup(fmt.Sprintf(`<prosody rate="%d%%">`, p))
			el.close = "</prosody>"
		}
	case "s", "p":
		b.markup("<" + t.Name.Local + ">")
		el.close = "</" + t.Name.Local + ">"
	case "sub":
		if _, ok := attr(t, "alias"); ok {
			el.alias = true
		}
	case "speak":
		return el, badSSML("nested <speak>")
	default: // emphasis, voice, lang, mark, audio, phoneme, …: content only
	}
	return el, nil
}

// text writes character data: decoded is the text, raw its source bytes,
// starting at off in the request.
func (b *builder) text(decoded, raw string, off, say int) {
	j := 0
	if strings.HasPrefix(raw, "<![CDATA[") {
		j = len("<![CDATA[")
	}
	prevDigit := false
	for _, r := range decoded {
		start := j
		switch {
		case j < len(raw) && raw[j] == '&':
			k := strings.IndexByte(raw[j:], ';')
			j += k + 1
		case j < len(raw) && raw[j] == '\r':
			j++
			if j < len(raw) && raw[j] == '\n' {
				j++
			}
		default:
			_, n := utf8.DecodeRuneInString(raw[j:])
			j += n
		}
		switch say {
		case sayDigits, sayTelephone:
			// every digit is a word of its own; in a telephone number,
			// separators become short pauses
			switch {
			case unicode.IsDigit(r):
				b.endWord()
				if prevDigit {
					b.sep()
				}
				b.char(r, off+start, off+j)
				b.endWord()
				prevDigit = true
			case r == '+':
				b.endWord()
				b.sep()
				b.char(r, off+start, off+j)
				b.sep()
				prevDigit = false
			case unicode.IsSpace(r) || strings.ContainsRune("-.()/", r):
				if say == sayTelephone && prevDigit {
					b.markup(", ")
				} else {
					b.sep()
				}
				prevDigit = false
			default:
				b.sep()
				b.char(r, off+start, off+j)
				b.sep()
				prevDigit = false
			}
		default:
			b.char(r, off+start, off+j)
		}
	}
	b.endWord()
}

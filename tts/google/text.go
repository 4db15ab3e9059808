package google

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parole-voice/parole/tts"
)

// maxInputBytes is the service's limit on the input of one request.
const maxInputBytes = 5000

// pieceBytes is the most text put in one request when a text is split: a
// margin under the service's 5,000 bytes.
const pieceBytes = 4500

// Sentences splits text after sentence ends (. ! ? … and their CJK forms
// followed by a space, or a line break) and returns the trimmed sentences;
// a sentence longer than 4,500 bytes is cut further at spaces (or, failing
// that, anywhere between runes) so that every piece fits one request.
func Sentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		for len(s) > pieceBytes {
			cut := strings.LastIndexFunc(s[:pieceBytes], unicode.IsSpace)
			if cut <= 0 {
				cut = pieceBytes
				for !utf8.RuneStart(s[cut]) {
					cut--
				}
			}
			out = append(out, strings.TrimSpace(s[:cut]))
			s = strings.TrimSpace(s[cut:])
		}
		if s != "" {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		end := false
		switch r {
		case '\n':
			end = true
		case '.', '!', '?', '…', '。', '！', '？':
			next, n := utf8.DecodeRuneInString(text[i:])
			end = n == 0 || unicode.IsSpace(next)
		}
		if end {
			add(text[start:i])
			start = i
		}
	}
	add(text[start:])
	return out
}

// checkSSML validates an SSML document or fragment with encoding/xml and
// returns it as a document with one <speak> root, as the service wants.
func checkSSML(s string) (string, error) {
	doc := strings.TrimSpace(s)
	if len(doc) > maxInputBytes {
		return "", fmt.Errorf("%w: SSML of %d bytes (the service takes %d)", tts.ErrUnsupported, len(doc), maxInputBytes)
	}
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	depth, roots := 0, 0
	rootSpeak := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", tts.ErrBadSSML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				rootSpeak = t.Name.Local == "speak"
			}
			if t.Name.Local == "speak" && (depth > 0 || roots > 1) {
				return "", fmt.Errorf("%w: <speak> inside the document", tts.ErrBadSSML)
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				roots = 2 // text outside an element: a fragment
			}
		case xml.Directive:
			return "", fmt.Errorf("%w: DTDs and directives are not allowed", tts.ErrBadSSML)
		}
	}
	if roots == 1 && rootSpeak {
		return doc, nil
	}
	if roots == 0 && doc == "" {
		return "", fmt.Errorf("%w: empty SSML", tts.ErrBadSSML)
	}
	// A fragment: wrap it (and check the result again is well formed,
	// which a <speak> inside a fragment would break).
	wrapped := "<speak>" + doc + "</speak>"
	if len(wrapped) > maxInputBytes {
		return "", fmt.Errorf("%w: SSML of %d bytes (the service takes %d)", tts.ErrUnsupported, len(wrapped), maxInputBytes)
	}
	return wrapped, nil
}

// voiceFor picks the voice name and language code of a request: the
// request's voice, else Config.Voices of the language, else of its
// primary subtag ("fr" for "fr-CA"), else none (the service picks by
// language). The language defaults to the voice name's prefix
// ("fr-FR-Neural2-A" → "fr-FR"), then to "en-US".
func voiceFor(voices map[string]string, req tts.Request) (name, lang string) {
	lang = req.Language
	name = req.Voice
	if name == "" && lang != "" {
		if v, ok := voices[lang]; ok {
			name = v
		} else if i := strings.IndexByte(lang, '-'); i > 0 {
			name = voices[lang[:i]]
		}
	}
	if lang == "" {
		if p := strings.SplitN(name, "-", 3); len(p) == 3 {
			lang = p[0] + "-" + p[1]
		} else {
			lang = "en-US"
			name = cmp.Or(name, voices[lang])
		}
	}
	return name, lang
}

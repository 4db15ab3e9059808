package google

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"

	"github.com/parole-voice/parole/tts"
)

// FuzzSentences: the pieces of any text fit one request, are trimmed and
// non-empty, and keep every word in order.
func FuzzSentences(f *testing.F) {
	for _, s := range []string{"Hello. How are you?", "3.50 euros… ok!\nnext", strings.Repeat("a", 4600), "。！？", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps := Sentences(s)
		for _, p := range ps {
			if p == "" || p != strings.TrimSpace(p) || len(p) > pieceBytes {
				t.Fatalf("piece %q of %q", p, s)
			}
		}
		if strings.Join(strings.Fields(strings.Join(ps, " ")), " ") != strings.Join(strings.Fields(s), " ") {
			// Cutting a word longer than a piece inside is allowed.
			if strings.Join(ps, "") != strings.Join(strings.Fields(s), "") {
				t.Fatalf("words changed: %q → %q", s, ps)
			}
		}
	})
}

// FuzzSSML: any SSML is refused with ErrBadSSML or ErrUnsupported, or
// accepted as a well-formed document with one <speak> root.
func FuzzSSML(f *testing.F) {
	for _, s := range []string{`<speak>Hi <break time="1s"/></speak>`, `Press <say-as interpret-as="digits">1</say-as>`, `<speak>`, `a & b`, `<!DOCTYPE x>`, `<speak/><speak/>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := checkSSML(s)
		if err != nil {
			if !errors.Is(err, tts.ErrBadSSML) && !errors.Is(err, tts.ErrUnsupported) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		d := xml.NewDecoder(strings.NewReader(doc))
		depth, roots := 0, 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%q accepted as %q, which is not well formed: %v", s, doc, err)
			}
			switch e := tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					roots++
					if e.Name.Local != "speak" {
						t.Fatalf("%q: root %q", s, e.Name.Local)
					}
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if roots != 1 || len(doc) > maxInputBytes {
			t.Fatalf("%q accepted as %q (%d roots)", s, doc, roots)
		}
	})
}

// FuzzDecode: any bytes the service might send decode or fail with
// ErrAudio, never panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x01\x00\x02\x00"), uint8(1))
	f.Add([]byte("\xff\xfb\x90\x00"), uint8(2))
	f.Add([]byte{1, 2, 3}, uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, enc uint8) {
		e := texttospeechpb.AudioEncoding(enc % 8)
		pcm, err := decode(e, b, 8000)
		if err != nil && !errors.Is(err, ErrAudio) {
			t.Fatalf("%v: %v", e, err)
		}
		if err == nil && e == texttospeechpb.AudioEncoding_LINEAR16 && !strings.HasPrefix(string(b), "RIFF") && len(pcm) != len(b)/2 {
			t.Fatalf("%d bytes of raw PCM gave %d samples", len(b), len(pcm))
		}
	})
}

package espeak

import (
	"errors"
	"testing"

	"github.com/parole-voice/parole/tts"
)

// FuzzSSML feeds arbitrary documents to the SSML validator and rewriter:
// no panic, errors are ErrBadSSML, and every word span lies inside the
// document and inside the rewritten text.
func FuzzSSML(f *testing.F) {
	for _, s := range []string{
		`<speak>Hello <break time="300ms"/> world</speak>`,
		`<speak><say-as interpret-as="telephone">+33 (1) 23-45</say-as> &amp; <sub alias="x">y</sub></speak>`,
		`<speak><prosody rate="+20%"><s>a</s><p>b</p></prosody><![CDATA[c < d]]></speak>`,
		"fragment &lt; text\r\n<break/>",
		`<?xml version="1.0"?><speak xml:lang="fr-FR">Bonjour &#233;t&#xE9;</speak>`,
		`<speak>a</speak><x/>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		sc, err := ssmlScript(doc)
		if err != nil {
			if !errors.Is(err, tts.ErrBadSSML) {
				t.Fatalf("error %v is not ErrBadSSML", err)
			}
			return
		}
		runes := len([]rune(sc.text))
		last := 0
		for _, sp := range sc.spans {
			if sp.off < 0 || sp.n <= 0 || sp.off+sp.n > len(doc) {
				t.Fatalf("span %+v outside the %d-byte document", sp, len(doc))
			}
			if sp.outStart < last || sp.outEnd <= sp.outStart || sp.outEnd > runes+1 {
				t.Fatalf("span %+v out of order or outside the %d-rune script", sp, runes)
			}
			last = sp.outEnd
		}
	})
}

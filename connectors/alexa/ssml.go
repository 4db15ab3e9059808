package alexa

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/parole-voice/parole/dialog"
)

// supportedTags are the SSML elements Alexa supports ("Speech Synthesis
// Markup Language (SSML) Reference" of the Alexa Skills Kit). Others are
// dropped, their text kept.
var supportedTags = map[string]bool{
	"amazon:domain": true, "amazon:effect": true, "amazon:emotion": true,
	"audio": true, "break": true, "emphasis": true, "lang": true, "p": true,
	"phoneme": true, "prosody": true, "s": true, "say-as": true, "speak": true,
	"sub": true, "voice": true, "w": true,
}

// MaxSpeechChars is Alexa's limit on the SSML of one outputSpeech.
const MaxSpeechChars = 8000

// FilterSSML returns the content of an SSML document or fragment keeping
// only the elements Alexa supports (without the <speak> root, which the
// caller adds once): other elements are dropped and their text kept, text
// and attribute values are re-escaped. Malformed SSML is an error.
func FilterSSML(ssml string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(ssml))
	dec.Strict = true
	var b strings.Builder
	var open []bool  // per open element: was it written
	pending := false // a start tag written without its ">"
	closePending := func() {
		if pending {
			b.WriteByte('>')
			pending = false
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			closePending()
			name := tagName(t.Name)
			keep := supportedTags[name] && name != "speak"
			open = append(open, keep)
			if !keep {
				continue
			}
			b.WriteByte('<')
			b.WriteString(name)
			for _, a := range t.Attr {
				b.WriteByte(' ')
				b.WriteString(tagName(a.Name))
				b.WriteString(`="`)
				xml.EscapeText(&b, []byte(a.Value))
				b.WriteByte('"')
			}
			pending = true
		case xml.EndElement:
			keep := open[len(open)-1]
			open = open[:len(open)-1]
			if !keep {
				continue
			}
			if pending {
				b.WriteString("/>")
				pending = false
				continue
			}
			b.WriteString("</")
			b.WriteString(tagName(t.Name))
			b.WriteByte('>')
		case xml.CharData:
			closePending()
			xml.EscapeText(&b, t)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// tagName writes a parsed name back as "prefix:local".
func tagName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	if n.Space == "http://www.w3.org/2001/10/synthesis" || n.Space == "http://www.w3.org/XML/1998/namespace" {
		if n.Space == "http://www.w3.org/XML/1998/namespace" {
			return "xml:" + n.Local
		}
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// escape returns plain text as SSML text.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// messageSSML returns one message as SSML content (no <speak> root): its
// SSML filtered to Alexa's subset (its text escaped if the SSML is
// malformed), or its text escaped, or its audio (https URLs only, as
// Alexa requires; otherwise the audio's text).
func messageSSML(m dialog.Message) string {
	var parts []string
	if m.Audio != nil {
		if strings.HasPrefix(strings.ToLower(m.Audio.URL), "https://") {
			parts = append(parts, `<audio src="`+escape(m.Audio.URL)+`"/>`)
		} else if m.Audio.Text != "" && m.Text == "" && m.SSML == "" {
			parts = append(parts, escape(m.Audio.Text))
		}
	}
	switch {
	case m.SSML != "":
		if s, err := FilterSSML(m.SSML); err == nil {
			parts = append(parts, s)
		} else if m.Text != "" {
			parts = append(parts, escape(m.Text))
		}
	case m.Text != "":
		parts = append(parts, escape(m.Text))
	}
	return strings.Join(parts, " ")
}

// speak wraps SSML content in one <speak> document, or returns nil when
// there is nothing to say.
func speak(content string) *OutputSpeech {
	content = strings.TrimSpace(content)
	if content == "" {
		return nil
	}
	return &OutputSpeech{Type: "SSML", SSML: "<speak>" + content + "</speak>"}
}

// Render turns a reply into an Alexa response:
//
//   - outputSpeech: every message as SSML in one <speak> document — plain
//     text escaped, the message's SSML kept but filtered to Alexa's tags
//     ([FilterSSML]), https audio as <audio>;
//   - reprompt: when the reply waits for an answer (a gather, or no action),
//     its last spoken message, said again if the user stays silent — a
//     [dialog.Gather] carries no prompt of its own, and repeating the
//     question is what Alexa's design guidelines ask of a reprompt;
//   - shouldEndSession: true on hangup, transfer or record (Alexa can do
//     neither of the last two), false otherwise;
//   - a Simple card titled cardTitle (or the first message card's title)
//     with the reply's text and its choices.
func Render(r dialog.Reply, cardTitle string) Response {
	var speech []string
	last := ""
	for _, m := range r.Messages {
		if s := messageSSML(m); s != "" {
			speech = append(speech, s)
			last = s
		}
	}
	out := Response{OutputSpeech: speak(strings.Join(speech, " "))}
	end := r.Hangup || r.Transfer != nil || r.Record != nil
	out.ShouldEndSession = &end
	if !end && last != "" {
		out.Reprompt = &Reprompt{OutputSpeech: speak(last)}
	}
	text := r.Text()
	title := cardTitle
	for _, m := range r.Messages {
		if m.Card != nil {
			if m.Card.Title != "" {
				title = m.Card.Title
			}
			if text == "" {
				text = m.Card.Subtitle
			}
			break
		}
	}
	var choices []string
	for _, m := range r.Messages {
		for _, c := range m.Choices {
			choices = append(choices, "• "+c.Title)
		}
	}
	if len(choices) > 0 {
		text = strings.TrimSpace(text + "\n" + strings.Join(choices, "\n"))
	}
	if text != "" {
		out.Card = &Card{Type: "Simple", Title: title, Content: text}
	}
	return out
}

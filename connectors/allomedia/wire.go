package allomedia

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parole-voice/parole/dialog"
)

// ErrInvalidRequest is wrapped by the errors of a body that is not a usable
// call request; the connector answers 400, as Tock does.
var ErrInvalidRequest = errors.New("allomedia: invalid request")

// Request is the body Allo-Media posts to {path}/call: Tock's
// AlloMediaRequest.
type Request struct {
	Session RequestSession `json:"session"`
	// Text is what the caller said, as the platform's recognizer heard it.
	Text *string `json:"text"`
	// Intent, when set, is the platform's own reading of Text: it skips
	// parole's intent matching.
	Intent *string `json:"intent"`
	// Locale is the caller's language ("fr-FR", "fr_FR", "fr").
	Locale *string `json:"locale"`
}

// RequestSession names the call and, for linked users, their access token.
type RequestSession struct {
	SessionID string       `json:"sessionId"`
	User      *RequestUser `json:"user"`
}

// RequestUser carries the caller's account-linking token, if any.
type RequestUser struct {
	AccessToken *string `json:"accessToken"`
}

// Response is the connector's 201 answer: Tock's AlloMediaResponse.
type Response struct {
	SessionID  string     `json:"sessionId"`
	OutputText OutputText `json:"outputText"`
	// ConversationEnd is true when the bot ended the call (a hangup or a
	// transfer, which the platform cannot do for parole).
	ConversationEnd bool `json:"conversationEnd"`
}

// OutputText is what the platform speaks with its text-to-speech.
type OutputText struct {
	TextToSpeech string `json:"textToSpeech"`
}

// maxIDLen bounds session ids and intent names.
const maxIDLen = 512

// Parse decodes and checks a call request. Errors wrap
// [ErrInvalidRequest].
func Parse(body []byte) (*Request, error) {
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if req.Session.SessionID == "" {
		return nil, fmt.Errorf("%w: no session.sessionId", ErrInvalidRequest)
	}
	if len(req.Session.SessionID) > maxIDLen {
		return nil, fmt.Errorf("%w: sessionId longer than %d bytes", ErrInvalidRequest, maxIDLen)
	}
	if req.Intent != nil && len(*req.Intent) > maxIDLen {
		return nil, fmt.Errorf("%w: intent longer than %d bytes", ErrInvalidRequest, maxIDLen)
	}
	if req.Locale != nil && len(*req.Locale) > 35 {
		return nil, fmt.Errorf("%w: locale %.40q is not a language tag", ErrInvalidRequest, *req.Locale)
	}
	return &req, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// SpeechText returns the text of a reply as the platform's text-to-speech
// should say it, one message per line, as Tock joins its sentences: a
// message's SSML (the voice form) without its tags, or its text, or its
// audio's text.
func SpeechText(r dialog.Reply) string {
	var lines []string
	for _, m := range r.Messages {
		t := ""
		if m.SSML != "" {
			t, _ = ssmlText(m.SSML)
		}
		if t == "" {
			t = m.Text
		}
		if t == "" && m.Audio != nil {
			t = m.Audio.Text
		}
		if t = strings.TrimSpace(t); t != "" {
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, "\n")
}

// ssmlText returns the character data of an SSML document.
func ssmlText(s string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return strings.Join(strings.Fields(b.String()), " "), nil
		}
		if err != nil {
			return "", err
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}

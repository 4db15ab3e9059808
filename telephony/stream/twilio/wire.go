package twilio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/parole-voice/parole/telephony/stream"
)

// Event names of the Media Streams messages.
const (
	EventConnected = "connected"
	EventStart     = "start"
	EventMedia     = "media"
	EventDTMF      = "dtmf"
	EventMark      = "mark"
	EventStop      = "stop"
	EventClear     = "clear"
)

// Message is one message of a bidirectional Media Stream, as Twilio documents
// it ("Media Streams - WebSocket Messages"). Only the object of its Event is
// meaningful.
type Message struct {
	Event          string `json:"event"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	StreamSid      string `json:"streamSid,omitempty"`
	// Protocol and Version: connected.
	Protocol string      `json:"protocol,omitempty"`
	Version  string      `json:"version,omitempty"`
	Start    StartObject `json:"start"`
	Media    MediaObject `json:"media"`
	DTMF     DTMFObject  `json:"dtmf"`
	Mark     MarkObject  `json:"mark"`
	Stop     StopObject  `json:"stop"`
}

// StartObject is the metadata of a stream (the start message).
type StartObject struct {
	StreamSid        string            `json:"streamSid"`
	AccountSid       string            `json:"accountSid"`
	CallSid          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      MediaFormat       `json:"mediaFormat"`
}

// MediaFormat is the audio format of a stream: Twilio streams
// "audio/x-mulaw" at 8000 Hz, one channel.
type MediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

// MediaObject carries audio: base64 μ-law in Payload, kept as the raw JSON
// string (quotes included) so that parsing reuses its storage; [DecodePayload]
// decodes it.
type MediaObject struct {
	Track     string          `json:"track,omitempty"`
	Chunk     string          `json:"chunk,omitempty"`
	Timestamp string          `json:"timestamp,omitempty"`
	Payload   json.RawMessage `json:"payload"`
}

// DTMFObject is a key the caller pressed.
type DTMFObject struct {
	Track string `json:"track,omitempty"`
	Digit string `json:"digit"`
}

// MarkObject names a point of the outbound audio.
type MarkObject struct {
	Name string `json:"name"`
}

// StopObject ends a stream.
type StopObject struct {
	AccountSid string `json:"accountSid"`
	CallSid    string `json:"callSid"`
}

// Parse decodes and checks one message from Twilio into m (which it resets
// first). Bad JSON, a missing or unknown event, a start without streamSid or
// with another format than μ-law 8 kHz mono, a media without payload and a
// dtmf that is not one key are errors wrapping stream.ErrProtocol.
func Parse(data []byte, m *Message) error {
	params, payload := m.Start.CustomParameters, m.Media.Payload[:0]
	*m = Message{}
	clear(params)
	m.Start.CustomParameters, m.Media.Payload = params, payload
	if err := json.Unmarshal(data, m); err != nil {
		return fmt.Errorf("%w: twilio: bad JSON: %w", stream.ErrProtocol, err)
	}
	switch m.Event {
	case EventConnected, EventMark, EventStop:
	case EventStart:
		s := &m.Start
		if s.StreamSid == "" {
			s.StreamSid = m.StreamSid
		}
		if s.StreamSid == "" || s.CallSid == "" {
			return fmt.Errorf("%w: twilio: start without streamSid or callSid", stream.ErrProtocol)
		}
		f := s.MediaFormat
		if f.Encoding != "audio/x-mulaw" || f.SampleRate != 8000 || f.Channels != 1 {
			return fmt.Errorf("%w: twilio: media format %s/%d/%d, want audio/x-mulaw/8000/1",
				stream.ErrProtocol, f.Encoding, f.SampleRate, f.Channels)
		}
	case EventMedia:
		if p := m.Media.Payload; len(p) < 2 || p[0] != '"' {
			return fmt.Errorf("%w: twilio: media without a payload string", stream.ErrProtocol)
		}
	case EventDTMF:
		if !isKey(m.DTMF.Digit) {
			return fmt.Errorf("%w: twilio: dtmf digit %q", stream.ErrProtocol, m.DTMF.Digit)
		}
	case "":
		return fmt.Errorf("%w: twilio: message without event", stream.ErrProtocol)
	default:
		return fmt.Errorf("%w: twilio: unknown event %q", stream.ErrProtocol, m.Event)
	}
	return nil
}

func isKey(s string) bool {
	if len(s) != 1 {
		return false
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '*', c == '#', c >= 'A' && c <= 'D':
		return true
	}
	return false
}

// DecodePayload decodes a media payload (the raw JSON string of
// MediaObject.Payload) into dst's storage and returns the μ-law bytes. Bad
// base64 is an error wrapping stream.ErrProtocol.
func DecodePayload(dst []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return dst[:0], fmt.Errorf("%w: twilio: media payload is not a string", stream.ErrProtocol)
	}
	src := raw[1 : len(raw)-1]
	if bytes.IndexByte(src, '\\') >= 0 { // JSON escapes (a legal "\/"): unquote first
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return dst[:0], fmt.Errorf("%w: twilio: media payload: %w", stream.ErrProtocol, err)
		}
		src = []byte(s)
	}
	n := base64.StdEncoding.DecodedLen(len(src))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(dst[:n], src)
	if err != nil {
		return dst[:0], fmt.Errorf("%w: twilio: media payload: %w", stream.ErrProtocol, err)
	}
	return dst[:n], nil
}

// appendMedia appends an outbound media message carrying mulaw.
func appendMedia(dst []byte, sid string, mulaw []byte) []byte {
	dst = append(dst, `{"event":"media","streamSid":`...)
	dst = append(dst, sid...)
	dst = append(dst, `,"media":{"payload":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, mulaw)
	return append(dst, `"}}`...)
}

// appendMark appends an outbound mark message named
// "parole-<generation>-<milliseconds>".
func appendMark(dst []byte, sid string, gen, ms int64) []byte {
	dst = append(dst, `{"event":"mark","streamSid":`...)
	dst = append(dst, sid...)
	dst = append(dst, `,"mark":{"name":"`+markPrefix...)
	dst = strconv.AppendInt(dst, gen, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, `"}}`...)
}

// appendClear appends an outbound clear message.
func appendClear(dst []byte, sid string) []byte {
	dst = append(dst, `{"event":"clear","streamSid":`...)
	dst = append(dst, sid...)
	return append(dst, '}')
}

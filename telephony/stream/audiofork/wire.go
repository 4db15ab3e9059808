package audiofork

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/parole-voice/parole/telephony/stream"
)

// Metadata is what parole reads of the first text frame: jambonz sends the
// call's attributes (callSid, from, to, direction, …) plus sampleRate and
// mixType; mod_audio_fork sends the metadata argument of uuid_audio_fork,
// which by convention carries the same names (or uuid for the call id).
type Metadata struct {
	// CallID is callSid, or else uuid, callId or call_id.
	CallID string
	// From and To are the caller and called numbers ("from", "to").
	From, To string
	// SampleRate is the rate of the binary L16 frames, 8000 or 16000 ("8k"
	// and "16k" are accepted); 0 when absent.
	SampleRate int
	// MixType is "mono", "mixed", "stereo" or empty.
	MixType string
	// Raw holds every attribute as sent.
	Raw map[string]json.RawMessage
}

// ParseMetadata decodes and checks the first text frame. Bad JSON, a value
// that is not a JSON object, a rate other than 8000 or 16000 and a stereo
// mix are errors wrapping stream.ErrProtocol.
func ParseMetadata(data []byte) (Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(data, &m.Raw); err != nil || m.Raw == nil {
		return m, fmt.Errorf("%w: audiofork: metadata is not a JSON object: %v", stream.ErrProtocol, err)
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if json.Unmarshal(m.Raw[k], &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	m.CallID = str("callSid", "uuid", "callId", "call_id")
	m.From, m.To, m.MixType = str("from"), str("to"), str("mixType")
	if raw, ok := m.Raw["sampleRate"]; ok {
		var n json.Number
		var s string
		switch {
		case json.Unmarshal(raw, &n) == nil:
			s = n.String()
		case json.Unmarshal(raw, &s) == nil:
		default:
			return m, fmt.Errorf("%w: audiofork: sampleRate %s", stream.ErrProtocol, raw)
		}
		switch strings.ToLower(s) {
		case "8000", "8k":
			m.SampleRate = 8000
		case "16000", "16k":
			m.SampleRate = 16000
		default:
			return m, fmt.Errorf("%w: audiofork: sampleRate %s (8000 or 16000)", stream.ErrProtocol, raw)
		}
	}
	if m.MixType == "stereo" {
		return m, fmt.Errorf("%w: audiofork: stereo mix (want mono or mixed)", stream.ErrProtocol)
	}
	return m, nil
}

// Control is a text frame after the metadata: jambonz's DTMF (passDtmf:
// {"event":"dtmf","dtmf":"5","duration":"…"}) or its playDone.
type Control struct {
	Event string `json:"event"`
	Type  string `json:"type"`
	DTMF  string `json:"dtmf"`
	Digit string `json:"digit"`
}

// ParseControl decodes a text frame after the metadata and returns the key
// of a DTMF event (0 for playDone). Anything else is an error wrapping
// stream.ErrProtocol.
func ParseControl(data []byte) (rune, error) {
	var c Control
	if err := json.Unmarshal(data, &c); err != nil {
		return 0, fmt.Errorf("%w: audiofork: bad JSON text frame: %w", stream.ErrProtocol, err)
	}
	switch {
	case c.Event == "dtmf" || c.Type == "dtmf":
		d := c.DTMF
		if d == "" {
			d = c.Digit
		}
		if len(d) != 1 || !strings.Contains("0123456789*#ABCD", d) {
			return 0, fmt.Errorf("%w: audiofork: dtmf %q", stream.ErrProtocol, d)
		}
		return rune(d[0]), nil
	case c.Type == "playDone" || c.Event == "playDone":
		return 0, nil
	}
	return 0, fmt.Errorf("%w: audiofork: unknown text frame %s", stream.ErrProtocol, strconv.Quote(string(data[:min(len(data), 64)])))
}

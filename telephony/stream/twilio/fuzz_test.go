package twilio

import (
	"encoding/json"
	"testing"
)

// FuzzParse: no input panics Parse or DecodePayload; what Parse accepts is
// valid JSON with a known event.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"event":"connected","protocol":"Call","version":"1.0.0"}`,
		`{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"From":"+1"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}`,
		`{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"no+JhoaJjpzAGRYSEBETFh0="},"streamSid":"MZ1"}`,
		`{"event":"media","media":{"payload":"no\/JhoaJjpzAGRYSEBETFh0="}}`,
		`{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`,
		`{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"parole-0-200"}}`,
		`{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}`,
		`{"event":"media","media":{"payload":12}}`, `{`, `[]`, `null`, `{"event":"x"}`,
	} {
		f.Add([]byte(s))
	}
	var m Message
	var buf []byte
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Parse(data, &m)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Parse accepted invalid JSON %q", data)
		}
		switch m.Event {
		case EventConnected, EventStart, EventMedia, EventDTMF, EventMark, EventStop:
		default:
			t.Fatalf("Parse accepted event %q", m.Event)
		}
		if m.Event == EventMedia {
			buf, _ = DecodePayload(buf, m.Media.Payload)
		}
		if m.Event == EventDTMF && len(m.DTMF.Digit) != 1 {
			t.Fatalf("digit %q", m.DTMF.Digit)
		}
	})
}

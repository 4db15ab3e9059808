package audiofork

import (
	"encoding/json"
	"testing"
)

// FuzzParse: no text frame panics the metadata or control parsers; what
// they accept is valid JSON with a rate of 0, 8000 or 16000.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"callSid":"abc","from":"+1","to":"+2","sampleRate":8000,"mixType":"mono"}`,
		`{"uuid":"u","sampleRate":"16k"}`, `{"sampleRate":44100}`, `{"mixType":"stereo"}`,
		`{"event":"dtmf","dtmf":"5","duration":"1600"}`, `{"type":"playDone"}`, `[]`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseMetadata(data); err == nil {
			if !json.Valid(data) {
				t.Fatalf("metadata %q accepted", data)
			}
			if m.SampleRate != 0 && m.SampleRate != 8000 && m.SampleRate != 16000 {
				t.Fatalf("rate %d", m.SampleRate)
			}
		}
		if k, err := ParseControl(data); err == nil && !json.Valid(data) {
			t.Fatalf("control %q accepted (key %q)", data, k)
		}
	})
}

package cache

import (
	"errors"
	"testing"
	"time"

	"github.com/parole-voice/parole/tts"
)

// FuzzDecode feeds arbitrary bytes to the file decoder: no panic, only
// errCorrupt, and what decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	key := Key("fuzz", tts.Request{Text: "x", SampleRate: 8000})
	good := encode(&entry{key: key, rate: 8000, samples: []int16{1, -2, 3}, marks: []tts.Mark{{Offset: 1, Len: 2, At: time.Millisecond}}})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decode(b, key)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if string(encode(e)) != string(b) {
			t.Fatal("decode and encode disagree")
		}
	})
}

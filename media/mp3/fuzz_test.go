package mp3

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic
// (go-mp3 panics are recovered), every error must wrap one of the package's
// sentinels, and the output must stay bounded by what the input can hold.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/speech16k.mp3", "testdata/speech44k.mp3"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 3000)])
	}
	f.Add([]byte{})
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x05hello\xff\xfb\x90\x00"))
	f.Add([]byte{0xff, 0xfb, 0x90, 0x64, 0x00, 0x00})
	f.Add([]byte{0xff, 0xf3, 0x40, 0xc4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		pcm, err := Decode(bytes.NewReader(in), 8000)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		// The densest layer III frame (MPEG-2, 8 kbit/s, 16 kHz) carries
		// 576 samples in 36 bytes: 8 kHz output is then 8 samples per byte.
		// Bound it generously.
		if len(pcm) > 20*len(in)+8000 {
			t.Fatalf("%d bytes decoded to %d samples", len(in), len(pcm))
		}
	})
}

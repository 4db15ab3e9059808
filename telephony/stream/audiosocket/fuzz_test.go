package audiosocket

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/parole-voice/parole/telephony/stream"
)

// FuzzReadFrame: no byte string panics ReadFrame; every frame it returns
// fits its kind and encodes back to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x01, 0x00, 0x10, 0x40, 0x32, 0x5e, 0xc2, 0x5e, 0xfd, 0x4b, 0xd3, 0x80, 0x5f, 0x53, 0x57, 0x6e, 0x58, 0x1d, 0x13})
	f.Add([]byte{0x10, 0x00, 0x04, 1, 0, 2, 0, 0x03, 0x00, 0x01, '5', 0x00, 0x00, 0x00})
	f.Add([]byte{0xff, 0x00, 0x01, 0x01})
	f.Add([]byte{0x10, 0xff, 0xff, 1})
	f.Add([]byte{0x12, 0x00, 0x02, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for {
			before := len(data) - r.Len()
			var fr Frame
			var err error
			fr, buf, err = ReadFrame(r, buf, 640)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, stream.ErrProtocol) {
					t.Fatalf("error %v wraps neither io.EOF nor ErrProtocol", err)
				}
				return
			}
			if err := checkLength(fr.Kind, len(fr.Payload), 640); err != nil {
				t.Fatalf("returned a frame that does not fit its kind: %v", err)
			}
			consumed := data[before : len(data)-r.Len()]
			if again := AppendFrame(nil, fr.Kind, fr.Payload); !bytes.Equal(again, consumed) {
				t.Fatalf("frame %x re-encodes as %x", consumed, again)
			}
		}
	})
}

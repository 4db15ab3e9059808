package nuance

import (
	"encoding/binary"
	"testing"
)

// FuzzChunk splits PCM bytes into arbitrary buffers: the samples delivered
// must be those of the whole byte string, whatever the splits.
func FuzzChunk(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7}, uint8(3), uint8(1))
	f.Add([]byte{0xff}, uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, a, c uint8) {
		st := &stream{rate: 8000}
		var got []int16
		for off, i := 0, 0; off < len(b); i++ {
			n := int(a)
			if i%2 == 1 {
				n = int(c)
			}
			n = max(n, 1)
			ch, ok := st.chunk(b[off:min(off+n, len(b))])
			off += n
			if ok {
				if ch.Rate != 8000 || len(ch.Samples) == 0 {
					t.Fatalf("chunk %+v", ch)
				}
				got = append(got, ch.Samples...)
			}
		}
		if len(got) != len(b)/2 {
			t.Fatalf("%d samples from %d bytes", len(got), len(b))
		}
		for i := range got {
			if want := int16(binary.LittleEndian.Uint16(b[2*i:])); got[i] != want {
				t.Fatalf("sample %d: %d, want %d", i, got[i], want)
			}
		}
	})
}

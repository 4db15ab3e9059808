package g722

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: every byte is a valid
// code, so it must never panic and always give two samples per byte, the
// same whether decoded at once or in two calls.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x00, 0xff, 0x3f, 0xc0})
	f.Add(bytes.Repeat([]byte{0xff}, 400))
	f.Add(bytes.Repeat([]byte{0x04, 0xc4}, 300))
	f.Add(NewEncoder().Encode(nil, benchPCM()[:640]))
	f.Fuzz(func(t *testing.T, payload []byte) {
		out := NewDecoder().Decode(nil, payload)
		if len(out) != 2*len(payload) {
			t.Fatalf("%d bytes gave %d samples", len(payload), len(out))
		}
		half := len(payload) / 2
		d := NewDecoder()
		split := d.Decode(nil, payload[:half])
		split = d.Decode(split, payload[half:])
		if i := firstDiff16(out, split); i >= 0 {
			t.Fatalf("split decode differs at sample %d", i)
		}
	})
}

// FuzzEncode feeds arbitrary samples to the encoder and checks its output
// length and that chunked encoding equals one-shot encoding.
func FuzzEncode(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0xff, 0x7f}, uint16(1))
	f.Add(bytes.Repeat([]byte{0x00, 0x80, 0xff, 0x7f}, 200), uint16(77))
	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		whole := NewEncoder().Encode(nil, pcm)
		if len(whole) != len(pcm)/2 {
			t.Fatalf("%d samples gave %d bytes", len(pcm), len(whole))
		}
		k := 0
		if len(pcm) > 0 {
			k = int(cut) % (len(pcm) + 1)
		}
		e := NewEncoder()
		split := e.Encode(nil, pcm[:k])
		split = e.Encode(split, pcm[k:])
		if !bytes.Equal(whole, split) {
			t.Fatalf("split at %d differs at byte %d", k, firstDiff(whole, split))
		}
		if e.Pending() != (len(pcm)%2 == 1) {
			t.Fatalf("Pending() = %v for %d samples", e.Pending(), len(pcm))
		}
	})
}

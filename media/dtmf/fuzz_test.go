package dtmf

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzDecodeEvent feeds arbitrary payloads to DecodeEvent and, through a
// Receiver, as a packet stream: 4-byte payloads decode and re-encode to the
// same bytes, others fail with ErrPayloadSize; nothing panics.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte{0x01, 0x0a, 0x00, 0x00})
	f.Add([]byte{0x0b, 0x8a, 0x08, 0xc0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Add([]byte{0x05})
	f.Add([]byte{0x05, 0x0a, 0x01, 0x90, 0x05, 0x8a, 0x03, 0x20})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeEvent(b)
		if len(b) != PayloadSize {
			if !errors.Is(err, ErrPayloadSize) {
				t.Fatalf("%d bytes: err %v", len(b), err)
			}
		} else {
			if err != nil {
				t.Fatalf("4 bytes: %v", err)
			}
			enc, err := p.Append(nil)
			if err != nil || !bytes.Equal(enc, b) {
				t.Fatalf("re-encode %x: %x %v", b, enc, err)
			}
		}
		// The bytes as a stream of 4-byte packets: timestamps and markers
		// taken from the payload itself so the receiver sees odd orders.
		r, _ := NewReceiver(ReceiverConfig{})
		var out []Digit
		now := time.Unix(0, 0)
		for i := 0; i+4 <= len(b); i += 4 {
			ts := uint32(b[i])<<24 | uint32(b[i+2])<<8
			out, err = r.Receive(out, now, Received{SequenceNumber: uint16(i), Timestamp: ts, Marker: b[i+3]&1 != 0, Payload: b[i : i+4]})
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(20 * time.Millisecond)
		}
		out = r.Flush(out)
		if len(out) > len(b)/4 {
			t.Fatalf("%d events from %d packets", len(out), len(b)/4)
		}
	})
}

// FuzzDetector feeds arbitrary samples to the detector in odd-sized chunks:
// it must not panic and must report at most one key per 23 ms.
func FuzzDetector(f *testing.F) {
	g, _ := NewGenerator(ToneConfig{Duration: 50 * time.Millisecond, Pause: 50 * time.Millisecond})
	pcm, _ := g.AppendDigits(nil, "19#")
	raw := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		raw[2*i], raw[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	f.Add(raw, uint8(160))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, chunk uint8) {
		s := make([]int16, len(raw)/2)
		for i := range s {
			s[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		d, _ := NewDetector(DetectorConfig{})
		n := max(int(chunk), 1)
		var out []Tone
		for i := 0; i < len(s); i += n {
			out = d.Write(out, s[i:min(i+n, len(s))])
		}
		out = d.Flush(out)
		if len(out) > len(s)/184+1 {
			t.Fatalf("%d keys in %d samples", len(out), len(s))
		}
	})
}

package opus

import (
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary packets to the decoder at 48 and 8 kHz: it must
// never crash, must either decode the number of samples the packet's table
// of contents announces or fail with ErrInvalidPacket, and must keep
// working (concealment and the next packet) after a bad packet.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xf8, 0xff, 0xfe})          // CELT FB 20 ms, silence
	f.Add([]byte{0x03, 0x00})                // code 3, zero frames
	f.Add([]byte{0x0b, 0x85, 0x01, 0x02})    // code 3, VBR with padding
	f.Add([]byte{0x02, 0xfc, 0xff, 0x00})    // code 2, length past end
	f.Add([]byte{0x4b, 0x41, 0x0a, 0x0a})    // SILK/hybrid frames
	f.Add([]byte{0x7c, 0x02, 0xff, 0xff, 0}) // hybrid FB
	e, err := NewEncoder(16000, AppVoIP)
	if err != nil {
		f.Fatal(err)
	}
	if err := e.SetInbandFEC(true); err != nil {
		f.Fatal(err)
	}
	if err := e.SetPacketLossPerc(10); err != nil {
		f.Fatal(err)
	}
	pcm := tone(16000, 960)
	for off := 0; off+320 <= len(pcm); off += 320 {
		p, err := e.Encode(nil, pcm[off:off+320])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	e.Close()
	good := []byte{0xf8, 0xff, 0xfe}

	d48, err := NewDecoder(48000)
	if err != nil {
		f.Fatal(err)
	}
	d8, err := NewDecoder(8000)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d48.Close(); d8.Close() })
	f.Fuzz(func(t *testing.T, packet []byte) {
		for _, d := range []*Decoder{d48, d8} {
			want, serr := d.Samples(packet)
			out, err := d.Decode(nil, packet)
			switch {
			case len(packet) == 0:
				if err != nil || len(out) == 0 {
					t.Fatalf("%d Hz: concealment gave %d samples, %v", d.Rate(), len(out), err)
				}
			case serr != nil:
				if !errors.Is(err, ErrInvalidPacket) || len(out) != 0 {
					t.Fatalf("%d Hz: Samples failed (%v) but Decode gave %d samples, %v", d.Rate(), serr, len(out), err)
				}
			case err == nil:
				if len(out) != want {
					t.Fatalf("%d Hz: decoded %d samples, table of contents says %d", d.Rate(), len(out), want)
				}
			case !errors.Is(err, ErrInvalidPacket):
				t.Fatalf("%d Hz: unexpected error %v", d.Rate(), err)
			}
			if _, err := d.DecodeFEC(nil, packet); err != nil && !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("%d Hz: DecodeFEC: %v", d.Rate(), err)
			}
			if _, err := d.DecodeLost(nil); err != nil {
				t.Fatalf("%d Hz: concealment after the packet: %v", d.Rate(), err)
			}
			if out, err := d.Decode(nil, good); err != nil || len(out) != d.Rate()/50 {
				t.Fatalf("%d Hz: a good packet after it gave %d samples, %v", d.Rate(), len(out), err)
			}
		}
	})
}

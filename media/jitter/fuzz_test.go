package jitter

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzBuffer decodes the input into a sequence of operations on a Buffer:
// raw packets parsed with rtp.Packet.Unmarshal, packets built from small
// sequence and timestamp steps (so reordering, duplicates, gaps, wraps,
// jumps and SSRC changes are reachable), arrival-time steps and pops. It
// must never panic, and checks on the way that packets come out in
// sequence order at most once per stream, that playout is gap-free, and
// that the delay stays within its bounds.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 12, 0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 2, 40})
	f.Add([]byte{1, 1, 1, 20, 2, 20, 1, 2, 2, 20, 1, 255, 2, 20, 2, 20, 1, 1, 2, 200, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := New(Config{ClockRate: 8000, MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, Capacity: 16, MaxPayload: 32})
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		hdr := rtp.Header{Version: 2, SSRC: 1}
		lastSeq := -1
		epoch := b.Stats()
		var cursor time.Time
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			c := data[0]
			data = data[1:]
			return c
		}
		for len(data) > 0 {
			switch op := next(); op % 4 {
			case 0: // raw packet
				n := int(next()) % 48
				n = min(n, len(data))
				raw := data[:n]
				data = data[n:]
				_ = b.PushRaw(raw, now)
			case 1: // built packet: seq step in [-8, 7], ts step multiple of 80
				c := next()
				step := int(c&15) - 8
				if c == 255 {
					step = 20000
				}
				hdr.SequenceNumber += uint16(step)
				hdr.Timestamp += uint32(step*160 + int(c>>4)*80 - 640)
				hdr.Marker = c&0x40 != 0
				if op&0x80 != 0 {
					hdr.SSRC++
				}
				var pl [8]byte
				binary.BigEndian.PutUint16(pl[:], hdr.SequenceNumber)
				_ = b.PushHeader(&hdr, pl[:2+int(c%7)], now)
			case 2: // time passes
				now = now.Add(time.Duration(next()) * time.Millisecond)
			case 3: // pop until None
				s0 := b.Stats()
				if s0.Resyncs != epoch.Resyncs || s0.SSRCChanges != epoch.SSRCChanges {
					lastSeq, epoch, cursor = -1, s0, time.Time{}
				}
				for range 10000 {
					r := b.Pop(now)
					if r.Kind == None {
						break
					}
					if r.Duration <= 0 || r.Playout.After(now) {
						t.Fatalf("result %+v at %v", r, now.Sub(t0))
					}
					if !cursor.IsZero() && !r.Playout.Equal(cursor) {
						t.Fatalf("playout %v, want %v", r.Playout.Sub(t0), cursor.Sub(t0))
					}
					cursor = r.Playout.Add(r.Duration)
					if r.Kind == Packet {
						seq := int(r.Packet.SequenceNumber)
						if lastSeq >= 0 && int16(uint16(seq)-uint16(lastSeq)) <= 0 {
							t.Fatalf("packet %d after %d", seq, lastSeq)
						}
						if len(r.Packet.Payload) > 32 {
							t.Fatalf("payload of %d bytes", len(r.Packet.Payload))
						}
						lastSeq = seq
					}
				}
				s := b.Stats()
				active := s.Pushed > s.Rejected
				if s.Queued > 16 || active && (s.Delay < 10*time.Millisecond || s.Delay > 100*time.Millisecond) {
					t.Fatalf("stats %+v", s)
				}
			}
		}
	})
}

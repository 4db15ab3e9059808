package opus

// A minimal Ogg Opus (RFC 7845 over RFC 3533) writer and reader, enough to
// hand our packets to FFmpeg and to read FFmpeg's packets back.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the Ogg page checksum: CRC-32, polynomial 0x04c11db7, MSB first,
// initial value 0, no final xor.
func oggCRC(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ oggCRCTable[byte(c>>24)^x]
	}
	return c
}

type oggWriter struct {
	buf    bytes.Buffer
	serial uint32
	seq    uint32
}

// page writes one page holding exactly the given packets (each completed on
// this page).
func (w *oggWriter) page(flags byte, granule int64, packets ...[]byte) {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	if len(lacing) > 255 {
		panic("ogg page too large")
	}
	h := make([]byte, 27, 27+len(lacing)+len(body))
	copy(h, "OggS")
	h[4] = 0 // version
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], uint64(granule))
	binary.LittleEndian.PutUint32(h[14:], w.serial)
	binary.LittleEndian.PutUint32(h[18:], w.seq)
	h[26] = byte(len(lacing))
	h = append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(h[22:], oggCRC(h))
	w.buf.Write(h)
	w.seq++
}

// writeOggOpus returns an Ogg Opus file of mono packets of frame48 samples
// (at 48 kHz) each, with the given pre-skip (48 kHz samples) and total
// length of real audio (48 kHz samples), for end trimming. A page's granule
// position counts the samples decoded up to its last packet, pre-skip
// included; the last page's is pre-skip + total48 (RFC 7845 §4).
func writeOggOpus(packets [][]byte, inputRate, preSkip, frame48, total48 int) []byte {
	w := &oggWriter{serial: 0x7061726f}
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = 1 // channels
	binary.LittleEndian.PutUint16(head[10:], uint16(preSkip))
	binary.LittleEndian.PutUint32(head[12:], uint32(inputRate))
	// output gain 0, channel mapping family 0
	w.page(0x02, 0, head)
	vendor := Version()
	tags := []byte("OpusTags")
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0)
	w.page(0, 0, tags)
	// Several packets per page, as real muxers do.
	const perPage = 10
	for i := 0; i < len(packets); i += perPage {
		j := min(i+perPage, len(packets))
		granule := int64(j * frame48) // samples decoded so far, pre-skip included
		flags := byte(0)
		if j == len(packets) {
			flags = 0x04
			granule = int64(preSkip + total48)
		}
		w.page(flags, granule, packets[i:j]...)
	}
	return w.buf.Bytes()
}

// oggOpus is what readOggOpus extracts from a file.
type oggOpus struct {
	channels    int
	preSkip     int
	inputRate   int
	packets     [][]byte
	lastGranule int64
}

// readOggOpus parses a single-stream Ogg Opus file, checking page CRCs.
func readOggOpus(b []byte) (*oggOpus, error) {
	var packets [][]byte
	var partial []byte
	var last int64
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			return nil, errors.New("ogg: bad capture pattern")
		}
		nseg := int(b[26])
		if len(b) < 27+nseg {
			return nil, errors.New("ogg: truncated segment table")
		}
		lacing := b[27 : 27+nseg]
		size := 27 + nseg
		for _, l := range lacing {
			size += int(l)
		}
		if len(b) < size {
			return nil, errors.New("ogg: truncated page")
		}
		page := bytes.Clone(b[:size])
		want := binary.LittleEndian.Uint32(page[22:])
		binary.LittleEndian.PutUint32(page[22:], 0)
		if got := oggCRC(page); got != want {
			return nil, fmt.Errorf("ogg: page CRC %08x, header says %08x", got, want)
		}
		if g := int64(binary.LittleEndian.Uint64(b[6:])); g != -1 {
			last = g
		}
		body := b[27+nseg : size]
		for _, l := range lacing {
			partial = append(partial, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, partial)
				partial = nil
			}
		}
		b = b[size:]
	}
	if len(packets) < 2 || len(packets[0]) < 19 || string(packets[0][:8]) != "OpusHead" {
		return nil, errors.New("ogg: no OpusHead")
	}
	if string(packets[1][:8]) != "OpusTags" {
		return nil, errors.New("ogg: no OpusTags")
	}
	h := packets[0]
	return &oggOpus{
		channels:    int(h[9]),
		preSkip:     int(binary.LittleEndian.Uint16(h[10:])),
		inputRate:   int(binary.LittleEndian.Uint32(h[12:])),
		packets:     packets[2:],
		lastGranule: last,
	}, nil
}

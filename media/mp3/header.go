package mp3

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// header is a parsed MPEG audio frame header.
type header struct {
	version  int // 1 = MPEG-1, 2 = MPEG-2, 25 = MPEG-2.5
	layer    int // 1, 2 or 3
	crc      bool
	bitrate  int // bit/s; 0 for free format
	rate     int // Hz
	padding  bool
	mono     bool
	emphasis int
}

var (
	bitratesV1L3 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1}
	bitratesV2L3 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1}
	ratesV1      = [4]int{44100, 48000, 32000, 0}
)

// parseHeader parses the 4 bytes at b, reporting whether they are a
// plausible frame header (the same test go-mp3 applies when it looks for
// the next frame).
func parseHeader(b []byte) (header, bool) {
	w := binary.BigEndian.Uint32(b)
	if w&0xffe00000 != 0xffe00000 {
		return header{}, false
	}
	var h header
	switch (w >> 19) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return header{}, false
	}
	h.layer = 4 - int((w>>17)&3)
	if h.layer == 4 {
		return header{}, false
	}
	h.crc = (w>>16)&1 == 0
	bi := (w >> 12) & 15
	sri := (w >> 10) & 3
	if bi == 15 || sri == 3 {
		return header{}, false
	}
	h.rate = ratesV1[sri]
	switch h.version {
	case 2:
		h.rate /= 2
	case 25:
		h.rate /= 4
	}
	if h.version == 1 {
		h.bitrate = bitratesV1L3[bi] * 1000
	} else {
		h.bitrate = bitratesV2L3[bi] * 1000
	}
	h.padding = (w>>9)&1 == 1
	h.mono = (w>>6)&3 == 3
	h.emphasis = int(w & 3)
	if h.emphasis == 2 {
		return header{}, false
	}
	return h, true
}

// samplesPerFrame returns the samples per channel of one layer III frame.
func (h header) samplesPerFrame() int {
	if h.version == 1 {
		return 1152
	}
	return 576
}

// frameLen returns the length in bytes of a layer III frame.
func (h header) frameLen() int {
	n := h.samplesPerFrame() / 8 * h.bitrate / h.rate
	if h.padding {
		n++
	}
	return n
}

// sideInfoLen returns the size of the layer III side information.
func (h header) sideInfoLen() int {
	switch {
	case h.version == 1 && h.mono:
		return 17
	case h.version == 1:
		return 32
	case h.mono:
		return 9
	}
	return 17
}

// supported returns why go-mp3 cannot decode frames with this header, or
// nil.
func (h header) supported() error {
	switch {
	case h.layer != 3:
		return fmt.Errorf("%w: MPEG-%s layer %d (only layer III is decoded)", ErrUnsupported, h.versionName(), h.layer)
	case h.version == 25:
		return fmt.Errorf("%w: MPEG-2.5 (%d Hz); the decoder handles MPEG-1 and MPEG-2 layer III, 16 to 48 kHz", ErrUnsupported, h.rate)
	case h.bitrate == 0:
		return fmt.Errorf("%w: free-format bitrate", ErrUnsupported)
	}
	return nil
}

func (h header) versionName() string {
	switch h.version {
	case 1:
		return "1"
	case 2:
		return "2"
	}
	return "2.5"
}

// gapless is the encoder delay and padding declared by a LAME (or FFmpeg)
// Info/Xing tag, in samples per channel.
type gapless struct {
	frames  int // audio frames after the tag frame, 0 when unknown
	delay   int
	padding int
	ok      bool // delay and padding are known
}

// decoderDelay is the delay of the layer III synthesis filter bank, which
// the LAME tag's encoder delay does not include (528 samples plus the one
// of the MDCT overlap, as LAME and FFmpeg count it).
const decoderDelay = 529

// maxSearch bounds how far into the stream (after an ID3v2 tag) the first
// frame is looked for.
const maxSearch = 64 << 10

var errNoFrame = errors.New("no MPEG audio frame found")

// readPreamble skips an ID3v2 tag and anything before the first frame
// header, reads an Info/Xing frame if there is one (consuming it: it holds
// no audio) and returns the first frame's header with br positioned at the
// first audio frame.
func readPreamble(br *bufio.Reader) (header, gapless, error) {
	// ID3v2: "ID3", version (2), flags (1), syncsafe size (4); a footer
	// adds 10 bytes.
	if b, err := br.Peek(10); err == nil && string(b[:3]) == "ID3" {
		size := int(b[6]&0x7f)<<21 | int(b[7]&0x7f)<<14 | int(b[8]&0x7f)<<7 | int(b[9]&0x7f)
		if b[5]&0x10 != 0 {
			size += 10
		}
		if _, err := br.Discard(10 + size); err != nil {
			return header{}, gapless{}, fmt.Errorf("%w: truncated ID3v2 tag (%d bytes): %w", ErrCorrupt, size, err)
		}
	}
	skipped := 0
	var h header
	for {
		b, err := br.Peek(4)
		if err != nil {
			if skipped == 0 && len(b) == 0 && errors.Is(err, io.EOF) {
				return header{}, gapless{}, ErrEmpty
			}
			if errors.Is(err, io.EOF) {
				return header{}, gapless{}, fmt.Errorf("%w: %w in %d bytes", ErrCorrupt, errNoFrame, skipped+len(b))
			}
			return header{}, gapless{}, err
		}
		var ok bool
		if h, ok = parseHeader(b); ok {
			break
		}
		if skipped >= maxSearch {
			return header{}, gapless{}, fmt.Errorf("%w: %w in the first %d bytes", ErrCorrupt, errNoFrame, skipped)
		}
		if _, err := br.Discard(1); err != nil {
			return header{}, gapless{}, err
		}
		skipped++
	}
	if err := h.supported(); err != nil {
		return header{}, gapless{}, err
	}
	g := readInfoFrame(br, h)
	return h, g, nil
}

// readInfoFrame looks for a Xing/Info tag in the frame at br and, when it
// finds one, consumes the frame and returns the gapless information.
func readInfoFrame(br *bufio.Reader, h header) gapless {
	n := h.frameLen()
	b, err := br.Peek(n)
	if err != nil {
		return gapless{}
	}
	off := 4 + h.sideInfoLen()
	if h.crc {
		off += 2
	}
	if off+8 > len(b) {
		return gapless{}
	}
	if tag := string(b[off : off+4]); tag != "Xing" && tag != "Info" {
		return gapless{}
	}
	var g gapless
	flags := binary.BigEndian.Uint32(b[off+4:])
	p := off + 8
	if flags&1 != 0 && p+4 <= len(b) {
		g.frames = int(binary.BigEndian.Uint32(b[p:]))
		p += 4
	}
	if flags&2 != 0 {
		p += 4
	}
	if flags&4 != 0 {
		p += 100
	}
	if flags&8 != 0 {
		p += 4
	}
	// LAME extension (also written by FFmpeg): encoder string (9 bytes),
	// 12 more bytes, then the 12-bit delay and 12-bit padding. The frame is
	// consumed whatever follows.
	defer func() { _, _ = br.Discard(n) }()
	if p+24 <= len(b) {
		switch string(b[p : p+4]) {
		case "LAME", "Lavf", "Lavc":
		default:
			return g
		}
		d := b[p+21:]
		g.delay = int(d[0])<<4 | int(d[1])>>4
		g.padding = int(d[1]&0x0f)<<8 | int(d[2])
		g.ok = true
	}
	return g
}

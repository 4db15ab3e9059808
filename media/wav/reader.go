package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
)

// Data chunk sizes that mean "unknown length, read to the end".
const (
	sizeStreamFFmpeg = 0xFFFFFFFF
	sizeStreamSoX    = 0x7FFFF000
)

// maxFmtRead is how much of a fmt chunk is kept: WAVE_FORMAT_EXTENSIBLE, the
// largest layout read, is 40 bytes; anything beyond is skipped.
const maxFmtRead = 40

// readBuf is the size of the reader's byte buffer. Data is read in chunks of
// at most this many bytes, whatever the header says.
const readBuf = 4096

// extGUIDTail is the constant part (bytes 2…15) of the KSDATAFORMAT_SUBTYPE
// GUIDs of the WAVE_FORMAT_EXTENSIBLE sub-formats based on format tags.
var extGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// kind selects the conversion of the data bytes to mono int16.
type kind uint8

const (
	kindPCM16Mono kind = iota
	kindULawMono
	kindALawMono
	kindGeneric
)

// Reader reads the audio of a WAV stream as mono 16-bit samples. Create one
// with [NewReader]. A Reader must not be used by several goroutines at once.
type Reader struct {
	src      io.Reader
	hdr      Header
	kind     kind
	bytesPer int   // bytes per sample of one channel
	left     int64 // whole sample frames left in the data chunk, -1 unknown
	frameLen int   // samples per 20 ms frame
	err      error // sticky: returned once the buffered samples are out
	buf      [readBuf]byte
}

// NewReader reads the header of the WAV stream r up to the start of its
// audio and returns a Reader for the audio. It reads r strictly forward and
// never reads past the data chunk. The error wraps [ErrNotWAV],
// [ErrUnsupported], [ErrMalformed] or [ErrTruncated].
func NewReader(r io.Reader) (*Reader, error) {
	wr := &Reader{src: r}
	if err := wr.readHeader(); err != nil {
		return nil, err
	}
	return wr, nil
}

func truncated(what string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %s: %w", ErrTruncated, what, err)
}

// skip discards n bytes of the input (no allocation proportional to n).
func (r *Reader) skip(n int64, what string) error {
	if n <= 0 {
		return nil
	}
	if _, err := io.CopyN(io.Discard, r.src, n); err != nil {
		return truncated(what, err)
	}
	return nil
}

func (r *Reader) readHeader() error {
	var b [12]byte
	if _, err := io.ReadFull(r.src, b[:12]); err != nil {
		if errors.Is(err, io.EOF) { // empty input
			return fmt.Errorf("%w: empty input", ErrNotWAV)
		}
		return truncated("RIFF header", err)
	}
	switch id := string(b[:4]); {
	case id == "RIFX" || id == "RF64" || id == "BW64":
		return fmt.Errorf("%w: %q container", ErrUnsupported, id)
	case id != "RIFF" || string(b[8:12]) != "WAVE":
		return fmt.Errorf("%w: starts with %q", ErrNotWAV, b[:12])
	}
	haveFmt := false
	for {
		if _, err := io.ReadFull(r.src, b[:8]); err != nil {
			if haveFmt {
				return truncated("no data chunk", err)
			}
			return truncated("no fmt chunk", err)
		}
		id := string(b[:4])
		size := int64(binary.LittleEndian.Uint32(b[4:8]))
		switch id {
		case "fmt ":
			if haveFmt {
				return fmt.Errorf("%w: second fmt chunk", ErrMalformed)
			}
			if err := r.readFmt(size); err != nil {
				return err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			r.hdr.DataSize = size
			r.left = size / int64(r.hdr.BlockAlign)
			if size == 0 || size == sizeStreamFFmpeg || size == sizeStreamSoX {
				r.hdr.DataSize, r.left = -1, -1
			}
			return nil
		default:
			if err := r.skip(size+size&1, fmt.Sprintf("%q chunk", id)); err != nil {
				return err
			}
		}
	}
}

// readFmt parses a fmt chunk of the given size.
func (r *Reader) readFmt(size int64) error {
	if size < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, size)
	}
	var b [maxFmtRead]byte
	n := min(size, maxFmtRead)
	if _, err := io.ReadFull(r.src, b[:n]); err != nil {
		return truncated("fmt chunk", err)
	}
	if err := r.skip(size-n+size&1, "fmt chunk"); err != nil {
		return err
	}
	le := binary.LittleEndian
	f := Format(le.Uint16(b[0:]))
	h := Header{
		Format:        f,
		Channels:      int(le.Uint16(b[2:])),
		SampleRate:    int(le.Uint32(b[4:])),
		BlockAlign:    int(le.Uint16(b[12:])),
		BitsPerSample: int(le.Uint16(b[14:])),
	}
	if f == extensible {
		if n < 40 || le.Uint16(b[16:]) < 22 {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes", ErrMalformed, size)
		}
		if !bytes.Equal(b[26:40], extGUIDTail) {
			return fmt.Errorf("%w: extensible sub-format GUID % x", ErrUnsupported, b[24:40])
		}
		h.Format = Format(le.Uint16(b[24:]))
	}
	if h.Channels == 0 || h.SampleRate == 0 {
		return fmt.Errorf("%w: %d channels at %d Hz", ErrMalformed, h.Channels, h.SampleRate)
	}
	switch h.Format {
	case PCM:
		switch h.BitsPerSample {
		case 8, 16, 24, 32:
		default:
			return fmt.Errorf("%w: %d-bit PCM", ErrUnsupported, h.BitsPerSample)
		}
	case ALaw, ULaw:
		if h.BitsPerSample != 8 {
			return fmt.Errorf("%w: %d-bit %v", ErrMalformed, h.BitsPerSample, h.Format)
		}
	default:
		return fmt.Errorf("%w: %v", ErrUnsupported, h.Format)
	}
	if h.Channels > MaxChannels {
		return fmt.Errorf("%w: %d channels (at most %d)", ErrUnsupported, h.Channels, MaxChannels)
	}
	if h.SampleRate > MaxSampleRate {
		return fmt.Errorf("%w: %d Hz (at most %d)", ErrUnsupported, h.SampleRate, MaxSampleRate)
	}
	r.bytesPer = h.BitsPerSample / 8
	if h.BlockAlign != h.Channels*r.bytesPer {
		return fmt.Errorf("%w: block align %d for %d channels of %d bits", ErrMalformed, h.BlockAlign, h.Channels, h.BitsPerSample)
	}
	r.hdr = h
	r.frameLen = max(1, media.SamplesPerFrame(h.SampleRate))
	r.kind = kindGeneric
	if h.Channels == 1 {
		switch {
		case h.Format == PCM && h.BitsPerSample == 16:
			r.kind = kindPCM16Mono
		case h.Format == ULaw:
			r.kind = kindULawMono
		case h.Format == ALaw:
			r.kind = kindALawMono
		}
	}
	return nil
}

// Header returns the header of the stream.
func (r *Reader) Header() Header { return r.hdr }

// SampleRate returns the sample rate of the audio in Hz.
func (r *Reader) SampleRate() int { return r.hdr.SampleRate }

// FrameSamples returns the number of samples [Reader.ReadFrame] puts in a
// frame: 20 ms at the file's rate (at least one sample).
func (r *Reader) FrameSamples() int { return r.frameLen }

// ReadSamples reads up to len(dst) mono samples into dst and returns how
// many it read. It returns fewer than len(dst) only at the end of the audio:
// then the next call returns 0 and io.EOF, or an error wrapping
// [ErrTruncated] if the data chunk was shorter than declared. It allocates
// nothing.
func (r *Reader) ReadSamples(dst []int16) (int, error) {
	n := 0
	for n < len(dst) && r.err == nil {
		if r.left == 0 {
			r.err = io.EOF
			break
		}
		ba := r.hdr.BlockAlign
		want := min(len(dst)-n, len(r.buf)/ba)
		if r.left > 0 {
			want = int(min(int64(want), r.left))
		}
		got, err := io.ReadFull(r.src, r.buf[:want*ba])
		blocks := got / ba
		r.decode(dst[n:n+blocks], r.buf[:blocks*ba])
		n += blocks
		if r.left > 0 {
			r.left -= int64(blocks)
		}
		if err != nil {
			switch {
			case r.left < 0 && (err == io.EOF || err == io.ErrUnexpectedEOF):
				r.err = io.EOF // streamed: the end of the input ends the audio
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				r.err = truncated(fmt.Sprintf("data chunk ends %d bytes early", r.left*int64(ba)-int64(got%ba)), io.ErrUnexpectedEOF)
			default:
				r.err = fmt.Errorf("wav: reading data: %w", err)
			}
		}
	}
	if n == 0 && len(dst) > 0 {
		return 0, r.err
	}
	return n, nil
}

// ReadFrame fills f with the next 20 ms of audio as mono samples at the
// file's rate ([Reader.FrameSamples] samples; the last frame may be shorter)
// and sets f.Rate. It reuses f.Samples when its capacity suffices, so
// reading into the same frame allocates nothing. f.Time is set to the zero
// time. At the end of the audio it returns io.EOF, or an error wrapping
// [ErrTruncated] if the data chunk was shorter than declared, and leaves f
// empty.
func (r *Reader) ReadFrame(f *media.Frame) error {
	if cap(f.Samples) < r.frameLen {
		f.Samples = make([]int16, r.frameLen)
	}
	n, err := r.ReadSamples(f.Samples[:r.frameLen])
	f.Samples = f.Samples[:n]
	f.Rate = r.hdr.SampleRate
	f.Time = time.Time{}
	return err
}

// decode converts len(dst) sample frames of src to mono.
func (r *Reader) decode(dst []int16, src []byte) {
	switch r.kind {
	case kindPCM16Mono:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case kindULawMono:
		src = src[:len(dst)]
		for i, c := range src {
			dst[i] = g711.DecodeUlawSample(c)
		}
	case kindALawMono:
		src = src[:len(dst)]
		for i, c := range src {
			dst[i] = g711.DecodeAlawSample(c)
		}
	default:
		ch, bp := r.hdr.Channels, r.bytesPer
		for i := range dst {
			var sum int32
			for c := range ch {
				sum += r.sample(src[(i*ch+c)*bp:])
			}
			dst[i] = int16(sum / int32(ch))
		}
	}
}

// sample converts the sample of one channel at the start of b to 16 bits.
func (r *Reader) sample(b []byte) int32 {
	switch r.hdr.Format {
	case ULaw:
		return int32(g711.DecodeUlawSample(b[0]))
	case ALaw:
		return int32(g711.DecodeAlawSample(b[0]))
	}
	switch r.bytesPer {
	case 1:
		return (int32(b[0]) - 128) << 8
	case 2:
		return int32(int16(binary.LittleEndian.Uint16(b)))
	case 3:
		v := int32(b[0]) | int32(b[1])<<8 | int32(int8(b[2]))<<16
		return min((v+0x80)>>8, 32767)
	default:
		v := int64(int32(binary.LittleEndian.Uint32(b)))
		return int32(min((v+0x8000)>>16, 32767))
	}
}

// ReadAll reads a whole WAV stream and returns its audio as mono samples
// and its sample rate. On an error after the header (a truncated data chunk)
// it returns the samples read so far with the error. Memory grows with the
// audio actually read, not with the size the header declares.
func ReadAll(r io.Reader) (samples []int16, rate int, err error) {
	wr, err := NewReader(r)
	if err != nil {
		return nil, 0, err
	}
	// A declared size only caps the first allocation (a forged size costs at
	// most 128 KiB); the slice then grows with the audio actually read.
	want := int64(1 << 16)
	if n := wr.hdr.Samples(); n >= 0 {
		want = min(n, want)
	}
	samples = make([]int16, 0, want)
	for {
		if len(samples) == cap(samples) {
			samples = append(samples, 0)[:len(samples)]
		}
		n, err := wr.ReadSamples(samples[len(samples):cap(samples)])
		samples = samples[:len(samples)+n]
		if err == io.EOF {
			return samples, wr.hdr.SampleRate, nil
		}
		if err != nil {
			return samples, wr.hdr.SampleRate, err
		}
	}
}

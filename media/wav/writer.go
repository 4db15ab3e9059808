package wav

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
)

// sizeStream is the size the Writer puts in the RIFF, data and fact fields
// of a streamed file whose length is not known (what FFmpeg writes to a
// pipe).
const sizeStream = 0xFFFFFFFF

// Writer writes mono audio as a WAV file in 16-bit PCM, μ-law or A-law.
// Create one with [NewWriter] or [NewWriterSize], write samples or frames,
// then Close it. A Writer must not be used by several goroutines at once.
type Writer struct {
	w        io.Writer
	ws       io.WriteSeeker // non-nil when sizes are patched on Close
	start    int64          // offset of the RIFF header in ws
	format   Format
	rate     int
	bytesPer int64
	declared int64 // samples promised to NewWriterSize, -1 otherwise
	limit    int64 // most samples the file may hold
	written  int64
	hdrLen   int64
	err      error // sticky write error
	closed   bool
	buf      [4096]byte
}

// NewWriter starts a mono WAV file of the given format (PCM for 16-bit PCM,
// ULaw or ALaw) and rate on w and writes its header. If w is an
// io.WriteSeeker that can seek (a regular file), Close goes back and patches
// the sizes; otherwise (a pipe, a socket, a buffer) the header carries the
// streaming size 0xFFFFFFFF, which SoX, FFmpeg and [Reader] read to the end
// of the input. Use [NewWriterSize] when the length is known up front.
func NewWriter(w io.Writer, format Format, rate int) (*Writer, error) {
	return newWriter(w, format, rate, -1)
}

// NewWriterSize is like [NewWriter] for a file of exactly samples samples:
// the header is written with the final sizes, so w need not seek. Writing
// more samples than declared fails, and so does Close if fewer were written;
// both errors wrap [ErrLength].
func NewWriterSize(w io.Writer, format Format, rate int, samples int64) (*Writer, error) {
	if samples < 0 {
		return nil, fmt.Errorf("%w: %d samples", ErrLength, samples)
	}
	return newWriter(w, format, rate, samples)
}

func newWriter(w io.Writer, format Format, rate int, samples int64) (*Writer, error) {
	wr := &Writer{w: w, format: format, rate: rate, declared: samples}
	switch format {
	case PCM:
		wr.bytesPer, wr.hdrLen = 2, 44
	case ULaw, ALaw:
		wr.bytesPer, wr.hdrLen = 1, 58 // 18-byte fmt chunk and a fact chunk
	default:
		return nil, fmt.Errorf("%w: cannot write %v", ErrUnsupported, format)
	}
	if rate <= 0 || rate > MaxSampleRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, rate)
	}
	// The RIFF size (header minus 8, data, pad) must fit 32 bits and stay
	// below the streaming markers.
	wr.limit = (sizeStreamSoX - 1 - wr.hdrLen) / wr.bytesPer
	if samples > wr.limit {
		return nil, fmt.Errorf("%w: %d samples exceed the WAV size limit of %d", ErrLength, samples, wr.limit)
	}
	if samples < 0 {
		if ws, ok := w.(io.WriteSeeker); ok {
			if pos, err := ws.Seek(0, io.SeekCurrent); err == nil {
				wr.ws, wr.start = ws, pos
			}
		}
	}
	var hdr [58]byte
	wr.putHeader(hdr[:wr.hdrLen], samples)
	if _, err := w.Write(hdr[:wr.hdrLen]); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	return wr, nil
}

// putHeader lays out the header for a file of n samples (n < 0: unknown).
func (w *Writer) putHeader(b []byte, n int64) {
	le := binary.LittleEndian
	data, riff, fact := uint32(sizeStream), uint32(sizeStream), uint32(sizeStream)
	if n >= 0 {
		d := n * w.bytesPer
		data = uint32(d)
		riff = uint32(w.hdrLen - 8 + d + d&1)
		fact = uint32(n)
	}
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], riff)
	copy(b[8:], "WAVEfmt ")
	p := 20
	if w.format == PCM {
		le.PutUint32(b[16:], 16)
	} else {
		le.PutUint32(b[16:], 18)
	}
	le.PutUint16(b[p:], uint16(w.format))
	le.PutUint16(b[p+2:], 1) // channels
	le.PutUint32(b[p+4:], uint32(w.rate))
	le.PutUint32(b[p+8:], uint32(int64(w.rate)*w.bytesPer)) // byte rate
	le.PutUint16(b[p+12:], uint16(w.bytesPer))              // block align
	le.PutUint16(b[p+14:], uint16(8*w.bytesPer))            // bits per sample
	p += 16
	if w.format != PCM {
		le.PutUint16(b[p:], 0) // cbSize
		p += 2
		copy(b[p:], "fact")
		le.PutUint32(b[p+4:], 4)
		le.PutUint32(b[p+8:], fact)
		p += 12
	}
	copy(b[p:], "data")
	le.PutUint32(b[p+4:], data)
}

// Written returns the number of samples written so far.
func (w *Writer) Written() int64 { return w.written }

// WriteSamples encodes and writes mono samples. It allocates nothing.
func (w *Writer) WriteSamples(pcm []int16) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	room := w.limit
	if w.declared >= 0 {
		room = w.declared
	}
	if int64(len(pcm)) > room-w.written {
		return fmt.Errorf("%w: %d more samples after %d exceed %d", ErrLength, len(pcm), w.written, room)
	}
	chunk := len(w.buf) / int(w.bytesPer)
	for len(pcm) > 0 {
		n := min(len(pcm), chunk)
		var b []byte
		switch w.format {
		case PCM:
			b = w.buf[:2*n]
			for i, s := range pcm[:n] {
				binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
			}
		case ULaw:
			b = g711.EncodeUlaw(w.buf[:0], pcm[:n])
		default:
			b = g711.EncodeAlaw(w.buf[:0], pcm[:n])
		}
		if _, err := w.w.Write(b); err != nil {
			w.err = fmt.Errorf("wav: writing data: %w", err)
			return w.err
		}
		w.written += int64(n)
		pcm = pcm[n:]
	}
	return nil
}

// WriteFrame writes the samples of f, whose rate must be the file's (an
// error wrapping [ErrRate] otherwise).
func (w *Writer) WriteFrame(f *media.Frame) error {
	if f.Rate != w.rate {
		return fmt.Errorf("%w: frame at %d Hz, file at %d Hz", ErrRate, f.Rate, w.rate)
	}
	return w.WriteSamples(f.Samples)
}

// Close finishes the file: it writes the pad byte an odd-sized data chunk
// needs and, on a seekable output, patches the sizes in the header and
// returns to the end of the file. It does not close the underlying writer.
// Closing twice returns [ErrClosed].
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.declared >= 0 && w.written != w.declared {
		return fmt.Errorf("%w: %d samples written, %d declared", ErrLength, w.written, w.declared)
	}
	if w.written*w.bytesPer%2 == 1 {
		if _, err := w.w.Write([]byte{0}); err != nil {
			return fmt.Errorf("wav: writing pad byte: %w", err)
		}
	}
	if w.ws == nil {
		return nil
	}
	var hdr [58]byte
	w.putHeader(hdr[:w.hdrLen], w.written)
	end, err := w.ws.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = w.ws.Seek(w.start, io.SeekStart)
	}
	if err == nil {
		_, err = w.ws.Write(hdr[:w.hdrLen])
	}
	if err == nil {
		_, err = w.ws.Seek(end, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("wav: patching header: %w", err)
	}
	return nil
}

// Encode writes samples at rate Hz to w as a complete mono WAV file in the
// given format (PCM, ULaw or ALaw).
func Encode(w io.Writer, format Format, rate int, samples []int16) error {
	wr, err := NewWriterSize(w, format, rate, int64(len(samples)))
	if err != nil {
		return err
	}
	if err := wr.WriteSamples(samples); err != nil {
		return err
	}
	return wr.Close()
}

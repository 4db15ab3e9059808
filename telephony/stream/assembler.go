package stream

import (
	"fmt"

	"github.com/parole-voice/parole/media"
)

// Assembler cuts the peer's audio, arriving in messages of any size, into
// 20 ms frames. A leg decodes each message straight into the slice
// [Assembler.Extend] returns, then takes whole frames with
// [Assembler.Next]. It allocates nothing once its buffer has grown to the
// largest message.
type Assembler struct {
	rate, size, max int
	buf             []int16
	off             int
}

// NewAssembler returns an assembler of 20 ms frames at rate Hz that holds at
// most maxBuffered samples not yet taken (Extend fails beyond).
func NewAssembler(rate, maxBuffered int) *Assembler {
	size := media.SamplesPerFrame(rate)
	return &Assembler{rate: rate, size: size, max: maxBuffered, buf: make([]int16, 0, 4*size)}
}

// Rate returns the sample rate of the frames.
func (a *Assembler) Rate() int { return a.rate }

// Buffered returns the number of samples waiting for a whole frame.
func (a *Assembler) Buffered() int { return len(a.buf) - a.off }

// Extend appends n samples and returns them for the caller to fill. It
// returns an error wrapping ErrTooLarge when more than the assembler's
// maximum would wait.
func (a *Assembler) Extend(n int) ([]int16, error) {
	if n < 0 || a.Buffered()+n > a.max {
		return nil, fmt.Errorf("%w: %d samples buffered, %d more", ErrTooLarge, a.Buffered(), n)
	}
	if a.off > 0 { // move the remainder to the front
		m := copy(a.buf, a.buf[a.off:])
		a.buf = a.buf[:m]
		a.off = 0
	}
	l := len(a.buf)
	if cap(a.buf) < l+n {
		nb := make([]int16, l, 2*(l+n))
		copy(nb, a.buf)
		a.buf = nb
	}
	a.buf = a.buf[:l+n]
	return a.buf[l:], nil
}

// Next fills f with the next whole 20 ms frame and reports whether there
// was one. f's samples are reused when large enough.
func (a *Assembler) Next(f *media.Frame) bool {
	if a.Buffered() < a.size {
		return false
	}
	if cap(f.Samples) < a.size {
		f.Samples = make([]int16, a.size)
	}
	f.Samples = f.Samples[:a.size]
	copy(f.Samples, a.buf[a.off:a.off+a.size])
	f.Rate = a.rate
	a.off += a.size
	if a.off == len(a.buf) {
		a.buf, a.off = a.buf[:0], 0
	}
	return true
}

// Reset drops the buffered samples.
func (a *Assembler) Reset() { a.buf, a.off = a.buf[:0], 0 }

//go:build cgo_refs

package resample

/*
#cgo pkg-config: soxr
#include <soxr.h>

static soxr_t parole_soxr_new(double in, double out, unsigned long recipe, soxr_error_t *err) {
	soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
	soxr_quality_spec_t q = soxr_quality_spec(recipe, 0);
	return soxr_create(in, out, 1, err, &io, &q, NULL);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Soxr quality recipes.
const (
	SoxrLQ = C.SOXR_LQ
	SoxrMQ = C.SOXR_MQ
	SoxrHQ = C.SOXR_HQ
)

// Soxr wraps libsoxr's streaming soxr_process (int16 I/O, one channel).
type Soxr struct {
	s C.soxr_t
	// Err is the first error soxr_process returned; Process stops there.
	Err error
}

// NewSoxr returns a soxr resampler from in to out Hz with a quality recipe
// (SoxrLQ, SoxrMQ, SoxrHQ).
func NewSoxr(in, out int, recipe int) (*Soxr, error) {
	var err C.soxr_error_t
	s := C.parole_soxr_new(C.double(in), C.double(out), C.ulong(recipe), &err)
	if err != nil || s == nil {
		return nil, fmt.Errorf("soxr_create(%d, %d): %s", in, out, C.GoString(err))
	}
	return &Soxr{s: s}, nil
}

// Process implements Engine.
func (s *Soxr) Process(out, in []int16) []int16 {
	for len(in) > 0 {
		if cap(out)-len(out) < 2*len(in)*8+16 {
			out = append(out, make([]int16, 2*len(in)*8+16)...)[:len(out)]
		}
		dst := out[len(out):cap(out)]
		var idone, odone C.size_t
		err := C.soxr_process(s.s, C.soxr_in_t(unsafe.Pointer(&in[0])), C.size_t(len(in)), &idone,
			C.soxr_out_t(unsafe.Pointer(&dst[0])), C.size_t(len(dst)), &odone)
		if err != nil {
			s.Err = fmt.Errorf("soxr_process: %s", C.GoString(err))
			break
		}
		out = out[:len(out)+int(odone)]
		in = in[idone:]
		if idone == 0 && odone == 0 {
			break
		}
	}
	return out
}

// Close implements Engine.
func (s *Soxr) Close() {
	if s.s != nil {
		C.soxr_delete(s.s)
		s.s = nil
	}
}

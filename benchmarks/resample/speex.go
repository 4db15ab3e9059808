//go:build cgo_refs

package resample

/*
#cgo pkg-config: speexdsp
#include <speex/speex_resampler.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Speex wraps libspeexdsp's speex_resampler (int16 API, one channel).
type Speex struct {
	st *C.SpeexResamplerState
}

// NewSpeex returns a speex resampler from in to out Hz at quality 0…10.
func NewSpeex(in, out, quality int) (*Speex, error) {
	var err C.int
	st := C.speex_resampler_init(1, C.spx_uint32_t(in), C.spx_uint32_t(out), C.int(quality), &err)
	if st == nil || err != 0 {
		return nil, fmt.Errorf("speex_resampler_init(%d, %d, %d): error %d", in, out, quality, int(err))
	}
	return &Speex{st: st}, nil
}

// Latency returns speex's output latency in output samples.
func (s *Speex) Latency() int { return int(C.speex_resampler_get_output_latency(s.st)) }

// Process implements Engine. out needs room for the output (it grows it when
// it has not).
func (s *Speex) Process(out, in []int16) []int16 {
	for len(in) > 0 {
		if cap(out)-len(out) < 2*len(in)*8+16 {
			out = append(out, make([]int16, 2*len(in)*8+16)...)[:len(out)]
		}
		dst := out[len(out):cap(out)]
		inLen := C.spx_uint32_t(len(in))
		outLen := C.spx_uint32_t(len(dst))
		C.speex_resampler_process_int(s.st, 0, (*C.spx_int16_t)(unsafe.Pointer(&in[0])), &inLen,
			(*C.spx_int16_t)(unsafe.Pointer(&dst[0])), &outLen)
		out = out[:len(out)+int(outLen)]
		in = in[inLen:]
		if inLen == 0 && outLen == 0 {
			break
		}
	}
	return out
}

// Close implements Engine.
func (s *Speex) Close() {
	if s.st != nil {
		C.speex_resampler_destroy(s.st)
		s.st = nil
	}
}

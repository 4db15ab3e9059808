//go:build amd64 && !purego

package resample

import "unsafe"

// kernelSSE runs the output loop of kernelGo in SSE assembly (SSE2 is part
// of the amd64 baseline, so no CPU feature check is needed).
//
//go:noescape
func kernelSSE(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)

// kernel has kernelGo's contract.
func kernel(out []int16, buf []float32, pos, fill, width int, ph int32, tab []phase, coefs []float32) (int, int, int32) {
	if len(out) == 0 || pos+width > fill {
		return 0, pos, ph
	}
	_ = buf[fill-1+pad] // the padded reads stay inside buf
	n, p, q := kernelSSE(unsafe.SliceData(out), len(out), unsafe.SliceData(buf), pos, fill-width, int(ph), unsafe.SliceData(tab), unsafe.SliceData(coefs))
	return n, p, int32(q)
}

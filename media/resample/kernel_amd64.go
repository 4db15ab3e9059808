//go:build amd64 && !purego

package resample

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernelSSE runs the output loop of kernelGo in SSE assembly (SSE2 is part
// of the amd64 baseline).
//
//go:noescape
func kernelSSE(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)

// kernelAVX2 is kernelSSE with 256-bit vectors and fused multiply-add; it
// needs AVX2 and FMA.
//
//go:noescape
func kernelAVX2(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)

// up16AVX2 computes 16 consecutive outputs of one branch of an integer
// interpolator and stores the first cnt of them cnt at out[i·stride].
//
//go:noescape
func up16AVX2(out *int16, stride int, x *float32, h *float32, n int, cnt int)

// useAVX2 selects kernelAVX2; tests clear it to exercise kernelSSE.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel has kernelGo's contract.
func kernel(out []int16, buf []float32, pos, fill, width int, ph int32, tab []phase, coefs []float32) (int, int, int32) {
	if len(out) == 0 || pos+width > fill {
		return 0, pos, ph
	}
	_ = buf[fill-1+pad] // the padded reads stay inside buf
	var n, p, q int
	if useAVX2 {
		n, p, q = kernelAVX2(unsafe.SliceData(out), len(out), unsafe.SliceData(buf), pos, fill-width, int(ph), unsafe.SliceData(tab), unsafe.SliceData(coefs))
	} else {
		n, p, q = kernelSSE(unsafe.SliceData(out), len(out), unsafe.SliceData(buf), pos, fill-width, int(ph), unsafe.SliceData(tab), unsafe.SliceData(coefs))
	}
	return n, p, int32(q)
}

// blockUp reports whether upBlock is available.
func blockUp() bool { return useAVX2 }

// upBlock stores at out[i·stride], for i < cnt, the output of the branch
// with the cnt windows starting at x[0], x[1], …, computed 16 at a time.
// x must hold 15+len(h) samples; len(h) ≥ n.
func upBlock(out []int16, stride int, x []float32, h []float32, n, cnt int) {
	_ = out[(cnt-1)*stride]
	_ = x[15+n-1]
	_ = h[n-1]
	up16AVX2(unsafe.SliceData(out), stride, unsafe.SliceData(x), unsafe.SliceData(h), n, cnt)
}

// dec16AVX2 computes 16 consecutive outputs of an integer decimator from
// the residues of its input (x, x+xstride, …, one per segment) and stores
// the first cnt of them at out.
//
//go:noescape
func dec16AVX2(out *int16, cnt int, x *float32, xstride int, segs *seg, nseg int, h *float32)

// decBlock stores at out[:cnt] the outputs of the decimator whose residues
// start at x[0], x[stride], …, computed 16 at a time.
func decBlock(out []int16, cnt int, x []float32, stride int, segs []seg, h []float32) {
	_ = out[cnt-1]
	last := segs[len(segs)-1]
	_ = x[(len(segs)-1)*stride+int(last.off)+int(last.n)+15]
	_ = h[len(h)-1]
	dec16AVX2(unsafe.SliceData(out), cnt, unsafe.SliceData(x), 4*stride, unsafe.SliceData(segs), len(segs), unsafe.SliceData(h))
}

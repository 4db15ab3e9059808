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

// up16AVX2 computes nblk blocks of 16 consecutive outputs of one branch
// of an integer interpolator and stores the first cnt of each block at
// out[i·stride].
//
//go:noescape
func up16AVX2(out *int16, stride int, x *float32, h *float32, n int, cnt int, nblk int)

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

// upBlock stores at out[(16j+i)·stride], for j < nblk and i < cnt, the
// output of the branch with coefficients h[:n] over the window starting at
// x[16j+i], computed 16 at a time.
func upBlock(out []int16, stride int, x []float32, h []float32, n, cnt, nblk int) {
	_ = out[(16*(nblk-1)+cnt-1)*stride]
	_ = x[16*(nblk-1)+15+n-1]
	_ = h[n-1]
	up16AVX2(unsafe.SliceData(out), stride, unsafe.SliceData(x), unsafe.SliceData(h), n, cnt, nblk)
}

// poly16AVX2 computes nblk blocks of 16 outputs, one per cycle of
// consecutive cycles, from the residues of the input (x, x+xstride, …, one
// per segment) and stores the first cnt of each block at out[i·stride].
//
//go:noescape
func poly16AVX2(out *int16, stride int, cnt int, x *float32, xstride int, segs *seg, nseg int, h *float32, nblk int)

// polyBlock stores at out[(16j+i)·stride], for j < nblk and i < cnt, the
// output of the residue segments segs for the cycle 16j+i, whose residues
// start at x[0], x[xstride], …, computed 16 at a time.
func polyBlock(out []int16, stride, cnt, nblk int, x []float32, xstride int, segs []seg, h []float32) {
	_ = out[(16*(nblk-1)+cnt-1)*stride]
	for k, s := range segs {
		if s.n > 0 {
			_ = x[k*xstride+16*(nblk-1)+int(s.off)+int(s.n)+14]
			_ = h[s.start+s.n-1]
		}
	}
	poly16AVX2(unsafe.SliceData(out), stride, cnt, unsafe.SliceData(x), 4*xstride, unsafe.SliceData(segs), len(segs), unsafe.SliceData(h), nblk)
}

//go:noescape
func cvtAVX2(dst *float32, src *int16, n int)

//go:noescape
func split2AVX2(even, odd *float32, src *float32, n int)

// toFloat converts src to dst[:len(src)].
func toFloat(dst []float32, src []int16) {
	if !useAVX2 || len(src) == 0 {
		toFloatGo(dst, src)
		return
	}
	_ = dst[len(src)-1]
	cvtAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), len(src))
}

// split2 copies src[2i] to even[i] and src[2i+1] to odd[i] for i < n.
func split2(even, odd, src []float32, n int) {
	if !useAVX2 || n == 0 {
		split2Go(even, odd, src, n)
		return
	}
	_, _, _ = even[n-1], odd[n-1], src[2*n-1]
	split2AVX2(unsafe.SliceData(even), unsafe.SliceData(odd), unsafe.SliceData(src), n)
}

//go:noescape
func splitNAsm(dst *float32, stride int, src *float32, n, m int)

// splitN copies src[i·m+k] to dst[k·stride+i] for k < m, i < n.
func splitN(dst []float32, stride int, src []float32, n, m int) {
	if n == 0 {
		return
	}
	_ = src[n*m-1]
	_ = dst[(m-1)*stride+n-1]
	if stride < n {
		panic("resample: splitN stride")
	}
	splitNAsm(unsafe.SliceData(dst), stride, unsafe.SliceData(src), n, m)
}

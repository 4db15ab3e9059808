//go:build !amd64 || purego

package resample

// kernel is the portable Go kernel on this architecture.
var kernel = kernelGo

// blockUp reports whether upBlock is available: not on this architecture.
func blockUp() bool { return false }

func upBlock(out []int16, stride int, x []float32, h []float32, n, cnt, nblk int) {
	panic("resample: no block kernel")
}

func polyBlock(out []int16, stride, cnt, nblk int, x []float32, xstride int, segs []seg, h []float32) {
	panic("resample: no block kernel")
}

// toFloat converts src to dst[:len(src)].
func toFloat(dst []float32, src []int16) { toFloatGo(dst, src) }

// split2 copies src[2i] to even[i] and src[2i+1] to odd[i] for i < n.
func split2(even, odd, src []float32, n int) { split2Go(even, odd, src, n) }

// splitN copies src[i·m+k] to dst[k·stride+i] for k < m, i < n.
func splitN(dst []float32, stride int, src []float32, n, m int) { splitNGo(dst, stride, src, n, m) }

//go:build !amd64 || purego

package resample

// kernel is the portable Go kernel on this architecture.
var kernel = kernelGo

// blockUp reports whether upBlock is available: not on this architecture.
func blockUp() bool { return false }

func upBlock(out []int16, stride int, x []float32, h []float32, n, cnt int) {
	panic("resample: no block kernel")
}

func decBlock(out []int16, cnt int, x []float32, stride int, segs []seg, h []float32) {
	panic("resample: no block kernel")
}

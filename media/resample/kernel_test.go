package resample

import "testing"

// TestKernelsAgree runs the architecture's kernel (SSE assembly on amd64)
// and the portable Go kernel over the same noise: they sum in different
// orders, so float32 rounding may move a sample by at most one step.
func TestKernelsAgree(t *testing.T) {
	for _, q := range []Quality{Low, Medium, High} {
		for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 16000}, {24000, 16000}, {44100, 16000}} {
			r, _ := New(pair[0], pair[1], q)
			b := r.b
			x := noise(chunk, uint64(pair[0]))
			buf := make([]float32, b.width-1+chunk+pad)
			for i, v := range x {
				buf[b.width-1+i] = float32(v) / 2 // headroom: no clipping
			}
			fill := b.width - 1 + chunk
			a := make([]int16, 4*chunk)
			g := make([]int16, 4*chunk)
			na, pa, fa := kernel(a, buf, 0, fill, b.width, 0, b.tab, b.coefs)
			ng, pg, fg := kernelGo(g, buf, 0, fill, b.width, 0, b.tab, b.coefs)
			if na != ng || pa != pg || fa != fg {
				t.Fatalf("%s %v: kernel returned (%d, %d, %d), Go kernel (%d, %d, %d)", q, pair, na, pa, fa, ng, pg, fg)
			}
			for i := range na {
				if d := int(a[i]) - int(g[i]); d > 1 || d < -1 {
					t.Fatalf("%s %v: sample %d: kernel %d, Go kernel %d", q, pair, i, a[i], g[i])
				}
			}
			// a short output slice stops the kernel early
			n, _, _ := kernel(a[:3], buf, 0, fill, b.width, 0, b.tab, b.coefs)
			if n != 3 {
				t.Fatalf("kernel wrote %d samples into room for 3", n)
			}
		}
	}
}

//go:build amd64 && !purego

package resample

import (
	"slices"
	"testing"
)

// TestKernelSSE runs TestKernelsAgree with the SSE kernel when the machine
// would otherwise use the AVX2 one, so that both assembly kernels are
// checked against kernelGo.
func TestKernelSSE(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA: TestKernelsAgree already runs the SSE kernel")
	}
	useAVX2 = false
	defer func() { useAVX2 = true }()
	TestKernelsAgree(t)
	TestStreamingMatchesOneShot(t)
}

// TestBlockKernelsAgree checks the block kernels of integer interpolators
// and decimators against kernelGo on the same noise, streamed in uneven
// pieces.
func TestBlockKernelsAgree(t *testing.T) {
	if !blockUp() {
		t.Skip("no AVX2+FMA")
	}
	for _, q := range []Quality{Low, Medium, High} {
		for _, pair := range [][2]int{{8000, 16000}, {8000, 48000}, {16000, 48000}, {8000, 24000}, {16000, 16000}, {16000, 8000}, {48000, 16000}, {48000, 8000}, {32000, 8000}, {24000, 16000}, {16000, 24000}, {48000, 32000}, {16000, 12000}, {11025, 8000}} {
			r, _ := New(pair[0], pair[1], q)
			b := r.b
			x := noise(chunk, uint64(pair[1]))
			for i := range x {
				x[i] /= 2 // headroom: no clipping
			}
			buf := make([]float32, b.width-1+chunk+pad)
			for i, v := range x {
				buf[b.width-1+i] = float32(v)
			}
			want := make([]int16, 8*chunk)
			n, _, _ := kernelGo(want, buf, 0, b.width-1+chunk, b.width, 0, b.tab, b.coefs)
			var got []int16
			for i, rest := 0, x; len(rest) > 0; i++ {
				k := min(len(rest), 1+i*37%300)
				got = r.Process(got, rest[:k])
				rest = rest[k:]
			}
			if len(got) != n {
				t.Fatalf("%s %v: %d samples, Go kernel %d", q, pair, len(got), n)
			}
			for i := range n {
				if d := int(got[i]) - int(want[i]); d > 1 || d < -1 {
					t.Fatalf("%s %v: sample %d: block kernel %d, Go kernel %d", q, pair, i, got[i], want[i])
				}
			}
		}
	}
}

// TestConvertSplit checks the AVX2 int16→float32 conversion, the 2-way
// split and the assembly m-way split against their Go versions at every
// length up to 40.
func TestConvertSplit(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA")
	}
	x := noise(80, 9)
	f := make([]float32, 80)
	for i, v := range x {
		f[i] = float32(v) / 3
	}
	for n := range 41 {
		a, g := make([]float32, 40), make([]float32, 40)
		toFloat(a, x[:n])
		toFloatGo(g, x[:n])
		if !slices.Equal(a, g) {
			t.Fatalf("toFloat(%d samples) = %v, Go %v", n, a[:n], g[:n])
		}
		for m := 1; m <= 5 && n*m <= len(f); m++ {
			a, g := make([]float32, 5*41), make([]float32, 5*41)
			splitN(a, 41, f, n, m)
			splitNGo(g, 41, f, n, m)
			if !slices.Equal(a, g) {
				t.Fatalf("splitN of %d groups of %d differs from Go", n, m)
			}
		}
		ae, ao, ge, gOdd := make([]float32, 40), make([]float32, 40), make([]float32, 40), make([]float32, 40)
		split2(ae, ao, f, n)
		split2Go(ge, gOdd, f, n)
		if !slices.Equal(ae, ge) || !slices.Equal(ao, gOdd) {
			t.Fatalf("split2 of %d pairs differs from Go", n)
		}
	}
}

package resample

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// fuzzRates are the rates FuzzProcess picks from.
var fuzzRates = []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000}

// FuzzProcess resamples arbitrary samples between rates of fuzzRates at
// every quality, in one call and in pieces of random sizes (New must
// refuse with ErrRate the pairs whose reduced ratio exceeds MaxFactor, such
// as 32000→11025 = 441/1280): it must not panic, the output must have exactly OutputLen samples, the pieces must
// give the same output as the one call, and Flush must add exactly Delay()
// samples.
func FuzzProcess(f *testing.F) {
	f.Add(uint8(0), uint8(2), uint8(0), uint64(1), []byte{0, 0, 0xff, 0x7f, 0, 0x80, 1, 2, 3})
	f.Add(uint8(2), uint8(0), uint8(1), uint64(2), make([]byte, 700))
	f.Add(uint8(7), uint8(2), uint8(2), uint64(3), []byte("a stream of bytes read as little-endian 16-bit samples"))
	f.Add(uint8(6), uint8(0), uint8(0), uint64(4), []byte{0xff, 0x7f, 0xff, 0x7f, 0, 0x80, 0, 0x80})
	f.Fuzz(func(t *testing.T, ri, ro, qi uint8, seed uint64, data []byte) {
		in, out := fuzzRates[int(ri)%len(fuzzRates)], fuzzRates[int(ro)%len(fuzzRates)]
		q := Quality(int(qi) % 3)
		if len(data) > 8192 {
			data = data[:8192]
		}
		x := make([]int16, len(data)/2)
		for i := range x {
			x[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		r, err := New(in, out, q)
		if g := gcd(in, out); in/g > MaxFactor || out/g > MaxFactor {
			if !errors.Is(err, ErrRate) {
				t.Fatalf("New(%d, %d, %s) = %v, want ErrRate (ratio %d/%d)", in, out, q, err, out/g, in/g)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%d, %d, %s): %v", in, out, q, err)
		}
		whole := r.Process(nil, x)
		if want := OutputLen(in, out, len(x)); len(whole) != want {
			t.Fatalf("%s %d→%d: %d samples in, %d out, want %d", q, in, out, len(x), len(whole), want)
		}
		tail := r.Flush(nil)
		if len(tail) != r.Delay() {
			t.Fatalf("%s %d→%d: Flush gave %d samples, want Delay() = %d", q, in, out, len(tail), r.Delay())
		}
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		var parts []int16
		for rest := x; len(rest) > 0; {
			n := min(len(rest), rng.IntN(700))
			parts = r.Process(parts, rest[:n])
			rest = rest[n:]
		}
		if !slices.Equal(whole, parts) {
			t.Fatalf("%s %d→%d: output in pieces differs from the output in one call", q, in, out)
		}
		if tail2 := r.Flush(nil); !slices.Equal(tail, tail2) {
			t.Fatalf("%s %d→%d: Flush after pieces differs", q, in, out)
		}
	})
}

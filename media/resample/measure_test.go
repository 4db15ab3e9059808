package resample

import (
	"math"
	"slices"
)

// Measurement helpers shared by the tests: tones are generated analytically
// and analysed with exact-bin DFTs, so the reference is the mathematics of
// sampling, not another resampler.

// binHz is the frequency resolution of the analysis: every tone and every
// image or alias of it falls on a multiple of binHz, and an analysis window of
// outRate/binHz samples holds a whole number of periods of each.
const binHz = 5

// tone returns n samples of amp·sin(2πf(t−delay)) at rate, with t in samples.
func tone(n, rate int, f, amp, delay float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*(float64(i)-delay)/float64(rate))))
	}
	return s
}

// processRaw runs r's filter bank over in like Process but returns the
// outputs unrounded (in sample units), so that measurements see the filter
// rather than the 16-bit output's quantization.
func processRaw(r *Resampler, in []int16) []float64 {
	b := r.b
	buf := make([]float64, b.width-1, b.width-1+len(in)+pad)
	for _, v := range in {
		buf = append(buf, float64(v))
	}
	buf = append(buf, make([]float64, pad)...)
	var out []float64
	pos, ph := 0, int32(0)
	for pos+b.width <= len(buf)-pad {
		p := b.tab[ph]
		var acc float64
		for i := range int(p.n) {
			acc += buf[pos+int(p.off)+i] * float64(b.coefs[int(p.start)+i])
		}
		out = append(out, acc)
		pos += int(p.adv)
		ph = p.next
	}
	return out
}

// coprimeTone returns the multiple of binHz nearest above f whose DFT bin
// index shares no factor with the rates' numbers of bins, so that the
// quantization error of a 16-bit tone is spread over many bins instead of
// piling up on its harmonics.
func coprimeTone(f float64, in, out int) float64 {
	k := int(math.Round(f / binHz))
	for gcd(k, in/binHz) != 1 || gcd(k, out/binHz) != 1 {
		k++
	}
	return float64(k * binHz)
}

// binAmp returns the amplitude of the component at bin k of the DFT of x
// (len(x) samples).
func binAmp[T int16 | float64](x []T, k int) float64 {
	n := len(x)
	// rotate a phasor instead of calling Sincos per sample; renormalise
	// every 1024 steps to keep the rounding error far below what we measure.
	ws, wc := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
	pr, pi := 1.0, 0.0
	var re, im float64
	for i, v := range x {
		re += float64(v) * pr
		im += float64(v) * pi
		pr, pi = pr*wc-pi*ws, pr*ws+pi*wc
		if i&1023 == 1023 {
			s, c := math.Sincos(-2 * math.Pi * float64((k*(i+1))%n) / float64(n))
			pr, pi = c, s
		}
	}
	a := 2 * math.Hypot(re, im) / float64(n)
	if k == 0 || 2*k == n {
		a /= 2
	}
	return a
}

// fold maps a frequency to [0, rate/2] as sampling at rate does.
func fold(g float64, rate int) float64 {
	r := float64(rate)
	g = math.Mod(math.Mod(g, r)+r, r)
	if g > r/2 {
		g = r - g
	}
	return g
}

// spurs returns the output frequencies at which a resampler from in to out
// Hz (reduced ratio l/m) can put energy for an input tone at f, other than f
// itself: the images ±f + k·in of the upsampled stream, folded by the output
// rate (for f above the output's Nyquist frequency, f itself aliases). ok is false when one of them falls on f itself (the tone and its
// image cannot then be told apart).
func spurs(f float64, in, out, l int) (freqs []float64, ok bool) {
	for k := -l; k <= l; k++ {
		for _, g := range []float64{f + float64(k*in), -f + float64(k*in)} {
			if math.Abs(g) >= float64(l*in)/2 {
				continue
			}
			if k == 0 && f < float64(out)/2 {
				continue // the tone itself
			}
			a := fold(g, out)
			if a == f && f < float64(out)/2 {
				return nil, false
			}
			if !slices.Contains(freqs, a) {
				freqs = append(freqs, a)
			}
		}
	}
	return freqs, true
}

// response is what one tone through a resampler measures.
type response struct {
	gainDB  float64 // level of the tone itself at the output, dB re input (−Inf above output Nyquist)
	spurDB  float64 // total level of its images and aliases, dB re input
	hasGain bool
}

// measureTone sends a tone of frequency f (a multiple of binHz) through a new
// resampler and measures the output.
func measureTone(in, out int, q Quality, f float64) (response, bool) {
	r, err := New(in, out, q)
	if err != nil {
		panic(err)
	}
	nOut := out / binHz
	skip := r.Delay() + 2*r.b.width*out/in + 8
	const amp = 16384.0
	nIn := (skip+nOut)*in/out + r.b.width + 16
	x := tone(nIn, in, f, amp, 0)
	y := processRaw(r, x)[skip : skip+nOut]
	fr, ok := spurs(f, in, out, r.b.l)
	if !ok {
		return response{}, false
	}
	var res response
	if f < float64(out)/2 {
		res.hasGain = true
		res.gainDB = 20 * math.Log10(binAmp(y, int(f)/binHz)/amp)
	}
	var p float64
	for _, g := range fr {
		a := binAmp(y, int(math.Round(g))/binHz)
		p += a * a
	}
	res.spurDB = 10 * math.Log10(p/(amp*amp)+1e-30)
	return res, true
}

func cosPi(x float64) float64 { return math.Cos(math.Pi * x) }

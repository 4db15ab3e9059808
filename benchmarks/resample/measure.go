package resample

import (
	"math"
	"math/cmplx"
	"slices"
)

// BinHz is the frequency grid of the quality measurements: every tone, and
// every image or alias of one, lies on a multiple of BinHz.
const BinHz = 5

// Tones returns n samples at rate Hz of Σ amp·sin(2π f (t − delay)) over freqs.
func Tones(n, rate int, freqs []float64, amp, delay float64) []float64 {
	s := make([]float64, n)
	for _, f := range freqs {
		w := 2 * math.Pi * f / float64(rate)
		for i := range s {
			s[i] += amp * math.Sin(w*(float64(i)-delay))
		}
	}
	return s
}

// Quantize rounds to 16-bit samples.
func Quantize(x []float64) []int16 {
	s := make([]int16, len(x))
	for i, v := range x {
		s[i] = int16(math.Round(min(max(v, -32768), 32767)))
	}
	return s
}

// Bin returns the complex DFT coefficient of x at frequency f (Hz, at rate),
// scaled so that a sine of amplitude a has magnitude a.
func Bin(x []int16, rate int, f float64) complex128 {
	ws, wc := math.Sincos(-2 * math.Pi * f / float64(rate))
	pr, pi := 1.0, 0.0
	var re, im float64
	for i, v := range x {
		re += float64(v) * pr
		im += float64(v) * pi
		pr, pi = pr*wc-pi*ws, pr*ws+pi*wc
		if i&1023 == 1023 {
			s, c := math.Sincos(-2 * math.Pi * f * float64(i+1) / float64(rate))
			pr, pi = c, s
		}
	}
	return complex(2*re, 2*im) / complex(float64(len(x)), 0)
}

// Coprime returns the multiple of BinHz at or above f whose bin index
// shares no factor with the rates' bin counts, so that quantization error is
// spread over the spectrum instead of piling on the tone's harmonics.
func Coprime(f float64, rates ...int) float64 {
	k := int(math.Round(f / BinHz))
	for {
		ok := true
		for _, r := range rates {
			if gcd(k, r/BinHz) != 1 {
				ok = false
			}
		}
		if ok {
			return float64(k * BinHz)
		}
		k++
	}
}

// CoprimeDown is Coprime searching downwards from f.
func CoprimeDown(f float64, rates ...int) float64 {
	k := int(math.Floor(f / BinHz))
	for ; k > 1; k-- {
		ok := true
		for _, r := range rates {
			if gcd(k, r/BinHz) != 1 {
				ok = false
			}
		}
		if ok {
			break
		}
	}
	return float64(k * BinHz)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
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

// Spurs returns the output frequencies where a converter from in to out Hz
// can put images or aliases of an input tone at f: ±f + k·in folded at out,
// other than the tone itself. ok is false when one lands on f.
func Spurs(f float64, in, out int) (freqs []float64, ok bool) {
	hi := in * out / gcd(in, out)
	for k := -hi / in; k <= hi/in; k++ {
		for _, g := range []float64{f + float64(k*in), -f + float64(k*in)} {
			if math.Abs(g) >= float64(hi)/2 {
				continue
			}
			if k == 0 && f < float64(out)/2 {
				continue
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

// Rejection measures, in dB, how far below an input tone of amplitude 30000
// its images (upsampling) or aliases (downsampling) stay at the output of
// engines made by mk, worst case over steps tones whose images or aliases
// all lie at or beyond edge times the lower Nyquist frequency. The tones are
// the same for every engine: upsampling from in Hz, the tones run from
// in − edge·nyq (whose first image is at edge·nyq exactly) down to 0.02·in/2;
// downsampling, from edge·nyq up to 0.98·in/2; the grid is denser near the
// edge, where rejection is worst. The spurs are read with exact-bin DFTs of
// one second of output, so 16-bit rounding of input and output puts a floor
// of roughly 130 dB under what can be measured.
func Rejection(mk func() Engine, in, out int, edge float64, steps int) float64 {
	nyq := float64(min(in, out)) / 2
	worst := math.Inf(-1)
	const amp = 30000.0
	n := out
	skip := out / 10
	for i := range steps {
		u := float64(i) / float64(steps-1)
		u *= u // denser near the edge
		var f float64
		if out > in {
			hi := float64(in) - edge*nyq
			f = CoprimeDown(hi-u*(hi-0.01*float64(in)), in, out)
		} else {
			lo := edge * nyq
			f = Coprime(lo+u*(0.49*float64(in)-lo), in, out)
		}
		if f <= 0 || f >= float64(in)/2 {
			continue
		}
		fr, ok := Spurs(f, in, out)
		if !ok || len(fr) == 0 {
			continue
		}
		e := mk()
		x := Quantize(Tones(skip+n*in/out+in/5, in, []float64{f}, amp, 0))
		y := e.Process(nil, x)
		e.Close()
		if len(y) < skip+n {
			continue
		}
		y = y[skip : skip+n]
		var p float64
		for _, g := range fr {
			c := Bin(y, out, g)
			p += real(c)*real(c) + imag(c)*imag(c)
		}
		worst = max(worst, 10*math.Log10(p/(amp*amp)+1e-20))
	}
	return -worst
}

// Gain returns the level in dB of a tone of frequency ≈ f Hz (the nearest
// grid tone below) after the engines made by mk: the passband droop at f.
func Gain(mk func() Engine, in, out int, f float64) float64 {
	f = CoprimeDown(f, in, out)
	const amp = 16000.0
	n := out / BinHz
	skip := out / 10
	e := mk()
	defer e.Close()
	y := e.Process(nil, Quantize(Tones(skip+n*in/out+in/5, in, []float64{f}, amp, 0)))
	if len(y) < skip+n {
		return math.Inf(-1)
	}
	return 20 * math.Log10(cmplx.Abs(Bin(y[skip:skip+n], out, f))/amp)
}

// SNR sends one second of five passband tones (5 Hz, then 0.1 … 0.6 of the
// lower Nyquist frequency, inside every engine's passband) through a new engine
// in 20 ms frames and compares the
// output with the same tones generated analytically at the output rate. The
// engine's delay is measured from the phase of the lowest tone, whose period
// exceeds any delay, and refined with the phases of the higher ones; it is
// returned in output samples.
func SNR(e Engine, in, out int) (snr, delay float64) {
	nyq := float64(min(in, out)) / 2
	var freqs []float64
	freqs = append(freqs, BinHz) // period 0.2 s: longer than any delay
	for _, r := range []float64{0.1, 0.25, 0.45, 0.6} {
		freqs = append(freqs, Coprime(r*nyq, in, out))
	}
	const amp = 6000.0
	x := Quantize(Tones(in, in, freqs, amp, 0))
	fin := in / 50
	var y []int16
	for off := 0; off+fin <= len(x); off += fin {
		y = e.Process(y, x[off:off+fin])
	}
	skip, n := out/5, 3*out/5
	if len(y) < skip+n {
		return math.Inf(-1), 0
	}
	seg := y[skip : skip+n]
	// seg[i] ≈ Σ amp·sin(2πf(i+skip−delay)/out): the phase of each tone
	// gives the delay modulo its period. The lowest tone, whose period
	// exceeds any delay, gives it coarsely; each higher tone then refines
	// it (the candidate nearest the estimate so far), so that the noise on
	// one phase does not leave a misalignment that the SNR would count as
	// error.
	for i, f := range freqs {
		c := Bin(seg, out, f)
		ph := math.Atan2(imag(c), real(c)) + math.Pi/2 // phase of the sine
		period := float64(out) / f
		d := math.Mod(float64(skip)-ph/(2*math.Pi)*period, period)
		if d < 0 {
			d += period
		}
		if i == 0 {
			delay = d
			continue
		}
		delay = d + period*math.Round((delay-d)/period)
	}
	if p0 := float64(out) / freqs[0]; delay > p0/2 {
		delay -= p0 // an engine that trims its own delay comes out a hair early
	}
	ref := Tones(skip+n, out, freqs, amp, delay)[skip:]
	var sig, noise float64
	for i, v := range seg {
		d := float64(v) - ref[i]
		sig += ref[i] * ref[i]
		noise += d * d
	}
	return 10 * math.Log10(sig/noise), delay
}

package resample

import (
	"math"
	"slices"
)

// params are the filter specification of one quality.
type params struct {
	passband float64 // passband edge, fraction of the lower Nyquist frequency
	stopband float64 // stopband edge, fraction of the lower Nyquist frequency
	atten    float64 // Kaiser design stopband attenuation, dB
}

// qualityParams maps each Quality to its filter specification when the
// output rate is below the input rate (decimating).
var qualityParams = [...]params{
	Low:    {passband: 0.85, stopband: 1.15, atten: 60},
	Medium: {passband: 0.90, stopband: 1.10, atten: 130},
	High:   {passband: 0.94, stopband: 1.00, atten: 105},
}

// upParams are the specifications when the output rate is above the input
// rate (interpolating). Medium's transition band is centred on Nyquist, so
// that the 2× interpolator is a half-band filter (every other tap zero, one
// branch a pure delay).
var upParams = [...]params{
	Low:    {passband: 0.85, stopband: 1.15, atten: 60},
	Medium: {passband: 0.90, stopband: 1.10, atten: 112},
	High:   {passband: 0.94, stopband: 1.00, atten: 105},
}

// spec returns the filter specification of q from in to out Hz.
func spec(q Quality, in, out int) params {
	if out > in {
		return upParams[q]
	}
	return qualityParams[q]
}

// kaiserBeta returns the Kaiser window β for a stopband attenuation of a dB
// (Kaiser's empirical formula).
func kaiserBeta(a float64) float64 {
	switch {
	case a > 50:
		return 0.1102 * (a - 8.7)
	case a >= 21:
		return 0.5842*math.Pow(a-21, 0.4) + 0.07886*(a-21)
	}
	return 0
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	h := x / 2
	for k := 1; k < 200; k++ {
		term *= (h / float64(k)) * (h / float64(k))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// bank is the polyphase filter bank of one rate pair and quality.
type bank struct {
	l, m  int       // interpolation and decimation factors
	delay int       // group delay in output samples
	width int       // window of input samples one output needs
	coefs []float32 // all phases, trimmed and padded, back to back (time order)
	tab   []phase   // one entry per phase
	// For the block kernel of a ratio with m > 1 and l ≤ maxBlockL, the
	// filter split by input residue modulo m. Output t of a cycle of l
	// outputs uses branch (t·m) mod l with its window starting d[t] =
	// ⌊t·m/l⌋ samples after the cycle's; segs[t·m+k] holds the
	// coefficients that weigh samples ≡ k (mod m) of the cycle, trimmed of
	// zeros, with off counted in samples of that residue from the cycle's
	// start.
	segs   []seg
	dcoefs []float32
	d      []int32 // ⌊t·m/l⌋ for t < l
	tOf    []int32 // t of each branch
}

// maxBlockL bounds l for the residue block kernel: a cycle of l outputs
// must fit many times in a 20 ms frame for blocks of 16 cycles to fill.
const maxBlockL = 8

// seg is one residue of a branch's filter: dcoefs[start:start+n] weigh
// the residue's samples off, off+1, … counted from the cycle's start. Its layout (four int32)
// is known to the assembly kernel.
type seg struct {
	start, n, off int32
	_             int32
}

// phase describes one polyphase branch. Its layout (eight int32) is known to
// the assembly kernel.
type phase struct {
	start int32 // index of the branch's first coefficient in coefs
	n     int32 // number of coefficients: 1, or a multiple of 8 (zero padded)
	off   int32 // offset in the input window of the first coefficient
	next  int32 // phase of the next output
	adv   int32 // input samples to advance for the next output
	nx    int32 // number of coefficients without the zero padding
	_     [2]int32
}

// design builds the polyphase bank for interpolation by l and decimation by m
// (inRate·l/m = outRate) with the specification p.
func design(l, m, inRate, outRate int, p params) *bank {
	nyq := float64(min(inRate, outRate)) / 2
	hi := float64(inRate) * float64(l) // prototype rate
	fp, fs := p.passband*nyq, p.stopband*nyq
	fc := (fp + fs) / 2 / hi // cutoff, cycles per prototype sample
	df := (fs - fp) / hi
	need := int(math.Ceil((p.atten-7.95)/(14.36*df))) + 1
	// Centre at a multiple of m so the delay is a whole number of outputs.
	half := (need - 1 + 1) / 2
	d := (half + m - 1) / m
	c := d * m
	ntot := 2*c + 1
	beta := kaiserBeta(p.atten)
	i0b := besselI0(beta)
	k := (ntot + l - 1) / l // taps per phase
	proto := make([]float64, k*l)
	for i := range ntot {
		t := float64(i - c)
		x := 2 * fc * t
		s := 2 * fc
		if i != c {
			s = math.Sin(math.Pi*x) / (math.Pi * t)
		}
		r := t / float64(c)
		w := besselI0(beta*math.Sqrt(max(0, 1-r*r))) / i0b
		proto[i] = s * w * float64(l)
	}
	b := &bank{l: l, m: m, delay: d, width: k}
	b.tab = make([]phase, l)
	q := make([]float64, k)
	var branches [][]float64 // untrimmed, for splitResidues
	for ph := range l {
		// y = Σ_j h[ph + j·l]·x[q−j]; in time order over the window
		// x[q−k+1 … q] the coefficient at window index w is h[ph+(k−1−w)·l].
		var sum float64
		for w := range k {
			sum += proto[ph+(k-1-w)*l]
		}
		scale := 1.0
		if sum != 0 {
			scale = 1 / sum // exact unity gain at DC for every phase
		}
		for w := range k {
			q[w] = proto[ph+(k-1-w)*l] * scale
		}
		// trim coefficients too small to matter in float32 (the exact
		// zeros of a half-band branch)
		lo, hiw := 0, k
		for lo < hiw && math.Abs(q[lo]) < 1e-9 {
			lo++
		}
		for hiw > lo && math.Abs(q[hiw-1]) < 1e-9 {
			hiw--
		}
		n := (hiw - lo + 7) &^ 7
		if hiw-lo == 1 {
			n = 1 // a pure delay: the centre branch of a half-band filter
		}
		b.tab[ph] = phase{
			start: int32(len(b.coefs)),
			n:     int32(n),
			off:   int32(lo),
			next:  int32((ph + m) % l),
			adv:   int32((ph + m) / l),
			nx:    int32(min(n, hiw-lo)),
		}
		branches = append(branches, slices.Clone(q))
		for w := lo; w < lo+n; w++ {
			v := 0.0
			if w < hiw {
				v = q[w]
			}
			b.coefs = append(b.coefs, float32(v))
		}
	}
	if m > 1 && l <= maxBlockL && k >= m {
		b.splitResidues(branches)
	}
	return b
}

// splitResidues fills segs, dcoefs, d and tOf from the untrimmed window
// coefficients of every branch.
func (b *bank) splitResidues(branches [][]float64) {
	l, m := b.l, b.m
	b.tOf = make([]int32, l)
	for t := range l {
		d := t * m / l
		b.d = append(b.d, int32(d))
		ph := t * m % l
		b.tOf[ph] = int32(t)
		q := branches[ph]
		for k := range m {
			// window index w weighs cycle sample d+w, residue (d+w) mod m
			w0 := ((k-d)%m + m) % m
			var h []float64
			for w := w0; w < len(q); w += m {
				h = append(h, q[w])
			}
			lo, hi := 0, len(h)
			for lo < hi && math.Abs(h[lo]) < 1e-9 {
				lo++
			}
			for hi > lo && math.Abs(h[hi-1]) < 1e-9 {
				hi--
			}
			b.segs = append(b.segs, seg{start: int32(len(b.dcoefs)), n: int32(hi - lo), off: int32((d+w0)/m + lo)})
			for _, v := range h[lo:hi] {
				b.dcoefs = append(b.dcoefs, float32(v))
			}
		}
	}
	b.dcoefs = append(b.dcoefs, 0) // never empty
}

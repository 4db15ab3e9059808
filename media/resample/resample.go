// Package resample converts mono 16-bit PCM between sample rates with a
// polyphase windowed-sinc filter.
//
// A [Resampler] converts inRate to outRate = inRate·L/M, with L/M the ratio
// reduced to lowest terms. The prototype low-pass filter is a Kaiser-windowed
// sinc designed at inRate·L; it is split into L polyphase branches of integer
// (Q30) coefficients, precomputed once per rate pair and quality and shared by
// all resamplers. Each output sample is one dot product of a branch with the
// input history (64-bit accumulation), so there is no per-sample phase
// arithmetic: the next branch and the input advance come from a table.
// Integer ratios (8→16, 16→8, 8→48 kHz …) use the same tables with L=1 or
// M=1; branches whose coefficients are zero (the centre branch of a half-band
// interpolator) are trimmed.
//
// The filter is centred on a whole number of output samples: the output lags
// the input by exactly [Resampler.Delay] output samples. Because the phase is
// carried across calls, every 20 ms of input at 8, 16, 24 or 48 kHz yields
// exactly 20 ms of output.
//
// # Qualities
//
// Edges are fractions of the lower of the two Nyquist frequencies. Energy
// above the stopband edge is suppressed before it can alias (downsampling) or
// is removed from the images (upsampling); with Low and Medium the transition
// band straddles Nyquist, so aliases land only in the transition band, never
// in the passband. Medium's transition band is centred on Nyquist, so its 2×
// interpolator and 2× decimator are half-band filters (every other tap
// zero); it is designed for more attenuation when decimating, where aliases
// fold into the band that is kept.
//
//	quality  passband  stopband  design attenuation
//	Low      0.85      1.15      60 dB
//	Medium   0.90      1.10      112 dB up, 130 dB down
//	High     0.94      1.00      105 dB
//
// # Measured figures
//
// TestFrequencyResponse sweeps tones over the input band of every pair of 8,
// 16, 24 and 48 kHz and reads the output with exact-bin DFTs (before the
// final rounding to 16 bits); TestRoundTripSNR sends a tone at 0.3 of the
// lower Nyquist frequency a→b→a and compares it with the analytic tone
// delayed by both Delay()s. Worst cases over all pairs, and the bounds the
// tests assert:
//
//	quality  ripple (p-p)        stopband attenuation   round-trip SNR
//	Low      ≤ 0.013 dB (0.02)   ≥ 62.7 dB (58)         ≥ 75 dB (70)
//	Medium   ≤ 0.0001 dB (0.001) ≥ 113.6 dB (110)       ≥ 88 dB (80)
//	High     ≤ 0.0001 dB (0.001) ≥ 105.2 dB (100)       ≥ 85 dB (83)
//
// The round-trip SNR is bounded by the two 16-bit roundings, not the filters.
// benchmarks/resample measures parole, libspeexdsp and libsoxr with the same
// tones: beyond 1.1× the lower Nyquist frequency Medium rejects images and
// aliases more than speexdsp quality 5 on every pair compared, with a flat
// passband where speexdsp q5 droops 0.4–1.8 dB at 0.9×Nyquist; between 1.0
// and 1.1× (Medium's transition band) speexdsp q5 rejects more.
//
// # Speed
//
// Coefficients and history are float32. On amd64 the output loop runs in
// assembly: with AVX2 and FMA (checked at start-up with golang.org/x/sys/cpu)
// 256-bit fused multiply-adds, otherwise SSE (the amd64 baseline); elsewhere,
// or with the purego build tag, in Go. With AVX2, integer interpolators
// (8→16, 8→48, 16→48 kHz …), integer decimators (16→8, 48→16 …) and
// rational ratios with up to 8 branches (24→16, 16→24, 48→32 …) use block
// kernels: 16 consecutive outputs of one branch at once, one vector lane
// each, broadcasting each coefficient instead of reducing one dot product
// per output. When m > 1 the input is also kept split by residue modulo m,
// so that the windows of consecutive outputs of a branch are consecutive in
// each residue, and the zero taps of a half-band decimator are skipped; the
// one-tap branch of a half-band interpolator costs one multiply. Every lane
// does the same arithmetic whatever its place in a block, so the output
// does not depend on how the stream is cut into calls. Other ratios
// (44.1→16 kHz …) use one dot product per output.
//
// Measured by benchmarks/resample (TestCompare, best of 7 interleaved
// rounds on a shared 2-core AMD EPYC; TestInstructions under valgrind), per
// 20 ms frame, Medium against libsoxr MQ and speexdsp q5:
//
//	pair    parole Medium        soxr MQ              speexdsp q5
//	8→16    618 ns,  7.5k instr  1106 ns, 18.6k instr 3832 ns, 56.6k instr
//	16→8    667 ns,  7.8k instr   949 ns, 16.3k instr 4111 ns, 50.2k instr
//	48→16   2656 ns, 28.4k instr 3298 ns, 53.8k instr 13064 ns, 143k instr
//	24→16   1413 ns, 17.4k instr 2644 ns, 47.0k instr 5731 ns, 79.2k instr
//
// High is slower than soxr HQ (1.5–2.4× the time, though about as many
// instructions): soxr filters in stages, with FFT convolution for the long
// ones, parole with one direct polyphase filter. For Medium
// 8→16 kHz the path went from an int32 (Q30) pure-Go kernel, 14 µs (90 dB
// filter), to float32 SSE, 3.3 µs, to today's AVX2 block kernels.
package resample

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/parole-voice/parole/media"
)

// Quality selects the filter of a Resampler: longer filters give a flatter
// passband, a sharper transition and more stopband attenuation for more CPU.
type Quality int

const (
	// Medium is the default quality: passband to 0.90 of the lower Nyquist
	// frequency, stopband attenuation from 1.10 of it of 112 dB when
	// interpolating and 130 dB when decimating.
	Medium Quality = iota
	// Low is the cheapest quality, enough for narrowband telephony: passband
	// to 0.85 of the lower Nyquist frequency, 60 dB attenuation from 1.15.
	Low
	// High keeps the passband to 0.94 of the lower Nyquist frequency and
	// attenuates by 105 dB everything above Nyquist: nothing aliases.
	High
)

// Aliases of the qualities.
const (
	// Default is Medium.
	Default = Medium
	// Telephone is Low.
	Telephone = Low
)

// String returns the quality's name.
func (q Quality) String() string {
	switch q {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("Quality(%d)", int(q))
}

// Limits of the rates New accepts.
const (
	// MinRate and MaxRate bound the input and output rates, in Hz.
	MinRate = 1000
	MaxRate = 384000
	// MaxFactor bounds L and M of the reduced ratio outRate/inRate = L/M.
	MaxFactor = 1024
)

// Errors returned by New and ProcessFrame.
var (
	// ErrRate reports an unsupported or invalid sample rate or ratio.
	ErrRate = errors.New("resample: unsupported sample rate")
	// ErrQuality reports an unknown Quality.
	ErrQuality = errors.New("resample: unknown quality")
	// ErrFrameRate reports a frame whose rate is not the resampler's input rate.
	ErrFrameRate = errors.New("resample: frame rate does not match resampler")
)

// chunk is how many input samples one pass of Process buffers.
const chunk = 1024

// pad is the slack after the buffer that the zero-padded coefficients of a
// branch, or the last lanes of a block of windows, may read.
const pad = 16

// Resampler converts a stream of samples from one rate to another. It keeps
// the filter history and phase between calls. A Resampler is not safe for
// concurrent use; create one per stream (they share the filter tables).
type Resampler struct {
	in, out int
	q       Quality
	b       *bank
	buf     []float32 // history (width−1 samples) followed by new input
	fill    int       // samples in buf
	pos     int       // start of the next output's window in buf
	phase   int32     // branch of the next output
	// poly is buf split into its m residues for the block decimator:
	// poly[r·pstride + i] = buf[i·m + r] for i·m + r < pfill.
	poly    []float32
	pstride int
	pfill   int
}

type bankKey struct {
	in, out int
	q       Quality
}

var banks sync.Map // bankKey → *bank

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// New returns a Resampler from inRate to outRate Hz with quality q. Rates
// must lie in [MinRate, MaxRate] and the reduced ratio outRate/inRate = L/M
// must have L, M ≤ MaxFactor; otherwise the error wraps ErrRate. Equal rates
// are allowed (the filter still band-limits to the passband).
func New(inRate, outRate int, q Quality) (*Resampler, error) {
	if inRate < MinRate || inRate > MaxRate || outRate < MinRate || outRate > MaxRate {
		return nil, fmt.Errorf("%w: %d Hz → %d Hz (rates must be %d…%d Hz)", ErrRate, inRate, outRate, MinRate, MaxRate)
	}
	if q < Medium || q > High {
		return nil, fmt.Errorf("%w: %d", ErrQuality, int(q))
	}
	g := gcd(inRate, outRate)
	l, m := outRate/g, inRate/g
	if l > MaxFactor || m > MaxFactor {
		return nil, fmt.Errorf("%w: %d Hz → %d Hz reduces to %d/%d (factors must be ≤ %d)", ErrRate, inRate, outRate, l, m, MaxFactor)
	}
	key := bankKey{inRate, outRate, q}
	bi, ok := banks.Load(key)
	if !ok {
		bi, _ = banks.LoadOrStore(key, design(l, m, inRate, outRate, spec(q, inRate, outRate)))
	}
	b := bi.(*bank)
	n := b.width - 1 + chunk + pad
	if b.segs != nil {
		n += 2 * b.m // the history kept from a whole cycle and residue group
	}
	r := &Resampler{in: inRate, out: outRate, q: q, b: b, buf: make([]float32, n)}
	if b.segs != nil {
		r.pstride = (len(r.buf)+b.m-1)/b.m + 16 + pad
		r.poly = make([]float32, b.m*r.pstride)
	}
	r.Reset()
	return r, nil
}

// InRate returns the input sample rate in Hz.
func (r *Resampler) InRate() int { return r.in }

// OutRate returns the output sample rate in Hz.
func (r *Resampler) OutRate() int { return r.out }

// Quality returns the resampler's quality.
func (r *Resampler) Quality() Quality { return r.q }

// Delay returns the group delay of the filter in output samples: output
// sample n corresponds to input time (n − Delay())/OutRate(). It is exact
// (the filter is centred on a whole output sample). Drop the first Delay()
// output samples and call Flush at the end to get output aligned with the
// input.
func (r *Resampler) Delay() int { return r.b.delay }

// Reset clears the history and phase, as if the resampler were new.
func (r *Resampler) Reset() {
	clear(r.buf)
	r.fill = r.b.width - 1
	r.pos = 0
	r.phase = 0
	r.pfill = 0
}

// OutputLen returns the number of samples Process emits, at most, for n
// input samples from inRate to outRate: ceil(n·outRate/inRate). For a
// stream started at Reset, the total output after a total input of N samples
// is exactly OutputLen(inRate, outRate, N).
func OutputLen(inRate, outRate, n int) int {
	if inRate <= 0 || outRate <= 0 || n <= 0 {
		return 0
	}
	return int((int64(n)*int64(outRate) + int64(inRate) - 1) / int64(inRate))
}

// Process resamples in and appends the result to out, which it returns. The
// resampler keeps its state, so a stream may be cut into calls anywhere.
// Process allocates nothing when out has room for OutputLen(InRate(),
// OutRate(), len(in)) more samples.
func (r *Resampler) Process(out, in []int16) []int16 {
	for len(in) > 0 {
		dst := r.buf[r.fill : len(r.buf)-pad]
		n := min(len(dst), len(in))
		toFloat(dst, in[:n])
		in = in[n:]
		r.fill += n
		out = r.run(out, -1)
	}
	return out
}

// Flush appends the tail of the stream: Delay() samples computed as if the
// input were followed by silence. The total output of a stream of N input
// samples is then OutputLen(InRate(), OutRate(), N)+Delay(). Flush resets
// the resampler for a new stream.
func (r *Resampler) Flush(out []int16) []int16 {
	want := r.b.delay
	for want > 0 {
		n := min(len(r.buf)-pad-r.fill, chunk)
		clear(r.buf[r.fill : r.fill+n])
		r.fill += n
		before := len(out)
		out = r.run(out, want)
		want -= len(out) - before
	}
	r.Reset()
	return out
}

// ProcessFrame resamples the frame src into dst: dst gets the output
// samples, OutRate() as rate and src's time. With a steady stream of 20 ms
// frames, dst holds exactly 20 ms once per call. dst's storage is reused when
// large enough, so steady-state use allocates nothing. src's rate must be
// InRate(), otherwise the error wraps ErrFrameRate.
func (r *Resampler) ProcessFrame(dst, src *media.Frame) error {
	if src.Rate != r.in {
		return fmt.Errorf("%w: frame at %d Hz, resampler from %d Hz", ErrFrameRate, src.Rate, r.in)
	}
	dst.Samples = r.Process(dst.Samples[:0], src.Samples)
	dst.Rate = r.out
	dst.Time = src.Time
	return nil
}

// run emits outputs while the buffer holds their whole window (at most limit
// when limit ≥ 0), then keeps the history at the head of the buffer.
func (r *Resampler) run(out []int16, limit int) []int16 {
	b := r.b
	for {
		room := cap(out) - len(out)
		if limit >= 0 {
			room = min(room, limit)
		}
		var n, pos int
		var ph int32
		switch {
		case b.m == 1 && blockUp():
			n, pos, ph = r.interpolate(out[len(out) : len(out)+room])
		case b.segs != nil && blockUp():
			n, pos, ph = r.residues(out[len(out) : len(out)+room])
		default:
			n, pos, ph = kernel(out[len(out):len(out)+room], r.buf, r.pos, r.fill, b.width, r.phase, b.tab, b.coefs)
		}
		out = out[:len(out)+n]
		r.pos, r.phase = pos, ph
		if limit >= 0 {
			limit -= n
			if limit == 0 {
				break
			}
		}
		if n < room || r.pos+b.width > r.fill {
			break // window exhausted
		}
		out = slices.Grow(out, max(64, (r.fill-r.pos)*b.l/b.m+2))
	}
	shift := min(r.pos, r.fill)
	if r.poly != nil {
		// keep whole cycles, in whole residues
		shift = min(r.pos-int(b.d[b.tOf[r.phase]]), r.fill) / b.m * b.m
	}
	copy(r.buf, r.buf[shift:r.fill])
	r.fill -= shift
	r.pos -= shift
	if r.poly != nil {
		if m := b.m; shift%m == 0 && r.pfill >= shift {
			for k := range m {
				p := r.poly[k*r.pstride : (k+1)*r.pstride]
				copy(p, p[shift/m:(r.pfill+m-1)/m])
			}
			r.pfill -= shift
		} else {
			r.pfill = 0 // split again from buf
		}
	}
	return out
}

// residues is the kernel of a ratio with m > 1 and l ≤ maxBlockL with the
// block kernel. Outputs come in cycles of l; output t of cycle c reads
// the window at cyc + c·m + d[t], cyc being the start of the first cycle,
// so in each residue of the input modulo m the windows of output t of
// consecutive cycles are consecutive, and one call computes output t of 16
// cycles, one vector lane each. A lane computes the same arithmetic
// whatever its position in a block, so the output does not depend on how
// the stream is cut into calls. It returns what kernel returns.
func (r *Resampler) residues(dst []int16) (int, int, int32) {
	b := r.b
	l, m := b.l, b.m
	t0 := int(b.tOf[r.phase])
	cyc := r.pos - int(b.d[t0])
	last := r.fill - b.width - cyc // latest window start, from cyc
	if len(dst) == 0 || last < int(b.d[t0]) {
		return 0, r.pos, r.phase
	}
	r.split()
	// outputs g = c·l + t with c·m + d[t] ≤ last, from g = t0
	c := last / m
	avail := c * l
	for t := range l {
		if c*m+int(b.d[t]) <= last {
			avail++
		}
	}
	tot := min(len(dst), avail-t0)
	end := t0 + tot
	base := cyc / m
	cb := 0
	if full := end / (16 * l); t0 == 0 && full > 0 {
		for t := range l {
			polyBlock(dst[t:], l, 16, full, r.poly[base:], r.pstride, b.segs[t*m:(t+1)*m], b.dcoefs)
		}
		cb = 16 * full
	}
	for ; cb*l < end; cb += 16 {
		for t := range l {
			// lanes i with t0 ≤ (cb+i)·l+t < end
			lo := max(0, (t0-t+l-1)/l-cb)
			hi := min(16, (end-t+l-1)/l-cb)
			if lo < hi {
				polyBlock(dst[(cb+lo)*l+t-t0:], l, hi-lo, 1, r.poly[base+cb+lo:], r.pstride, b.segs[t*m:(t+1)*m], b.dcoefs)
			}
		}
	}
	c, t := end/l, end%l
	return tot, cyc + c*m + int(b.d[t]), int32(t * m % l)
}

// interpolate is the kernel of an integer interpolator (m = 1) with the
// block kernel: output g (counted from branch 0 of the window at pos) is
// branch g mod l of the window at pos + g/l, so each branch reads 16
// consecutive windows at a time. A lane computes the same arithmetic
// whatever its position in a block, so the output does not depend on how
// the stream is cut into calls. It returns what kernel returns.
func (r *Resampler) interpolate(dst []int16) (int, int, int32) {
	b := r.b
	l := b.l
	windows := r.fill - b.width + 1 - r.pos
	if windows <= 0 || len(dst) == 0 {
		return 0, r.pos, r.phase
	}
	g0 := int(r.phase)
	tot := min(len(dst), windows*l-g0)
	end := g0 + tot
	jb := 0
	if full := end / (16 * l); g0 == 0 && full > 0 {
		// whole blocks: every lane of every branch
		for ph := range l {
			p := &b.tab[ph]
			if p.nx == 0 {
				for i := range 16 * full {
					dst[i*l+ph] = 0
				}
				continue
			}
			upBlock(dst[ph:], l, r.buf[r.pos+int(p.off):], b.coefs[p.start:p.start+p.n], int(p.nx), 16, full)
		}
		jb = 16 * full
	}
	for ; jb*l < end; jb += 16 {
		for ph := range l {
			p := &b.tab[ph]
			// lanes i with g0 ≤ (jb+i)·l+ph < end
			lo := max(0, (g0-ph+l-1)/l-jb)
			hi := min(16, (end-ph+l-1)/l-jb)
			if lo >= hi {
				continue
			}
			if p.nx == 0 { // an all-zero branch
				for i := lo; i < hi; i++ {
					dst[(jb+i)*l+ph-g0] = 0
				}
				continue
			}
			x := r.buf[r.pos+jb+lo+int(p.off):]
			upBlock(dst[(jb+lo)*l+ph-g0:], l, x, b.coefs[p.start:p.start+p.n], int(p.nx), hi-lo, 1)
		}
	}
	return tot, r.pos + end/l, int32(end % l)
}

// split copies buf[pfill:fill] into the residues poly.
func (r *Resampler) split() {
	m := r.b.m
	j := r.pfill
	for ; j%m != 0 && j < r.fill; j++ { // finish the group pfill is in
		r.poly[(j%m)*r.pstride+j/m] = r.buf[j]
	}
	n := (r.fill - j) / m // whole groups
	if m == 2 {
		split2(r.poly[j/2:], r.poly[r.pstride+j/2:], r.buf[j:], n)
	} else {
		splitN(r.poly[j/m:], r.pstride, r.buf[j:], n, m)
	}
	for j += n * m; j < r.fill; j++ {
		r.poly[(j%m)*r.pstride+j/m] = r.buf[j]
	}
	r.pfill = r.fill
}

// splitNGo copies src[i·m+k] to dst[k·stride+i] for k < m, i < n.
func splitNGo(dst []float32, stride int, src []float32, n, m int) {
	for k := range m {
		d := dst[k*stride : k*stride+n]
		for i := range d {
			d[i] = src[i*m+k]
		}
	}
}

// toFloatGo converts src to dst[:len(src)].
func toFloatGo(dst []float32, src []int16) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// split2Go copies src[2i] to even[i] and src[2i+1] to odd[i] for i < n.
func split2Go(even, odd, src []float32, n int) {
	even, odd, src = even[:n], odd[:n], src[:2*n]
	for i := range n {
		even[i] = src[2*i]
		odd[i] = src[2*i+1]
	}
}

// kernelGo is the portable kernel: it writes to out the outputs whose whole
// window lies in buf[:fill], starting with the window at pos and branch ph,
// and returns how many it wrote and the next window and branch.
func kernelGo(out []int16, buf []float32, pos, fill, width int, ph int32, tab []phase, coefs []float32) (int, int, int32) {
	n := 0
	for n < len(out) && pos+width <= fill {
		p := &tab[ph]
		x := buf[pos+int(p.off) : pos+int(p.off)+int(p.n)]
		h := coefs[p.start : p.start+p.n]
		out[n] = sat(dot(x, h))
		n++
		pos += int(p.adv)
		ph = p.next
	}
	return n, pos, ph
}

// sat rounds to the nearest 16-bit sample (ties to even, like the
// assembly kernel), saturating.
func sat(v float32) int16 {
	v = min(max(v, -32768), 32767)
	return int16(math.RoundToEven(float64(v)))
}

// dot returns Σ x[i]·h[i]; len(x) ≥ len(h).
func dot(x, h []float32) float32 {
	x = x[:len(h)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+3 < len(h); i += 4 {
		s0 += x[i] * h[i]
		s1 += x[i+1] * h[i+1]
		s2 += x[i+2] * h[i+2]
		s3 += x[i+3] * h[i+3]
	}
	for ; i < len(h); i++ {
		s0 += x[i] * h[i]
	}
	return (s0 + s2) + (s1 + s3)
}

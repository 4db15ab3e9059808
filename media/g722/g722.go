// Package g722 implements the ITU-T G.722 wideband speech codec at
// 64 kbit/s (mode 1) in pure Go.
//
// G.722 splits 16 kHz audio with a 24-tap quadrature mirror filter (QMF) into
// a lower and a higher 8 kHz sub-band. The lower band is coded with 6-bit
// adaptive differential PCM (ADPCM), the higher band with 2-bit ADPCM, and the
// two codes are packed into one byte per pair of input samples: 160 bytes
// carry one 20 ms frame of 320 samples.
//
// The arithmetic follows the fixed-point description of the Recommendation
// (blocks 1L–6L, 1H–6H and the QMF of Table 11). The tests check that the
// encoder's bitstream and the decoder's samples are bit-exact with FFmpeg's
// G.722 (its default, non-trellis encoder). Only 64 kbit/s mode 1 is
// implemented: 56 and 48 kbit/s streams are not decoded.
//
// Note the RTP quirk of G.722 (RFC 3551 §4.5.2): the payload's RTP clock rate
// is 8000 Hz although the audio is sampled at 16 kHz.
package g722

// Sizes of one 20 ms G.722 frame.
const (
	// SampleRate is the rate of the PCM G.722 codes and decodes, in Hz.
	SampleRate = 16000
	// SamplesPerFrame is the number of PCM samples in 20 ms.
	SamplesPerFrame = 320
	// BytesPerFrame is the size of the G.722 payload of 20 ms.
	BytesPerFrame = SamplesPerFrame / 2
)

// qmf holds the QMF coefficients of G.722 Table 11 (h0…h11; the filter is
// symmetric, h(23-i) = h(i)).
var qmf = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// invLog2 is the table ILA of block 3L/3H: 2^(i/32) scaled by 2048.
var invLog2 = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// lowStep is the log scale-factor increment WL of block 3L, indexed by the
// 4-bit truncated lower-band code (the top four bits of the 6-bit code).
var lowStep = [16]int32{
	-60, 3042, 1198, 538, 334, 172, 58, -30,
	3042, 1198, 538, 334, 172, 58, -30, -60,
}

// lowInv4 is the 4-bit inverse quantizer QQ4 of block 2L (feeds the
// predictor), indexed by the truncated code.
var lowInv4 = [16]int32{
	0, -2557, -1612, -1121, -786, -530, -323, -150,
	2557, 1612, 1121, 786, 530, 323, 150, 0,
}

// lowInv6 is the 6-bit inverse quantizer QQ6 of block 5L (reconstructs the
// output), indexed by the full 6-bit code.
var lowInv6 = [64]int32{
	-17, -17, -17, -17, -3101, -2738, -2376, -2088,
	-1873, -1689, -1535, -1399, -1279, -1170, -1072, -982,
	-899, -822, -750, -682, -618, -558, -501, -447,
	-396, -347, -300, -254, -211, -170, -130, -91,
	3101, 2738, 2376, 2088, 1873, 1689, 1535, 1399,
	1279, 1170, 1072, 982, 899, 822, 750, 682,
	618, 558, 501, 447, 396, 347, 300, 254,
	211, 170, 130, 91, 54, 17, -54, -17,
}

// lowLevels are the decision levels of the 6-bit quantizer of block 1L
// (Table 6, Q6), in units of the scale factor / 1024.
var lowLevels = [29]int32{
	35, 72, 110, 150, 190, 233, 276, 323,
	370, 422, 473, 530, 587, 650, 714, 786,
	858, 940, 1023, 1121, 1219, 1339, 1458, 1612,
	1765, 1980, 2195, 2557, 2919,
}

// highInv is the 2-bit inverse quantizer QQ2 of block 2H.
var highInv = [4]int32{-926, -202, 926, 202}

// highStep is the log scale-factor increment WH of block 3H, indexed by the
// magnitude bit of the higher-band code.
var highStep = [2]int32{798, -214}

func clamp(x, lo, hi int32) int32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

func sat16(x int32) int32 { return clamp(x, -32768, 32767) }

// band is the adaptive state of one sub-band: quantizer scale (blocks 3L/3H)
// and the pole-zero predictor (blocks 4L/4H). Encoder and decoder run the
// same state machine on the same codes, which is what keeps them in step.
type band struct {
	s    int32    // predicted signal s(n)
	sz   int32    // zero-section (6th order) prediction sz(n)
	r    int32    // previous reconstructed signal r(n-1), doubled
	p    [2]bool  // signs of the last two partial reconstructions p(n-1), p(n-2) (true: negative)
	a    [2]int32 // pole coefficients a1, a2
	b    [6]int32 // zero coefficients b1…b6
	d    [6]int32 // past quantized differences d(n-1)…d(n-6), doubled
	nb   int32    // log scale factor ∇
	step int32    // linear scale factor Δ
}

func (b *band) reset(step int32) { *b = band{step: step} }

// scale converts the log scale factor (offset by shift<<11) to linear.
func scale(logf int32) int32 {
	m := invLog2[(logf>>6)&31]
	if e := logf >> 11; e < 0 {
		return m >> -e
	} else {
		return m << e
	}
}

// adapt runs the predictor update of blocks 4L/4H for the quantized
// difference dq.
func (b *band) adapt(dq int32) {
	neg := b.sz+dq < 0 // sign of the partial reconstruction p(n)

	// Pole section: a2 then a1, with their stability limits.
	sg1, sg2 := int32(1), int32(1)
	if neg == b.p[0] {
		sg1 = -1
	}
	if neg != b.p[1] {
		sg2 = -1
	}
	b.p[1], b.p[0] = b.p[0], neg
	b.a[1] = clamp((sg1*clamp(b.a[0], -8191, 8191))>>5+sg2<<7+(b.a[1]*127)>>7, -12288, 12288)
	lim := 15360 - b.a[1]
	b.a[0] = clamp(-192*sg1+(b.a[0]*255)>>8, -lim, lim)

	// Zero section: sign-sign update of b1…b6 (no increment when dq is 0),
	// then shift dq into the difference memory.
	var u int32
	if dq != 0 {
		u = 128
	}
	d := &b.d
	z := &b.b
	for i := range z {
		z[i] = (z[i]*255)>>8 + (((d[i]^dq)>>31)|1)*u
	}
	d[5], d[4], d[3], d[2], d[1], d[0] = d[4], d[3], d[2], d[1], d[0], sat16(dq<<1)
	sz := (z[0]*d[0])>>15 + (z[1]*d[1])>>15 + (z[2]*d[2])>>15 +
		(z[3]*d[3])>>15 + (z[4]*d[4])>>15 + (z[5]*d[5])>>15
	b.sz = sz

	r := sat16((b.s + dq) << 1)
	b.s = sat16(sz + (b.a[0]*r)>>15 + (b.a[1]*b.r)>>15)
	b.r = r
}

// updateLow adapts the lower band to the truncated 4-bit code il4.
func (b *band) updateLow(il4 int32) {
	b.adapt((b.step * lowInv4[il4]) >> 10)
	b.nb = clamp((b.nb*127)>>7+lowStep[il4], 0, 18432)
	b.step = scale(b.nb - 8<<11)
}

// updateHigh adapts the higher band to the 2-bit code ih whose quantized
// difference is dh.
func (b *band) updateHigh(dh, ih int32) {
	b.adapt(dh)
	b.nb = clamp((b.nb*127)>>7+highStep[ih&1], 0, 22528)
	b.step = scale(b.nb - 10<<11)
}

// history is the 24-sample delay line of the QMF. Each pair of samples is
// written twice, 24 entries apart, so the last 24 samples are always one
// contiguous slice without shifting memory.
type history struct {
	buf [48]int32
	pos int // where the next pair goes, 0, 2, …, 22
}

// push adds a pair and returns the 24 newest samples, oldest first.
func (h *history) push(x0, x1 int32) *[24]int32 {
	p := h.pos
	h.buf[p], h.buf[p+1] = x0, x1
	h.buf[p+24], h.buf[p+25] = x0, x1
	h.pos = (p + 2) % 24
	return (*[24]int32)(h.buf[p+2 : p+26])
}

// filter applies the QMF to a 24-sample window: even returns the sum over
// the even taps (oldest first, coefficients h0…h11), odd over the odd taps
// (coefficients h11…h0).
func filter(w *[24]int32) (even, odd int32) {
	for i := range 12 {
		even += w[2*i] * qmf[i]
		odd += w[2*i+1] * qmf[11-i]
	}
	return even, odd
}

package jitter

// Concealer is a minimal PCM loss concealment for codecs without their own
// (G.711, G.722): it repeats the last good frame with a linear fade-out that
// reaches silence after FadeFrames concealed frames, and fades the first
// good frame after a loss in over a few milliseconds. Opus callers should use
// the decoder's PLC/FEC instead.
//
// The zero value is not usable: create it with [NewConcealer].
type Concealer struct {
	last   []int16
	n      int // samples in last
	lost   int // concealed samples since the last good frame
	fade   int // samples until silence
	rampIn int
}

// FadeFrames is the number of frames over which [Concealer] fades to
// silence (60 ms of 20 ms frames, as G.711 Appendix I).
const FadeFrames = 3

// NewConcealer returns a Concealer for frames of up to maxSamples samples.
func NewConcealer(maxSamples int) *Concealer {
	maxSamples = max(maxSamples, 1)
	return &Concealer{last: make([]int16, maxSamples), fade: FadeFrames * maxSamples, rampIn: max(1, maxSamples/20)}
}

// Good records a correctly decoded frame and, after a loss, ramps its start
// in to avoid a click. It modifies pcm in that case.
func (c *Concealer) Good(pcm []int16) {
	if c.lost > 0 {
		r := min(c.rampIn, len(pcm))
		for i := range r {
			pcm[i] = int16(int32(pcm[i]) * int32(i+1) / int32(r+1))
		}
	}
	c.n = copy(c.last, pcm)
	c.lost = 0
}

// Conceal fills out with the last good frame repeated and faded out, and
// returns it. Before any good frame it yields silence.
func (c *Concealer) Conceal(out []int16) []int16 {
	for i := range out {
		if c.lost >= c.fade || c.n == 0 {
			out[i] = 0
		} else {
			v := int32(c.last[c.lost%c.n])
			out[i] = int16(v * int32(c.fade-c.lost) / int32(c.fade))
		}
		if c.lost < c.fade {
			c.lost++
		}
	}
	return out
}

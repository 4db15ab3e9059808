package dtmf

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/parole-voice/parole/media"
)

// ErrRate is returned when a frame's sample rate differs from the
// detector's.
var ErrRate = errors.New("dtmf: frame sample rate does not match the detector")

// DetectorConfig configures a [Detector]. Zero fields take the defaults,
// which follow the ITU-T Q.24 / ETSI ES 201 235-3 receiver limits.
type DetectorConfig struct {
	// Rate is the sample rate in Hz, 8000 to 48000. Default 8000.
	Rate int
	// MinLevel is the weakest tone accepted, in dBm0 per tone. Default -30.
	MinLevel float64
	// NormalTwist is how much weaker (dB) the high-group tone may be than
	// the low-group tone. Default 8 dB. The detector accepts the limit
	// and rejects from 3 dB beyond it (a 1.5 dB guard covers the
	// measurement error of the short Goertzel window).
	NormalTwist float64
	// ReverseTwist is how much weaker (dB) the low-group tone may be than
	// the high-group tone. Default 4 dB, with the same guard.
	ReverseTwist float64
	// FreqTolerance is the largest relative frequency deviation accepted.
	// Default 0.025 (2.5 %, between the ±1.5 % that must be accepted and
	// the ±3.5 % that must be rejected).
	FreqTolerance float64
}

// Tone is one DTMF key detected in band by a [Detector].
type Tone struct {
	// Event is the key.
	Event Event
	// Start is when the tone began, counted from the first sample written
	// to the detector (to within about 7 ms).
	Start time.Duration
	// Duration is the length of the tone (to within about 13 ms).
	Duration time.Duration
}

// String formats t like "5 at 1.2s for 100ms".
func (t Tone) String() string {
	return fmt.Sprintf("%s at %v for %v", t.Event, t.Start, t.Duration)
}

// Decision thresholds of the detector that are not configurable.
const (
	// minHits consecutive valid analysis windows (hop 6.4 ms, length
	// 12.75 ms) start a key: every 40 ms tone yields at least 4, no tone
	// shorter than 23 ms more than 3.
	minHits = 4
	// endMisses consecutive windows without the key end it: a 10 ms break
	// is bridged, a 40 ms pause is not.
	endMisses = 5
	// minFraction is the smallest share of the window's power the two
	// tones must hold (speech and noise spread their power).
	minFraction = 0.6
	// peakRatio: the best row (column) must beat the others by 8 dB.
	peakRatio = 6.3
	// harmonicRatio: a second harmonic within 10 dB of its tone is speech.
	harmonicRatio = 0.1
	// twistGuard (dB) is added to the twist limits: the measured twist
	// is off by up to about ±1.5 dB (window not a whole number of
	// periods, leakage), so a tone exactly at the limit must pass.
	twistGuard = 1.5
	// halfRatio: the two halves of a window must hold the tone within
	// 3 dB of each other, so windows that only partly hold a tone fail.
	halfRatio = 2.0
)

// Detector finds DTMF keys in a stream of PCM audio with the Goertzel
// algorithm. The stream is cut into half-windows of 6.4 ms (51 samples at
// 8 kHz); each pair of consecutive halves forms a 12.75 ms analysis window
// (102 samples at 8 kHz), so windows overlap by half. For each of the 8 DTMF
// frequencies and their 8 second harmonics a complex Goertzel filter runs
// over every half. A window holds a key when
//
//   - the strongest row and column tones are each above MinLevel,
//   - their ratio is within the normal and reverse twist limits,
//   - each beats the other tones of its group by 8 dB,
//   - together they hold most of the window's power (rejects speech and
//     noise),
//   - each tone's second harmonic is at least 10 dB below it (speech),
//   - both halves hold each tone within 3 dB (rejects windows that only
//     partly overlap a tone, for the duration limits),
//   - the phase advance of each tone from one half to the next gives its
//     frequency to within FreqTolerance.
//
// Four valid windows in a row start a key, five without it end it; a key is
// reported once, when it ends, with its start and duration.
//
// A Detector serves one stream, is not safe for concurrent use and
// allocates nothing per frame when the dst slices have room.
type Detector struct {
	rate int
	half int     // samples per half-window
	norm float64 // PCM → units where a 0 dBm0 sine has amplitude 1

	coef   [16]float64 // 2cos(ω)
	cosw   [16]float64 // cos(ω), sin(ω) for the complex output
	sinw   [16]float64
	leak   [8][8]float64 // half-window amplitude response of filter k at fundamental j
	near   [8][8]bool    // row k's second harmonic is close to column j
	rotC   [16]float64   // e^{-jωM}, to join two halves
	rotS   [16]float64
	omegaM [16]float64 // ωM

	minPow, normal, reverse, tol float64

	// Goertzel state of the half being filled.
	s1, s2 [16]float64
	energy float64
	n      int
	// Complex outputs of the previous and current complete halves.
	prevRe, prevIm [16]float64
	prevEnergy     float64
	havePrev       bool
	halves         int64 // completed halves

	cand     Event
	candOK   bool
	hits     int
	candFrom int64 // first half of the first window of the candidate run

	on      bool
	cur     Event
	start   int64 // in halves
	lastEnd int64 // in halves (exclusive)
	misses  int
}

// NewDetector returns a Detector for cfg, or an error wrapping [ErrConfig].
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = -30
	}
	if cfg.NormalTwist == 0 {
		cfg.NormalTwist = 8
	}
	if cfg.ReverseTwist == 0 {
		cfg.ReverseTwist = 4
	}
	if cfg.FreqTolerance == 0 {
		cfg.FreqTolerance = 0.025
	}
	if cfg.Rate < 8000 || cfg.Rate > 48000 {
		return nil, fmt.Errorf("%w: rate %d Hz", ErrConfig, cfg.Rate)
	}
	if !(cfg.MinLevel > -90 && cfg.MinLevel < 3) || !(cfg.NormalTwist > 0 && cfg.NormalTwist < 40) ||
		!(cfg.ReverseTwist > 0 && cfg.ReverseTwist < 40) || !(cfg.FreqTolerance > 0 && cfg.FreqTolerance < 0.1) {
		return nil, fmt.Errorf("%w: detector limits out of range: %+v", ErrConfig, cfg)
	}
	d := &Detector{
		rate:    cfg.Rate,
		half:    int(math.Round(51 * float64(cfg.Rate) / 8000)),
		norm:    1 / ZeroDBm0,
		minPow:  0.5 * math.Pow(10, cfg.MinLevel/10),
		normal:  math.Pow(10, (cfg.NormalTwist+twistGuard)/10),
		reverse: math.Pow(10, (cfg.ReverseTwist+twistGuard)/10),
		tol:     cfg.FreqTolerance,
	}
	for k := range 16 {
		f := d.freq(k)
		w := 2 * math.Pi * f / float64(cfg.Rate)
		d.coef[k] = 2 * math.Cos(w)
		d.cosw[k], d.sinw[k] = math.Cos(w), math.Sin(w)
		d.omegaM[k] = w * float64(d.half)
		d.rotC[k], d.rotS[k] = math.Cos(d.omegaM[k]), -math.Sin(d.omegaM[k])
	}
	// Amplitude leakage of each fundamental into each other fundamental's
	// filter over one half-window of M samples (rectangular window):
	// |sin(πΔM/fs) / (M sin(πΔ/fs))|. Used to widen the steadiness checks
	// when the other tone of the pair is much stronger.
	m := float64(d.half)
	for k := range 8 {
		for j := range 8 {
			x := math.Pi * (d.freq(k) - d.freq(j)) / float64(cfg.Rate)
			if k == j {
				continue
			}
			d.leak[k][j] = math.Abs(math.Sin(x*m) / (m * math.Sin(x)))
		}
		// A row's second harmonic within two bins of a column tone
		// (2×697 Hz is 58 Hz from 1336 Hz) cannot be told from the
		// column's leakage: the harmonic test skips those pairs.
		for j := 4; j < 8; j++ {
			d.near[k][j] = math.Abs(2*d.freq(k)-d.freq(j)) < 2*float64(cfg.Rate)/(2*m)
		}
	}
	return d, nil
}

// freq returns the frequency of filter k: rows 0–3, columns 4–7, their
// second harmonics 8–15.
func (d *Detector) freq(k int) float64 {
	m := 1.0
	if k >= 8 {
		m, k = 2, k-8
	}
	if k < 4 {
		return m * LowFreqs[k]
	}
	return m * HighFreqs[k-4]
}

// Rate returns the sample rate of the detector in Hz.
func (d *Detector) Rate() int { return d.rate }

// Reset forgets all state, as for a new stream.
func (d *Detector) Reset() {
	*d = Detector{
		rate: d.rate, half: d.half, norm: d.norm, coef: d.coef, cosw: d.cosw, sinw: d.sinw,
		leak: d.leak, near: d.near, rotC: d.rotC, rotS: d.rotS, omegaM: d.omegaM,
		minPow: d.minPow, normal: d.normal, reverse: d.reverse, tol: d.tol,
	}
}

// WriteFrame is [Detector.Write] for a frame, checking its sample rate
// (an error wrapping [ErrRate]).
func (d *Detector) WriteFrame(dst []Tone, f *media.Frame) ([]Tone, error) {
	if f.Rate != d.rate {
		return dst, fmt.Errorf("%w: frame at %d Hz, detector at %d Hz", ErrRate, f.Rate, d.rate)
	}
	return d.Write(dst, f.Samples), nil
}

// Write analyses the next samples of the stream (any number, typically one
// 20 ms frame) and appends to dst the keys that ended in them.
func (d *Detector) Write(dst []Tone, samples []int16) []Tone {
	for len(samples) > 0 {
		n := min(d.half-d.n, len(samples))
		d.filter(samples[:n])
		samples = samples[n:]
		d.n += n
		if d.n == d.half {
			dst = d.endHalf(dst)
		}
	}
	return dst
}

// filter runs the 16 Goertzel recursions over x.
func (d *Detector) filter(x []int16) {
	s1, s2 := d.s1, d.s2
	e := d.energy
	for _, v := range x {
		f := float64(v) * d.norm
		e += f * f
		for k := range 16 {
			s0 := f + d.coef[k]*s1[k] - s2[k]
			s2[k] = s1[k]
			s1[k] = s0
		}
	}
	d.s1, d.s2 = s1, s2
	d.energy = e
}

// endHalf finishes a half-window, evaluates the window it closes and runs
// the key state machine.
func (d *Detector) endHalf(dst []Tone) []Tone {
	var re, im [16]float64
	for k := range 16 {
		// y = s1 - e^{-jω} s2 = X·e^{jω(M-1)}; the phase factor is the
		// same for every half, so it cancels below.
		re[k] = d.s1[k] - d.cosw[k]*d.s2[k]
		im[k] = d.sinw[k] * d.s2[k]
	}
	energy := d.energy
	d.s1, d.s2, d.energy, d.n = [16]float64{}, [16]float64{}, 0, 0

	if d.havePrev {
		ev, ok := d.window(&re, &im, energy)
		dst = d.step(dst, ev, ok)
	}
	d.prevRe, d.prevIm, d.prevEnergy, d.havePrev = re, im, energy, true
	d.halves++
	return dst
}

// window decides whether the window made of the previous half and the half
// (re, im, energy) holds a key.
func (d *Detector) window(re, im *[16]float64, energy float64) (Event, bool) {
	n := float64(2 * d.half)
	scale := 2 / (n * n) // |X|² → power of a sine
	var pw [16]float64
	for k := range 16 {
		// X = X1 + e^{-jωM} X2
		xr := d.prevRe[k] + d.rotC[k]*re[k] - d.rotS[k]*im[k]
		xi := d.prevIm[k] + d.rotC[k]*im[k] + d.rotS[k]*re[k]
		pw[k] = (xr*xr + xi*xi) * scale
	}
	r, c := 0, 4
	for k := 1; k < 4; k++ {
		if pw[k] > pw[r] {
			r = k
		}
		if pw[k+4] > pw[c] {
			c = k + 4
		}
	}
	pr, pc := pw[r], pw[c]
	if pr < d.minPow || pc < d.minPow {
		return 0, false
	}
	if pr > pc*d.normal || pc > pr*d.reverse {
		return 0, false
	}
	for k := range 4 {
		if (k != r && pw[k]*peakRatio > pr) || (k+4 != c && pw[k+4]*peakRatio > pc) {
			return 0, false
		}
	}
	total := (d.prevEnergy + energy) / n
	if pr+pc < minFraction*total {
		return 0, false
	}
	if (!d.near[r][c] && pw[r+8] > harmonicRatio*pr) || pw[c+8] > harmonicRatio*pc {
		return 0, false
	}
	if !d.steady(r, c, pc/pr, re, im) || !d.steady(c, r, pr/pc, re, im) {
		return 0, false
	}
	return eventAt[r][c-4], true
}

// steady checks that tone k has about the same strength in both halves of
// the window and that its phase advance between them matches its frequency.
//
// The other tone j of the pair, rel times stronger in power, leaks into
// filter k with relative amplitude eps; that widens the allowed power ratio
// by ((1+eps)/(1-eps))² and the phase by 2·asin(eps).
func (d *Detector) steady(k, j int, rel float64, re, im *[16]float64) bool {
	eps := min(d.leak[k][j]*math.Sqrt(rel), 0.5)
	ar, ai := d.prevRe[k], d.prevIm[k]
	br, bi := re[k], im[k]
	p1 := ar*ar + ai*ai
	p2 := br*br + bi*bi
	g := (1 + eps) / (1 - eps)
	lim := halfRatio * g * g
	if p1 > lim*p2 || p2 > lim*p1 {
		return false
	}
	// arg(X2·conj(X1)) = ω_tone·M (mod 2π).
	adv := math.Atan2(bi*ar-br*ai, br*ar+bi*ai)
	dev := math.Remainder(adv-d.omegaM[k], 2*math.Pi)
	off := dev * float64(d.rate) / (2 * math.Pi * float64(d.half))
	slack := 2 * math.Asin(eps) * float64(d.rate) / (2 * math.Pi * float64(d.half))
	return math.Abs(off) <= d.tol*d.freq(k)+slack
}

// step runs the key state machine with the verdict of the window that
// ended with the current half.
func (d *Detector) step(dst []Tone, ev Event, ok bool) []Tone {
	if ok && d.candOK && ev == d.cand {
		d.hits++
	} else {
		d.cand, d.candOK, d.hits = ev, ok, 0
		if ok {
			d.hits = 1
			d.candFrom = d.halves - 1
		}
	}
	if d.on {
		if ok && ev == d.cur {
			d.misses = 0
			d.lastEnd = d.halves + 1
		} else {
			d.misses++
			if d.misses >= endMisses {
				dst = d.emit(dst)
			}
		}
	}
	if !d.on && d.candOK && d.hits >= minHits {
		d.on, d.cur, d.start, d.lastEnd, d.misses = true, d.cand, d.candFrom, d.halves+1, 0
	}
	return dst
}

func (d *Detector) emit(dst []Tone) []Tone {
	d.on = false
	h := time.Duration(d.half) * time.Second / time.Duration(d.rate)
	return append(dst, Tone{
		Event:    d.cur,
		Start:    time.Duration(d.start) * h,
		Duration: time.Duration(d.lastEnd-d.start) * h,
	})
}

// Flush reports the key in progress, if any, as ending now (at the end of
// the stream) and appends it to dst.
func (d *Detector) Flush(dst []Tone) []Tone {
	if d.on {
		dst = d.emit(dst)
	}
	d.candOK, d.hits = false, 0
	return dst
}

// Active returns the key being pressed now, if any (already counted as a
// key but not yet ended).
func (d *Detector) Active() (Event, bool) { return d.cur, d.on }

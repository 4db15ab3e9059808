// Package resample benchmarks parole's resampler (media/resample) side by
// side with libspeexdsp's speex_resampler and libsoxr, on the same stream of
// 20 ms frames, for speed (ns per frame, × real time, instructions per frame)
// and quality (passband droop, stopband rejection and SNR against
// analytically generated tones).
//
// The C libraries are reached through cgo wrappers built only with the
// cgo_refs build tag (Debian packages libspeexdsp-dev and libsoxr-dev;
// TestInstructions also needs valgrind):
//
//	go test -tags cgo_refs -run 'TestCompare|TestInstructions' -v ./benchmarks/resample/
//	PAROLE_ICOUNT_ALL=1 go test -tags cgo_refs -run TestInstructions -v ./benchmarks/resample/
//	go test -tags cgo_refs -run XXX -bench . -benchmem ./benchmarks/resample/
//
// Without the tag the package holds only parole's own engine and its
// benchmark, so it builds and tests anywhere.
//
// # How quality is compared
//
// Every engine gets the same int16 tones and is read with the same exact-bin
// DFTs (BinHz grid, one second of output), so the figures compare like with
// like:
//
//   - rejection ([Rejection]) is the worst level, relative to the tone, of
//     all images (upsampling) or aliases (downsampling) of 25 tones chosen
//     so that every image or alias lies at or beyond an edge given as a
//     fraction of the lower Nyquist frequency; the first tone puts its
//     image or alias on the edge itself, the grid is denser near it. The
//     table gives it for edges 1.0 and 1.1. The 16-bit input and output put
//     a floor of about 130 dB under the measurement.
//   - gain0.9 ([Gain]) is the level of a tone at 0.9 of the lower Nyquist
//     frequency: the passband droop.
//   - SNR ([SNR]) compares five passband tones with the analytic tones
//     delayed by the engine's measured delay.
//
// Parole's tiers are not the same filters as speexdsp's or soxr's levels, so
// TestCompare closes each pair with a verdict: the cheapest parole tier
// whose rejection beyond 1.1×Nyquist is at least speexdsp q5's, with its time
// relative to speexdsp q5 and to soxr MQ.
//
// # How speed is compared
//
// TestCompare times the three engines of a tier in turns (7 rounds of 400
// frames each, best round kept), so a busy spell of the shared machine hits
// them alike. TestInstructions runs each engine under valgrind (cachegrind,
// no cache simulation) for 200 and for 1200 frames and reports the
// difference per frame: a count that load on the machine does not disturb,
// though it weighs a scalar and a 256-bit vector instruction the same.
package resample

import (
	"time"

	"github.com/parole-voice/parole/media/resample"
)

// Engine is one resampler under comparison: a streaming int16 converter.
type Engine interface {
	// Process appends the output for in to out.
	Process(out, in []int16) []int16
	// Close releases the engine.
	Close()
}

// Parole adapts parole's resampler to Engine.
type Parole struct{ R *resample.Resampler }

// NewParole returns parole's resampler from in to out Hz at quality q.
func NewParole(in, out int, q resample.Quality) (*Parole, error) {
	r, err := resample.New(in, out, q)
	if err != nil {
		return nil, err
	}
	return &Parole{R: r}, nil
}

// Process implements Engine.
func (p *Parole) Process(out, in []int16) []int16 { return p.R.Process(out, in) }

// Close implements Engine.
func (p *Parole) Close() {}

// FrameTime feeds frames 20 ms frames of pcm (at least one second, at the
// engine's input rate in Hz) to e and returns the mean time per frame, the
// best of rounds runs so that a busy machine disturbs the figure less.
func FrameTime(e Engine, pcm []int16, in, frames, rounds int) time.Duration {
	n := in / 50
	nf := len(pcm) / n
	out := make([]int16, 0, 16*n)
	best := time.Duration(1<<63 - 1)
	for range rounds {
		start := time.Now()
		for i := range frames {
			off := (i % nf) * n
			out = e.Process(out[:0], pcm[off:off+n])
		}
		best = min(best, time.Since(start)/time.Duration(frames))
	}
	return best
}

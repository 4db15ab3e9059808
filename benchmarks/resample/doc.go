// Package resample benchmarks parole's resampler (media/resample) side by
// side with libspeexdsp's speex_resampler and libsoxr, on the same stream of
// 20 ms frames, for speed (ns per frame, × real time) and quality (stopband
// rejection and SNR against analytically generated tones).
//
// The C libraries are reached through cgo wrappers built only with the
// cgo_refs build tag (Debian packages libspeexdsp-dev and libsoxr-dev):
//
//	go test -tags cgo_refs -run TestCompare -bench . -benchmem -v ./benchmarks/resample/
//
// Without the tag the package holds only parole's own engine and its
// benchmark, so it builds and tests anywhere.
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

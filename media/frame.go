package media

import (
	"sync"
	"time"
)

// FrameDuration is the duration of one audio frame everywhere in parole.
const FrameDuration = 20 * time.Millisecond

// Sample rates parole handles natively.
const (
	Rate8k  = 8000
	Rate16k = 16000
	Rate24k = 24000
	Rate48k = 48000
)

// SamplesPerFrame returns the number of samples in one 20 ms frame at rate Hz.
func SamplesPerFrame(rate int) int { return rate / 50 }

// Frame is 20 ms (or, for the last frame of a stream, less) of mono signed
// 16-bit PCM audio.
//
// Samples holds the audio, Rate its sample rate in Hz and Time the capture
// time of the first sample (the zero Time when unknown). Hot paths reuse
// frames through a [FramePool] instead of allocating one per 20 ms.
type Frame struct {
	Samples []int16
	Rate    int
	Time    time.Time
}

// NewFrame returns a silent 20 ms frame at rate Hz.
func NewFrame(rate int) *Frame {
	return &Frame{Samples: make([]int16, SamplesPerFrame(rate)), Rate: rate}
}

// Duration returns how much audio the frame holds.
func (f *Frame) Duration() time.Duration {
	if f.Rate <= 0 {
		return 0
	}
	return time.Duration(len(f.Samples)) * time.Second / time.Duration(f.Rate)
}

// CopyFrom makes f a copy of src, reusing f's sample storage when it is large
// enough.
func (f *Frame) CopyFrom(src *Frame) {
	if cap(f.Samples) < len(src.Samples) {
		f.Samples = make([]int16, len(src.Samples))
	}
	f.Samples = f.Samples[:len(src.Samples)]
	copy(f.Samples, src.Samples)
	f.Rate = src.Rate
	f.Time = src.Time
}

// Silence zeroes every sample of f.
func (f *Frame) Silence() { clear(f.Samples) }

// FramePool recycles 20 ms frames of one sample rate, so that code handling a
// frame every 20 ms allocates nothing in steady state. The zero value is not
// usable: create pools with [NewFramePool].
type FramePool struct {
	rate int
	pool sync.Pool
}

// NewFramePool returns a pool of 20 ms frames at rate Hz.
func NewFramePool(rate int) *FramePool {
	p := &FramePool{rate: rate}
	p.pool.New = func() any { return NewFrame(rate) }
	return p
}

// Rate returns the sample rate of the pool's frames.
func (p *FramePool) Rate() int { return p.rate }

// Get returns a full-length 20 ms frame. Its samples are not cleared: callers
// overwrite them or call [Frame.Silence].
func (p *FramePool) Get() *Frame {
	f := p.pool.Get().(*Frame)
	f.Samples = f.Samples[:SamplesPerFrame(p.rate)]
	f.Rate = p.rate
	f.Time = time.Time{}
	return f
}

// Put returns f to the pool. f must not be used afterwards. Frames of another
// rate or capacity are dropped.
func (p *FramePool) Put(f *Frame) {
	if f == nil || f.Rate != p.rate || cap(f.Samples) < SamplesPerFrame(p.rate) {
		return
	}
	p.pool.Put(f)
}

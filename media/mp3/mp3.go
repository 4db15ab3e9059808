// Package mp3 decodes MP3 (MPEG-1 and MPEG-2 audio layer III) streams, as
// text-to-speech engines return them, into mono 20 ms [media.Frame]s at the
// rate a call needs.
//
// Decoding is done by github.com/hajimehoshi/go-mp3 (pure Go), which gives
// 16-bit stereo at the file's rate; the [Decoder] downmixes it to mono
// ((L+R)/2) and converts it to the target rate with [resample.Resampler]
// (Medium quality), compensating the resampler's delay so that output
// sample 0 is input time 0.
//
// Gapless playback: when the stream starts with a Xing/Info frame carrying
// a LAME tag (LAME and FFmpeg write one), the tag frame is skipped and the
// encoder delay, the decoder's 529-sample filter-bank delay and the end
// padding are trimmed, as FFmpeg does, so the output has the length and
// timing of the audio that was encoded. Without a tag the decoder's output
// is returned untrimmed.
//
// Supported: layer III, MPEG-1 (32, 44.1, 48 kHz) and MPEG-2 (16, 22.05,
// 24 kHz), mono or stereo, CBR or VBR, with or without ID3v2/ID3v1 tags.
// MPEG-2.5 (8, 11.025, 12 kHz), layers I and II and free-format bitrates
// are rejected with [ErrUnsupported]. The sample rate is taken from the
// first frame; a stream whose rate changes midway is decoded at the first
// rate (go-mp3 does not report the change).
//
// Bad input gets an error, never a panic: empty input gives [ErrEmpty],
// input without an MPEG audio frame or that go-mp3 fails on gives
// [ErrCorrupt]. go-mp3 can panic on some corrupt streams; the Decoder
// recovers such panics in one place and reports them as ErrCorrupt. A stream
// cut in the middle of a frame ends with the last whole frame, without
// error, as with FFmpeg.
//
// The tests compare with FFmpeg's MP3 decoder at the file's rate and with
// FFmpeg's decode and resample (-ar, -ac 1) at 8, 16, 24 and 48 kHz, on
// espeak-ng speech encoded by libmp3lame.
package mp3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
)

// Errors returned by the decoder, for errors.Is.
var (
	// ErrRate reports a target rate other than 8, 16, 24 or 48 kHz.
	ErrRate = errors.New("mp3: unsupported target sample rate")
	// ErrEmpty reports an empty input.
	ErrEmpty = errors.New("mp3: empty input")
	// ErrCorrupt reports input that is not MP3 or a stream the decoder
	// fails on (including recovered panics of go-mp3).
	ErrCorrupt = errors.New("mp3: invalid or corrupt stream")
	// ErrUnsupported reports a valid MPEG audio stream of a kind this
	// package does not decode (see the package documentation).
	ErrUnsupported = errors.New("mp3: unsupported stream")
)

// chunkBytes is how much go-mp3 output is read at a time: one MPEG-1 frame
// of 1152 stereo 16-bit samples.
const chunkBytes = 1152 * 4

// Decoder reads an MP3 stream and yields mono 20 ms frames at a target
// rate. It is not safe for concurrent use.
type Decoder struct {
	src     *gomp3.Decoder
	srcRate int
	rate    int
	rs      *resample.Resampler // nil when srcRate == rate

	raw  [chunkBytes]byte
	rawN int     // bytes in raw not yet used (less than one stereo sample)
	mono []int16 // downmixed chunk at srcRate

	skip   int // source samples still to drop (encoder + decoder delay)
	remain int // source samples still to deliver, or -1 when unknown

	outSkip int     // resampler delay still to drop, in output samples
	pending []int16 // output samples not yet delivered
	start   int     // first undelivered sample in pending

	eof bool
	err error // sticky error
}

// NewDecoder reads the start of r (tags, the first frame header and any
// Info/Xing frame) and returns a Decoder producing frames at targetRate Hz
// (8000, 16000, 24000 or 48000). r is read only as frames are asked for, so
// a streaming HTTP body works; it is never seeked.
func NewDecoder(r io.Reader, targetRate int) (*Decoder, error) {
	switch targetRate {
	case media.Rate8k, media.Rate16k, media.Rate24k, media.Rate48k:
	default:
		return nil, fmt.Errorf("%w: %d Hz", ErrRate, targetRate)
	}
	return newDecoder(r, targetRate)
}

// newDecoder is NewDecoder without the check of the target rate, so that
// tests can decode at 22.05 and 44.1 kHz.
func newDecoder(r io.Reader, targetRate int) (*Decoder, error) {
	if r == nil {
		return nil, ErrEmpty
	}
	br := bufio.NewReaderSize(r, 8<<10)
	h, g, err := readPreamble(br)
	if err != nil {
		return nil, err
	}
	d := &Decoder{rate: targetRate, remain: -1}
	// br is not an io.Seeker, so go-mp3 does not scan the whole stream.
	if err := d.guard(func() error {
		var err error
		d.src, err = gomp3.NewDecoder(br)
		return err
	}); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: no complete frame", ErrCorrupt)
		}
		return nil, err
	}
	d.srcRate = d.src.SampleRate()
	if d.srcRate != h.rate {
		return nil, fmt.Errorf("%w: first frame says %d Hz, decoder %d Hz", ErrCorrupt, h.rate, d.srcRate)
	}
	if g.ok {
		d.skip = g.delay + decoderDelay
		if g.frames > 0 {
			d.remain = max(0, g.frames*h.samplesPerFrame()-g.delay-g.padding)
		}
	}
	if d.srcRate != targetRate {
		d.rs, err = resample.New(d.srcRate, targetRate, resample.Medium)
		if err != nil {
			return nil, fmt.Errorf("mp3: %d Hz → %d Hz: %w", d.srcRate, targetRate, err)
		}
		d.outSkip = d.rs.Delay()
	}
	d.mono = make([]int16, 0, chunkBytes/4)
	n := media.SamplesPerFrame(targetRate)
	d.pending = make([]int16, 0, 2*n+resample.OutputLen(d.srcRate, targetRate, chunkBytes/4)+64)
	return d, nil
}

// guard runs f, turning a panic inside go-mp3 into an error wrapping
// ErrCorrupt. It is the one place where panics are recovered.
func (d *Decoder) guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, p)
		}
	}()
	err = f()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// SourceRate returns the sample rate of the MP3 stream in Hz.
func (d *Decoder) SourceRate() int { return d.srcRate }

// Rate returns the rate of the frames ReadFrame produces in Hz.
func (d *Decoder) Rate() int { return d.rate }

// ReadFrame fills f with the next 20 ms of mono audio at the target rate
// (the last frame may be shorter), reusing f.Samples' storage when it is
// large enough, and sets f.Rate; f.Time is zeroed. At the end of the stream
// it returns io.EOF. A decoding error is returned once the audio decoded
// before it has been delivered, and again on every later call.
func (d *Decoder) ReadFrame(f *media.Frame) error {
	n := media.SamplesPerFrame(d.rate)
	for len(d.pending)-d.start < n && !d.eof && d.err == nil {
		d.fill()
	}
	avail := len(d.pending) - d.start
	if avail == 0 {
		if d.err != nil {
			return d.err
		}
		return io.EOF
	}
	k := min(n, avail)
	if cap(f.Samples) < n {
		f.Samples = make([]int16, n)
	}
	f.Samples = f.Samples[:k]
	copy(f.Samples, d.pending[d.start:d.start+k])
	d.start += k
	f.Rate = d.rate
	f.Time = time.Time{}
	return nil
}

// fill decodes one chunk of the source and appends its output to pending.
func (d *Decoder) fill() {
	if d.start > 0 {
		m := copy(d.pending, d.pending[d.start:])
		d.pending = d.pending[:m]
		d.start = 0
	}
	var got int
	err := d.guard(func() error {
		var err error
		got, err = d.src.Read(d.raw[d.rawN:])
		return err
	})
	got += d.rawN
	whole := got / 4 * 4
	d.mono = d.mono[:0]
	for i := 0; i < whole; i += 4 {
		l := int32(int16(uint16(d.raw[i]) | uint16(d.raw[i+1])<<8))
		r := int32(int16(uint16(d.raw[i+2]) | uint16(d.raw[i+3])<<8))
		d.mono = append(d.mono, int16((l+r)>>1))
	}
	d.rawN = copy(d.raw[:], d.raw[whole:got])
	mono := d.mono
	if d.skip > 0 {
		s := min(d.skip, len(mono))
		mono = mono[s:]
		d.skip -= s
	}
	if d.remain >= 0 {
		mono = mono[:min(len(mono), d.remain)]
		d.remain -= len(mono)
	}
	d.push(mono)
	switch {
	case err == nil && d.remain != 0:
		return
	case err == nil || errors.Is(err, io.EOF):
		d.eof = true
	default:
		d.err = err
	}
	if d.rs != nil {
		before := len(d.pending)
		d.pending = d.rs.Flush(d.pending)
		d.dropOut(before)
	}
}

// push appends the resampled (or, at equal rates, copied) mono samples to
// pending, dropping the resampler's delay at the start.
func (d *Decoder) push(mono []int16) {
	if d.rs == nil {
		d.pending = append(d.pending, mono...)
		return
	}
	before := len(d.pending)
	d.pending = d.rs.Process(d.pending, mono)
	d.dropOut(before)
}

// dropOut removes up to outSkip samples appended to pending after index
// before.
func (d *Decoder) dropOut(before int) {
	if d.outSkip == 0 {
		return
	}
	s := min(d.outSkip, len(d.pending)-before)
	d.pending = append(d.pending[:before], d.pending[before+s:]...)
	d.outSkip -= s
}

// Decode decodes the whole MP3 stream r into mono samples at rate Hz. On a
// decoding error it returns the samples decoded before it with the error.
func Decode(r io.Reader, rate int) ([]int16, error) {
	d, err := NewDecoder(r, rate)
	if err != nil {
		return nil, err
	}
	var out []int16
	f := media.NewFrame(rate)
	for {
		if err := d.ReadFrame(f); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, f.Samples...)
	}
}

package vad

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/parole-voice/parole/media"
)

// Event is what processing one frame reports.
type Event int

// Events reported by [Detector.Process] and [Endpointer.Process].
const (
	// None: nothing changed with this frame.
	None Event = iota
	// SpeechStart: speech began. It is reported once Config.Onset speech
	// frames in a row have been seen; [Detector.Start] tells when the first
	// of them began.
	SpeechStart
	// SpeechEnd: speech ended. It is reported Config.Hangover after the last
	// speech frame; [Detector.End] tells when that frame ended.
	SpeechEnd
	// EndOfUtterance: EndpointConfig.Silence has passed since the last speech
	// frame. Only an [Endpointer] reports it.
	EndOfUtterance
)

// String returns the event's name.
func (e Event) String() string {
	switch e {
	case None:
		return "None"
	case SpeechStart:
		return "SpeechStart"
	case SpeechEnd:
		return "SpeechEnd"
	case EndOfUtterance:
		return "EndOfUtterance"
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Errors callers can test for with [errors.Is].
var (
	// ErrConfig: a Config or EndpointConfig field is out of range.
	ErrConfig = errors.New("vad: invalid configuration")
	// ErrRate: the frame's sample rate is not the detector's.
	ErrRate = errors.New("vad: frame sample rate does not match")
	// ErrFrameSize: the frame is nil, empty or longer than 20 ms.
	ErrFrameSize = errors.New("vad: frame is empty or longer than 20 ms")
)

// Defaults used for the zero value of the matching Config field.
const (
	DefaultThresholdDB = 6.0
	DefaultOnset       = 3
	DefaultHangover    = 240 * time.Millisecond
	DefaultMinFloorDB  = -60.0
	DefaultFloorRise   = 5.0 // dB per second, outside speech
	DefaultSpeechRise  = 4.0 // dB per second, while frames look like speech
	DefaultZCRMarginDB = 6.0
	DefaultHighPassHz  = 200.0
)

// Config sets up a [Detector]. Zero fields take the matching Default value;
// only Rate is required.
type Config struct {
	// Rate is the sample rate of the frames in Hz: 8000 or 16000.
	Rate int
	// ThresholdDB is how far above the noise floor a frame's energy must be
	// to count as speech.
	ThresholdDB float64
	// Onset is how many speech frames in a row start speech.
	Onset int
	// Hangover is how long speech stays on after the last speech frame, so
	// that pauses between words do not end it.
	Hangover time.Duration
	// MinFloorDB is the lowest the noise floor goes, in dBFS: frames quieter
	// than MinFloorDB+ThresholdDB are never speech, however quiet the line.
	MinFloorDB float64
	// FloorRise is how fast the floor climbs towards louder background, in
	// dB per second, on frames that do not look like speech. It falls to a
	// quieter background within a few frames.
	FloorRise float64
	// SpeechRise is how fast the floor climbs, in dB per second, on frames
	// that look like speech. It bounds how long a lasting rise of the
	// background noise can be taken for speech: about
	// (step - ThresholdDB) / SpeechRise seconds.
	SpeechRise float64
	// HighPassHz is the cut-off of the high-pass filter (2nd-order
	// Butterworth) applied before measuring: it keeps hum, rumble and
	// low-frequency (brown) noise, which carry little speech on a phone line,
	// out of the energy. It must be below a quarter of Rate.
	HighPassHz float64
	// NoHighPass turns the high-pass filter off.
	NoHighPass bool
	// ZCR adds a zero-crossing-rate test: a frame less than ZCRMarginDB
	// above the threshold is speech only if its zero-crossing rate differs
	// clearly from the background's. On the Asterisk-prompt corpus with
	// stationary white, pink and brown noise it did not help: precision was
	// already 0.999-1.000 and recall dropped by 1 to 4 points (see
	// TestCorpus), so it is off by default.
	ZCR bool
	// ZCRMarginDB is the margin above the threshold under which the ZCR test
	// applies; frames louder than that are speech on energy alone.
	ZCRMarginDB float64
}

func (c Config) withDefaults() (Config, error) {
	if c.Rate != media.Rate8k && c.Rate != media.Rate16k {
		return c, fmt.Errorf("%w: rate %d Hz, want 8000 or 16000", ErrConfig, c.Rate)
	}
	if c.ThresholdDB < 0 || c.Onset < 0 || c.Hangover < 0 || c.FloorRise < 0 || c.SpeechRise < 0 || c.ZCRMarginDB < 0 || c.HighPassHz < 0 {
		return c, fmt.Errorf("%w: negative threshold, onset, hangover, rise or margin", ErrConfig)
	}
	if c.MinFloorDB > 0 || math.IsNaN(c.MinFloorDB) || math.IsNaN(c.ThresholdDB) ||
		math.IsNaN(c.FloorRise) || math.IsNaN(c.SpeechRise) || math.IsNaN(c.ZCRMarginDB) || math.IsNaN(c.HighPassHz) {
		return c, fmt.Errorf("%w: MinFloorDB must be at most 0 dBFS and no field NaN", ErrConfig)
	}
	if c.ThresholdDB == 0 {
		c.ThresholdDB = DefaultThresholdDB
	}
	if c.Onset == 0 {
		c.Onset = DefaultOnset
	}
	if c.Hangover == 0 {
		c.Hangover = DefaultHangover
	}
	if c.MinFloorDB == 0 {
		c.MinFloorDB = DefaultMinFloorDB
	}
	if c.FloorRise == 0 {
		c.FloorRise = DefaultFloorRise
	}
	if c.SpeechRise == 0 {
		c.SpeechRise = DefaultSpeechRise
	}
	if c.ZCRMarginDB == 0 {
		c.ZCRMarginDB = DefaultZCRMarginDB
	}
	if c.HighPassHz == 0 {
		c.HighPassHz = DefaultHighPassHz
	}
	if c.HighPassHz >= float64(c.Rate)/4 {
		return c, fmt.Errorf("%w: HighPassHz %g too high for %d Hz", ErrConfig, c.HighPassHz, c.Rate)
	}
	return c, nil
}

// Mark is a point in the audio stream.
type Mark struct {
	// Offset is the time since the detector was created or reset, counted
	// in audio (the sum of the processed frames' durations).
	Offset time.Duration
	// Time is the capture time, from the Time of the frame it falls in; the
	// zero Time when that frame's Time was zero.
	Time time.Time
}

// floorFall is the fraction of the way to a quieter frame's level the floor
// moves in one frame.
const floorFall = 0.5

// silenceDB is the level given to an all-zero frame.
const silenceDB = -120.0

// Detector finds speech in a stream of frames. Create it with [New].
type Detector struct {
	cfg Config

	hangSamples int64
	hp          biquad

	pos      int64 // samples processed
	started  bool  // floor initialised
	floor    float64
	noiseZCR float64 // crossings per ms
	level    float64
	zcr      float64

	speaking bool
	run      int   // speech frames in a row while not speaking
	runStart Mark  // start of that run
	quiet    int64 // samples since the last speech frame while speaking
	lastRaw  bool

	start, end Mark
}

// New returns a detector for cfg.
func New(cfg Config) (*Detector, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: c}
	d.hangSamples = int64(c.Hangover) * int64(c.Rate) / int64(time.Second)
	if !c.NoHighPass {
		d.hp = newHighPass(c.HighPassHz, c.Rate)
	}
	d.Reset()
	return d, nil
}

// Config returns the detector's configuration with defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Reset forgets the stream: noise floor, state and offsets start again.
func (d *Detector) Reset() {
	hp := d.hp
	hp.x1, hp.x2, hp.y1, hp.y2 = 0, 0, 0, 0
	*d = Detector{cfg: d.cfg, hangSamples: d.hangSamples, hp: hp}
}

// Process analyses one frame and reports whether speech started or ended
// with it. The frame must have the configured rate and hold at most 20 ms;
// a shorter last frame is fine. Process does not keep f.
func (d *Detector) Process(f *media.Frame) (Event, error) {
	if f == nil {
		return None, ErrFrameSize
	}
	if f.Rate != d.cfg.Rate {
		return None, fmt.Errorf("%w: frame %d Hz, detector %d Hz", ErrRate, f.Rate, d.cfg.Rate)
	}
	if len(f.Samples) == 0 || len(f.Samples) > media.SamplesPerFrame(d.cfg.Rate) {
		return None, fmt.Errorf("%w: %d samples at %d Hz", ErrFrameSize, len(f.Samples), d.cfg.Rate)
	}
	n := int64(len(f.Samples))
	here, after := d.mark(f, 0), d.mark(f, n)
	raw := d.classify(f.Samples)
	d.lastRaw = raw
	d.pos += n

	ev := None
	if !d.speaking {
		if raw {
			if d.run == 0 {
				d.runStart = here
			}
			d.run++
			if d.run >= d.cfg.Onset {
				d.speaking = true
				d.quiet = 0
				d.start = d.runStart
				d.end = after
				ev = SpeechStart
			}
		} else {
			d.run = 0
		}
		return ev, nil
	}
	if raw {
		d.quiet = 0
		d.end = after
		return None, nil
	}
	d.quiet += n
	if d.quiet >= d.hangSamples {
		d.speaking = false
		d.run = 0
		return SpeechEnd, nil
	}
	return None, nil
}

// mark returns the Mark of sample i of f, f not yet counted in d.pos.
func (d *Detector) mark(f *media.Frame, i int64) Mark {
	off := time.Duration((d.pos + i) * int64(time.Second) / int64(d.cfg.Rate))
	m := Mark{Offset: off}
	if !f.Time.IsZero() {
		m.Time = f.Time.Add(time.Duration(i * int64(time.Second) / int64(d.cfg.Rate)))
	}
	return m
}

// classify measures the frame, updates the noise floor and reports whether
// the frame is a speech frame.
func (d *Detector) classify(s []int16) bool {
	var sum float64
	cross := 0
	if d.cfg.NoHighPass {
		prev := s[0]
		for _, v := range s {
			x := float64(v)
			sum += x * x
			if (v ^ prev) < 0 {
				cross++
			}
			prev = v
		}
	} else {
		h := &d.hp
		b0, b1, b2, a1, a2 := h.b0, h.b1, h.b2, h.a1, h.a2
		x1, x2, y1, y2 := h.x1, h.x2, h.y1, h.y2
		for _, v := range s {
			x := float64(v)
			y := b0*x + b1*x1 + b2*x2 - a1*y1 - a2*y2
			if (y < 0) != (y1 < 0) {
				cross++
			}
			x2, x1, y2, y1 = x1, x, y1, y
			sum += y * y
		}
		h.x1, h.x2, h.y1, h.y2 = x1, x2, y1, y2
	}
	ms := sum / float64(len(s))
	level := silenceDB
	if ms > 1e-3 {
		level = 10*math.Log10(ms) - 90.30899869919435 // 20*log10(32768)
	}
	durMS := float64(len(s)) * 1000 / float64(d.cfg.Rate)
	zcr := float64(cross) / durMS
	d.level, d.zcr = level, zcr

	if !d.started {
		d.started = true
		d.floor = math.Max(level, d.cfg.MinFloorDB)
		d.noiseZCR = zcr
		return false
	}
	snr := level - d.floor
	speech := snr > d.cfg.ThresholdDB
	if speech && d.cfg.ZCR && snr < d.cfg.ThresholdDB+d.cfg.ZCRMarginDB {
		// A weak frame must not look like the background to be speech.
		dz := math.Abs(zcr - d.noiseZCR)
		speech = dz > 0.25*d.noiseZCR+0.2
	}

	// Noise floor: fast down, slow up, slower still under speech.
	sec := durMS / 1000
	switch {
	case level < d.floor:
		d.floor += (level - d.floor) * floorFall
	case speech:
		d.floor += math.Min(level-d.floor, d.cfg.SpeechRise*sec)
	default:
		d.floor += math.Min(level-d.floor, d.cfg.FloorRise*sec)
	}
	if d.floor < d.cfg.MinFloorDB {
		d.floor = d.cfg.MinFloorDB
	}
	if !speech {
		d.noiseZCR += (zcr - d.noiseZCR) * 0.05
	}
	return speech
}

// Speaking reports whether the detector is in speech, hangover included.
func (d *Detector) Speaking() bool { return d.speaking }

// SpeechFrame reports whether the last frame, on its own, looked like speech
// (before onset and hangover smoothing).
func (d *Detector) SpeechFrame() bool { return d.lastRaw }

// Start returns where the current or last speech began: the start of the
// first of the Onset frames that triggered SpeechStart.
func (d *Detector) Start() Mark { return d.start }

// End returns where the current or last speech's last speech frame ended.
// After SpeechEnd it is the true end of speech, Hangover before the event.
func (d *Detector) End() Mark { return d.end }

// Offset returns how much audio has been processed since New or Reset.
func (d *Detector) Offset() time.Duration {
	return time.Duration(d.pos * int64(time.Second) / int64(d.cfg.Rate))
}

// Level returns the last frame's energy in dBFS (a full-scale square wave is
// 0 dBFS; an all-zero frame is -120).
func (d *Detector) Level() float64 { return d.level }

// NoiseFloor returns the current noise floor estimate in dBFS.
func (d *Detector) NoiseFloor() float64 { return d.floor }

// biquad is a second-order IIR filter with its state.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

// newHighPass returns a Butterworth high-pass filter (Q = 1/√2) with
// cut-off fc Hz at rate Hz, after the RBJ audio EQ cookbook.
func newHighPass(fc float64, rate int) biquad {
	w0 := 2 * math.Pi * fc / float64(rate)
	cos, alpha := math.Cos(w0), math.Sin(w0)/math.Sqrt2
	a0 := 1 + alpha
	return biquad{
		b0: (1 + cos) / 2 / a0,
		b1: -(1 + cos) / a0,
		b2: (1 + cos) / 2 / a0,
		a1: -2 * cos / a0,
		a2: (1 - alpha) / a0,
	}
}

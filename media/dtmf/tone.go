package dtmf

import (
	"fmt"
	"math"
	"time"
)

// Row (low group) and column (high group) frequencies of the DTMF keypad
// (ITU-T Q.23), in Hz.
var (
	LowFreqs  = [4]float64{697, 770, 852, 941}
	HighFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad gives, for events 0–15, the row and column of the key.
var keypad = [16][2]uint8{
	{3, 1},                 // 0
	{0, 0}, {0, 1}, {0, 2}, // 1 2 3
	{1, 0}, {1, 1}, {1, 2}, // 4 5 6
	{2, 0}, {2, 1}, {2, 2}, // 7 8 9
	{3, 0}, {3, 2}, // * #
	{0, 3}, {1, 3}, {2, 3}, {3, 3}, // A B C D
}

// eventAt is the inverse of keypad.
var eventAt = func() (t [4][4]Event) {
	for e, rc := range keypad {
		t[rc[0]][rc[1]] = Event(e)
	}
	return t
}()

// Freqs returns the low and high frequency of a DTMF event, in Hz, or an
// error wrapping [ErrNotDigit] for events other than 0–15.
func Freqs(e Event) (low, high float64, err error) {
	if int(e) >= len(keypad) {
		return 0, 0, fmt.Errorf("%w: %s", ErrNotDigit, e)
	}
	rc := keypad[e]
	return LowFreqs[rc[0]], HighFreqs[rc[1]], nil
}

// ZeroDBm0 is the peak amplitude, in 16-bit linear PCM, of a sine wave at
// 0 dBm0: G.711 A-law's full scale (32768) is a sine at +3.14 dBm0.
const ZeroDBm0 = 22767.0

// ToneConfig configures a [Generator]. Zero fields take the defaults.
type ToneConfig struct {
	// Rate is the sample rate in Hz, 8000 to 48000. Default 8000.
	Rate int
	// Level is the level of each of the two tones in dBm0 (Q.23 senders
	// use about -10 to -4). Default -7 dBm0. It must be below -3 dBm0 so
	// that the sum of the tones does not clip.
	Level float64
	// Twist is how much louder the high-group tone is than the low-group
	// tone, in dB (negative: quieter). Default 0.
	Twist float64
	// Duration is the length of each tone of [Generator.AppendDigits].
	// Default 100 ms.
	Duration time.Duration
	// Pause is the silence after each tone of [Generator.AppendDigits].
	// Default 100 ms.
	Pause time.Duration
}

// Generator makes DTMF tones: the sum of a low-group and a high-group sine,
// for sending DTMF in band and for tests.
type Generator struct {
	cfg       ToneConfig
	low, high float64 // peak amplitudes in PCM units
}

// NewGenerator returns a Generator for cfg, or an error wrapping
// [ErrConfig].
func NewGenerator(cfg ToneConfig) (*Generator, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Level == 0 {
		cfg.Level = -7
	}
	if cfg.Duration == 0 {
		cfg.Duration = 100 * time.Millisecond
	}
	if cfg.Pause == 0 {
		cfg.Pause = 100 * time.Millisecond
	}
	if cfg.Rate < 8000 || cfg.Rate > 48000 {
		return nil, fmt.Errorf("%w: rate %d Hz", ErrConfig, cfg.Rate)
	}
	lo := ZeroDBm0 * math.Pow(10, cfg.Level/20)
	hi := lo * math.Pow(10, cfg.Twist/20)
	if math.IsNaN(lo+hi) || lo+hi > 32767 || cfg.Level < -80 || cfg.Twist < -40 {
		return nil, fmt.Errorf("%w: level %g dBm0 twist %g dB clips or is out of range", ErrConfig, cfg.Level, cfg.Twist)
	}
	if cfg.Duration < 0 || cfg.Pause < 0 {
		return nil, fmt.Errorf("%w: negative duration or pause", ErrConfig)
	}
	return &Generator{cfg: cfg, low: lo, high: hi}, nil
}

// AppendTone appends to dst the tone of event e lasting d (rounded to whole
// samples). Events other than the 16 DTMF keys are an error wrapping
// [ErrNotDigit].
func (g *Generator) AppendTone(dst []int16, e Event, d time.Duration) ([]int16, error) {
	fl, fh, err := Freqs(e)
	if err != nil {
		return dst, err
	}
	if d < 0 || d > time.Hour {
		return dst, fmt.Errorf("%w: tone duration %v", ErrConfig, d)
	}
	n := int(ticks(d, g.cfg.Rate))
	wl := 2 * math.Pi * fl / float64(g.cfg.Rate)
	wh := 2 * math.Pi * fh / float64(g.cfg.Rate)
	for i := range n {
		v := g.low*math.Sin(wl*float64(i)) + g.high*math.Sin(wh*float64(i))
		dst = append(dst, int16(math.Round(v)))
	}
	return dst, nil
}

// AppendSilence appends d of silence to dst.
func (g *Generator) AppendSilence(dst []int16, d time.Duration) []int16 {
	n := int(ticks(d, g.cfg.Rate))
	for range n {
		dst = append(dst, 0)
	}
	return dst
}

// AppendDigits appends the tones of a string of keys ("0"–"9", "*", "#",
// "A"–"D"), each lasting the configured Duration and followed by the
// configured Pause. A character that is not a key is an error wrapping
// [ErrNotDigit].
func (g *Generator) AppendDigits(dst []int16, keys string) ([]int16, error) {
	for _, r := range keys {
		e, err := ParseDigit(r)
		if err != nil {
			return dst, err
		}
		if dst, err = g.AppendTone(dst, e, g.cfg.Duration); err != nil {
			return dst, err
		}
		dst = g.AppendSilence(dst, g.cfg.Pause)
	}
	return dst, nil
}

// Rate returns the sample rate of the generator in Hz.
func (g *Generator) Rate() int { return g.cfg.Rate }

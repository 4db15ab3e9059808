package vad

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
)

// gen makes synthetic 20 ms frames: white noise at a level, optionally
// with a 500 Hz tone (passes the high-pass filter) standing in for speech.
type gen struct {
	rate  int
	r     *rand.Rand
	phase float64
	f     *media.Frame
}

func newGen(rate int) *gen {
	return &gen{rate: rate, r: rand.New(rand.NewPCG(1, 2)), f: media.NewFrame(rate)}
}

// frame returns the next frame: noise at noiseDB dBFS (RMS, where 0 dBFS is
// a full-scale square wave) plus a tone at toneDB dBFS; -inf leaves a part
// out.
func (g *gen) frame(noiseDB, toneDB float64) *media.Frame {
	na := 32768 * math.Pow(10, noiseDB/20)
	ta := 32768 * math.Pow(10, toneDB/20) * math.Sqrt2
	for i := range g.f.Samples {
		v := g.r.NormFloat64()*na + ta*math.Sin(g.phase)
		g.phase += 2 * math.Pi * 500 / float64(g.rate)
		g.f.Samples[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return g.f
}

var off = math.Inf(-1)

// feed processes n frames and returns the events with the frame index
// (counted from start) each came with.
func feed(t *testing.T, p interface {
	Process(*media.Frame) (Event, error)
}, g *gen, n, start int, noiseDB, toneDB float64) (evs []Event, at []int) {
	t.Helper()
	for i := range n {
		ev, err := p.Process(g.frame(noiseDB, toneDB))
		if err != nil {
			t.Fatal(err)
		}
		if ev != None {
			evs = append(evs, ev)
			at = append(at, start+i)
		}
	}
	return evs, at
}

func frames(n int) time.Duration { return time.Duration(n) * media.FrameDuration }

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"rate":      {Rate: 44100},
		"norate":    {},
		"threshold": {Rate: 8000, ThresholdDB: -1},
		"onset":     {Rate: 8000, Onset: -1},
		"hangover":  {Rate: 8000, Hangover: -time.Second},
		"floor":     {Rate: 8000, MinFloorDB: 3},
		"nan":       {Rate: 8000, SpeechRise: math.NaN()},
		"highpass":  {Rate: 8000, HighPassHz: 3000},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New error %v, want ErrConfig", name, err)
		}
	}
	for name, c := range map[string]EndpointConfig{
		"short":    {VAD: Config{Rate: 8000}, Silence: 100 * time.Millisecond},
		"negative": {VAD: Config{Rate: 8000}, Silence: -time.Second},
		"vad":      {VAD: Config{Rate: 1}},
	} {
		if _, err := NewEndpointer(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: NewEndpointer error %v, want ErrConfig", name, err)
		}
	}
	d, err := New(Config{Rate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Config(); c.ThresholdDB != DefaultThresholdDB || c.Onset != DefaultOnset || c.Hangover != DefaultHangover {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestProcessErrors(t *testing.T) {
	d, err := New(Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*media.Frame{
		"nil":   nil,
		"empty": {Rate: 8000},
		"long":  {Rate: 8000, Samples: make([]int16, 161)},
	} {
		if _, err := d.Process(f); !errors.Is(err, ErrFrameSize) {
			t.Errorf("%s: error %v, want ErrFrameSize", name, err)
		}
	}
	if _, err := d.Process(media.NewFrame(16000)); !errors.Is(err, ErrRate) {
		t.Errorf("16 kHz frame: error %v, want ErrRate", err)
	}
	if d.Offset() != 0 {
		t.Errorf("rejected frames moved the offset to %v", d.Offset())
	}
	// A short last frame is fine and counts for its duration.
	if _, err := d.Process(&media.Frame{Rate: 8000, Samples: make([]int16, 80)}); err != nil {
		t.Fatal(err)
	}
	if d.Offset() != 10*time.Millisecond {
		t.Errorf("offset %v after 10 ms frame", d.Offset())
	}
}

func TestOnset(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		for _, onset := range []int{1, 3} {
			d, err := New(Config{Rate: rate, Onset: onset})
			if err != nil {
				t.Fatal(err)
			}
			g := newGen(rate)
			if evs, _ := feed(t, d, g, 50, 0, -50, off); len(evs) != 0 {
				t.Fatalf("rate %d: events %v on noise", rate, evs)
			}
			// A burst one frame shorter than the onset does not start speech.
			if onset > 1 {
				if evs, _ := feed(t, d, g, onset-1, 50, -50, -20); len(evs) != 0 {
					t.Errorf("rate %d onset %d: short burst gave %v", rate, onset, evs)
				}
				feed(t, d, g, 20, 50, -50, off)
			}
			first := 50 + 20*min(onset-1, 1) + onset - 1
			evs, at := feed(t, d, g, 10, first, -50, -20)
			if len(evs) != 1 || evs[0] != SpeechStart || at[0] != first+onset-1 {
				t.Fatalf("rate %d onset %d: events %v at %v, want SpeechStart at %d", rate, onset, evs, at, first+onset-1)
			}
			if got, want := d.Start().Offset, frames(first); got != want {
				t.Errorf("rate %d onset %d: Start %v, want %v (back-dated to the first speech frame)", rate, onset, got, want)
			}
			if !d.Speaking() || !d.SpeechFrame() {
				t.Errorf("rate %d: not speaking after onset", rate)
			}
		}
	}
}

func TestHangover(t *testing.T) {
	const hang = 200 * time.Millisecond
	// Without the high-pass filter: the filter rings for a frame after the
	// abrupt end of the test tone, which real speech does not do.
	d, err := New(Config{Rate: 8000, Hangover: hang, NoHighPass: true})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8000)
	feed(t, d, g, 50, 0, -50, off)
	feed(t, d, g, 50, 50, -50, -20) // speech frames 50..99
	// A pause shorter than the hangover keeps speech on.
	if evs, _ := feed(t, d, g, 9, 100, -50, off); len(evs) != 0 {
		t.Fatalf("180 ms pause gave %v", evs)
	}
	feed(t, d, g, 20, 109, -50, -20) // speech frames 109..128
	evs, at := feed(t, d, g, 30, 129, -50, off)
	// SpeechEnd comes with the frame that completes 200 ms of non-speech:
	// the 10th after the last speech frame.
	if len(evs) != 1 || evs[0] != SpeechEnd || at[0] != 138 {
		t.Fatalf("events %v at %v, want SpeechEnd at 138", evs, at)
	}
	if got := d.End().Offset; got != frames(129) {
		t.Errorf("End %v, want %v (end of the last speech frame)", got, frames(129))
	}
	if got := d.Start().Offset; got != frames(50) {
		t.Errorf("Start %v, want %v", got, frames(50))
	}
}

func TestNoiseFloor(t *testing.T) {
	d, err := New(Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8000)
	feed(t, d, g, 100, 0, -50, off)
	if f := d.NoiseFloor(); f < -53 || f > -49 {
		t.Errorf("floor %.1f dBFS in -50 dBFS noise", f)
	}
	// The noise steps up by 30 dB and stays: whatever the detector makes of
	// the step, it must end speech within (30-6) dB / 4 dB/s = 6 s plus a
	// margin and then stay quiet.
	evs, at := feed(t, d, g, 500, 100, -20, off)
	if n := len(evs); n == 0 || evs[n-1] != SpeechEnd || at[n-1] > 100+400 {
		t.Fatalf("after a 30 dB noise step: events %v at frames %v, want a final SpeechEnd within 8 s", evs, at)
	}
	if evs, _ := feed(t, d, g, 500, 600, -20, off); len(evs) != 0 {
		t.Errorf("events %v in steady loud noise", evs)
	}
	if f := d.NoiseFloor(); f < -23 || f > -19 {
		t.Errorf("floor %.1f dBFS in -20 dBFS noise", f)
	}
	// Back down: the floor follows within a few frames and a tone 15 dB
	// over the quiet noise is speech again.
	feed(t, d, g, 10, 1100, -50, off)
	if f := d.NoiseFloor(); f > -45 {
		t.Errorf("floor %.1f dBFS 200 ms after the noise dropped to -50 dBFS", f)
	}
	if evs, _ := feed(t, d, g, 10, 1110, -50, -35); len(evs) != 1 || evs[0] != SpeechStart {
		t.Errorf("tone 15 dB over the floor after the drop: events %v", evs)
	}
}

func TestMinFloor(t *testing.T) {
	d, err := New(Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8000)
	// Digital silence, then a tone below MinFloorDB+ThresholdDB: not speech.
	feed(t, d, g, 50, 0, off, off)
	if f := d.NoiseFloor(); f != DefaultMinFloorDB {
		t.Errorf("floor %.1f dBFS in digital silence, want %v", f, DefaultMinFloorDB)
	}
	if d.Level() != silenceDB {
		t.Errorf("level of an all-zero frame %.1f", d.Level())
	}
	if evs, _ := feed(t, d, g, 50, 50, off, -58); len(evs) != 0 {
		t.Errorf("tone at -58 dBFS gave %v", evs)
	}
}

func TestMarkTime(t *testing.T) {
	d, err := New(Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8000)
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 40 {
		tone := off
		if i >= 20 {
			tone = -20
		}
		f := g.frame(-50, tone)
		f.Time = t0.Add(frames(i))
		if ev, err := d.Process(f); err != nil {
			t.Fatal(err)
		} else if ev == SpeechStart {
			if got, want := d.Start().Time, t0.Add(frames(20)); !got.Equal(want) {
				t.Errorf("Start().Time %v, want %v", got, want)
			}
			return
		}
	}
	t.Fatal("no SpeechStart")
}

func TestEndpointer(t *testing.T) {
	e, err := NewEndpointer(EndpointConfig{VAD: Config{Rate: 8000, NoHighPass: true}, Silence: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8000)
	var evs []Event
	var at []int
	add := func(n, start int, tone float64) {
		ev, a := feed(t, e, g, n, start, -50, tone)
		evs, at = append(evs, ev...), append(at, a...)
	}
	add(50, 0, off)
	if e.Heard() || e.Elapsed() != time.Second {
		t.Errorf("Heard %v Elapsed %v after 1 s of noise", e.Heard(), e.Elapsed())
	}
	add(50, 50, -20)  // speech 50..99
	add(20, 100, off) // 400 ms pause: SpeechEnd, but the utterance goes on
	add(25, 120, -20) // speech 120..144
	add(60, 145, off) // silence: EndOfUtterance 700 ms after frame 144 ends
	want := []Event{SpeechStart, SpeechEnd, SpeechStart, SpeechEnd, EndOfUtterance}
	wantAt := []int{52, 111, 122, 156, 179}
	if len(evs) != len(want) {
		t.Fatalf("events %v at %v, want %v at %v", evs, at, want, wantAt)
	}
	for i := range want {
		if evs[i] != want[i] || at[i] != wantAt[i] {
			t.Fatalf("events %v at %v, want %v at %v", evs, at, want, wantAt)
		}
	}
	if !e.Heard() || e.InUtterance() {
		t.Errorf("after EndOfUtterance: Heard %v InUtterance %v", e.Heard(), e.InUtterance())
	}
	// New turn: nothing heard, the no-input clock restarts, floor kept.
	e.NewTurn()
	floor := e.Detector().NoiseFloor()
	if e.Heard() || e.Elapsed() != 0 {
		t.Errorf("after NewTurn: Heard %v Elapsed %v", e.Heard(), e.Elapsed())
	}
	add(25, 205, off)
	if e.Elapsed() != 500*time.Millisecond || math.Abs(e.Detector().NoiseFloor()-floor) > 3 {
		t.Errorf("Elapsed %v, floor %.1f (was %.1f)", e.Elapsed(), e.Detector().NoiseFloor(), floor)
	}
	e.Reset()
	if e.Detector().Offset() != 0 || e.Heard() || e.Elapsed() != 0 {
		t.Error("Reset kept state")
	}
}

func TestZeroAlloc(t *testing.T) {
	for _, zcr := range []bool{false, true} {
		e, err := NewEndpointer(EndpointConfig{VAD: Config{Rate: 16000, ZCR: zcr}})
		if err != nil {
			t.Fatal(err)
		}
		g := newGen(16000)
		loud, quiet := media.NewFrame(16000), media.NewFrame(16000)
		loud.CopyFrom(g.frame(-50, -20))
		quiet.CopyFrom(g.frame(-50, off))
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			f := quiet
			if i%100 < 40 {
				f = loud
			}
			i++
			if _, err := e.Process(f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("zcr %v: %.1f allocations per frame", zcr, allocs)
		}
	}
}

func TestEventString(t *testing.T) {
	for ev, s := range map[Event]string{None: "None", SpeechStart: "SpeechStart", SpeechEnd: "SpeechEnd",
		EndOfUtterance: "EndOfUtterance", Event(9): "Event(9)"} {
		if ev.String() != s {
			t.Errorf("%d: %q, want %q", int(ev), ev.String(), s)
		}
	}
}

// FuzzProcess feeds arbitrary samples, rates and lengths: Process must
// return an error or an event, never panic, and keep its floor finite.
func FuzzProcess(f *testing.F) {
	f.Add([]byte{}, uint16(8000), true)
	f.Add(make([]byte, 320), uint16(8000), false)
	f.Add(make([]byte, 641), uint16(61000), true)
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0xff, 0x7f}, uint16(8000), false)
	f.Fuzz(func(t *testing.T, data []byte, rate uint16, zcr bool) {
		e, err := NewEndpointer(EndpointConfig{VAD: Config{Rate: 8000, ZCR: zcr}})
		if err != nil {
			t.Fatal(err)
		}
		s := make([]int16, len(data)/2)
		for i := range s {
			s[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		for len(s) > 0 {
			n := min(len(s), 1+int(rate)%200)
			fr := 8000
			if rate > 60000 {
				fr = int(rate) // a wrong rate
			}
			ev, err := e.Process(&media.Frame{Rate: fr, Samples: s[:n]})
			if err != nil {
				if ev != None {
					t.Fatalf("event %v with error %v", ev, err)
				}
				if !errors.Is(err, ErrRate) && !errors.Is(err, ErrFrameSize) {
					t.Fatalf("unexpected error %v", err)
				}
			}
			if fl := e.Detector().NoiseFloor(); math.IsNaN(fl) || math.IsInf(fl, 0) {
				t.Fatalf("noise floor %v", fl)
			}
			s = s[n:]
		}
	})
}

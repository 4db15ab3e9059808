//go:build cgo_refs

package resample

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/media/resample"
)

// tier is one comparable quality level across the three engines.
type tier struct {
	name   string
	parole resample.Quality
	speex  int
	soxr   int
	minSNR float64 // below this a result is wrong, not just worse
}

var tiers = []tier{
	{"low", resample.Low, 3, SoxrLQ, 40},
	{"medium", resample.Medium, 5, SoxrMQ, 55},
	{"high", resample.High, 8, SoxrHQ, 55},
}

type maker struct {
	engine, quality string
	mk              func(in, out int) (Engine, error)
}

func makers(t tier) []maker {
	return []maker{
		{"parole", t.parole.String(), func(in, out int) (Engine, error) { return NewParole(in, out, t.parole) }},
		{"speexdsp", fmt.Sprint("q", t.speex), func(in, out int) (Engine, error) { return NewSpeex(in, out, t.speex) }},
		{"soxr", map[int]string{SoxrLQ: "LQ", SoxrMQ: "MQ", SoxrHQ: "HQ"}[t.soxr], func(in, out int) (Engine, error) { return NewSoxr(in, out, t.soxr) }},
	}
}

// TestCompare runs parole, speexdsp and soxr at comparable qualities on the
// same 20 ms-frame streams and prints, per rate pair: time per frame (best
// of several timed runs, all engines in one process), speed relative to
// parole, rejection of images/aliases beyond 1.1× the lower Nyquist
// frequency, and SNR of five passband tones against the analytic tones. It
// fails only on wrong results (an SNR below the tier's floor), never on
// timings.
func TestCompare(t *testing.T) {
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-11s %-8s %-8s %-7s %10s %9s %11s %8s %8s\n", "pair", "tier", "engine", "quality", "ns/frame", "×parole", "reject dB", "SNR dB", "delay")
	for _, p := range Pairs {
		in, out := p[0], p[1]
		pcm := speechLike(in)
		for _, ti := range tiers {
			var paroleNs time.Duration
			for _, m := range makers(ti) {
				e, err := m.mk(in, out)
				if err != nil {
					t.Fatal(err)
				}
				FrameTime(e, pcm, in, 200, 1) // warm up
				ns := FrameTime(e, pcm, in, 2000, 5)
				e.Close()
				if m.engine == "parole" {
					paroleNs = ns
				}
				e, _ = m.mk(in, out)
				snr, delay := SNR(e, in, out)
				if s, ok := e.(*Soxr); ok && s.Err != nil {
					t.Errorf("%s: %v", m.engine, s.Err)
				}
				e.Close()
				rej := Rejection(func() Engine { e, _ := m.mk(in, out); return e }, in, out, 1.1, 25)
				fmt.Fprintf(&tab, "%-11s %-8s %-8s %-7s %10d %9.2f %11.1f %8.1f %8.1f\n",
					fmt.Sprintf("%d→%d", in/1000, out/1000), ti.name, m.engine, m.quality, ns.Nanoseconds(),
					float64(ns)/float64(paroleNs), rej, snr, delay)
				if snr < ti.minSNR {
					t.Errorf("%d→%d %s %s: SNR %.1f dB below %.0f dB: wrong output", in, out, m.engine, m.quality, snr, ti.minSNR)
				}
			}
		}
	}
	t.Log(tab.String())
}

// BenchmarkSpeex measures speexdsp per pair at qualities 3, 5 and 8.
func BenchmarkSpeex(b *testing.B) {
	for _, ti := range tiers {
		for _, p := range Pairs {
			b.Run(fmt.Sprintf("q%d/%dto%d", ti.speex, p[0]/1000, p[1]/1000), func(b *testing.B) {
				e, err := NewSpeex(p[0], p[1], ti.speex)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				benchEngine(b, e, p[0])
			})
		}
	}
}

// BenchmarkSoxr measures soxr per pair with the LQ, MQ and HQ recipes.
func BenchmarkSoxr(b *testing.B) {
	for _, ti := range tiers {
		for _, p := range Pairs {
			name := map[int]string{SoxrLQ: "LQ", SoxrMQ: "MQ", SoxrHQ: "HQ"}[ti.soxr]
			b.Run(fmt.Sprintf("%s/%dto%d", name, p[0]/1000, p[1]/1000), func(b *testing.B) {
				e, err := NewSoxr(p[0], p[1], ti.soxr)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				benchEngine(b, e, p[0])
			})
		}
	}
}

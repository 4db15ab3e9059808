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
// same 20 ms-frame streams and prints, per rate pair and engine:
//
//   - ns/frame: the best of 7 timed rounds of 400 frames; the three engines
//     of a tier take turns round by round, so a busy spell of the machine
//     hits them alike (TestInstructions counts instructions instead);
//   - ×parole: that time over parole's at the same tier;
//   - gain0.9: the level of a tone at 0.9 of the lower Nyquist frequency
//     (passband droop);
//   - rej≥1.0, rej≥1.1: [Rejection] with the edge at 1.0 and 1.1 times the
//     lower Nyquist frequency: the same tones for every engine;
//   - SNR of five passband tones against the analytic tones, and the delay
//     measured from them.
//
// After each pair a verdict line names the cheapest parole tier whose
// rejection beyond 1.1×Nyquist is at least speexdsp q5's and gives its time
// against speexdsp q5 and soxr MQ. The test fails only on wrong results (an
// SNR below the tier's floor), never on timings.
func TestCompare(t *testing.T) {
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-7s %-7s %-9s %-4s %9s %8s %8s %8s %8s %7s %7s\n", "pair", "tier", "engine", "q", "ns/frame", "×parole", "gain0.9", "rej≥1.0", "rej≥1.1", "SNR", "delay")
	for _, p := range Pairs {
		in, out := p[0], p[1]
		pcm := speechLike(in)
		nyq := float64(min(in, out)) / 2
		type result struct {
			ns       time.Duration
			rej11    float64
			engine   string
			tierName string
		}
		var res []result
		for _, ti := range tiers {
			ms := makers(ti)
			es := make([]Engine, len(ms))
			best := make([]time.Duration, len(ms))
			for i, m := range ms {
				e, err := m.mk(in, out)
				if err != nil {
					t.Fatal(err)
				}
				es[i] = e
				FrameTime(e, pcm, in, 100, 1) // warm up
				best[i] = time.Duration(1<<63 - 1)
			}
			for range 7 {
				for i, e := range es {
					best[i] = min(best[i], FrameTime(e, pcm, in, 400, 1))
				}
			}
			for i, m := range ms {
				es[i].Close()
				mk := func() Engine { e, _ := m.mk(in, out); return e }
				e := mk()
				snr, delay := SNR(e, in, out)
				if s, ok := e.(*Soxr); ok && s.Err != nil {
					t.Errorf("%s: %v", m.engine, s.Err)
				}
				e.Close()
				g := Gain(mk, in, out, 0.9*nyq)
				r10 := Rejection(mk, in, out, 1.0, 25)
				r11 := Rejection(mk, in, out, 1.1, 25)
				res = append(res, result{best[i], r11, m.engine + " " + m.quality, ti.name})
				fmt.Fprintf(&tab, "%-7s %-7s %-9s %-4s %9d %8.2f %8.3f %8.1f %8.1f %7.1f %7.1f\n",
					fmt.Sprintf("%d→%d", in/1000, out/1000), ti.name, m.engine, m.quality, best[i].Nanoseconds(),
					float64(best[i])/float64(best[0]), g, r10, r11, snr, delay)
				if snr < ti.minSNR {
					t.Errorf("%d→%d %s %s: SNR %.1f dB below %.0f dB: wrong output", in, out, m.engine, m.quality, snr, ti.minSNR)
				}
			}
		}
		var speex5, soxrMQ result
		for _, r := range res {
			switch r.engine {
			case "speexdsp q5":
				speex5 = r
			case "soxr MQ":
				soxrMQ = r
			}
		}
		verdict := "no parole tier reaches speexdsp q5's rejection beyond 1.1×Nyquist"
		for _, r := range res {
			if strings.HasPrefix(r.engine, "parole") && r.rej11 >= speex5.rej11 {
				verdict = fmt.Sprintf("parole %s rejects %.1f dB ≥ speexdsp q5's %.1f dB in %.2f× its time; %.2f× soxr MQ's time",
					r.tierName, r.rej11, speex5.rej11, float64(r.ns)/float64(speex5.ns), float64(r.ns)/float64(soxrMQ.ns))
				break
			}
		}
		fmt.Fprintf(&tab, "%d→%d: %s\n", in/1000, out/1000, verdict)
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

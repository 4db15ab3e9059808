package resample

import (
	"fmt"
	"math"
	"testing"
)

var testRates = []int{8000, 16000, 24000, 48000}

// documented holds, per quality, the figures the package doc states, which
// the measurements must meet: passband ripple (peak to peak, dB), stopband
// attenuation (dB) and round-trip SNR (dB).
var documented = map[Quality]struct{ ripple, stop, snr float64 }{
	Low:    {ripple: 0.02, stop: 58, snr: 70},
	Medium: {ripple: 0.001, stop: 110, snr: 80},
	High:   {ripple: 0.001, stop: 100, snr: 83},
}

// TestFrequencyResponse sweeps tones over the input band of every rate pair
// and quality and measures the passband ripple (level of the tone itself up
// to the passband edge) and the stopband attenuation (level of every image
// and alias of tones whose images or aliases fall beyond the stopband edge).
func TestFrequencyResponse(t *testing.T) {
	steps := 17
	if testing.Short() {
		steps = 11
	}
	for _, q := range []Quality{Low, Medium, High} {
		for _, in := range testRates {
			for _, out := range testRates {
				if in == out {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d-%d", q, in, out), func(t *testing.T) {
					p := spec(q, in, out)
					nyq := float64(min(in, out)) / 2
					fp, fs := p.passband*nyq, p.stopband*nyq
					minG, maxG, worst := math.Inf(1), math.Inf(-1), math.Inf(-1)
					worstF := 0.0
					for i := range steps {
						f := float64(in) / 2 * (0.02 + 0.96*float64(i)/float64(steps-1))
						f = coprimeTone(f, in, out)
						inPass := f <= fp
						// images of a passband tone land at in−f and beyond
						// (upsampling); tones beyond fs alias (downsampling).
						inStop := f >= fs
						if !inPass && !inStop {
							continue
						}
						res, ok := measureTone(in, out, q, f)
						if !ok {
							continue
						}
						if inPass && res.hasGain {
							minG, maxG = min(minG, res.gainDB), max(maxG, res.gainDB)
						}
						if inPass && float64(in)-f < fs && out > in {
							continue // image in the transition band
						}
						if res.spurDB > worst {
							worst, worstF = res.spurDB, f
						}
					}
					ripple := maxG - minG
					t.Logf("%-6s %5d→%-5d passband 0…%4.0f Hz ripple %.5f dB (%.5f…%.5f); stopband ≥%4.0f Hz attenuation %.1f dB (worst at %.0f Hz in)",
						q, in, out, fp, ripple, minG, maxG, fs, -worst, worstF)
					d := documented[q]
					if ripple > d.ripple {
						t.Errorf("passband ripple %.5f dB > documented %.5f dB", ripple, d.ripple)
					}
					if -worst < d.stop {
						t.Errorf("stopband attenuation %.1f dB < documented %.1f dB", -worst, d.stop)
					}
				})
			}
		}
	}
}

// TestRoundTripSNR converts a passband tone from a to b and back and compares
// it with the analytic tone delayed by both resamplers' delays.
func TestRoundTripSNR(t *testing.T) {
	for _, q := range []Quality{Low, Medium, High} {
		for _, a := range testRates {
			for _, b := range testRates {
				if a == b {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d-%d-%d", q, a, b, a), func(t *testing.T) {
					r1, _ := New(a, b, q)
					r2, _ := New(b, a, q)
					f := coprimeTone(0.3*float64(min(a, b))/2, a, b)
					const amp = 16384.0
					n := a / 2
					x := tone(n, a, f, amp, 0)
					y := r2.Process(nil, r1.Process(nil, x))
					delay := float64(r1.Delay())*float64(a)/float64(b) + float64(r2.Delay())
					skip := int(delay) + 200
					var sig, noise float64
					for i := skip; i < len(y); i++ {
						ref := amp * math.Sin(2*math.Pi*f*(float64(i)-delay)/float64(a))
						e := float64(y[i]) - ref
						sig += ref * ref
						noise += e * e
					}
					snr := 10 * math.Log10(sig/noise)
					t.Logf("%-6s %5d→%5d→%-5d tone %4.0f Hz SNR %.1f dB", q, a, b, a, f, snr)
					if snr < documented[q].snr {
						t.Errorf("SNR %.1f dB < documented %.1f dB", snr, documented[q].snr)
					}
				})
			}
		}
	}
}

package pacer_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/pacer"
	"github.com/parole-voice/parole/media/pacer/pacertest"
)

// BenchmarkPacerOverhead measures the pacer's own per-frame cost on a
// simulated clock: wait for the deadline, dequeue and copy a 16 kHz frame,
// update stats, call the sink, which enqueues the next frame.
func BenchmarkPacerOverhead(b *testing.B) {
	clk := pacertest.NewClock(t0)
	clk.SetAuto(true, nil)
	p := pacer.New(pacer.Config{Clock: clk, QueueFrames: 16})
	in := media.NewFrame(media.Rate16k)
	ctx := context.Background()
	for range 8 {
		if err := p.Enqueue(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	err := p.Run(ctx, func(*media.Frame) error {
		if n++; n >= b.N {
			return errDone
		}
		return p.Enqueue(ctx, in)
	})
	b.StopTimer()
	if !errors.Is(err, errDone) {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/frame")
}

// BenchmarkRealClockLateness plays 250 frames (5 s) on the real clock and
// reports how late frames reach the sink: p50, p99 and max in µs.
func BenchmarkRealClockLateness(b *testing.B) {
	const frames = 250
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		lat = lat[:0]
		p := pacer.New(pacer.Config{OnTick: func(tk pacer.Tick) { lat = append(lat, tk.Lateness) }})
		err := p.Run(context.Background(), func(*media.Frame) error {
			if len(lat) == frames {
				return errDone
			}
			return nil
		})
		if !errors.Is(err, errDone) {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	us := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(us(0.5), "p50-late-µs")
	b.ReportMetric(us(0.99), "p99-late-µs")
	b.ReportMetric(us(1), "max-late-µs")
}

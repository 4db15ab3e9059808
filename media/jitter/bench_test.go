package jitter

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkPushPop pushes and pops one 20 ms G.711 packet (160 bytes) per
// iteration, with ±10 ms of arrival jitter, in steady state.
func BenchmarkPushPop(b *testing.B) {
	buf, err := New(Config{ClockRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	jit := make([]time.Duration, 1024)
	for i := range jit {
		jit[i] = time.Duration(rng.IntN(10_000)) * time.Microsecond
	}
	hdr := rtp.Header{Version: 2, SSRC: 1}
	payload := make([]byte, 160)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		at := t0.Add(time.Duration(i)*20*time.Millisecond + jit[i&1023])
		hdr.SequenceNumber, hdr.Timestamp = uint16(i), uint32(160*i)
		_ = buf.PushHeader(&hdr, payload, at)
		for buf.Pop(at).Kind != None {
		}
		i++
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(i)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
}

// BenchmarkSettledDelay plays a 5-minute call through the buffer for each
// network jitter (standard deviation of |N(0,σ)| delay, with 1 % loss, 2 %
// reordering and 1 % duplicates) and reports the latency the buffer adds
// above the fastest path (mean and p95, in ms), the fraction of packets
// dropped as late, and the fraction of playout concealed.
func BenchmarkSettledDelay(b *testing.B) {
	for _, sd := range []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond} {
		for _, dtx := range []bool{false, true} {
			b.Run(fmt.Sprintf("sd=%v/dtx=%v", sd, dtx), func(b *testing.B) {
				tr := trace{packets: 15000, ptime: 20 * time.Millisecond, clock: 8000, base: 40 * time.Millisecond,
					sd: sd, loss: 0.01, reorder: 0.02, dup: 0.01, clean: 3, dtx: dtx}
				var r run
				var arr []sent
				b.ReportAllocs()
				for b.Loop() {
					arr, _, _ = tr.generate(rand.New(rand.NewPCG(42, uint64(sd))))
					buf, err := New(Config{ClockRate: 8000})
					if err != nil {
						b.Fatal(err)
					}
					r = play(b, buf, tr, arr)
				}
				// Skip the first 10 s while the estimate settles.
				settled := r.added[min(500, len(r.added)):]
				b.ReportMetric(float64(mean(settled))/1e6, "ms-added-mean")
				b.ReportMetric(float64(quantile(settled, 0.95))/1e6, "ms-added-p95")
				b.ReportMetric(float64(r.stats.Late)/float64(len(arr)), "late-frac")
				b.ReportMetric(float64(r.stats.Missing+r.stats.Dropped)/float64(r.stats.Popped+r.stats.Missing+r.stats.Dropped), "gap-frac")
			})
		}
	}
}

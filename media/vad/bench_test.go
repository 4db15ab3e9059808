package vad

import (
	"testing"

	"github.com/parole-voice/parole/media"
)

// BenchmarkProcess measures one 20 ms frame through an Endpointer (detector
// included): ns/frame, allocations, and x-realtime (audio seconds per wall
// second on one core). The input alternates 1 s of tone-over-noise and 1 s
// of noise so that every state is exercised.
func BenchmarkProcess(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"8k", Config{Rate: 8000}},
		{"8k-zcr", Config{Rate: 8000, ZCR: true}},
		{"8k-nohighpass", Config{Rate: 8000, NoHighPass: true}},
		{"16k", Config{Rate: 16000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := NewEndpointer(EndpointConfig{VAD: bc.cfg})
			if err != nil {
				b.Fatal(err)
			}
			g := newGen(bc.cfg.Rate)
			in := make([]*media.Frame, 100)
			for i := range in {
				tone := off
				if i < 50 {
					tone = -20
				}
				in[i] = media.NewFrame(bc.cfg.Rate)
				in[i].CopyFrom(g.frame(-50, tone))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := e.Process(in[i%len(in)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(float64(media.FrameDuration.Nanoseconds())/ns, "x-realtime")
		})
	}
}

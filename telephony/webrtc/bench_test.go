package webrtc

import (
	"math"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/g722"
	"github.com/parole-voice/parole/media/opus"
)

// BenchmarkFramePath measures the leg's codec work per 20 ms frame, both
// ways: decoding one wire packet from the page to 16 kHz PCM, and encoding
// one 16 kHz frame of the bot for the wire (Opus from a browser's 48 kHz
// encoder, G.722 and PCMU with its 8↔16 kHz resampling).
func BenchmarkFramePath(b *testing.B) {
	voice := make([]int16, 48000) // 1 s of a voiced signal at 48 kHz
	for i := range voice {
		t := float64(i) / 48000
		voice[i] = int16(6000*math.Sin(2*math.Pi*220*t) + 3000*math.Sin(2*math.Pi*660*t) + 1500*math.Sin(2*math.Pi*1320*t))
	}
	wide := make([]int16, 16000) // the same at 16 kHz
	for i := range wide {
		wide[i] = voice[3*i]
	}
	for _, name := range []string{CodecOpus, CodecG722, CodecPCMU} {
		b.Run(name, func(b *testing.B) {
			k, _ := codecByName(name)
			dec, err := newTranscoder(k, true, false)
			if err != nil {
				b.Fatal(err)
			}
			defer dec.close()
			enc, err := newTranscoder(k, false, true)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.close()
			// 50 wire packets as the page would send them.
			var packets [][]byte
			switch name {
			case CodecOpus:
				pe, err := opus.NewEncoder(48000, opus.AppVoIP)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < 50; i++ {
					p, err := pe.Encode(nil, voice[i*960:(i+1)*960])
					if err != nil {
						b.Fatal(err)
					}
					packets = append(packets, p)
				}
				pe.Close()
			case CodecG722:
				ge := g722.NewEncoder()
				for i := 0; i < 50; i++ {
					packets = append(packets, ge.Encode(nil, wide[i*320:(i+1)*320]))
				}
			default:
				narrow := make([]int16, 160)
				for i := 0; i < 50; i++ {
					for j := range narrow {
						narrow[j] = voice[i*960+6*j]
					}
					packets = append(packets, g711.EncodeUlaw(nil, narrow))
				}
			}
			pcm := make([]int16, 0, 2*frameSamples)
			payload := make([]byte, 0, 1500)
			var bytesOut int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % 50
				pcm, err = dec.decode(pcm[:0], packets[j])
				if err != nil {
					b.Fatal(err)
				}
				payload, err = enc.encode(payload[:0], wide[j*320:(j+1)*320])
				if err != nil {
					b.Fatal(err)
				}
				bytesOut += len(payload)
			}
			b.StopTimer()
			testutil.ReportFrames(b, b.N)
			b.ReportMetric(float64(bytesOut)*8/(float64(b.N)*0.02)/1000, "kbit/s-out")
		})
	}
}

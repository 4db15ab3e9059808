package opus

import (
	"strconv"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

var benchRates = []int{48000, 16000}

// BenchmarkEncode encodes 20 ms frames of a voiced signal (VoIP, default
// bitrate and complexity).
func BenchmarkEncode(b *testing.B) {
	for _, rate := range benchRates {
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			n := rate / 50
			pcm := tone(rate, rate)
			e, err := NewEncoder(rate, AppVoIP)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			pkt := make([]byte, 0, MaxPacketSize)
			frames, bytes := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				off := frames % (len(pcm) / n) * n
				if pkt, err = e.Encode(pkt[:0], pcm[off:off+n]); err != nil {
					b.Fatal(err)
				}
				bytes += len(pkt)
				frames++
			}
			testutil.ReportFrames(b, frames)
			b.ReportMetric(float64(bytes)*8/(float64(frames)*0.020)/1000, "kbit/s")
		})
	}
}

// BenchmarkDecode decodes 20 ms packets (encoded at the same rate).
func BenchmarkDecode(b *testing.B) {
	for _, rate := range benchRates {
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			n := rate / 50
			pcm := tone(rate, rate)
			e, err := NewEncoder(rate, AppVoIP)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			var packets [][]byte
			for off := 0; off+n <= len(pcm); off += n {
				p, err := e.Encode(nil, pcm[off:off+n])
				if err != nil {
					b.Fatal(err)
				}
				packets = append(packets, p)
			}
			d, err := NewDecoder(rate)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			out := make([]int16, 0, n)
			frames := 0
			b.ReportAllocs()
			for b.Loop() {
				if out, err = d.Decode(out[:0], packets[frames%len(packets)]); err != nil {
					b.Fatal(err)
				}
				frames++
			}
			testutil.ReportFrames(b, frames)
		})
	}
}

// BenchmarkConceal measures packet-loss concealment of one 20 ms frame.
func BenchmarkConceal(b *testing.B) {
	for _, rate := range benchRates {
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			n := rate / 50
			e, err := NewEncoder(rate, AppVoIP)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			p, err := e.Encode(nil, tone(rate, n))
			if err != nil {
				b.Fatal(err)
			}
			d, err := NewDecoder(rate)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			out := make([]int16, 0, n)
			frames := 0
			b.ReportAllocs()
			for b.Loop() {
				if frames%4 == 0 {
					out, err = d.Decode(out[:0], p)
				} else {
					out, err = d.DecodeLost(out[:0])
				}
				if err != nil {
					b.Fatal(err)
				}
				frames++
			}
			testutil.ReportFrames(b, frames)
		})
	}
}

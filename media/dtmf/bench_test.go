package dtmf

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
)

// benchAudio is 2 s of keys with pauses in light noise at rate Hz.
func benchAudio(tb testing.TB, rate int) []int16 {
	g, err := NewGenerator(ToneConfig{Rate: rate, Level: -10, Duration: 60 * time.Millisecond, Pause: 65 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	pcm, err := g.AppendDigits(nil, "0123456789*#ABCD")
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pcm {
		pcm[i] += int16(rng.NormFloat64() * 100)
	}
	return pcm[:len(pcm)/(rate/50)*(rate/50)]
}

func benchDetector(b *testing.B, rate int) {
	pcm := benchAudio(b, rate)
	d, _ := NewDetector(DetectorConfig{Rate: rate})
	n := rate / 50
	out := make([]Tone, 0, 64)
	frames, keys := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		off := (frames % (len(pcm) / n)) * n
		out = d.Write(out[:0], pcm[off:off+n])
		keys += len(out)
		frames++
	}
	testutil.ReportFrames(b, frames)
	if frames > 2*len(pcm)/n && keys == 0 {
		b.Fatal("no key detected")
	}
}

// BenchmarkDetector8k analyses 20 ms frames at 8 kHz.
func BenchmarkDetector8k(b *testing.B) { benchDetector(b, 8000) }

// BenchmarkDetector16k analyses 20 ms frames at 16 kHz.
func BenchmarkDetector16k(b *testing.B) { benchDetector(b, 16000) }

// TestDetectorZeroAlloc: no allocation per frame in steady state, keys
// being reported included.
func TestDetectorZeroAlloc(t *testing.T) {
	pcm := benchAudio(t, 8000)
	d, _ := NewDetector(DetectorConfig{})
	out := make([]Tone, 0, 64)
	off := 0
	allocs := testing.AllocsPerRun(500, func() {
		out = d.Write(out[:0], pcm[off:off+160])
		off = (off + 160) % len(pcm)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per frame", allocs)
	}
	r, _ := NewReceiver(ReceiverConfig{})
	s, _ := NewSender(SenderConfig{})
	pkts := make([]Packet, 0, 64)
	digits := make([]Digit, 0, 8)
	payload := make([]byte, 0, 4)
	ts := uint32(0)
	allocs = testing.AllocsPerRun(200, func() {
		pkts, _ = s.AppendEvent(pkts[:0], Event7, ts, 100*time.Millisecond)
		for _, p := range pkts {
			payload = p.AppendPayload(payload[:0])
			digits, _ = r.Receive(digits[:0], time.Time{}, Received{Timestamp: p.Timestamp, Marker: p.Marker, Payload: payload})
		}
		ts += 2000
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per RFC 4733 event", allocs)
	}
}

// BenchmarkSenderReceiver sends and receives one 100 ms RFC 4733 event per
// iteration.
func BenchmarkSenderReceiver(b *testing.B) {
	r, _ := NewReceiver(ReceiverConfig{})
	s, _ := NewSender(SenderConfig{Interval: 20 * time.Millisecond})
	pkts := make([]Packet, 0, 64)
	digits := make([]Digit, 0, 8)
	payload := make([]byte, 0, 4)
	ts := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		pkts, _ = s.AppendEvent(pkts[:0], Event7, ts, 100*time.Millisecond)
		for _, p := range pkts {
			payload = p.AppendPayload(payload[:0])
			digits, _ = r.Receive(digits[:0], time.Time{}, Received{Timestamp: p.Timestamp, Marker: p.Marker, Payload: payload})
		}
		ts += 2000
	}
}

// BenchmarkDetectionVsSNR reports the share of 50 ms keys at -10 dBm0 per
// tone detected in Gaussian white noise at several signal-to-noise ratios
// (tone power over noise power), with wrong keys counted apart.
func BenchmarkDetectionVsSNR(b *testing.B) {
	g, _ := NewGenerator(ToneConfig{Level: -10, Duration: 50 * time.Millisecond, Pause: 80 * time.Millisecond})
	clean, _ := g.AppendDigits(nil, "0123456789*#ABCD0123456789*#ABCD")
	sig := 2 * math.Pow(ZeroDBm0*math.Pow(10, -10.0/20), 2) / 2
	for _, snr := range []float64{20, 15, 12, 10, 8, 6} {
		b.Run("SNR="+strconv.Itoa(int(snr))+"dB", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, uint64(snr)))
			sigma := math.Sqrt(sig / math.Pow(10, snr/10))
			noisy := make([]int16, len(clean))
			total, right, wrong := 0, 0, 0
			for b.Loop() {
				for i, v := range clean {
					noisy[i] = int16(max(-32768, min(32767, float64(v)+rng.NormFloat64()*sigma)))
				}
				got := detectAll(b, DetectorConfig{}, noisy)
				right += matchKeys(got, "0123456789*#ABCD0123456789*#ABCD")
				wrong += len(got) - matchKeys(got, "0123456789*#ABCD0123456789*#ABCD")
				total += 32
			}
			b.ReportMetric(100*float64(right)/float64(total), "%detected")
			b.ReportMetric(float64(wrong)/float64(total), "false/key")
		})
	}
}

// matchKeys counts the keys of got that match want in order (longest
// common subsequence).
func matchKeys(got []Tone, want string) int {
	g := keys(got)
	prev := make([]int, len(want)+1)
	cur := make([]int, len(want)+1)
	for i := 1; i <= len(g); i++ {
		for j := 1; j <= len(want); j++ {
			switch {
			case g[i-1] == want[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(want)]
}

// BenchmarkTalkOff runs the detector over all the Asterisk prompts and
// reports false keys per hour of speech and the speed.
func BenchmarkTalkOff(b *testing.B) {
	var falses []string
	var speech time.Duration
	for b.Loop() {
		falses, speech = talkOff(b)
	}
	b.ReportMetric(float64(len(falses))/speech.Hours(), "false/hour")
	b.ReportMetric(speech.Minutes(), "speech-min")
	b.ReportMetric(float64(speech)*float64(b.N)/float64(b.Elapsed()), "x-realtime")
}

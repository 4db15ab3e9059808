package g722

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

// wholeFrames trims s to a whole number of 20 ms frames, so that FFmpeg
// (which encodes 320-sample frames) sees exactly the same samples.
func wholeFrames(s []int16) []int16 { return s[:len(s)/SamplesPerFrame*SamplesPerFrame] }

// inputs makes the reference signals in dir: espeak-ng speech, sox white
// noise, a loud sox sweep that clips, and synthetic square waves at full
// scale, all 16 kHz mono s16le.
func inputs(t *testing.T, dir string) map[string][]int16 {
	t.Helper()
	sox := testutil.RequireTool(t, "sox", "sox")
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	wav := filepath.Join(dir, "speech.wav")
	testutil.Run(t, espeak, "-w", wav, "-s", "160",
		"Thank you for calling. Please say the name of the person you want to reach, or press zero for the operator.")
	testutil.Run(t, sox, wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", filepath.Join(dir, "speech.raw"))
	testutil.Run(t, sox, "-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer",
		filepath.Join(dir, "noise.raw"), "synth", "3", "whitenoise", "vol", "0.6")
	testutil.Run(t, sox, "-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer",
		filepath.Join(dir, "sweep.raw"), "synth", "2", "sine", "50-7900", "gain", "3")
	out := map[string][]int16{}
	for _, name := range []string{"speech", "noise", "sweep"} {
		out[name] = wholeFrames(testutil.ReadS16(t, filepath.Join(dir, name+".raw")))
	}
	sq := make([]int16, 16000)
	for i := range sq {
		if (i/7)%2 == 0 {
			sq[i] = 32767
		} else {
			sq[i] = -32768
		}
	}
	out["square"] = sq
	return out
}

// TestFFmpegEncoderBitExact checks that our bitstream equals FFmpeg's
// G.722 encoder output byte for byte.
func TestFFmpegEncoderBitExact(t *testing.T) {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	for name, pcm := range inputs(t, dir) {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, name+".in.raw")
			ref := filepath.Join(dir, name+".g722")
			testutil.WriteS16(t, in, pcm)
			testutil.Run(t, ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "s16le", "-ar", "16000", "-ac", "1",
				"-i", in, "-acodec", "g722", "-f", "g722", ref)
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			got := NewEncoder().Encode(nil, pcm)
			if len(got) != len(pcm)/2 {
				t.Fatalf("encoded %d samples into %d bytes, want %d", len(pcm), len(got), len(pcm)/2)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("bitstream differs from ffmpeg: %d vs %d bytes, first difference at byte %d",
					len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

// TestFFmpegDecoderBitExact checks that our decoder's output equals FFmpeg's
// decode of the same bitstream sample for sample.
func TestFFmpegDecoderBitExact(t *testing.T) {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	streams := map[string][]byte{}
	for name, pcm := range inputs(t, dir) {
		streams[name] = NewEncoder().Encode(nil, pcm)
	}
	// Arbitrary bytes exercise codes a real encoder rarely emits.
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 8000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	streams["random"] = random
	for name, code := range streams {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, name+".dec.g722")
			out := filepath.Join(dir, name+".dec.raw")
			if err := os.WriteFile(in, code, 0o644); err != nil {
				t.Fatal(err)
			}
			testutil.Run(t, ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "g722", "-i", in,
				"-f", "s16le", "-ar", "16000", out)
			want := testutil.ReadS16(t, out)
			got := NewDecoder().Decode(nil, code)
			if len(got) != 2*len(code) {
				t.Fatalf("decoded %d bytes into %d samples, want %d", len(code), len(got), 2*len(code))
			}
			if len(want) != len(got) {
				t.Fatalf("ffmpeg decoded %d samples, we %d", len(want), len(got))
			}
			if i := firstDiff16(got, want); i >= 0 {
				t.Fatalf("sample %d: got %d, ffmpeg %d (SNR vs ffmpeg %.1f dB)", i, got[i], want[i], snr(want, got, 0))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func firstDiff16(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// snr returns the signal-to-noise ratio in dB of got against ref, with got
// delayed by delay samples.
func snr(ref, got []int16, delay int) float64 {
	var sig, noise float64
	for i := 0; i+delay < len(got) && i < len(ref); i++ {
		s := float64(ref[i])
		e := float64(got[i+delay]) - s
		sig += s * s
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// Delay is the codec's algorithmic delay: the two 24-tap QMFs, 22 samples.
const delay = 22

// TestRoundTripSNR encodes and decodes synthetic signals (no external tools)
// and checks the quality G.722 at 64 kbit/s is known for.
func TestRoundTripSNR(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tone := make([]int16, 16000)
	mix := make([]int16, 16000)
	for i := range tone {
		x := float64(i) / SampleRate
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*x))
		// Speech-like: voiced harmonics of a gliding pitch with an envelope and noise.
		f0 := 120 + 30*math.Sin(2*math.Pi*2*x)
		v := 0.0
		for h := 1; h <= 20; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*x) / float64(h)
		}
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*x)
		mix[i] = int16(6000*env*v + 300*r.NormFloat64())
	}
	for _, tc := range []struct {
		name string
		pcm  []int16
		min  float64
	}{{"tone440", tone, 30}, {"speechlike", mix, 18}} {
		t.Run(tc.name, func(t *testing.T) {
			code := NewEncoder().Encode(nil, tc.pcm)
			out := NewDecoder().Decode(nil, code)
			// Skip the first 40 ms while the adaptive quantizers settle.
			got := snr(tc.pcm[640:], out[640:], delay)
			if got < tc.min {
				t.Errorf("round-trip SNR %.1f dB, want >= %.0f", got, tc.min)
			}
			if wrong := snr(tc.pcm[640:], out[640:], delay+3); wrong > got-10 {
				t.Errorf("SNR at the wrong delay %.1f dB is not far below %.1f dB: delay not %d?", wrong, got, delay)
			}
			t.Logf("round-trip SNR %.1f dB", got)
		})
	}
}

// TestStreamingMatchesOneShot checks that state carries across calls,
// including odd-length chunks whose last sample is held back.
func TestStreamingMatchesOneShot(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pcm := make([]int16, 4801)
	for i := range pcm {
		pcm[i] = int16(r.IntN(20000) - 10000)
	}
	want := NewEncoder().Encode(nil, pcm)
	var e Encoder // the zero value is usable
	var got []byte
	for rest := pcm; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(333))
		got = e.Encode(got, rest[:n])
		rest = rest[n:]
	}
	if !e.Pending() {
		t.Error("odd total length: want one sample held back")
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("chunked encode differs at byte %d", firstDiff(got, want))
	}

	wantPCM := NewDecoder().Decode(nil, want)
	var d Decoder
	var gotPCM []int16
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(200))
		gotPCM = d.Decode(gotPCM, rest[:n])
		rest = rest[n:]
	}
	if i := firstDiff16(gotPCM, wantPCM); i >= 0 {
		t.Fatalf("chunked decode differs at sample %d", i)
	}

	// Reset restarts the stream.
	e.Reset()
	if again := e.Encode(nil, pcm[:320]); !bytes.Equal(again, want[:160]) {
		t.Error("Encoder.Reset does not restart the stream")
	}
	d.Reset()
	if again := d.Decode(nil, want[:160]); firstDiff16(again, wantPCM[:320]) >= 0 {
		t.Error("Decoder.Reset does not restart the stream")
	}
}

func TestZeroAllocs(t *testing.T) {
	pcm := make([]int16, SamplesPerFrame)
	for i := range pcm {
		pcm[i] = int16(i * 97)
	}
	enc, dec := NewEncoder(), NewDecoder()
	buf := make([]byte, 0, BytesPerFrame)
	out := make([]int16, 0, SamplesPerFrame)
	if n := testing.AllocsPerRun(100, func() {
		buf = enc.Encode(buf[:0], pcm)
		out = dec.Decode(out[:0], buf)
	}); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

package opus

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

func pcmFromBytes(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// speech returns espeak-ng speech resampled by sox to rate Hz, mono s16.
func speech(t *testing.T, rate int) []int16 {
	t.Helper()
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	sox := testutil.RequireTool(t, "sox", "sox")
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	testutil.Run(t, espeak, "-w", wav, "-s", "165",
		"Thank you for calling. Please say the name of the person you want to reach, or press zero for the operator.")
	raw := testutil.Run(t, sox, wav, "-t", "raw", "-r", strconv.Itoa(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-")
	return pcmFromBytes(raw)
}

// encodeAll encodes pcm (zero-padded to whole frames) into 20 ms packets.
func encodeAll(t *testing.T, e *Encoder, pcm []int16) [][]byte {
	t.Helper()
	n := e.FrameSize()
	padded := make([]int16, (len(pcm)+n-1)/n*n)
	copy(padded, pcm)
	var packets [][]byte
	for off := 0; off < len(padded); off += n {
		p, err := e.Encode(nil, padded[off:off+n])
		if err != nil {
			t.Fatalf("frame %d: %v", off/n, err)
		}
		packets = append(packets, p)
	}
	return packets
}

func decodeAll(t *testing.T, d *Decoder, packets [][]byte) []int16 {
	t.Helper()
	var out []int16
	for i, p := range packets {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	return out
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

// snr returns the SNR in dB of got[i+lag] against ref[i].
func snr(ref, got []int16, lag int) float64 {
	var sig, noise float64
	for i := 0; i < len(ref) && i+lag < len(got); i++ {
		if i+lag < 0 {
			continue
		}
		s := float64(ref[i])
		e := float64(got[i+lag]) - s
		sig += s * s
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// bestLag returns the lag in [0, maxLag] maximising the normalised
// correlation of got[i+lag] with ref[i], and that correlation.
func bestLag(ref, got []int16, maxLag int) (int, float64) {
	best, bestC := 0, -2.0
	for lag := 0; lag <= maxLag; lag++ {
		var xy, xx, yy float64
		for i := 0; i < len(ref) && i+lag < len(got); i++ {
			x, y := float64(ref[i]), float64(got[i+lag])
			xy += x * y
			xx += x * x
			yy += y * y
		}
		if c := xy / math.Sqrt(xx*yy); c > bestC {
			best, bestC = lag, c
		}
	}
	return best, bestC
}

// ffmpegDecode decodes an Ogg Opus file with FFmpeg's libopus decoder to
// 48 kHz mono s16le.
func ffmpegDecode(t *testing.T, file string) []int16 {
	t.Helper()
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	return pcmFromBytes(testutil.Run(t, ffmpeg, "-nostdin", "-loglevel", "error", "-c:a", "libopus", "-i", file,
		"-ac", "1", "-ar", "48000", "-f", "s16le", "-"))
}

// TestFFmpegDecodesOurStream writes our packets into an Ogg Opus file and
// checks that FFmpeg's libopus decoder gives exactly the samples our
// Decoder gives at 48 kHz (after the file's pre-skip and end trimming), and
// that decoded speech matches the input.
func TestFFmpegDecodesOurStream(t *testing.T) {
	testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	for _, tc := range []struct {
		rate    int
		app     Application
		bitrate int
		minCorr float64
	}{
		{48000, AppVoIP, 32000, 0.9},
		{48000, AppAudio, 64000, 0.95},
		{16000, AppVoIP, 24000, 0.9},
		{8000, AppVoIP, 12000, 0.85},
	} {
		t.Run(strconv.Itoa(tc.rate)+"-"+tc.app.String(), func(t *testing.T) {
			pcm := speech(t, tc.rate)
			pcm = pcm[:len(pcm)-7] // not a whole number of frames: exercises end trimming
			e, err := NewEncoder(tc.rate, tc.app)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if err := e.SetBitrate(tc.bitrate); err != nil {
				t.Fatal(err)
			}
			look, err := e.Lookahead()
			if err != nil {
				t.Fatal(err)
			}
			packets := encodeAll(t, e, pcm)
			up := 48000 / tc.rate
			preSkip := look * up
			file := filepath.Join(t.TempDir(), "ours.opus")
			if err := os.WriteFile(file, writeOggOpus(packets, tc.rate, preSkip, 960, len(pcm)*up), 0o644); err != nil {
				t.Fatal(err)
			}
			want := ffmpegDecode(t, file)

			d48, err := NewDecoder(48000)
			if err != nil {
				t.Fatal(err)
			}
			defer d48.Close()
			got := decodeAll(t, d48, packets)
			if len(got) != len(packets)*960 {
				t.Fatalf("decoded %d samples from %d packets", len(got), len(packets))
			}
			got = got[preSkip : preSkip+len(pcm)*up]
			if len(want) != len(got) {
				t.Fatalf("ffmpeg decoded %d samples, we %d (after pre-skip %d and end trimming)", len(want), len(got), preSkip)
			}
			if i := firstDiff16(got, want); i >= 0 {
				t.Fatalf("sample %d of %d: ours %d, ffmpeg %d (SNR vs ffmpeg %.1f dB)", i, len(got), got[i], want[i], snr(want, got, 0))
			}

			// Quality of the speech decoded at the encoder's own rate.
			d, err := NewDecoder(tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dec := decodeAll(t, d, packets)
			lag, c := bestLag(pcm, dec, tc.rate/50)
			s := snr(pcm, dec, lag)
			t.Logf("%d Hz %s %d bit/s: %d packets, %.1f kbit/s actual, lookahead %d, best lag %d, correlation %.4f, SNR %.1f dB",
				tc.rate, tc.app, tc.bitrate, len(packets), kbps(packets), look, lag, c, s)
			// The decoded speech lines up with the input after the
			// encoder's lookahead, give or take the group delay of SILK's
			// internal resampler (a few samples at 48 kHz).
			if d := lag - look; d < -tc.rate/8000*2 || d > tc.rate/8000*2 {
				t.Errorf("decoded speech best aligned at lag %d, encoder lookahead is %d", lag, look)
			}
			if c < tc.minCorr {
				t.Errorf("correlation with input %.3f < %.2f", c, tc.minCorr)
			}
		})
	}
}

func kbps(packets [][]byte) float64 {
	n := 0
	for _, p := range packets {
		n += len(p)
	}
	return float64(n*8) / (float64(len(packets)) * 0.020) / 1000
}

// TestOurDecoderOnFFmpegStream has FFmpeg's libopus encoder make an Ogg Opus
// file, parses its packets and checks that our Decoder gives the samples
// FFmpeg's libopus decoder gives.
func TestOurDecoderOnFFmpegStream(t *testing.T) {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	pcm := speech(t, 48000)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.raw")
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-b:a", "24k", "-application", "voip", "-frame_duration", "20"},
		{"-b:a", "16k", "-application", "voip", "-frame_duration", "60", "-packet_loss", "10", "-fec", "1"},
		{"-b:a", "96k", "-application", "audio", "-frame_duration", "10"},
	} {
		t.Run(args[1]+"-"+args[5], func(t *testing.T) {
			file := filepath.Join(dir, "ffmpeg.opus")
			testutil.Run(t, ffmpeg, append(append([]string{"-nostdin", "-loglevel", "error", "-y", "-f", "s16le", "-ar", "48000", "-ac", "1",
				"-i", in, "-c:a", "libopus"}, args...), file)...)
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			o, err := readOggOpus(raw)
			if err != nil {
				t.Fatal(err)
			}
			if o.channels != 1 {
				t.Fatalf("ffmpeg wrote %d channels", o.channels)
			}
			want := ffmpegDecode(t, file)
			d, err := NewDecoder(48000)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := decodeAll(t, d, o.packets)
			end := int(o.lastGranule)
			if end > len(got) || o.preSkip > end {
				t.Fatalf("granule %d, pre-skip %d, decoded %d samples", end, o.preSkip, len(got))
			}
			got = got[o.preSkip:end]
			t.Logf("%d packets, pre-skip %d, %d samples; ffmpeg gave %d", len(o.packets), o.preSkip, len(got), len(want))
			if len(want) != len(got) {
				t.Fatalf("ffmpeg decoded %d samples, we %d", len(want), len(got))
			}
			if i := firstDiff16(got, want); i >= 0 {
				t.Fatalf("sample %d: ours %d, ffmpeg %d (SNR vs ffmpeg %.1f dB)", i, got[i], want[i], snr(want, got, 0))
			}
		})
	}
}

// TestOgg checks our Ogg writer against our reader (FFmpeg checks the
// writer against the specification above).
func TestOgg(t *testing.T) {
	packets := [][]byte{make([]byte, 10), make([]byte, 255), make([]byte, 600), {}, {1}}
	o, err := readOggOpus(writeOggOpus(packets, 16000, 312, 960, 4000))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.packets) != len(packets) || o.preSkip != 312 || o.inputRate != 16000 || o.lastGranule != 312+4000 {
		t.Fatalf("read back %+v", o)
	}
	for i := range packets {
		if len(o.packets[i]) != len(packets[i]) {
			t.Fatalf("packet %d: %d bytes, wrote %d", i, len(o.packets[i]), len(packets[i]))
		}
	}
}

// tone returns n samples of a voiced-like harmonic signal at rate.
func tone(rate, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		x := float64(i) / float64(rate)
		v := 0.0
		for h := 1; h <= 8; h++ {
			v += math.Sin(2*math.Pi*float64(140*h)*x) / float64(h)
		}
		s[i] = int16(6000 * v * (1 + 0.5*math.Sin(2*math.Pi*3*x)))
	}
	return s
}

// TestLossConcealmentAndFEC drops packets and compares three receivers with
// the loss-free decode of the lost frame: concealment alone, and FEC
// recovery from the next packet. FEC must come much closer.
func TestLossConcealmentAndFEC(t *testing.T) {
	const rate = 16000
	pcm := tone(rate, rate*2)
	e, err := NewEncoder(rate, AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, err := range []error{e.SetBitrate(32000), e.SetInbandFEC(true), e.SetPacketLossPerc(20)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	packets := encodeAll(t, e, pcm)
	ref := newDec(t, rate)
	clean := decodeAll(t, ref, packets)
	n := rate / 50

	var plcSNR, fecSNR float64
	lost := 0
	for k := 10; k < len(packets)-1; k += 13 {
		plc, fec := newDec(t, rate), newDec(t, rate)
		decodeAll(t, plc, packets[:k])
		decodeAll(t, fec, packets[:k])
		p, err := plc.Decode(nil, nil) // lost
		if err != nil {
			t.Fatal(err)
		}
		f, err := fec.DecodeFEC(nil, packets[k+1])
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != n || len(f) != n {
			t.Fatalf("concealment gave %d samples, FEC %d, want %d", len(p), len(f), n)
		}
		want := clean[k*n : (k+1)*n]
		plcSNR += snr(want, p, 0)
		fecSNR += snr(want, f, 0)
		lost++
		// The stream goes on after the loss.
		if _, err := fec.Decode(nil, packets[k+1]); err != nil {
			t.Fatal(err)
		}
		plc.Close()
		fec.Close()
	}
	plcSNR /= float64(lost)
	fecSNR /= float64(lost)
	t.Logf("%d lost frames: mean SNR vs loss-free decode: concealment %.1f dB, FEC %.1f dB", lost, plcSNR, fecSNR)
	if fecSNR < plcSNR+3 {
		t.Errorf("FEC (%.1f dB) is not clearly better than concealment (%.1f dB)", fecSNR, plcSNR)
	}
	if plcSNR < -3 {
		t.Errorf("concealment SNR %.1f dB: not a continuation of the signal", plcSNR)
	}
}

func newDec(t *testing.T, rate int) *Decoder {
	t.Helper()
	d, err := NewDecoder(rate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestDTX checks that with DTX on, silence is coded in packets of at most
// 2 bytes that the decoder accepts.
func TestDTX(t *testing.T) {
	e, err := NewEncoder(16000, AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.SetDTX(true); err != nil {
		t.Fatal(err)
	}
	if on, err := e.DTX(); err != nil || !on {
		t.Fatalf("DTX() = %v, %v", on, err)
	}
	packets := encodeAll(t, e, make([]int16, 16000))
	small := 0
	for _, p := range packets {
		if len(p) <= 2 {
			small++
		}
	}
	t.Logf("1 s of silence: %d of %d packets are DTX (≤ 2 bytes)", small, len(packets))
	if small < len(packets)/2 {
		t.Errorf("only %d of %d silent packets are DTX", small, len(packets))
	}
	d := newDec(t, 16000)
	out := decodeAll(t, d, packets)
	if len(out) != 16000 {
		t.Errorf("decoded %d samples", len(out))
	}
}

// TestSettings sets every encoder option and reads it back.
func TestSettings(t *testing.T) {
	e, err := NewEncoder(24000, AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	check := func(name string, set error, get func() (int, error), want int) {
		t.Helper()
		if set != nil {
			t.Fatalf("set %s: %v", name, set)
		}
		if v, err := get(); err != nil || v != want {
			t.Errorf("%s = %d, %v; want %d", name, v, err, want)
		}
	}
	check("bitrate", e.SetBitrate(20000), e.Bitrate, 20000)
	check("complexity", e.SetComplexity(3), e.Complexity, 3)
	check("packet loss", e.SetPacketLossPerc(15), e.PacketLossPerc, 15)
	if err := e.SetInbandFEC(true); err != nil {
		t.Fatal(err)
	}
	if on, err := e.InbandFEC(); err != nil || !on {
		t.Errorf("InbandFEC() = %v, %v", on, err)
	}
	if err := e.Reset(); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.Bitrate(); v != 20000 {
		t.Errorf("Reset changed the bitrate to %d", v)
	}
	if e.Rate() != 24000 || e.FrameSize() != 480 {
		t.Errorf("Rate %d FrameSize %d", e.Rate(), e.FrameSize())
	}
}

// TestErrors checks that bad arguments give the documented errors.
func TestErrors(t *testing.T) {
	if _, err := NewEncoder(44100, AppVoIP); !errors.Is(err, ErrRate) {
		t.Errorf("NewEncoder(44100) error %v", err)
	}
	if _, err := NewEncoder(16000, Application(7)); !errors.Is(err, ErrBadArg) {
		t.Errorf("NewEncoder(bad app) error %v", err)
	}
	if _, err := NewDecoder(22050); !errors.Is(err, ErrRate) {
		t.Errorf("NewDecoder(22050) error %v", err)
	}
	e, err := NewEncoder(16000, AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 319, 321, 480, 2000} {
		if _, err := e.Encode(nil, make([]int16, n)); !errors.Is(err, ErrFrameSize) {
			t.Errorf("Encode(%d samples) error %v", n, err)
		}
	}
	for _, n := range []int{40, 80, 160, 320, 640, 960, 1280, 1600, 1920} {
		if p, err := e.Encode(nil, make([]int16, n)); err != nil || len(p) == 0 {
			t.Errorf("Encode(%d samples) = %d bytes, %v", n, len(p), err)
		}
	}
	for _, v := range []int{-5, 1 << 30} {
		if err := e.SetComplexity(v); !errors.Is(err, ErrBadArg) {
			t.Errorf("SetComplexity(%d) error %v", v, err)
		}
	}
	if err := e.SetBitrate(0); !errors.Is(err, ErrBadArg) {
		t.Errorf("SetBitrate(0) error %v", err)
	} else {
		t.Logf("SetBitrate(0): %v", err)
	}
	e.Close()
	e.Close()
	if _, err := e.Encode(nil, make([]int16, 320)); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close error %v", err)
	}
	if err := e.SetDTX(true); !errors.Is(err, ErrClosed) {
		t.Errorf("SetDTX after Close error %v", err)
	}

	d, err := NewDecoder(16000)
	if err != nil {
		t.Fatal(err)
	}
	// A code-3 packet whose frame count byte says 0 frames is invalid
	// (RFC 6716 §3.2.5 R5); so is a code-2 packet with a length past the end.
	for _, p := range [][]byte{{0x03, 0x00}, {0x02, 0xfc, 0xff}, {0x03, 0x31}} {
		out, err := d.Decode(make([]int16, 5), p)
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Decode(% x) error %v", p, err)
		}
		if len(out) != 5 {
			t.Errorf("Decode(% x) changed dst to %d samples", p, len(out))
		}
	}
	d.Close()
	if _, err := d.Decode(nil, []byte{0xf8, 0xff, 0xfe}); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close error %v", err)
	}
	if _, err := d.DecodeLost(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("DecodeLost after Close error %v", err)
	}
	if msg := ErrInvalidPacket.Error(); msg != "libopus: corrupted stream" {
		t.Errorf("ErrInvalidPacket text %q", msg)
	}
}

// TestZeroAllocs checks that encoding, decoding, concealment and FEC
// allocate nothing per frame in steady state.
func TestZeroAllocs(t *testing.T) {
	for _, rate := range []int{48000, 16000} {
		n := rate / 50
		pcm := tone(rate, n)
		e, err := NewEncoder(rate, AppVoIP)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if err := e.SetInbandFEC(true); err != nil {
			t.Fatal(err)
		}
		d := newDec(t, rate)
		pkt := make([]byte, 0, MaxPacketSize)
		out := make([]int16, 0, n)
		var err2 error
		allocs := testing.AllocsPerRun(200, func() {
			pkt, err2 = e.Encode(pkt[:0], pcm)
			if err2 == nil {
				out, err2 = d.Decode(out[:0], pkt)
			}
			if err2 == nil {
				out, err2 = d.DecodeLost(out[:0])
			}
			if err2 == nil {
				out, err2 = d.DecodeFEC(out[:0], pkt)
			}
		})
		if err2 != nil {
			t.Fatal(err2)
		}
		if allocs != 0 {
			t.Errorf("%d Hz: %.1f allocations per frame", rate, allocs)
		}
	}
}

// TestDecodeAnyRate decodes 48 kHz packets at every rate and checks the
// frame lengths.
func TestDecodeAnyRate(t *testing.T) {
	e, err := NewEncoder(48000, AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	packets := encodeAll(t, e, tone(48000, 9600))
	for _, rate := range []int{8000, 12000, 16000, 24000, 48000} {
		d := newDec(t, rate)
		n, err := d.Samples(packets[0])
		if err != nil || n != rate/50 {
			t.Errorf("%d Hz: Samples = %d, %v", rate, n, err)
		}
		out := decodeAll(t, d, packets)
		if len(out) != len(packets)*rate/50 || d.LastPacketDuration() != rate/50 {
			t.Errorf("%d Hz: %d samples, last %d", rate, len(out), d.LastPacketDuration())
		}
		if err := d.Reset(); err != nil {
			t.Error(err)
		}
	}
}

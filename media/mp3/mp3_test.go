package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
)

func pcmFromBytes(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

var (
	speechOnce sync.Once
	speechDir  string
	speechErr  error
)

// speechWAV returns a WAV file of espeak-ng speech (22.05 kHz mono),
// made once for the whole test binary.
func speechWAV(t *testing.T) string {
	t.Helper()
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	speechOnce.Do(func() {
		speechDir, speechErr = os.MkdirTemp("", "parole-mp3-")
		if speechErr != nil {
			return
		}
		out, err := exec.Command(espeak, "-w", filepath.Join(speechDir, "speech.wav"), "-s", "165",
			"Thank you for calling. Please say the name of the person you want to reach, or press zero for the operator.").CombinedOutput()
		if err != nil {
			speechErr = fmt.Errorf("espeak-ng: %v: %s", err, out)
		}
	})
	if speechErr != nil {
		t.Fatal(speechErr)
	}
	return filepath.Join(speechDir, "speech.wav")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if speechDir != "" {
		os.RemoveAll(speechDir)
	}
	os.Exit(code)
}

// makeMP3 encodes the speech with libmp3lame at rate Hz and channels; a
// stereo file has the speech on the left and a delayed, quieter copy on the
// right, so the downmix differs from either channel.
func makeMP3(t *testing.T, rate, channels int, extra ...string) []byte {
	t.Helper()
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	wav := speechWAV(t)
	out := filepath.Join(t.TempDir(), "f.mp3")
	args := []string{"-nostdin", "-loglevel", "error", "-y", "-i", wav}
	if channels == 2 {
		args = append(args, "-af", "pan=stereo|c0=c0|c1=0.5*c0,adelay=0|7")
	}
	args = append(args, "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(channels), "-c:a", "libmp3lame")
	args = append(append(args, extra...), out)
	testutil.Run(t, ffmpeg, args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffmpegDecode decodes mp3 with FFmpeg to s16le with the given extra output
// options.
func ffmpegDecode(t *testing.T, mp3 []byte, opts ...string) []int16 {
	t.Helper()
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	in := filepath.Join(t.TempDir(), "in.mp3")
	if err := os.WriteFile(in, mp3, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-nostdin", "-loglevel", "error", "-i", in}, opts...)
	return pcmFromBytes(testutil.Run(t, ffmpeg, append(args, "-f", "s16le", "-")...))
}

// snr returns the SNR in dB of got[i+lag] against ref[i] over their overlap.
func snr(ref, got []int16, lag int) float64 {
	var sig, noise float64
	for i := max(0, -lag); i < len(ref) && i+lag < len(got); i++ {
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

// bestLag returns the lag in [-maxLag, maxLag] giving the best SNR.
func bestLag(ref, got []int16, maxLag int) (int, float64) {
	best, bestS := 0, math.Inf(-1)
	for lag := -maxLag; lag <= maxLag; lag++ {
		if s := snr(ref, got, lag); s > bestS {
			best, bestS = lag, s
		}
	}
	return best, bestS
}

// decodeAt decodes with our Decoder at rate, allowing the source rate
// itself (22.05 and 44.1 kHz included) for the native comparisons.
func decodeAt(t *testing.T, mp3 []byte, rate int) ([]int16, *Decoder) {
	t.Helper()
	d, err := newDecoder(bytes.NewReader(mp3), rate)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	f := &media.Frame{}
	for {
		err := d.ReadFrame(f)
		if errors.Is(err, io.EOF) {
			return out, d
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Samples) == 0 || f.Rate != rate {
			t.Fatalf("frame of %d samples at %d Hz", len(f.Samples), f.Rate)
		}
		out = append(out, f.Samples...)
	}
}

// TestNativeRateVsFFmpeg decodes libmp3lame files at their own rate and
// compares with FFmpeg's decoder (its stereo output downmixed the same way):
// same length (gapless trimming), lag 0 and a high SNR.
//
// go-mp3 v0.3.4 mis-decodes LAME's MPEG-2 (22.05 and 24 kHz) mono streams
// at low bitrates (32 kbit/s: SNR vs FFmpeg -6 dB at 22.05 kHz, 27 dB at
// 24 kHz; 48 and 64 kbit/s at 24 kHz: 46 dB), while FFmpeg's fixed- and
// floating-point decoders agree within 75 dB on the same file. Those cases
// are marked goMP3Bug: their length and timing are still checked, their SNR
// logged and held only to 20 dB when the bitrate is above 32 kbit/s.
func TestNativeRateVsFFmpeg(t *testing.T) {
	for _, tc := range []struct {
		rate, ch, kbps int
		goMP3Bug       bool
	}{
		{16000, 1, 32, false}, {16000, 2, 64, false},
		{22050, 1, 48, false}, {22050, 2, 64, false}, {22050, 1, 32, true},
		{24000, 1, 64, true}, {24000, 2, 64, false}, {24000, 1, 48, true}, {24000, 1, 32, true},
		{44100, 1, 64, false}, {44100, 2, 128, false},
		{48000, 1, 64, false}, {48000, 2, 128, false},
	} {
		rate, ch := tc.rate, tc.ch
		{
			t.Run(fmt.Sprintf("%d-%dch-%dk", rate, ch, tc.kbps), func(t *testing.T) {
				mp3 := makeMP3(t, rate, ch, "-b:a", strconv.Itoa(tc.kbps)+"k")
				// FFmpeg's own channels, downmixed here exactly as we do
				// (FFmpeg would upmix mono to stereo at -3 dB).
				want := ffmpegDecode(t, mp3, "-ac", strconv.Itoa(ch))
				if ch == 2 {
					st := want
					want = make([]int16, len(st)/2)
					for i := range want {
						want[i] = int16((int32(st[2*i]) + int32(st[2*i+1])) >> 1)
					}
				}
				got, d := decodeAt(t, mp3, rate)
				if d.SourceRate() != rate {
					t.Fatalf("SourceRate %d", d.SourceRate())
				}
				lag, s := bestLag(want, got, 32)
				t.Logf("%d Hz %d ch, %d bytes: %d samples (ffmpeg %d), lag %d, SNR vs ffmpeg %.1f dB",
					rate, ch, len(mp3), len(got), len(want), lag, s)
				if len(got) != len(want) || lag != 0 {
					t.Errorf("length %d lag %d, ffmpeg length %d", len(got), lag, len(want))
				}
				if tc.goMP3Bug && tc.kbps > 32 && s < 20 {
					t.Errorf("SNR vs ffmpeg %.1f dB < 20 dB", s)
				}
				if s < 55 && !tc.goMP3Bug {
					t.Errorf("SNR vs ffmpeg %.1f dB < 55 dB", s)
				}
			})
		}
	}
}

// TestTargetRatesVsFFmpeg compares our decode-downmix-resample with FFmpeg's
// decode and resample (-ar rate -ac 1).
func TestTargetRatesVsFFmpeg(t *testing.T) {
	for _, src := range []struct{ rate, ch int }{{44100, 2}, {22050, 1}, {16000, 1}} {
		mp3 := makeMP3(t, src.rate, src.ch, "-b:a", "64k")
		for _, rate := range []int{8000, 16000, 24000, 48000} {
			t.Run(fmt.Sprintf("%d-%dch-to-%d", src.rate, src.ch, rate), func(t *testing.T) {
				want := ffmpegDecode(t, mp3, "-ac", "1", "-ar", strconv.Itoa(rate))
				got, err := Decode(bytes.NewReader(mp3), rate)
				if err != nil {
					t.Fatal(err)
				}
				lag, s := bestLag(want, got, 16)
				t.Logf("%d Hz %d ch → %d Hz: %d samples (ffmpeg %d), lag %d, SNR vs ffmpeg %.1f dB",
					src.rate, src.ch, rate, len(got), len(want), lag, s)
				if d := len(got) - len(want); d < -2 || d > 2 {
					t.Errorf("%d samples, ffmpeg %d", len(got), len(want))
				}
				if lag != 0 {
					t.Errorf("lag %d vs ffmpeg", lag)
				}
				if s < 25 {
					t.Errorf("SNR vs ffmpeg %.1f dB < 25 dB", s)
				}
			})
		}
	}
}

// TestBadInput checks the errors for inputs that are not (decodable) MP3.
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/speech16k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	html := []byte("<html><body><h1>503 Service Unavailable</h1>The TTS backend is overloaded.</body></html>")
	id3 := append([]byte("ID3\x04\x00\x00\x00\x00\x10\x00"), make([]byte, 100)...) // says 2048 bytes
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"html", html, ErrCorrupt},
		{"json", []byte(`{"error":{"code":401,"message":"invalid API key"}}`), ErrCorrupt},
		{"zeros", make([]byte, 100000), ErrCorrupt},
		{"truncated ID3v2", id3, ErrCorrupt},
		{"only ID3v2", []byte("ID3\x04\x00\x00\x00\x00\x00\x05hello"), ErrEmpty},
		{"header only", good[:4], ErrCorrupt},
		{"layer II", mp2(t), ErrUnsupported},
		{"MPEG-2.5 8 kHz", makeMP3(t, 8000, 1), ErrUnsupported},
		{"MPEG-2.5 11.025 kHz", makeMP3(t, 11025, 1), ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.in), 16000)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
	if _, err := NewDecoder(bytes.NewReader(good), 44100); !errors.Is(err, ErrRate) {
		t.Errorf("target 44100: %v", err)
	}
	if _, err := NewDecoder(nil, 8000); !errors.Is(err, ErrEmpty) {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := NewDecoder(iotestErr{}, 8000); err == nil || !errors.Is(err, errRead) {
		t.Errorf("failing reader: %v", err)
	}
}

var errRead = errors.New("connection reset")

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errRead }

// mp2 returns an MPEG-1 layer II file made by FFmpeg, or skips.
func mp2(t *testing.T) []byte {
	t.Helper()
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	out := filepath.Join(t.TempDir(), "f.mp2")
	testutil.Run(t, ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", speechWAV(t), "-ar", "44100", "-c:a", "mp2", "-f", "mp2", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTruncatedAndDamaged cuts a stream at many points and damages bytes:
// decoding must never panic, a cut stream decodes to a prefix of the whole,
// and errors wrap ErrCorrupt.
func TestTruncatedAndDamaged(t *testing.T) {
	good, err := os.ReadFile("testdata/speech44k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Decode(bytes.NewReader(good), 16000)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{100, 417, 1000, len(good) / 3, len(good) / 2, len(good) - 1} {
		got, err := Decode(bytes.NewReader(good[:cut]), 16000)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut at %d: %v", cut, err)
		}
		if len(got) > len(whole) {
			t.Errorf("cut at %d: %d samples, more than the whole %d", cut, len(got), len(whole))
			continue
		}
		// Up to the resampler's filter length before the cut, samples
		// match; compare the first half to stay clear of it.
		if i := firstDiff(got[:len(got)/2], whole); i >= 0 {
			t.Errorf("cut at %d: sample %d differs from the whole decode", cut, i)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		b := bytes.Clone(good)
		for range 1 + r.IntN(40) {
			b[r.IntN(len(b))] = byte(r.Uint32())
		}
		if _, err := Decode(bytes.NewReader(b), 8000); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("damaged stream: error %v does not wrap ErrCorrupt", err)
		}
	}
}

func firstDiff(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestFrames checks frame lengths, rates and that ReadFrame reuses storage
// and allocates only in go-mp3 (per MP3 frame, never per our 20 ms frame
// when no MP3 frame is decoded).
func TestFrames(t *testing.T) {
	mp3, err := os.ReadFile("testdata/speech16k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int{8000, 16000, 24000, 48000} {
		d, err := NewDecoder(bytes.NewReader(mp3), rate)
		if err != nil {
			t.Fatal(err)
		}
		if d.Rate() != rate || d.SourceRate() != 16000 {
			t.Fatalf("Rate %d SourceRate %d", d.Rate(), d.SourceRate())
		}
		f := media.NewFrame(rate)
		store := &f.Samples[0]
		n, total := 0, 0
		for {
			err := d.ReadFrame(f)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if &f.Samples[0] != store {
				t.Fatal("ReadFrame did not reuse the frame's storage")
			}
			if len(f.Samples) != rate/50 && len(f.Samples) == 0 {
				t.Fatalf("empty frame")
			}
			if n > 0 && total%(rate/50) != 0 {
				t.Fatalf("short frame before the last")
			}
			total += len(f.Samples)
			n++
		}
		if err := d.ReadFrame(f); !errors.Is(err, io.EOF) {
			t.Errorf("after EOF: %v", err)
		}
		t.Logf("%d Hz: %d frames, %d samples (%.3f s)", rate, n, total, float64(total)/float64(rate))
	}
}

// TestAllocsPerFrame measures allocations per 20 ms frame in steady state
// and checks that they are all go-mp3's: go-mp3 allocates while decoding
// each MP3 frame (mostly in its IMDCT), the Decoder adds nothing.
func TestAllocsPerFrame(t *testing.T) {
	mp3, err := os.ReadFile("testdata/speech44k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(bytes.NewReader(mp3), 8000)
	if err != nil {
		t.Fatal(err)
	}
	f := media.NewFrame(8000)
	for range 10 {
		if err := d.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	const frames = 100
	ours := testing.AllocsPerRun(frames, func() {
		if err := d.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
	})
	// Baseline: go-mp3 alone decoding the same amount of audio (20 ms at
	// 44.1 kHz = 882 stereo samples = 3528 bytes per run).
	raw, err := gomp3.NewDecoder(bytes.NewReader(mp3))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3528)
	if _, err := io.ReadFull(raw, make([]byte, 10*3528)); err != nil {
		t.Fatal(err)
	}
	base := testing.AllocsPerRun(frames, func() {
		if _, err := io.ReadFull(raw, buf); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per 20 ms frame: Decoder %.2f, go-mp3 alone %.2f", ours, base)
	// The two runs decode the same duration but may straddle one more or
	// one fewer MP3 frame (about 70 go-mp3 allocations over 100 runs).
	if ours > base+1.5 {
		t.Errorf("Decoder allocates %.2f per frame, go-mp3 alone %.2f", ours, base)
	}
}

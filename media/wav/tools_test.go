package wav

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
)

// Debian ships the Asterisk prompts under the voice's directory; "en" is the
// name other installations (and the project's other tests) use.
var soundsDirs = []string{"/usr/share/asterisk/sounds/en", "/usr/share/asterisk/sounds/en_US_f_Allison"}

const soundsPkg = "asterisk-core-sounds-en-wav"

// output runs a program and returns its standard output, failing the test
// with its standard error on error.
func output(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

func s16(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// s32to16 rounds 32-bit samples to 16 bits, half up, saturating: the
// package's documented conversion.
func s32to16(b []byte) []int16 {
	s := make([]int16, len(b)/4)
	for i := range s {
		v := int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		s[i] = int16(min((v+0x8000)>>16, 32767))
	}
	return s
}

// downmix averages interleaved channels, truncating toward zero.
func downmix(s []int16, ch int) []int16 {
	if ch == 1 {
		return s
	}
	out := make([]int16, len(s)/ch)
	for i := range out {
		var sum int32
		for c := range ch {
			sum += int32(s[i*ch+c])
		}
		out[i] = int16(sum / int32(ch))
	}
	return out
}

func readFile(t *testing.T, path string) ([]int16, Header) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []int16
	buf := make([]int16, 1000)
	for {
		n, err := r.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if err != io.EOF {
				t.Fatalf("%s: %v", path, err)
			}
			return out, r.Header()
		}
	}
}

// speech makes a few seconds of espeak-ng speech in dir and returns the
// path of the WAV espeak-ng wrote (22050 Hz mono).
func speech(t *testing.T, dir string) string {
	t.Helper()
	espeak := testutil.RequireTool(t, "espeak-ng", "espeak-ng")
	p := filepath.Join(dir, "speech.wav")
	output(t, espeak, "-w", p, "-s", "170",
		"Thank you for calling. Please say the name of the person you want to reach, or press zero for the operator.")
	return p
}

// TestReadToolFiles reads WAV files made by SoX and FFmpeg in every
// encoding the package reads (16-bit PCM, μ-law, A-law, 8-bit unsigned,
// 24 and 32-bit, stereo and 6 channels, WAVE_FORMAT_EXTENSIBLE, streamed to
// a pipe) and compares the samples with the tool's own raw decode of the
// same file: SoX `-t raw -e signed -b 16` (without dither), FFmpeg
// `-f s32le` rounded to 16 bits as documented. Multi-channel decodes are
// averaged as documented.
func TestReadToolFiles(t *testing.T) {
	sox := testutil.RequireTool(t, "sox", "sox")
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	src := speech(t, dir)
	// A second, different channel: the speech reversed and attenuated.
	rev := filepath.Join(dir, "rev.wav")
	output(t, sox, src, rev, "reverse", "vol", "0.7")
	stereo := filepath.Join(dir, "stereo-src.wav")
	output(t, sox, "-M", src, rev, stereo)

	type file struct {
		name     string
		channels int
		format   Format
		bits     int
		streamed bool
		make     func(out string)
	}
	soxFile := func(name string, ch int, f Format, bits int, input string, args ...string) file {
		return file{name: "sox-" + name, channels: ch, format: f, bits: bits, make: func(out string) {
			output(t, sox, append(append([]string{"-D", input, "-r", "8000"}, args...), out)...)
		}}
	}
	ffFile := func(name string, ch int, f Format, bits int, codec string, extra ...string) file {
		return file{name: "ffmpeg-" + name, channels: ch, format: f, bits: bits, make: func(out string) {
			in := src
			if ch > 1 {
				in = stereo
			}
			args := []string{"-nostdin", "-loglevel", "error", "-y", "-i", in, "-ar", "8000", "-ac", strconv.Itoa(ch), "-c:a", codec}
			output(t, ffmpeg, append(append(args, extra...), out)...)
		}}
	}
	files := []file{
		soxFile("s16", 1, PCM, 16, src, "-e", "signed", "-b", "16"),
		soxFile("ulaw", 1, ULaw, 8, src, "-e", "mu-law"),
		soxFile("alaw", 1, ALaw, 8, src, "-e", "a-law"),
		soxFile("u8", 1, PCM, 8, src, "-e", "unsigned", "-b", "8"),
		soxFile("s24", 1, PCM, 24, src, "-e", "signed", "-b", "24"),
		soxFile("s32", 1, PCM, 32, src, "-e", "signed", "-b", "32"),
		soxFile("stereo-s16", 2, PCM, 16, stereo, "-e", "signed", "-b", "16"),
		soxFile("stereo-ulaw", 2, ULaw, 8, stereo, "-e", "mu-law"),
		ffFile("s16", 1, PCM, 16, "pcm_s16le"),
		ffFile("ulaw", 1, ULaw, 8, "pcm_mulaw"),
		ffFile("alaw", 1, ALaw, 8, "pcm_alaw"),
		ffFile("u8", 1, PCM, 8, "pcm_u8"),
		ffFile("s24-ext", 1, PCM, 24, "pcm_s24le"),
		ffFile("s32-ext", 1, PCM, 32, "pcm_s32le"),
		ffFile("stereo-s16", 2, PCM, 16, "pcm_s16le"),
		ffFile("stereo-alaw", 2, ALaw, 8, "pcm_alaw"),
		ffFile("6ch-s16-ext", 6, PCM, 16, "pcm_s16le"),
	}
	// Streamed to a pipe: data sizes 0x7FFFF000 (SoX, which writes the real
	// size when it knows the length up front, hence --ignore-length) and
	// 0xFFFFFFFF (FFmpeg).
	for _, tc := range []struct {
		name, tool string
		f          Format
		bits       int
		args       []string
	}{
		{"sox-pipe-s16", sox, PCM, 16, []string{"-D", "--ignore-length", src, "-r", "8000", "-e", "signed", "-b", "16", "-t", "wav", "-"}},
		{"sox-pipe-ulaw", sox, ULaw, 8, []string{"-D", "--ignore-length", src, "-r", "8000", "-e", "mu-law", "-t", "wav", "-"}},
		{"ffmpeg-pipe-s16", ffmpeg, PCM, 16, []string{"-nostdin", "-loglevel", "error", "-i", src, "-ar", "8000", "-c:a", "pcm_s16le", "-f", "wav", "-"}},
		{"ffmpeg-pipe-alaw", ffmpeg, ALaw, 8, []string{"-nostdin", "-loglevel", "error", "-i", src, "-ar", "8000", "-c:a", "pcm_alaw", "-f", "wav", "-"}},
	} {
		files = append(files, file{name: tc.name, channels: 1, format: tc.f, bits: tc.bits, streamed: true, make: func(out string) {
			cmd := exec.Command(tc.tool, tc.args...)
			cmd.Stderr = nil
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}})
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, f.name+".wav")
			f.make(path)
			got, h := readFile(t, path)
			if h.Format != f.format || h.Channels != f.channels || h.BitsPerSample != f.bits || h.SampleRate != 8000 {
				t.Errorf("header %+v, want %v %d ch %d bits at 8000 Hz", h, f.format, f.channels, f.bits)
			}
			if f.streamed != (h.DataSize < 0) {
				t.Errorf("data size %d, streamed %v", h.DataSize, f.streamed)
			}
			var want []int16
			if strings.HasPrefix(f.name, "sox") {
				want = s16(output(t, sox, "-D", path, "-t", "raw", "-e", "signed", "-b", "16", "-"))
			} else {
				want = s32to16(output(t, ffmpeg, "-nostdin", "-loglevel", "error", "-i", path, "-f", "s32le", "-c:a", "pcm_s32le", "-"))
			}
			want = downmix(want, f.channels)
			if len(want) < 8000 {
				t.Fatalf("reference decode has only %d samples", len(want))
			}
			equal16(t, got, want)
		})
	}
}

// soundFiles returns the Asterisk prompts.
func soundFiles(t *testing.T) []string {
	t.Helper()
	dir := soundsDirs[0]
	for _, d := range soundsDirs {
		if _, err := os.Stat(d); err == nil {
			dir = d
			break
		}
	}
	testutil.RequireFile(t, dir, soundsPkg)
	files, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil || len(files) < 100 {
		t.Fatalf("%d prompts in %s (%v)", len(files), dir, err)
	}
	return files
}

// TestReadAsteriskPrompts reads every Asterisk prompt (real recordings, 8 kHz
// 16-bit) and compares with SoX's decode of all of them concatenated; then
// it has SoX re-encode the whole corpus to μ-law and A-law WAV and compares
// again.
func TestReadAsteriskPrompts(t *testing.T) {
	sox := testutil.RequireTool(t, "sox", "sox")
	files := soundFiles(t)
	var got []int16
	for _, p := range files {
		s, h := readFile(t, p)
		if h.SampleRate != 8000 || h.Channels != 1 {
			t.Fatalf("%s: %+v", p, h)
		}
		got = append(got, s...)
	}
	want := s16(output(t, sox, append(append([]string{"-D"}, files...), "-t", "raw", "-e", "signed", "-b", "16", "-")...))
	equal16(t, got, want)
	t.Logf("%d prompts, %d samples (%.0f s) equal to SoX", len(files), len(got), float64(len(got))/8000)

	dir := t.TempDir()
	raw := filepath.Join(dir, "all.raw")
	if err := os.WriteFile(raw, bytesOf(want), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"mu-law", "a-law"} {
		path := filepath.Join(dir, enc+".wav")
		output(t, sox, "-D", "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", raw, "-e", enc, path)
		g, _ := readFile(t, path)
		equal16(t, g, s16(output(t, sox, "-D", path, "-t", "raw", "-e", "signed", "-b", "16", "-")))
	}
}

func bytesOf(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// TestToolsReadWrittenFiles writes speech with the Writer in the three
// formats and three modes and checks that soxi and ffprobe report the right
// format, rate and length, and that SoX and FFmpeg decode exactly the
// samples the package meant: the input for PCM, its G.711 round trip for
// μ-law and A-law.
func TestToolsReadWrittenFiles(t *testing.T) {
	sox := testutil.RequireTool(t, "sox", "sox")
	soxi := testutil.RequireTool(t, "soxi", "sox")
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	ffprobe := testutil.RequireTool(t, "ffprobe", "ffmpeg")
	dir := t.TempDir()
	pcm := s16(output(t, sox, "-D", speech(t, dir), "-r", "8000", "-t", "raw", "-e", "signed", "-b", "16", "-"))
	if len(pcm)%2 == 0 {
		pcm = pcm[:len(pcm)-1] // odd length: G.711 files need a pad byte
	}
	soxEnc := map[Format]string{PCM: "Signed Integer PCM", ULaw: "u-law", ALaw: "A-law"}
	ffCodec := map[Format]string{PCM: "pcm_s16le", ULaw: "pcm_mulaw", ALaw: "pcm_alaw"}
	for _, f := range writeFormats {
		for _, mode := range []string{"file", "sized", "streamed"} {
			t.Run(fmt.Sprintf("%v/%s", f, mode), func(t *testing.T) {
				path := filepath.Join(dir, fmt.Sprintf("%d-%s.wav", f, mode))
				out, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				var w *Writer
				switch mode {
				case "file":
					w, err = NewWriter(out, f, 8000)
				case "sized":
					w, err = NewWriterSize(writerOnly{out}, f, 8000, int64(len(pcm)))
				default:
					w, err = NewWriter(writerOnly{out}, f, 8000) // hide Seek
				}
				if err != nil {
					t.Fatal(err)
				}
				for rest := pcm; len(rest) > 0; {
					k := min(len(rest), 160)
					if err := w.WriteSamples(rest[:k]); err != nil {
						t.Fatal(err)
					}
					rest = rest[k:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if err := out.Close(); err != nil {
					t.Fatal(err)
				}
				want := coded(f, pcm)

				info := strings.Fields(string(output(t, soxi, "-r", path)) + " " + string(output(t, soxi, "-c", path)))
				if strings.Join(info, " ") != "8000 1" {
					t.Errorf("soxi rate/channels: %v", info)
				}
				if enc := strings.TrimSpace(string(output(t, soxi, "-e", path))); enc != soxEnc[f] {
					t.Errorf("soxi encoding %q, want %q", enc, soxEnc[f])
				}
				if mode != "streamed" {
					if n := strings.TrimSpace(string(output(t, soxi, "-s", path))); n != strconv.Itoa(len(pcm)) {
						t.Errorf("soxi samples %s, want %d", n, len(pcm))
					}
				}
				probe := string(output(t, ffprobe, "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
					"-of", "default=noprint_wrappers=1", path))
				wantProbe := fmt.Sprintf("codec_name=%s\nsample_rate=8000\nchannels=1\n", ffCodec[f])
				if probe != wantProbe {
					t.Errorf("ffprobe:\n%s\nwant:\n%s", probe, wantProbe)
				}

				bySox := s16(output(t, sox, "-D", path, "-t", "raw", "-e", "signed", "-b", "16", "-"))
				byFF := s16(output(t, ffmpeg, "-nostdin", "-loglevel", "error", "-i", path, "-f", "s16le", "-c:a", "pcm_s16le", "-"))
				if mode == "streamed" && f != PCM {
					// With the length unknown, the pad byte after the odd
					// number of G.711 samples reads as one more sample.
					if len(bySox) != len(want)+1 || len(byFF) != len(want)+1 {
						t.Fatalf("streamed: sox %d ffmpeg %d samples for %d", len(bySox), len(byFF), len(want))
					}
					bySox, byFF = bySox[:len(want)], byFF[:len(want)]
				}
				equal16(t, bySox, want)
				equal16(t, byFF, want)
			})
		}
	}
}

// writerOnly hides every method but Write.
type writerOnly struct{ w *os.File }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
)

// chunk is one RIFF chunk for the hand-built test files.
type chunk struct {
	id   string
	body []byte
	size int64 // declared size; -1: len(body)
}

// riff builds a RIFF/WAVE file from chunks, adding pad bytes after odd-sized
// bodies.
func riff(chunks ...chunk) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		size := c.size
		if size < 0 {
			size = int64(len(c.body))
		}
		b.WriteString(c.id)
		binary.Write(&b, binary.LittleEndian, uint32(size))
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// fmtBody returns a 16-byte fmt chunk body.
func fmtBody(format Format, channels, rate, bits int) []byte {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(format))
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	align := channels * bits / 8
	le.PutUint32(b[8:], uint32(rate*align))
	le.PutUint16(b[12:], uint16(align))
	le.PutUint16(b[14:], uint16(bits))
	return b
}

// extBody returns a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk body.
func extBody(sub Format, channels, rate, bits int) []byte {
	b := append(fmtBody(extensible, channels, rate, bits), make([]byte, 24)...)
	le := binary.LittleEndian
	le.PutUint16(b[16:], 22)
	le.PutUint16(b[18:], uint16(bits))
	le.PutUint32(b[20:], 0x4) // front centre
	le.PutUint16(b[24:], uint16(sub))
	copy(b[26:], extGUIDTail)
	return b
}

func fmtChunk(format Format, channels, rate, bits int) chunk {
	return chunk{"fmt ", fmtBody(format, channels, rate, bits), -1}
}

func dataChunk(b []byte) chunk { return chunk{"data", b, -1} }

func pcm16(s ...int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func readAll(t *testing.T, b []byte) ([]int16, int) {
	t.Helper()
	s, rate, err := ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return s, rate
}

func equal16(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: got %d, want %d", i, got[i], want[i])
		}
	}
}

func TestReadFormats(t *testing.T) {
	ul := []byte{0xFF, 0x80, 0x00, 0x7F, 0x35}
	al := []byte{0xD5, 0xAA, 0x2A, 0x55, 0x35}
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"pcm16", riff(fmtChunk(PCM, 1, 8000, 16), dataChunk(pcm16(0, 1, -1, 32767, -32768))),
			[]int16{0, 1, -1, 32767, -32768}},
		{"ulaw", riff(chunk{"fmt ", append(fmtBody(ULaw, 1, 8000, 8), 0, 0), -1}, chunk{"fact", []byte{5, 0, 0, 0}, -1}, dataChunk(ul)),
			g711.DecodeUlaw(nil, ul)},
		{"alaw", riff(fmtChunk(ALaw, 1, 8000, 8), dataChunk(al)), g711.DecodeAlaw(nil, al)},
		{"u8", riff(fmtChunk(PCM, 1, 8000, 8), dataChunk([]byte{128, 0, 255, 129, 127})),
			[]int16{0, -32768, 32512, 256, -256}},
		{"s24", riff(fmtChunk(PCM, 1, 8000, 24), dataChunk([]byte{
			0x7F, 0x01, 0x00, // 0x0017F: rounds down to 1
			0x80, 0x01, 0x00, // 0x00180: half rounds up to 2
			0x80, 0xFF, 0xFF, // -128: half rounds up to 0
			0x7F, 0xFF, 0xFF, // -129: rounds to -1
			0xFF, 0xFF, 0x7F, // max saturates at 32767
			0x00, 0x00, 0x80, // min
		})), []int16{1, 2, 0, -1, 32767, -32768}},
		{"s32", riff(fmtChunk(PCM, 1, 8000, 32), dataChunk([]byte{
			0x00, 0x80, 0x01, 0x00, // 0x18000 → 2
			0xFF, 0x7F, 0x01, 0x00, // 0x17FFF → 1
			0xFF, 0xFF, 0xFF, 0x7F, // max saturates
			0x00, 0x00, 0x00, 0x80, // min
		})), []int16{2, 1, 32767, -32768}},
		{"stereo", riff(fmtChunk(PCM, 2, 8000, 16), dataChunk(pcm16(100, 200, -3, 0, 32767, 32767, -32768, -32768))),
			[]int16{150, -1, 32767, -32768}},
		{"3ch-ulaw", riff(fmtChunk(ULaw, 3, 8000, 8), dataChunk([]byte{0x80, 0x80, 0x80, 0xFF, 0xFF, 0x00})),
			[]int16{32124, -32124 / 3}},
		{"extensible-pcm", riff(chunk{"fmt ", extBody(PCM, 1, 16000, 16), -1}, dataChunk(pcm16(5, -5))), []int16{5, -5}},
		{"extensible-ulaw", riff(chunk{"fmt ", extBody(ULaw, 1, 8000, 8), -1}, dataChunk(ul)), g711.DecodeUlaw(nil, ul)},
		{"skip-chunks", riff(
			chunk{"JUNK", []byte{1, 2, 3}, -1}, // odd size, padded
			fmtChunk(PCM, 1, 8000, 16),
			chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00abcde"), -1},
			chunk{"fact", []byte{2, 0, 0, 0}, -1},
			dataChunk(pcm16(7, 8)),
			chunk{"LIST", []byte("trailing chunk is not audio"), -1}),
			[]int16{7, 8}},
		{"long-fmt", riff(chunk{"fmt ", append(fmtBody(PCM, 1, 8000, 16), make([]byte, 51)...), -1}, dataChunk(pcm16(9))),
			[]int16{9}},
		{"odd-data", riff(fmtChunk(PCM, 1, 8000, 16), dataChunk([]byte{1, 0, 2, 0, 3})), []int16{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := readAll(t, tc.file)
			equal16(t, got, tc.want)
			// One byte at a time gives the same result.
			s, _, err := ReadAll(iotest.OneByteReader(bytes.NewReader(tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			equal16(t, s, tc.want)
		})
	}
}

func TestHeader(t *testing.T) {
	f := riff(fmtChunk(PCM, 2, 16000, 16), dataChunk(make([]byte, 64000)))
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	want := Header{Format: PCM, Channels: 2, SampleRate: 16000, BitsPerSample: 16, BlockAlign: 4, DataSize: 64000}
	if h != want {
		t.Fatalf("header %+v, want %+v", h, want)
	}
	if h.Samples() != 16000 || h.Duration().Seconds() != 1 {
		t.Errorf("Samples %d Duration %v", h.Samples(), h.Duration())
	}
	if r.SampleRate() != 16000 || r.FrameSamples() != 320 {
		t.Errorf("rate %d frame %d", r.SampleRate(), r.FrameSamples())
	}
}

// TestStreamedSizes checks that the "unknown length" data sizes written by
// FFmpeg and SoX to pipes, and 0, read to the end of the input.
func TestStreamedSizes(t *testing.T) {
	audio := pcm16(1, 2, 3, 4, 5)
	for _, size := range []int64{0, 0xFFFFFFFF, 0x7FFFF000} {
		f := riff(fmtChunk(PCM, 1, 8000, 16), chunk{"data", audio, size})
		f = append(f, 6, 0, 7) // audio after the data chunk and a partial sample
		r, err := NewReader(bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		if r.Header().DataSize != -1 || r.Header().Samples() != -1 || r.Header().Duration() != -1 {
			t.Errorf("size %#x: header %+v", size, r.Header())
		}
		got, _ := readAll(t, f)
		equal16(t, got, []int16{1, 2, 3, 4, 5, 6})
	}
}

func TestReadFrame(t *testing.T) {
	const n = 3*160 + 17
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i * 13)
	}
	f := riff(fmtChunk(PCM, 1, 8000, 16), dataChunk(pcm16(s...)))
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var fr media.Frame
	var all []int16
	var lens []int
	for {
		err := r.ReadFrame(&fr)
		if err == io.EOF {
			if len(fr.Samples) != 0 {
				t.Error("frame not empty at EOF")
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if fr.Rate != 8000 {
			t.Fatalf("rate %d", fr.Rate)
		}
		lens = append(lens, len(fr.Samples))
		all = append(all, fr.Samples...)
	}
	if len(lens) != 4 || lens[0] != 160 || lens[2] != 160 || lens[3] != 17 {
		t.Errorf("frame lengths %v", lens)
	}
	equal16(t, all, s)
	if err := r.ReadFrame(&fr); err != io.EOF {
		t.Errorf("after EOF: %v", err)
	}
}

// TestTruncatedData: a data chunk shorter than declared gives its samples,
// then ErrTruncated (also an io.ErrUnexpectedEOF).
func TestTruncatedData(t *testing.T) {
	full := riff(fmtChunk(PCM, 1, 8000, 16), dataChunk(pcm16(make([]int16, 200)...)))
	cut := full[:len(full)-101] // 49.5 samples short
	s, _, err := ReadAll(bytes.NewReader(cut))
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v", err)
	}
	if len(s) != 149 {
		t.Errorf("%d samples before the error, want 149", len(s))
	}
	r, _ := NewReader(bytes.NewReader(cut))
	var fr media.Frame
	if err := r.ReadFrame(&fr); err != nil || len(fr.Samples) != 149 {
		t.Fatalf("first frame: %d samples, %v", len(fr.Samples), err)
	}
	if err := r.ReadFrame(&fr); !errors.Is(err, ErrTruncated) {
		t.Fatalf("second frame: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	good := fmtBody(PCM, 1, 8000, 16)
	with := func(off int, v uint16) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint16(b[off:], v)
		return b
	}
	badGUID := extBody(PCM, 1, 8000, 16)
	badGUID[30] ^= 1
	shortExt := extBody(PCM, 1, 8000, 16)
	binary.LittleEndian.PutUint16(shortExt[16:], 10)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"text", []byte("hello, this is not a wav file"), ErrNotWAV},
		{"aiff", []byte("FORM\x00\x00\x00\x10AIFFCOMM"), ErrNotWAV},
		{"rifx", []byte("RIFX\x00\x00\x00\x10WAVE"), ErrUnsupported},
		{"rf64", []byte("RF64\xff\xff\xff\xffWAVE"), ErrUnsupported},
		{"short-riff", []byte("RIFF\x10\x00"), ErrTruncated},
		{"no-chunks", []byte("RIFF\x04\x00\x00\x00WAVE"), ErrTruncated},
		{"data-before-fmt", riff(dataChunk(pcm16(1)), fmtChunk(PCM, 1, 8000, 16)), ErrMalformed},
		{"fmt-only", riff(fmtChunk(PCM, 1, 8000, 16)), ErrTruncated},
		{"fmt-cut", riff(fmtChunk(PCM, 1, 8000, 16))[:30], ErrTruncated},
		{"fmt-too-short", riff(chunk{"fmt ", good[:14], -1}, dataChunk(nil)), ErrMalformed},
		{"two-fmt", riff(fmtChunk(PCM, 1, 8000, 16), fmtChunk(PCM, 1, 8000, 16), dataChunk(nil)), ErrMalformed},
		{"zero-channels", riff(chunk{"fmt ", with(2, 0), -1}, dataChunk(nil)), ErrMalformed},
		{"zero-rate", riff(chunk{"fmt ", append(with(4, 0)[:6:6], good[6:]...), -1}, dataChunk(nil)), ErrMalformed},
		{"bad-align", riff(chunk{"fmt ", with(12, 3), -1}, dataChunk(nil)), ErrMalformed},
		{"12-bit", riff(chunk{"fmt ", with(14, 12), -1}, dataChunk(nil)), ErrUnsupported},
		{"16-bit-ulaw", riff(fmtChunk(ULaw, 1, 8000, 16), dataChunk(nil)), ErrMalformed},
		{"float", riff(fmtChunk(3, 1, 8000, 32), dataChunk(nil)), ErrUnsupported},
		{"adpcm", riff(fmtChunk(2, 1, 8000, 4), dataChunk(nil)), ErrUnsupported},
		{"many-channels", riff(fmtChunk(PCM, 65, 8000, 16), dataChunk(nil)), ErrUnsupported},
		{"huge-rate", riff(fmtChunk(PCM, 1, 4000000000, 16), dataChunk(nil)), ErrUnsupported},
		{"ext-guid", riff(chunk{"fmt ", badGUID, -1}, dataChunk(nil)), ErrUnsupported},
		{"ext-short", riff(chunk{"fmt ", shortExt, -1}, dataChunk(nil)), ErrMalformed},
		{"ext-cut", riff(chunk{"fmt ", extBody(PCM, 1, 8000, 16)[:20], -1}, dataChunk(nil)), ErrMalformed},
		// A forged size on a skipped chunk: must fail by reading, not allocate 4 GiB.
		{"huge-list", riff(fmtChunk(PCM, 1, 8000, 16), chunk{"LIST", []byte("abc"), 0xFFFFFFF0}), ErrTruncated},
		{"huge-fmt", riff(chunk{"fmt ", good, 0xFFFFFFF0}), ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if _, _, err := ReadAll(bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
				t.Fatalf("ReadAll: %v", err)
			}
		})
	}
}

// TestReadError passes an I/O error through, wrapped.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	f := riff(fmtChunk(PCM, 1, 8000, 16), dataChunk(pcm16(make([]int16, 1000)...)))
	r, err := NewReader(io.MultiReader(bytes.NewReader(f[:500]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	var fr media.Frame
	var err2 error
	for err2 == nil {
		err2 = r.ReadFrame(&fr)
	}
	if !errors.Is(err2, boom) || errors.Is(err2, ErrTruncated) {
		t.Fatalf("err %v", err2)
	}
}

// TestHugeDeclaredSize: a data chunk declaring 4 GiB on a tiny input costs
// no more memory than the input.
func TestHugeDeclaredSize(t *testing.T) {
	f := riff(fmtChunk(PCM, 1, 8000, 16), chunk{"data", pcm16(1, 2, 3), 0xFFFFFFF0})
	allocs := testing.AllocsPerRun(5, func() {
		s, _, err := ReadAll(bytes.NewReader(f))
		if !errors.Is(err, ErrTruncated) || len(s) != 3 {
			t.Fatalf("%d samples, %v", len(s), err)
		}
	})
	t.Logf("%v allocations", allocs)
}

func TestReadFrameZeroAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Format
		bits int
		ch   int
	}{{"pcm16", PCM, 16, 1}, {"ulaw", ULaw, 8, 1}, {"alaw", ALaw, 8, 1}, {"stereo-s24", PCM, 24, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			f := riff(fmtChunk(tc.f, tc.ch, 8000, tc.bits), dataChunk(make([]byte, 8000*tc.ch*tc.bits/8)))
			r, err := NewReader(bytes.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			fr := media.NewFrame(8000)
			if n := testing.AllocsPerRun(40, func() {
				if err := r.ReadFrame(fr); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v allocations per frame", n)
			}
		})
	}
}

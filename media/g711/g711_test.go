package g711

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

// The functions below transcribe the ITU-T G.191 Software Tool Library
// reference (STL2009+ src/g711/g711.c: alaw_compress, alaw_expand,
// ulaw_compress, ulaw_expand) one sample at a time, keeping its loop and
// segment-search form and its C short arithmetic. They share no code or
// table with the package.

func refAlawCompress(lin int16) byte {
	var ix int16
	if lin < 0 {
		ix = (^lin) >> 4 // 1's complement for negative values
	} else {
		ix = lin >> 4
	}
	if ix > 15 { // exponent=0 for ix <= 15
		iexp := int16(1)
		for ix > 16+15 { // find mantissa and exponent
			ix >>= 1
			iexp++
		}
		ix -= 16 // remove leading '1'
		ix += iexp << 4
	}
	if lin >= 0 {
		ix |= 0x0080 // add sign bit
	}
	return byte(ix ^ 0x0055) // toggle even bits
}

func refAlawExpand(log byte) int16 {
	ix := int16(log) ^ 0x0055
	ix &= 0x007F // remove sign bit
	iexp := ix >> 4
	mant := ix & 0x000F
	if iexp > 0 {
		mant += 16 // leading '1'
	}
	mant = (mant << 4) + 0x0008 // left justified, plus 1/2 quantization step
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if log > 127 {
		return mant
	}
	return -mant
}

func refUlawCompress(lin int16) byte {
	var absno int16
	if lin < 0 {
		absno = ((^lin) >> 2) + 33
	} else {
		absno = (lin >> 2) + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := int16(1)
	for i != 0 {
		segno++
		i >>= 1
	}
	highNibble := 0x0008 - segno
	lowNibble := (absno >> segno) & 0x000F
	lowNibble = 0x000F - lowNibble
	log := (highNibble << 4) | lowNibble
	if lin >= 0 {
		log |= 0x0080
	}
	return byte(log)
}

func refUlawExpand(log byte) int16 {
	sign := int16(1)
	if log < 0x0080 {
		sign = -1
	}
	mantissa := ^int16(log)
	exponent := (mantissa >> 4) & 0x0007
	segment := exponent + 1
	mantissa &= 0x000F
	step := int16(4) << segment
	return sign * ((0x0080 << exponent) + step*mantissa + step/2 - 4*33)
}

// TestReferenceExhaustive compares the package with the transcribed ITU-T
// reference on all 65536 samples and all 256 codes, through the single
// sample and the slice forms.
func TestReferenceExhaustive(t *testing.T) {
	all := allSamples()
	ul := EncodeUlaw(nil, all)
	al := EncodeAlaw(nil, all)
	for i, s := range all {
		if got, want := EncodeUlawSample(s), refUlawCompress(s); got != want || ul[i] != want {
			t.Fatalf("μ-law encode %d: got %#02x (slice %#02x), reference %#02x", s, got, ul[i], want)
		}
		if got, want := EncodeAlawSample(s), refAlawCompress(s); got != want || al[i] != want {
			t.Fatalf("A-law encode %d: got %#02x (slice %#02x), reference %#02x", s, got, al[i], want)
		}
	}
	codes := allCodes()
	ud := DecodeUlaw(nil, codes)
	ad := DecodeAlaw(nil, codes)
	for i, c := range codes {
		if got, want := DecodeUlawSample(c), refUlawExpand(c); got != want || ud[i] != want {
			t.Fatalf("μ-law decode %#02x: got %d (slice %d), reference %d", c, got, ud[i], want)
		}
		if got, want := DecodeAlawSample(c), refAlawExpand(c); got != want || ad[i] != want {
			t.Fatalf("A-law decode %#02x: got %d (slice %d), reference %d", c, got, ad[i], want)
		}
	}
}

// TestProperties checks what G.711 promises independently of any
// implementation: decoding then encoding gives back the code (except the
// two codes of zero in μ-law), expanded values are odd multiples of the half
// step and increase with the code, silence codes decode to (near) zero.
func TestProperties(t *testing.T) {
	for c := range 256 {
		code := byte(c)
		if got := EncodeAlawSample(DecodeAlawSample(code)); got != code {
			t.Errorf("A-law %#02x → %d → %#02x", code, DecodeAlawSample(code), got)
		}
		want := code
		if code == 0x7F { // μ-law "negative zero" decodes to 0, which codes as 0xFF
			want = 0xFF
		}
		if got := EncodeUlawSample(DecodeUlawSample(code)); got != want {
			t.Errorf("μ-law %#02x → %d → %#02x", code, DecodeUlawSample(code), got)
		}
	}
	if v := DecodeUlawSample(UlawSilence); v != 0 {
		t.Errorf("μ-law silence decodes to %d", v)
	}
	if v := DecodeAlawSample(AlawSilence); v != 8 {
		t.Errorf("A-law silence decodes to %d, want 8 (half the smallest step)", v)
	}
	if EncodeUlawSample(0) != UlawSilence || EncodeAlawSample(0) != AlawSilence {
		t.Error("zero does not code as the silence code")
	}
	// Peak values of the two laws.
	if DecodeUlawSample(0x80) != 32124 || DecodeUlawSample(0x00) != -32124 {
		t.Errorf("μ-law peaks %d %d", DecodeUlawSample(0x80), DecodeUlawSample(0x00))
	}
	if DecodeAlawSample(0xAA) != 32256 || DecodeAlawSample(0x2A) != -32256 {
		t.Errorf("A-law peaks %d %d", DecodeAlawSample(0xAA), DecodeAlawSample(0x2A))
	}
	// Encoding is monotonic over the whole 16-bit range.
	prevU, prevA := DecodeUlawSample(EncodeUlawSample(-32768)), DecodeAlawSample(EncodeAlawSample(-32768))
	for x := -32767; x <= 32767; x++ {
		u := DecodeUlawSample(EncodeUlawSample(int16(x)))
		a := DecodeAlawSample(EncodeAlawSample(int16(x)))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d", x)
		}
		prevU, prevA = u, a
	}
}

func TestAppend(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768}
	prefix := []byte{1, 2, 3}
	got := EncodeUlaw(prefix, pcm)
	if !bytes.Equal(got[:3], prefix) || len(got) != 8 {
		t.Fatalf("EncodeUlaw did not append: %v", got)
	}
	for i, s := range pcm {
		if got[3+i] != EncodeUlawSample(s) {
			t.Errorf("sample %d", i)
		}
	}
	dec := DecodeAlaw([]int16{7}, EncodeAlaw(nil, pcm))
	if len(dec) != 6 || dec[0] != 7 {
		t.Fatalf("DecodeAlaw did not append: %v", dec)
	}
	if got := EncodeAlaw(nil, nil); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}

func TestZeroAllocs(t *testing.T) {
	pcm := make([]int16, SamplesPerFrame)
	for i := range pcm {
		pcm[i] = int16(i * 397)
	}
	buf := make([]byte, 0, BytesPerFrame)
	out := make([]int16, 0, SamplesPerFrame)
	if n := testing.AllocsPerRun(100, func() {
		buf = EncodeUlaw(buf[:0], pcm)
		out = DecodeUlaw(out[:0], buf)
		buf = EncodeAlaw(buf[:0], pcm)
		out = DecodeAlaw(out[:0], buf)
	}); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func allSamples() []int16 {
	s := make([]int16, 65536)
	for i := range s {
		s[i] = int16(i - 32768)
	}
	return s
}

func allCodes() []byte {
	c := make([]byte, 256)
	for i := range c {
		c[i] = byte(i)
	}
	return c
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// law describes one companding law for the tool comparisons.
type law struct {
	name      string
	ffmpegFmt string // ffmpeg muxer/demuxer name
	soxEnc    string // sox -e value
	encode    func(int16) byte
	decode    func(byte) int16
	ffmpeg    func(int16) byte // model of FFmpeg's encoder
	sox       func(int16) byte // model of SoX's encoder
}

var laws = []law{
	{"ulaw", "mulaw", "mu-law", EncodeUlawSample, DecodeUlawSample, ffmpegUlaw, soxUlaw},
	{"alaw", "alaw", "a-law", EncodeAlawSample, DecodeAlawSample, ffmpegAlaw, soxAlaw},
}

// FFmpeg (libavcodec/pcm_tablegen.h, build_xlaw_table) does not use the
// G.711 decision levels: it codes a sample to the nearest reconstruction
// level, with thresholds at the midpoint of two adjacent decoded values
// rounded to 14 bits, ((v1+v2+4)>>3), looked up by x>>2. Within a segment the
// midpoint is the G.711 decision level, so the two agree; at the 7 segment
// boundaries of each sign, where the step doubles, the thresholds move, and
// the 14-bit index of a negative sample is floored where the reference takes
// the one's complement. The model below rebuilds FFmpeg's table from the
// reference expansion (which FFmpeg's decoder matches bit for bit).
var ffmpegUlaw, ffmpegAlaw = ffmpegModel(refUlawExpand, 0xFF), ffmpegModel(refAlawExpand, 0xD5)

func ffmpegModel(expand func(byte) int16, mask byte) func(int16) byte {
	var t [16384]byte
	j := 1
	t[8192] = mask
	for i := range 127 {
		v1, v2 := int(expand(byte(i)^mask)), int(expand(byte(i+1)^mask))
		for v := (v1 + v2 + 4) >> 3; j < v; j++ {
			t[8192-j] = byte(i) ^ mask ^ 0x80
			t[8192+j] = byte(i) ^ mask
		}
	}
	for ; j < 8192; j++ {
		t[8192-j] = 127 ^ mask ^ 0x80
		t[8192+j] = 127 ^ mask
	}
	t[0] = t[1]
	return func(x int16) byte { return t[(int(x)+32768)>>2] }
}

// SoX (src/g711.c, from Sun's g711.c) first rounds the sample to the codec
// width, half up, with clipping (SOX_SAMPLE_TO_SIGNED: 14 bits for μ-law,
// 13 for A-law), where the reference truncates. Its A-law coder is then the
// reference on the rounded value (one's complement of negative values), but
// its μ-law coder takes the magnitude of a negative value by negation
// (sign-magnitude), where the reference takes the one's complement.
func soxAlaw(x int16) byte {
	v := min((int32(x)+4)>>3, 4095) // 13-bit, rounded
	return refAlawCompress(int16(v << 3))
}

func soxUlaw(x int16) byte {
	v := min((int32(x)+2)>>2, 8191) // 14-bit, rounded
	mask := byte(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	v = min(v, 8159) + 33
	seg := 0
	for seg < 8 && v > int32(0x40)<<seg-1 { // seg_uend: 0x3F, 0x7F, … 0x1FFF
		seg++
	}
	if seg == 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|int(v>>(seg+1))&0xF) ^ mask
}

// TestOutsideTools encodes a raw file holding every 16-bit value with FFmpeg
// and SoX and decodes all 256 codes with them. Decoding agrees with the
// package bit for bit. Encoding does not: each tool follows its own rule
// (modelled above, asserted exactly on all 65536 inputs), and every input
// where a tool differs from the ITU reference is checked to be coded to an
// adjacent quantization level, one step away (or, for SoX μ-law on −1 and
// −2, to the other code of zero). The number of such inputs is
// logged.
func TestOutsideTools(t *testing.T) {
	ffmpeg := testutil.RequireTool(t, "ffmpeg", "ffmpeg")
	sox := testutil.RequireTool(t, "sox", "sox")
	dir := t.TempDir()
	in := filepath.Join(dir, "all.raw")
	all := allSamples()
	testutil.WriteS16(t, in, all)
	codes := filepath.Join(dir, "codes.raw")
	if err := os.WriteFile(codes, allCodes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range laws {
		encoders := map[string][]string{
			"ffmpeg": {ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", in, "-f", l.ffmpegFmt},
			"sox":    {sox, "-V1", "-D", "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", in, "-t", "raw", "-e", l.soxEnc, "-b", "8"},
		}
		decoders := map[string][]string{
			"ffmpeg": {ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", l.ffmpegFmt, "-ar", "8000", "-ac", "1", "-i", codes, "-f", "s16le"},
			"sox":    {sox, "-V1", "-D", "-t", "raw", "-r", "8000", "-c", "1", "-e", l.soxEnc, "-b", "8", codes, "-t", "raw", "-e", "signed", "-b", "16"},
		}
		models := map[string]func(int16) byte{"ffmpeg": l.ffmpeg, "sox": l.sox}
		for _, tool := range []string{"ffmpeg", "sox"} {
			t.Run(l.name+"/"+tool+"/encode", func(t *testing.T) {
				out := filepath.Join(dir, l.name+"."+tool+".enc")
				args := append(encoders[tool], out)
				testutil.Run(t, args[0], args[1:]...)
				got := readBytes(t, out)
				if len(got) != len(all) {
					t.Fatalf("%s wrote %d codes for %d samples", tool, len(got), len(all))
				}
				differ, pos := 0, 0
				for i, s := range all {
					if want := models[tool](s); got[i] != want {
						t.Fatalf("%s codes %d as %#02x, its model says %#02x (ITU %#02x)", tool, s, got[i], want, l.encode(s))
					}
					itu := l.encode(s)
					if got[i] == itu {
						continue
					}
					differ++
					if s >= 0 {
						pos++
					}
					if !adjacent(l.decode, got[i], itu) {
						t.Errorf("%s codes %d as %#02x (%d), ITU %#02x (%d): not adjacent levels",
							tool, s, got[i], l.decode(got[i]), itu, l.decode(itu))
					}
				}
				t.Logf("%s %s encoder: equal to its model on all 65536 inputs; differs from the ITU reference on %d inputs (%d non-negative), each by at most one quantization step",
					tool, l.name, differ, pos)
			})
			t.Run(l.name+"/"+tool+"/decode", func(t *testing.T) {
				out := filepath.Join(dir, l.name+"."+tool+".dec")
				args := append(decoders[tool], out)
				testutil.Run(t, args[0], args[1:]...)
				got := testutil.ReadS16(t, out)
				if len(got) != 256 {
					t.Fatalf("%s decoded %d samples from 256 codes", tool, len(got))
				}
				for c := range 256 {
					if want := l.decode(byte(c)); got[c] != want {
						t.Errorf("code %#02x: %s %d, package %d", c, tool, got[c], want)
					}
				}
			})
		}
	}
}

// adjacent reports whether codes a and b decode to neighbouring levels (no
// other code decodes strictly between them) or to the same value (the two
// μ-law codes of zero, 0xFF and 0x7F).
func adjacent(decode func(byte) int16, a, b byte) bool {
	lo, hi := min(decode(a), decode(b)), max(decode(a), decode(b))
	for c := range 256 {
		if v := decode(byte(c)); v > lo && v < hi {
			return false
		}
	}
	return true
}

// Package g711 implements ITU-T G.711 pulse code modulation of voice
// frequencies: the μ-law (PCMU, North America and Japan) and A-law (PCMA,
// the rest of the world) logarithmic companding of telephone audio at
// 8000 samples per second, one byte per sample.
//
// Encoding follows the ITU-T reference algorithm of the G.191 Software Tool
// Library (g711.c: alaw_compress, ulaw_compress): a 16-bit sample is read as
// a 13-bit (A-law) or 14-bit (μ-law) left-justified value, so its 3 or 2
// lowest bits are ignored, and a negative sample is coded from its one's
// complement. Decoding (alaw_expand, ulaw_expand) returns the centre of the
// quantization interval, left-justified in 16 bits. The tests check every
// one of the 65536 inputs and 256 codes against a transcription of that
// reference.
//
// The tests also compare with FFmpeg 5.1 and SoX 14.4. Their decoders agree
// with this package on all 256 codes of both laws. Their encoders do not
// follow the reference exactly, and the tests assert a model of each on all
// 65536 inputs: FFmpeg codes to the nearest reconstruction level (thresholds
// at the midpoint of adjacent decoded values, which moves the threshold at
// each segment boundary) and differs from the reference on 964 inputs per
// law; SoX rounds the sample to 14 (μ-law) or 13 (A-law) bits where the
// reference truncates, and its μ-law coder negates negative values where the
// reference takes the one's complement: it differs on 510 (μ-law) and 1020
// (A-law) inputs. Every such difference is one quantization step (or, for
// SoX on −1 and −2, the other μ-law code of zero).
//
// The functions are table driven: encoding is one lookup in a 16 KiB (μ-law)
// or 4 KiB (A-law) table, decoding one lookup in a 256-entry table. The
// slice forms append to dst like the rest of parole's codecs and allocate
// nothing when dst has room.
package g711

// Sizes of one 20 ms G.711 frame.
const (
	// SampleRate is the sampling rate of G.711 audio, in Hz.
	SampleRate = 8000
	// SamplesPerFrame is the number of samples in 20 ms.
	SamplesPerFrame = 160
	// BytesPerFrame is the size of the G.711 payload of 20 ms: one byte per
	// sample.
	BytesPerFrame = SamplesPerFrame
)

// Static RTP payload types of G.711 (RFC 3551, table 4).
const (
	// PayloadTypePCMU is the RTP payload type of μ-law audio.
	PayloadTypePCMU = 0
	// PayloadTypePCMA is the RTP payload type of A-law audio.
	PayloadTypePCMA = 8
)

// Codes of silence: the code a zero sample encodes to.
const (
	// UlawSilence is the μ-law code of a zero sample.
	UlawSilence byte = 0xFF
	// AlawSilence is the A-law code of a zero sample.
	AlawSilence byte = 0xD5
)

var (
	// ulawEnc maps the 14 most significant bits of a sample (as unsigned
	// uint16(x)>>2) to its μ-law code.
	ulawEnc [1 << 14]byte
	// alawEnc maps the 12 most significant bits of a sample (uint16(x)>>4)
	// to its A-law code.
	alawEnc [1 << 12]byte
	// ulawDec and alawDec map codes to 16-bit samples.
	ulawDec [256]int16
	alawDec [256]int16
)

func init() {
	for i := range ulawEnc {
		ulawEnc[i] = ulawCode(int16(uint16(i)<<2) >> 2)
	}
	for i := range alawEnc {
		alawEnc[i] = alawCode(int16(uint16(i)<<4) >> 4)
	}
	for c := range 256 {
		ulawDec[c] = ulawValue(byte(c))
		alawDec[c] = alawValue(byte(c))
	}
}

// segment returns the number of significant bits of v (0 for v == 0).
func segment(v int32) int32 {
	n := int32(0)
	for ; v != 0; v >>= 1 {
		n++
	}
	return n
}

// ulawCode codes a 14-bit signed sample x (−8192…8191).
func ulawCode(x int16) byte {
	m := int32(x)
	sign := byte(0x80)
	if m < 0 {
		m, sign = ^m, 0 // one's complement, as the reference
	}
	m = min(m+33, 0x1FFF)  // bias: the μ-law thresholds are the A-law ones shifted by 33
	seg := segment(m >> 6) // 0…7
	mant := (m >> (seg + 1)) & 0xF
	return sign | byte(0x7F-(seg<<4|mant))
}

// ulawValue expands a μ-law code to a 16-bit sample.
func ulawValue(c byte) int16 {
	c = ^c
	seg := int32(c>>4) & 7
	mant := int32(c & 0xF)
	// Interval start (with bias) plus half a step, 14-bit, then scaled to 16.
	v := ((mant<<1|0x21)<<seg - 33) << 2
	if c&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// alawCode codes a 12-bit signed sample x (−2048…2047).
func alawCode(x int16) byte {
	m := int32(x)
	sign := byte(0x80)
	if m < 0 {
		m, sign = ^m, 0
	}
	var c int32
	if m < 16 {
		c = m
	} else {
		seg := segment(m >> 4) // 1…7
		c = seg<<4 | (m>>(seg-1))&0xF
	}
	return (sign | byte(c)) ^ 0x55
}

// alawValue expands an A-law code to a 16-bit sample.
func alawValue(c byte) int16 {
	c ^= 0x55
	seg := int32(c>>4) & 7
	v := int32(c&0xF)<<4 | 8
	if seg > 0 {
		v = (v | 0x100) << (seg - 1)
	}
	if c&0x80 == 0 {
		return int16(-v)
	}
	return int16(v)
}

// EncodeUlawSample returns the μ-law code of one 16-bit sample. Only the 14
// most significant bits of s count.
func EncodeUlawSample(s int16) byte { return ulawEnc[uint16(s)>>2] }

// DecodeUlawSample returns the 16-bit sample a μ-law code stands for.
func DecodeUlawSample(c byte) int16 { return ulawDec[c] }

// EncodeAlawSample returns the A-law code of one 16-bit sample. Only the 13
// most significant bits of s count.
func EncodeAlawSample(s int16) byte { return alawEnc[uint16(s)>>4] }

// DecodeAlawSample returns the 16-bit sample an A-law code stands for.
func DecodeAlawSample(c byte) int16 { return alawDec[c] }

// EncodeUlaw appends the μ-law codes of pcm to dst, one byte per sample, and
// returns the extended slice. It allocates nothing when dst has room.
func EncodeUlaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n : n+len(pcm)]
	for i, s := range pcm {
		out[i] = ulawEnc[uint16(s)>>2]
	}
	return dst
}

// DecodeUlaw appends the samples of the μ-law codes in code to dst and
// returns the extended slice. Every byte is a valid code. It allocates
// nothing when dst has room.
func DecodeUlaw(dst []int16, code []byte) []int16 {
	n := len(dst)
	dst = grow(dst, len(code))
	out := dst[n : n+len(code)]
	for i, c := range code {
		out[i] = ulawDec[c]
	}
	return dst
}

// EncodeAlaw appends the A-law codes of pcm to dst, one byte per sample, and
// returns the extended slice. It allocates nothing when dst has room.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n : n+len(pcm)]
	for i, s := range pcm {
		out[i] = alawEnc[uint16(s)>>4]
	}
	return dst
}

// DecodeAlaw appends the samples of the A-law codes in code to dst and
// returns the extended slice. Every byte is a valid code. It allocates
// nothing when dst has room.
func DecodeAlaw(dst []int16, code []byte) []int16 {
	n := len(dst)
	dst = grow(dst, len(code))
	out := dst[n : n+len(code)]
	for i, c := range code {
		out[i] = alawDec[c]
	}
	return dst
}

// grow extends s by n elements, reallocating only when its capacity is
// short.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		t := make([]T, len(s), len(s)+n)
		copy(t, s)
		s = t
	}
	return s[:len(s)+n]
}

// Package wav reads and writes RIFF/WAVE files carrying telephone audio:
// 16-bit PCM, G.711 μ-law and G.711 A-law.
//
// A [Reader] parses the header from any io.Reader (it never seeks) and then
// yields the audio as mono [media.Frame]s of 20 ms, or as plain sample
// slices. Besides 16-bit PCM, μ-law and A-law it reads 8-bit unsigned, 24-bit
// and 32-bit integer PCM (rounded to 16 bits, half up, with saturation, as
// SoX does), and WAVE_FORMAT_EXTENSIBLE headers whose sub-format is one of
// those. Files with several channels are downmixed to mono by averaging the
// channels of each sample frame (the sum divided by the channel count,
// truncated toward zero). Chunks other than "fmt " and "data" (LIST, fact,
// JUNK, bext, …) are skipped, honouring the pad byte of odd-sized chunks.
//
// A data chunk whose size is 0, 0xFFFFFFFF (FFmpeg writing to a pipe) or
// 0x7FFFF000 (SoX writing to a pipe) is taken to mean "unknown": the audio
// runs to the end of the input. A data chunk that ends before its declared
// size gives [ErrTruncated] after the samples that were there.
//
// A [Writer] writes 16-bit PCM, μ-law or A-law, mono, with the "fact" chunk
// that non-PCM formats require. On an io.WriteSeeker (a file) the sizes are
// patched on Close; on a plain io.Writer the length is given up front with
// [NewWriterSize], or the header carries the streaming size 0xFFFFFFFF.
//
// Malformed input gets an error wrapping one of the sentinel errors below,
// never a panic, and sizes read from the input never drive an allocation:
// the reader's memory is bounded whatever the header claims.
//
// The tests compare samples read from files made by SoX and FFmpeg (speech
// from espeak-ng and the Asterisk prompts) with the tools' own raw decodes,
// and check that SoX and FFmpeg read the files this package writes back to
// the same samples.
package wav

import (
	"errors"
	"fmt"
	"time"
)

// Format is the sample encoding of a WAV file: the wFormatTag of its fmt
// chunk (or the sub-format of WAVE_FORMAT_EXTENSIBLE).
type Format uint16

// Formats this package reads (all) and writes (PCM with 16 bits, ALaw and
// ULaw).
const (
	// PCM is linear PCM (WAVE_FORMAT_PCM): 8-bit unsigned, 16, 24 or 32-bit
	// signed little-endian.
	PCM Format = 1
	// ALaw is G.711 A-law, 8 bits per sample (WAVE_FORMAT_ALAW).
	ALaw Format = 6
	// ULaw is G.711 μ-law, 8 bits per sample (WAVE_FORMAT_MULAW).
	ULaw Format = 7

	// extensible is WAVE_FORMAT_EXTENSIBLE: the real format is in the
	// sub-format GUID.
	extensible Format = 0xFFFE
)

// String returns the format's usual name.
func (f Format) String() string {
	switch f {
	case PCM:
		return "PCM"
	case ALaw:
		return "A-law"
	case ULaw:
		return "μ-law"
	case extensible:
		return "extensible"
	}
	return fmt.Sprintf("format 0x%04x", uint16(f))
}

// Limits on what the reader accepts. They bound the memory a forged header
// can make the reader or its caller allocate.
const (
	// MaxChannels is the largest channel count accepted.
	MaxChannels = 64
	// MaxSampleRate is the highest sample rate accepted, in Hz.
	MaxSampleRate = 768000
)

// Sentinel errors. Errors returned by this package wrap one of them (and
// sometimes an io error too), so callers can branch with errors.Is.
var (
	// ErrNotWAV means the input does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("wav: not a RIFF/WAVE stream")
	// ErrUnsupported means a well-formed file in a format this package does
	// not handle (compressed codecs, float samples, RF64, too many channels
	// or too high a rate).
	ErrUnsupported = errors.New("wav: unsupported format")
	// ErrMalformed means a header that breaks the format's rules: a fmt chunk
	// that is too short or inconsistent, zero channels or rate, a data chunk
	// before the fmt chunk.
	ErrMalformed = errors.New("wav: malformed header")
	// ErrTruncated means the input ended inside the header or before the end
	// of a data chunk of known size. It is returned together with
	// io.ErrUnexpectedEOF.
	ErrTruncated = errors.New("wav: truncated input")

	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("wav: writer closed")
	// ErrLength means a Writer was given more samples than a WAV file (or
	// the length declared to NewWriterSize) holds, or fewer than declared at
	// Close.
	ErrLength = errors.New("wav: length does not match")
	// ErrRate means a frame's sample rate differs from the file's.
	ErrRate = errors.New("wav: sample rate mismatch")
)

// Header describes the audio of a WAV file as its fmt and data chunks
// declare it.
type Header struct {
	// Format is the sample encoding: PCM, ALaw or ULaw (for
	// WAVE_FORMAT_EXTENSIBLE files, the sub-format).
	Format Format
	// Channels is the number of interleaved channels (the reader downmixes
	// them to mono).
	Channels int
	// SampleRate is the number of sample frames per second.
	SampleRate int
	// BitsPerSample is the size of one sample of one channel in bits: 8, 16,
	// 24 or 32 for PCM, 8 for ALaw and ULaw.
	BitsPerSample int
	// BlockAlign is the size of one sample frame (all channels) in bytes.
	BlockAlign int
	// DataSize is the size of the data chunk in bytes, or -1 when unknown
	// (a streamed file whose audio runs to the end of the input).
	DataSize int64
}

// Samples returns the number of sample frames the data chunk holds, or -1
// when its size is unknown.
func (h Header) Samples() int64 {
	if h.DataSize < 0 || h.BlockAlign <= 0 {
		return -1
	}
	return h.DataSize / int64(h.BlockAlign)
}

// Duration returns the length of the audio, or -1 when unknown.
func (h Header) Duration() time.Duration {
	n := h.Samples()
	if n < 0 || h.SampleRate <= 0 {
		return -1
	}
	return time.Duration(n) * time.Second / time.Duration(h.SampleRate)
}

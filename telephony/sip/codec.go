package sip

import (
	"fmt"
	"strings"

	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/g722"
	"github.com/parole-voice/parole/media/opus"
)

// Codec names, as in SDP rtpmap lines and Config.Codecs.
const (
	PCMU = "PCMU"
	PCMA = "PCMA"
	G722 = "G722"
	Opus = "opus"
)

// ClockRate returns the codec's RTP clock rate: 48000 for Opus, 8000
// otherwise (G.722 keeps 8000 although it samples at 16 kHz, RFC 3551
// §4.5.2).
func (c Codec) ClockRate() int {
	if c.Name == Opus {
		return 48000
	}
	return 8000
}

// SampleRate returns the rate of the PCM frames the leg exchanges for the
// codec: 16000 for G.722 and Opus (decoded and encoded wideband), 8000 for
// G.711.
func (c Codec) SampleRate() int {
	if c.Name == G722 || c.Name == Opus {
		return 16000
	}
	return 8000
}

// rtpmap returns the codec's rtpmap encoding, "PCMU/8000" or
// "opus/48000/2".
func (c Codec) rtpmap() string {
	if c.Name == Opus {
		return "opus/48000/2"
	}
	return c.Name + "/8000"
}

// canonicalCodec maps a Config.Codecs entry to its codec name.
func canonicalCodec(name string) (string, bool) {
	switch strings.ToUpper(strings.ReplaceAll(name, ".", "")) {
	case "PCMU", "G711U", "ULAW":
		return PCMU, true
	case "PCMA", "G711A", "ALAW":
		return PCMA, true
	case "G722":
		return G722, true
	case "OPUS":
		return Opus, true
	}
	return "", false
}

// coder encodes and decodes one call's audio; a call owns one.
type coder interface {
	// encode appends the payload of one frame of PCM to dst.
	encode(dst []byte, pcm []int16) ([]byte, error)
	// decode appends the PCM of a payload to dst.
	decode(dst []int16, payload []byte) ([]int16, error)
	// conceal appends the concealment of a lost packet, when the codec has
	// its own (ok false: use the generic concealer).
	conceal(dst []int16) (out []int16, ok bool)
	close()
}

func newCoder(c Codec) (coder, error) {
	switch c.Name {
	case PCMU:
		return ulaw{}, nil
	case PCMA:
		return alaw{}, nil
	case G722:
		return &g722Coder{enc: g722.NewEncoder(), dec: g722.NewDecoder()}, nil
	case Opus:
		enc, err := opus.NewEncoder(16000, opus.AppVoIP)
		if err != nil {
			return nil, fmt.Errorf("sip: opus encoder: %w", err)
		}
		// Complexity 5 halves libopus's encoding cost at default 10 for a
		// small loss on wideband speech (BenchmarkFrameCodec).
		if err := enc.SetComplexity(5); err != nil {
			enc.Close()
			return nil, fmt.Errorf("sip: opus encoder: %w", err)
		}
		dec, err := opus.NewDecoder(16000)
		if err != nil {
			enc.Close()
			return nil, fmt.Errorf("sip: opus decoder: %w", err)
		}
		return &opusCoder{enc: enc, dec: dec}, nil
	}
	return nil, fmt.Errorf("%w: codec %q", ErrNoCodec, c.Name)
}

type ulaw struct{}

func (ulaw) encode(dst []byte, pcm []int16) ([]byte, error) { return g711.EncodeUlaw(dst, pcm), nil }
func (ulaw) decode(dst []int16, p []byte) ([]int16, error)  { return g711.DecodeUlaw(dst, p), nil }
func (ulaw) conceal(dst []int16) ([]int16, bool)            { return dst, false }
func (ulaw) close()                                         {}
func (alaw) encode(dst []byte, pcm []int16) ([]byte, error) { return g711.EncodeAlaw(dst, pcm), nil }
func (alaw) decode(dst []int16, p []byte) ([]int16, error)  { return g711.DecodeAlaw(dst, p), nil }
func (alaw) conceal(dst []int16) ([]int16, bool)            { return dst, false }
func (alaw) close()                                         {}
func (g *g722Coder) encode(dst []byte, pcm []int16) ([]byte, error) {
	return g.enc.Encode(dst, pcm), nil
}
func (g *g722Coder) decode(dst []int16, p []byte) ([]int16, error) { return g.dec.Decode(dst, p), nil }
func (g *g722Coder) conceal(dst []int16) ([]int16, bool)           { return dst, false }
func (g *g722Coder) close()                                        {}

type alaw struct{}

type g722Coder struct {
	enc *g722.Encoder
	dec *g722.Decoder
}

type opusCoder struct {
	enc *opus.Encoder
	dec *opus.Decoder
}

func (o *opusCoder) encode(dst []byte, pcm []int16) ([]byte, error) { return o.enc.Encode(dst, pcm) }
func (o *opusCoder) decode(dst []int16, p []byte) ([]int16, error)  { return o.dec.Decode(dst, p) }
func (o *opusCoder) conceal(dst []int16) ([]int16, bool) {
	out, err := o.dec.DecodeLost(dst)
	return out, err == nil
}
func (o *opusCoder) close() {
	o.enc.Close()
	o.dec.Close()
}

package webrtc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	pion "github.com/pion/webrtc/v4"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/g722"
	"github.com/parole-voice/parole/media/opus"
	"github.com/parole-voice/parole/media/resample"
)

// codecKind is one audio codec the leg speaks.
type codecKind struct {
	name     string // as in Config.Codecs
	mime     string // pion mime type
	clock    int    // RTP clock rate
	channels uint16 // rtpmap channels (opus/48000/2)
	fmtp     string
	static   int // static payload type, or -1
}

var codecKinds = []codecKind{
	{name: CodecOpus, mime: pion.MimeTypeOpus, clock: 48000, channels: 2, fmtp: "minptime=10;useinbandfec=1", static: -1},
	{name: CodecG722, mime: pion.MimeTypeG722, clock: 8000, static: 9},
	{name: CodecPCMU, mime: pion.MimeTypePCMU, clock: 8000, static: 0},
}

const mimeTelephoneEvent = "audio/telephone-event"

func codecByName(name string) (codecKind, bool) {
	for _, k := range codecKinds {
		if strings.EqualFold(k.name, name) {
			return k, true
		}
	}
	return codecKind{}, false
}

// negotiated is what an offer and the codec preference agree on.
type negotiated struct {
	codec codecKind
	pt    uint8
	// dtmfPT and dtmfClock are the telephone-event payload type and its
	// clock rate; dtmfPT < 0 when the offer has none.
	dtmfPT    int
	dtmfClock int
	// dtmfFmtp is the offer's fmtp line for telephone-event.
	dtmfFmtp string
}

// rtpmapEntry is one payload type of an offer's audio section.
type rtpmapEntry struct {
	pt    int
	name  string
	clock int
	fmtp  string
}

// negotiate picks the first codec of prefs that the first audio section of
// the SDP offer carries, and the offer's telephone-event of the same clock
// rate (or any other). The error wraps ErrOffer.
func negotiate(offer string, prefs []string) (negotiated, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return negotiated{}, fmt.Errorf("%w: %w", ErrOffer, err)
	}
	var audio *sdp.MediaDescription
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" {
			audio = md
			break
		}
	}
	if audio == nil {
		return negotiated{}, fmt.Errorf("%w: no audio section", ErrOffer)
	}
	entries := make([]rtpmapEntry, 0, len(audio.MediaName.Formats))
	index := map[int]int{}
	for _, f := range audio.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return negotiated{}, fmt.Errorf("%w: payload type %q", ErrOffer, f)
		}
		index[pt] = len(entries)
		e := rtpmapEntry{pt: pt}
		switch pt { // static types may come without rtpmap
		case 0:
			e.name, e.clock = "PCMU", 8000
		case 9:
			e.name, e.clock = "G722", 8000
		}
		entries = append(entries, e)
	}
	for _, a := range audio.Attributes {
		if a.Key != "rtpmap" && a.Key != "fmtp" {
			continue
		}
		ptStr, rest, ok := strings.Cut(a.Value, " ")
		pt, err := strconv.Atoi(ptStr)
		if !ok || err != nil {
			continue
		}
		i, ok := index[pt]
		if !ok {
			continue
		}
		if a.Key == "fmtp" {
			entries[i].fmtp = rest
			continue
		}
		parts := strings.Split(rest, "/")
		if len(parts) < 2 {
			return negotiated{}, fmt.Errorf("%w: rtpmap %q", ErrOffer, a.Value)
		}
		clock, err := strconv.Atoi(parts[1])
		if err != nil || clock <= 0 {
			return negotiated{}, fmt.Errorf("%w: rtpmap %q", ErrOffer, a.Value)
		}
		entries[i].name, entries[i].clock = parts[0], clock
	}
	n := negotiated{dtmfPT: -1}
	found := false
	for _, p := range prefs {
		k, _ := codecByName(p)
		for _, e := range entries {
			if strings.EqualFold(e.name, k.name) && e.clock == k.clock {
				n.codec, n.pt, found = k, uint8(e.pt), true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return negotiated{}, fmt.Errorf("%w: no codec in common (we take %s)", ErrOffer, strings.Join(prefs, ", "))
	}
	for _, e := range entries {
		if !strings.EqualFold(e.name, "telephone-event") {
			continue
		}
		if n.dtmfPT < 0 || e.clock == n.codec.clock && n.dtmfClock != n.codec.clock {
			n.dtmfPT, n.dtmfClock, n.dtmfFmtp = e.pt, e.clock, e.fmtp
		}
	}
	return n, nil
}

// mediaEngine registers only the negotiated codec and telephone-event, with
// the offer's payload types, so that the answer carries exactly them.
func (n negotiated) mediaEngine() (*pion.MediaEngine, error) {
	m := &pion.MediaEngine{}
	err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: n.capability(), PayloadType: pion.PayloadType(n.pt)}, pion.RTPCodecTypeAudio)
	if err != nil {
		return nil, err
	}
	if n.dtmfPT >= 0 {
		err = m.RegisterCodec(pion.RTPCodecParameters{
			RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: uint32(n.dtmfClock), SDPFmtpLine: n.dtmfFmtp},
			PayloadType:        pion.PayloadType(n.dtmfPT),
		}, pion.RTPCodecTypeAudio)
	}
	return m, err
}

func (n negotiated) capability() pion.RTPCodecCapability {
	return pion.RTPCodecCapability{MimeType: n.codec.mime, ClockRate: uint32(n.codec.clock), Channels: n.codec.channels, SDPFmtpLine: n.codec.fmtp}
}

// transcoder converts between the wire codec and 16 kHz frames. It is not
// safe for concurrent use: a call has one for each direction.
type transcoder struct {
	kind codecKind

	opusDec *opus.Decoder
	opusEnc *opus.Encoder
	g722Dec *g722.Decoder
	g722Enc *g722.Encoder
	up      *resample.Resampler // PCMU in: 8 → 16 kHz
	down    *resample.Resampler // PCMU out: 16 → 8 kHz
	narrow  media.Frame         // PCMU scratch at 8 kHz
	wide    media.Frame
}

// newTranscoder returns a transcoder for k; decode and encode say which
// directions it serves.
func newTranscoder(k codecKind, decode, encode bool) (*transcoder, error) {
	t := &transcoder{kind: k}
	var err error
	switch k.name {
	case CodecOpus:
		if decode {
			if t.opusDec, err = opus.NewDecoder(Rate); err != nil {
				return nil, err
			}
		}
		if encode {
			if t.opusEnc, err = opus.NewEncoder(Rate, opus.AppVoIP); err != nil {
				t.close()
				return nil, err
			}
			if err = t.opusEnc.SetInbandFEC(true); err != nil {
				t.close()
				return nil, err
			}
		}
	case CodecG722:
		t.g722Dec, t.g722Enc = g722.NewDecoder(), g722.NewEncoder()
	case CodecPCMU:
		if t.up, err = resample.New(media.Rate8k, Rate, resample.Medium); err != nil {
			return nil, err
		}
		if t.down, err = resample.New(Rate, media.Rate8k, resample.Medium); err != nil {
			return nil, err
		}
		t.narrow = media.Frame{Samples: make([]int16, 0, media.SamplesPerFrame(media.Rate8k)), Rate: media.Rate8k}
		t.wide = media.Frame{Samples: make([]int16, 0, 2*media.SamplesPerFrame(Rate)), Rate: Rate}
	default:
		return nil, fmt.Errorf("%w: codec %q", ErrConfig, k.name)
	}
	return t, nil
}

// decode appends the 16 kHz samples of one RTP payload to dst.
func (t *transcoder) decode(dst []int16, payload []byte) ([]int16, error) {
	switch t.kind.name {
	case CodecOpus:
		return t.opusDec.Decode(dst, payload)
	case CodecG722:
		return t.g722Dec.Decode(dst, payload), nil
	default:
		t.narrow.Samples = g711.DecodeUlaw(t.narrow.Samples[:0], payload)
		return t.up.Process(dst, t.narrow.Samples), nil
	}
}

// conceal appends one packet's worth of loss concealment (Opus) and
// reports whether the codec has any.
func (t *transcoder) conceal(dst []int16) ([]int16, bool) {
	if t.opusDec == nil {
		return dst, false
	}
	out, err := t.opusDec.DecodeLost(dst)
	return out, err == nil
}

// encode appends the wire payload of one 20 ms frame at 16 kHz to dst.
func (t *transcoder) encode(dst []byte, pcm []int16) ([]byte, error) {
	switch t.kind.name {
	case CodecOpus:
		return t.opusEnc.Encode(dst, pcm)
	case CodecG722:
		return t.g722Enc.Encode(dst, pcm), nil
	default:
		t.narrow.Samples = t.down.Process(t.narrow.Samples[:0], pcm)
		return g711.EncodeUlaw(dst, t.narrow.Samples), nil
	}
}

func (t *transcoder) close() {
	if t.opusDec != nil {
		_ = t.opusDec.Close()
	}
	if t.opusEnc != nil {
		_ = t.opusEnc.Close()
	}
}

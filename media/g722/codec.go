package g722

// Encoder encodes 16 kHz PCM into G.722 at 64 kbit/s. It keeps the state of
// one stream: use one Encoder per call direction. The zero value is ready to
// use; an Encoder must not be used by several goroutines at once.
type Encoder struct {
	low, high band
	hist      history
	ready     bool
	pending   int16 // held back odd sample
	odd       bool  // pending is valid
}

// NewEncoder returns an Encoder at the start of a stream.
func NewEncoder() *Encoder {
	e := new(Encoder)
	e.Reset()
	return e
}

// Reset returns e to the start of a stream, as if newly created.
func (e *Encoder) Reset() {
	e.low.reset(8)
	e.high.reset(2)
	e.hist = history{}
	e.odd = false
	e.ready = true
}

// Encode appends the G.722 code of pcm (16 kHz signed 16-bit samples) to
// dst and returns the extended slice. Each pair of samples gives one byte,
// so a 20 ms frame of 320 samples gives 160 bytes. When pcm holds an odd
// number of samples, counting one held back from the previous call, the last
// sample is held back until the next call. Encode allocates nothing when dst
// has room for the result.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	if !e.ready {
		e.Reset()
	}
	if e.odd && len(pcm) > 0 {
		e.odd = false
		dst = append(dst, e.encodePair(int32(e.pending), int32(pcm[0])))
		pcm = pcm[1:]
	}
	n := len(pcm) &^ 1
	for i := 0; i < n; i += 2 {
		dst = append(dst, e.encodePair(int32(pcm[i]), int32(pcm[i+1])))
	}
	if n < len(pcm) {
		e.pending, e.odd = pcm[n], true
	}
	return dst
}

// Pending reports whether Encode holds back one sample for want of its pair.
func (e *Encoder) Pending() bool { return e.odd }

// encodePair runs the transmit QMF and both sub-band ADPCM coders on one
// pair of input samples.
func (e *Encoder) encodePair(x0, x1 int32) byte {
	even, odd := filter(e.hist.push(x0, x1))
	xl := (odd + even) >> 14
	xh := (odd - even) >> 14

	// Higher band, block 1H: 2-bit quantizer.
	eh := sat16(xh - e.high.s)
	mag := eh
	if mag < 0 {
		mag = ^mag
	}
	var ih int32
	if mag < (141*e.high.step)>>8 {
		ih = 1
	}
	if eh >= 0 {
		ih += 2
	}

	// Lower band, block 1L: 6-bit quantizer against the decision levels.
	el := sat16(xl - e.low.s)
	mag = el
	if mag < 0 {
		mag = ^mag
	}
	// i counts the decision levels below the magnitude: the first level
	// not exceeded, found by binary search over the increasing levels.
	m := (mag + 1) << 10
	i, j := int32(0), int32(len(lowLevels))
	for i < j {
		h := (i + j) >> 1
		if m > lowLevels[h]*e.low.step {
			i = h + 1
		} else {
			j = h
		}
	}
	var il int32
	switch {
	case el >= 0:
		il = 61 - i
	case i < 2:
		il = 63 - i
	default:
		il = 33 - i
	}

	e.high.updateHigh((e.high.step*highInv[ih])>>10, ih)
	e.low.updateLow(il >> 2)
	return byte(ih<<6 | il)
}

// Decoder decodes G.722 at 64 kbit/s into 16 kHz PCM. It keeps the state of
// one stream. The zero value is ready to use; a Decoder must not be used by
// several goroutines at once.
type Decoder struct {
	low, high band
	hist      history
	ready     bool
}

// NewDecoder returns a Decoder at the start of a stream.
func NewDecoder() *Decoder {
	d := new(Decoder)
	d.Reset()
	return d
}

// Reset returns d to the start of a stream, as if newly created.
func (d *Decoder) Reset() {
	d.low.reset(8)
	d.high.reset(2)
	d.hist = history{}
	d.ready = true
}

// Decode appends the 16 kHz PCM decoded from payload to dst and returns the
// extended slice: two samples per byte, 320 samples for a 160-byte 20 ms
// frame. Every byte value is a valid code, so Decode never fails. It
// allocates nothing when dst has room for the result.
func (d *Decoder) Decode(dst []int16, payload []byte) []int16 {
	if !d.ready {
		d.Reset()
	}
	for _, c := range payload {
		ih := int32(c >> 6)
		il := int32(c & 63)

		// Block 5L: lower-band reconstruction with the 6-bit inverse quantizer.
		rl := clamp((d.low.step*lowInv6[il])>>10+d.low.s, -16384, 16383)
		d.low.updateLow(il >> 2)

		// Blocks 2H and 5H: higher-band reconstruction.
		dh := (d.high.step * highInv[ih]) >> 10
		rh := clamp(dh+d.high.s, -16384, 16383)
		d.high.updateHigh(dh, ih)

		// Receive QMF.
		even, odd := filter(d.hist.push(rl+rh, rl-rh))
		dst = append(dst, int16(sat16(odd>>11)), int16(sat16(even>>11)))
	}
	return dst
}

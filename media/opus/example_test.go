package opus_test

import (
	"errors"
	"fmt"
	"math"

	"github.com/parole-voice/parole/media/opus"
)

// Encode one 20 ms frame of 16 kHz speech-band audio and decode it back.
func Example() {
	const rate = 16000
	pcm := make([]int16, rate/50)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}

	enc, err := opus.NewEncoder(rate, opus.AppVoIP)
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	if err := enc.SetBitrate(24000); err != nil {
		panic(err)
	}
	packet, err := enc.Encode(make([]byte, 0, opus.MaxPacketSize), pcm)
	if err != nil {
		panic(err)
	}

	dec, err := opus.NewDecoder(rate)
	if err != nil {
		panic(err)
	}
	defer dec.Close()
	out, err := dec.Decode(make([]int16, 0, rate/50), packet)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pcm), "samples ->", len(out), "samples; packet under 100 bytes:", len(packet) < 100)
	// Output:
	// 320 samples -> 320 samples; packet under 100 bytes: true
}

// A receiver that misses a packet recovers it from the in-band FEC of the
// next one, or conceals it when the next one is missing too.
func ExampleDecoder_DecodeFEC() {
	const rate = 16000
	enc, _ := opus.NewEncoder(rate, opus.AppVoIP)
	defer enc.Close()
	_ = enc.SetInbandFEC(true)
	_ = enc.SetPacketLossPerc(10)
	var packets [][]byte
	for k := range 3 {
		pcm := make([]int16, rate/50)
		for i := range pcm {
			pcm[i] = int16(6000 * math.Sin(2*math.Pi*200*float64(k*len(pcm)+i)/rate))
		}
		p, _ := enc.Encode(nil, pcm)
		packets = append(packets, p)
	}

	dec, _ := opus.NewDecoder(rate)
	defer dec.Close()
	out, _ := dec.Decode(nil, packets[0])
	// packets[1] is lost; packets[2] arrives.
	out, _ = dec.DecodeFEC(out, packets[2])
	out, _ = dec.Decode(out, packets[2])
	fmt.Println(len(out), "samples")
	// Output:
	// 960 samples
}

// Errors from libopus compare equal to the package's sentinels.
func ExampleError() {
	dec, _ := opus.NewDecoder(48000)
	defer dec.Close()
	_, err := dec.Decode(nil, []byte{0x03, 0x00}) // code 3 with zero frames
	fmt.Println(err)
	fmt.Println(errors.Is(err, opus.ErrInvalidPacket))
	// Output:
	// opus: packet size: libopus: corrupted stream: 0 samples
	// true
}

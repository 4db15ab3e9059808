package dtmf_test

import (
	"fmt"
	"time"

	"github.com/parole-voice/parole/media/dtmf"
)

// Send the key 5 as RFC 4733 packets and receive it back.
func Example() {
	s, _ := dtmf.NewSender(dtmf.SenderConfig{}) // 8 kHz clock, 50 ms updates
	pkts, _ := s.AppendEvent(nil, dtmf.Event5, 16000, 120*time.Millisecond)

	r, _ := dtmf.NewReceiver(dtmf.ReceiverConfig{})
	t0 := time.Now()
	var got []dtmf.Digit
	for i, p := range pkts {
		fmt.Printf("at %-6v marker=%-5v ts=%d %v\n", p.At, p.Marker, p.Timestamp, p.Payload)
		got, _ = r.Receive(got, t0.Add(p.At), dtmf.Received{
			SequenceNumber: uint16(i), Timestamp: p.Timestamp, Marker: p.Marker,
			Payload: p.AppendPayload(nil),
		})
	}
	fmt.Printf("received %s for %v\n", got[0].Event, got[0].Duration)
	// Output:
	// at 50ms   marker=true  ts=16000 event 5 volume 10 duration 400
	// at 100ms  marker=false ts=16000 event 5 volume 10 duration 800
	// at 120ms  marker=false ts=16000 event 5 volume 10 duration 960 end
	// at 170ms  marker=false ts=16000 event 5 volume 10 duration 960 end
	// at 220ms  marker=false ts=16000 event 5 volume 10 duration 960 end
	// received 5 for 120ms
}

// Detect keys in band: generate "42#" as tones and run them through a
// detector in 20 ms frames.
func ExampleDetector() {
	g, _ := dtmf.NewGenerator(dtmf.ToneConfig{Rate: 8000, Level: -10, Duration: 60 * time.Millisecond, Pause: 60 * time.Millisecond})
	pcm, _ := g.AppendDigits(nil, "42#")

	d, _ := dtmf.NewDetector(dtmf.DetectorConfig{Rate: 8000})
	var keys []dtmf.Tone
	for i := 0; i < len(pcm); i += 160 {
		keys = d.Write(keys, pcm[i:min(i+160, len(pcm))])
	}
	keys = d.Flush(keys)
	for _, k := range keys {
		fmt.Println(k.Event)
	}
	// Output:
	// 4
	// 2
	// #
}

// Decode a telephone-event payload as found in an RTP packet.
func ExampleDecodeEvent() {
	p, err := dtmf.DecodeEvent([]byte{0x0b, 0x8a, 0x08, 0xc0})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	_, err = dtmf.DecodeEvent([]byte{0x0b})
	fmt.Println(err)
	// Output:
	// event # volume 10 duration 2240 end
	// dtmf: telephone-event payload is not 4 bytes: got 1 bytes
}

// The frequencies of a key.
func ExampleFreqs() {
	lo, hi, _ := dtmf.Freqs(dtmf.EventStar)
	fmt.Println(lo, hi)
	// Output:
	// 941 1209
}

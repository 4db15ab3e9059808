package jitter_test

import (
	"fmt"
	"time"

	"github.com/parole-voice/parole/media/jitter"
	"github.com/pion/rtp"
)

// A receive loop: packets are pushed as they arrive, and every 20 ms the
// playout tick pops what is due. Packet 3 is lost and packet 5 arrives
// after packet 6; the buffer hands them back in order and asks for one
// concealment.
func Example() {
	buf, err := jitter.New(jitter.Config{
		ClockRate:    8000, // PCMU
		MinDelay:     40 * time.Millisecond,
		MaxDelay:     200 * time.Millisecond,
		InitialDelay: 40 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	arrivals := map[int][]uint16{ // tick → sequence numbers arriving just before it
		0: {1}, 1: {2}, 3: {4}, 4: {6}, 5: {5}, 6: {7},
	}
	conceal := jitter.NewConcealer(160)
	pcm := make([]int16, 160)
	for tick := range 10 {
		now := start.Add(time.Duration(tick) * 20 * time.Millisecond)
		for _, seq := range arrivals[tick] {
			p := &rtp.Packet{
				Header:  rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 42},
				Payload: make([]byte, 160), // μ-law bytes
			}
			if err := buf.Push(p, now); err != nil {
				fmt.Println("dropped:", err)
			}
		}
		for {
			r := buf.Pop(now)
			if r.Kind == jitter.None {
				break
			}
			switch r.Kind {
			case jitter.Packet:
				// decode r.Packet.Payload into pcm here, then:
				conceal.Good(pcm)
				fmt.Printf("tick %d: play packet %d\n", tick, r.Packet.SequenceNumber)
			case jitter.Lost:
				conceal.Conceal(pcm[:r.Samples])
				fmt.Printf("tick %d: conceal %v\n", tick, r.Duration)
			}
		}
	}
	s := buf.Stats()
	fmt.Println("popped", s.Popped, "missing", s.Missing, "RFC 3550 lost", s.Lost)
	// Output:
	// tick 2: play packet 1
	// tick 3: play packet 2
	// tick 4: conceal 20ms
	// tick 5: play packet 4
	// tick 6: play packet 5
	// tick 7: play packet 6
	// tick 8: play packet 7
	// tick 9: conceal 20ms
	// popped 6 missing 1 RFC 3550 lost 1
}

package webrtc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/jitter"
)

// The receive path (RTP packet → decoded frame → Recv) allocates nothing
// per frame in steady state.
func TestReceivePathZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, name := range []string{CodecOpus, CodecG722, CodecPCMU} {
		k, _ := codecByName(name)
		dec, err := newTranscoder(k, true, false)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := newTranscoder(k, false, true)
		if err != nil {
			t.Fatal(err)
		}
		c := &Call{neg: negotiated{codec: k, pt: 96, dtmfPT: -1}, dec: dec, done: make(chan struct{}),
			avail: make(chan struct{}, 1), conceal: jitter.NewConcealer(frameSamples * 4),
			frame: media.Frame{Samples: make([]int16, frameSamples), Rate: Rate}}
		for i := range c.ring {
			c.ring[i] = media.Frame{Samples: make([]int16, frameSamples), Rate: Rate}
		}
		payload, err := enc.encode(nil, sine(440, 0, 8000).Samples)
		if err != nil {
			t.Fatal(err)
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96}, Payload: payload}
		ctx := context.Background()
		allocs := testing.AllocsPerRun(200, func() {
			p.SequenceNumber++
			c.mu.Lock()
			c.receiveAudio(p)
			c.mu.Unlock()
			if _, err := c.Recv(ctx); err != nil {
				t.Fatal(err)
			}
		})
		dec.close()
		enc.close()
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per frame", name, allocs)
		}
	}
}

// The page learns the STUN/TURN servers from the first message.
func TestConfigMessageICEServers(t *testing.T) {
	servers := []ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}, {URLs: []string{"turn:turn.example.org:3478?transport=udp"}, Username: "u", Credential: "secret"}}
	_, hs := newTestServer(t, Config{ICEServers: servers, OnCall: func(context.Context, *Call) {}})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+DefaultPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var m message
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.ICEServers)
	want, _ := json.Marshal(servers)
	if m.Type != msgConfig || string(got) != string(want) || m.CallID == "" {
		t.Errorf("config message %+v", m)
	}
}

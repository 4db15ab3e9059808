package webrtc_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/parole-voice/parole/telephony/webrtc"
)

// Answer browser calls on /webrtc/ws (the softphone page) and /webrtc/whip,
// running each call until the caller hangs up. `parole serve` runs the
// voice session here instead: session.Run(ctx, call, session.Config{…,
// Observer: call.Observer()}).
func Example() {
	srv, err := webrtc.New(webrtc.Config{
		ICEServers:   []webrtc.ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}},
		PortMin:      40000,
		PortMax:      40100,
		MediaTimeout: 10 * time.Second,
		OnCall: func(ctx context.Context, call *webrtc.Call) {
			for {
				in, err := call.Recv(ctx)
				if err != nil {
					return // telephony.ErrHangup: the page hung up
				}
				if in.Digit != 0 {
					log.Printf("key %c", in.Digit)
				}
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webrtc/", srv)
	cfg := srv.Config()
	fmt.Println(cfg.Path, cfg.WHIPPath, cfg.Codecs)
	// Output: /webrtc/ws /webrtc/whip [opus G722 PCMU]
}

// New refuses a configuration it cannot use with an error wrapping
// ErrConfig.
func ExampleNew() {
	_, err := webrtc.New(webrtc.Config{OnCall: func(context.Context, *webrtc.Call) {}, Codecs: []string{"speex"}})
	fmt.Println(err)
	// Output: webrtc: invalid configuration: codec "speex" (want opus, G722 or PCMU)
}

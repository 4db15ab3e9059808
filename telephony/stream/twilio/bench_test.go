package twilio_test

import (
	"context"
	"encoding/base64"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony/stream/twilio"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseMedia: the leg's parse of one inbound media message (JSON,
// base64, μ-law decode), per 20 ms frame.
func BenchmarkParseMedia(b *testing.B) {
	msg := []byte(`{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"` +
		base64.StdEncoding.EncodeToString(g711.EncodeUlaw(nil, tone(160, 1000, 8000, 0))) + `"},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}`)
	var m twilio.Message
	var buf []byte
	pcm := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := twilio.Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
		buf, _ = twilio.DecodePayload(buf, m.Media.Payload)
		g711.DecodeUlaw(pcm[:0], buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// BenchmarkStreamLoopback: one frame in (peer write, Recv) and one frame
// out (Send, peer read) per iteration over a loopback websocket, unpaced.
// cpu-ns/frame-pair is the whole process's CPU (the peer's too, so an
// upper bound of parole's) and streams/core how many real-time streams
// (50 frames each way a second) one core would carry at that cost.
func BenchmarkStreamLoopback(b *testing.B) {
	cfg := twilio.Config{}
	twilio.Unpaced(&cfg)
	ts := newServer(b, cfg, nil)
	u := ts.wsURL(twilio.DefaultPath)
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	p := &peer{t: b, conn: conn, sid: "MZ18ad3ab5a668481ce02b83e7395059f0"}
	p.begin(nil)
	call := ts.waitCall(b)
	msg := []byte(`{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"` +
		base64.StdEncoding.EncodeToString(g711.EncodeUlaw(nil, tone(160, 1000, 8000, 0))) + `"},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}`)
	ctx := context.Background()
	f := media.NewFrame(8000)
	copy(f.Samples, tone(160, 440, 8000, 0))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := call.Recv(ctx); err != nil {
			b.Fatal(err)
		}
		if err := call.Send(ctx, f); err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if len(data) > 30 && string(data[10:15]) == "media" {
				break
			}
		}
	}
	cpu := float64(cpuTime()-cpu0) / float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame-pair")
	b.ReportMetric(cpu, "cpu-ns/frame-pair")
	b.ReportMetric(float64(20*time.Millisecond)/cpu, "streams/core")
	call.Hangup(ctx)
}

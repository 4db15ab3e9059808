package sip_test

import (
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g722"
	"github.com/parole-voice/parole/media/opus"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

func TestNegotiateCodecs(t *testing.T) {
	all := offer("m=audio 4000 RTP/AVP 0 8 9 111 101 102", "a=rtpmap:111 opus/48000/2",
		"a=rtpmap:101 telephone-event/8000", "a=rtpmap:102 telephone-event/48000")
	for _, tc := range []struct {
		name   string
		offer  []byte
		prefs  []string
		codec  sip.Codec
		dtmf   int
		rate   int
		answer string
	}{
		{"default is G.711 in the caller's order", all, nil, sip.Codec{Name: "PCMU", PayloadType: 0}, 101, 8000, "0 PCMU/8000"},
		{"opus first", all, []string{"opus", "G722", "PCMU"}, sip.Codec{Name: "opus", PayloadType: 111}, 102, 16000, "111 opus/48000/2"},
		{"G.722 first", all, []string{"G.722", "opus"}, sip.Codec{Name: "G722", PayloadType: 9}, 101, 16000, "9 G722/8000"},
		{"config order beats the caller's", offer("m=audio 4000 RTP/AVP 8 0"), []string{"PCMU", "PCMA"}, sip.Codec{Name: "PCMU", PayloadType: 0}, -1, 8000, "0 PCMU/8000"},
		{"opus without a 48 kHz telephone-event", offer("m=audio 4000 RTP/AVP 111 101", "a=rtpmap:111 OPUS/48000/2", "a=rtpmap:101 telephone-event/8000"),
			[]string{"opus"}, sip.Codec{Name: "opus", PayloadType: 111}, -1, 16000, "111 opus/48000/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sip.NegotiateCodecs(tc.offer, tc.prefs)
			if err != nil {
				t.Fatal(err)
			}
			if m.Codec != tc.codec || m.DTMF != tc.dtmf || m.Codec.SampleRate() != tc.rate {
				t.Errorf("got %+v dtmf %d rate %d", m.Codec, m.DTMF, m.Codec.SampleRate())
			}
			ans, err := sip.Answer(m, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30000}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !contains(string(ans), "a=rtpmap:"+tc.answer+"\r\n") {
				t.Errorf("answer lacks rtpmap %s:\n%s", tc.answer, ans)
			}
			back, err := sip.NegotiateCodecs(ans, tc.prefs)
			if err != nil || back.Codec != m.Codec || back.DTMF != m.DTMF {
				t.Errorf("answer reads back as %+v (%v)", back, err)
			}
		})
	}
	if _, err := sip.NegotiateCodecs(offer("m=audio 4000 RTP/AVP 0"), []string{"opus"}); !errors.Is(err, sip.ErrNoCodec) {
		t.Errorf("PCMU offer, opus only: %v", err)
	}
	on := func(context.Context, telephony.Call) {}
	if _, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: on, Codecs: []string{"G729"}}); !errors.Is(err, sip.ErrConfig) {
		t.Errorf("G729: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestWideband: calls on G.722 and on Opus carry 16 kHz audio both ways: a
// 5 kHz tone, which 8 kHz G.711 cannot carry, goes from the caller to the
// bot and another from the bot to the caller; RTP timestamps advance by
// 160 (G.722's 8 kHz clock) or 960 (Opus's 48 kHz clock) per 20 ms.
func TestWideband(t *testing.T) {
	for _, tc := range []struct {
		codec, format, rtpmap string
		pt                    uint8
		step                  uint32
	}{
		{"G722", "9", "", 9, 160},
		{"opus", "111", "111 opus/48000/2", 111, 960},
	} {
		t.Run(tc.codec, func(t *testing.T) { testWideband(t, tc.codec, tc.format, tc.rtpmap, tc.pt, tc.step) })
	}
}

// wideCodec is the caller's side of a wideband codec.
type wideCodec struct {
	encode func([]int16) []byte
	decode func([]byte) []int16
	close  func()
}

func newWideCodec(t *testing.T, name string) wideCodec {
	if name == "G722" {
		enc, dec := g722.NewEncoder(), g722.NewDecoder()
		return wideCodec{
			encode: func(p []int16) []byte { return enc.Encode(nil, p) },
			decode: func(b []byte) []int16 { return dec.Decode(nil, b) },
			close:  func() {},
		}
	}
	enc, err := opus.NewEncoder(16000, opus.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := opus.NewDecoder(16000)
	if err != nil {
		t.Fatal(err)
	}
	return wideCodec{
		encode: func(p []int16) []byte {
			b, err := enc.Encode(make([]byte, 0, opus.MaxPacketSize), p)
			if err != nil {
				t.Error(err)
			}
			return b
		},
		decode: func(b []byte) []int16 {
			s, err := dec.Decode(nil, b)
			if err != nil {
				t.Error(err)
			}
			return s
		},
		close: func() { enc.Close(); dec.Close() },
	}
}

func testWideband(t *testing.T, codec, format, rtpmap string, pt uint8, step uint32) {
	type rec struct {
		rate     int
		loudHigh int // frames where the 5 kHz tone dominates
	}
	recs := make(chan rec, 1)
	srv := serve(t, sip.Config{Codecs: []string{codec, "PCMU"}, OnCall: func(ctx context.Context, call telephony.Call) {
		r := rec{rate: call.Info().Rate}
		go func() {
			f := media.NewFrame(r.rate)
			for i := 0; i < 50; i++ {
				for j := range f.Samples {
					f.Samples[j] = int16(8000 * math.Sin(2*math.Pi*5000*float64(i*len(f.Samples)+j)/float64(r.rate)))
				}
				if call.Send(ctx, f) != nil {
					return
				}
			}
		}()
		for {
			in, err := call.Recv(ctx)
			if err != nil {
				break
			}
			if in.Frame != nil && rms(in.Frame.Samples) > 1000 && math.Abs(zeroCrossFreq(in.Frame.Samples, r.rate)-5000) < 300 {
				r.loudHigh++
			}
		}
		recs <- r
	}})
	u := newUAC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := udp(t)
	var maps []string
	if rtpmap != "" {
		maps = append(maps, rtpmap)
	}
	dlg, err := u.call(ctx, srv, sdpOffer(port(conn), "0 "+format, maps...))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	ans, err := sip.NegotiateCodecs(dlg.InviteResponse.Body(), []string{codec})
	if err != nil || ans.Codec.Name != codec {
		t.Fatalf("answer %+v %v", ans.Codec, err)
	}
	wc := newWideCodec(t, codec)
	defer wc.close()
	var pcm []int16
	var stamps []uint32
	tone := make([]int16, 320)
	start := time.Now()
	buf := make([]byte, 1500)
	for i := 0; i < 75; i++ {
		for j := range tone {
			tone[j] = int16(8000 * math.Sin(2*math.Pi*5000*float64(i*320+j)/16000))
		}
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(i), Timestamp: uint32(i) * step, SSRC: 3},
			Payload: wc.encode(tone)}).Marshal()
		if _, err := conn.WriteToUDP(b, ans.Remote); err != nil {
			t.Fatal(err)
		}
		next := start.Add(time.Duration(i+1) * 20 * time.Millisecond)
		for {
			_ = conn.SetReadDeadline(next)
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == pt {
				pcm = append(pcm, wc.decode(p.Payload)...)
				stamps = append(stamps, p.Timestamp)
			}
		}
	}
	_ = dlg.Bye(ctx)
	r := <-recs
	if r.rate != 16000 {
		t.Errorf("Info().Rate %d, want 16000", r.rate)
	}
	if r.loudHigh < 40 {
		t.Errorf("bot heard the caller's 5 kHz tone in %d frames, want ≥ 40 of 75", r.loudHigh)
	}
	if len(stamps) < 45 {
		t.Fatalf("caller got %d packets, want 50", len(stamps))
	}
	for i := 1; i < len(stamps); i++ {
		if d := stamps[i] - stamps[i-1]; d != step {
			t.Errorf("timestamp step %d at packet %d, want %d", d, i, step)
			break
		}
	}
	if f := zeroCrossFreq(pcm[len(pcm)/4:], 16000); math.Abs(f-5000) > 150 {
		t.Errorf("caller hears %.0f Hz, want the bot's 5000", f)
	}
}

// TestDialWideband: an outbound call offers the configured codecs; the
// called parole picks G.722 and both legs run at 16 kHz.
func TestDialWideband(t *testing.T) {
	rates := make(chan int, 1)
	target := serve(t, sip.Config{Codecs: []string{"G722", "PCMU"}, OnCall: func(ctx context.Context, call telephony.Call) {
		rates <- call.Info().Rate
		for {
			if _, err := call.Recv(ctx); err != nil {
				return
			}
		}
	}})
	caller := serve(t, sip.Config{Codecs: []string{"opus", "G722", "PCMA"}, OnCall: func(context.Context, telephony.Call) {}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := caller.Dial(ctx, "sip:agent@"+target.Addr().String(), sip.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if call.Info().Rate != 16000 {
		t.Errorf("outbound leg at %d Hz, want 16000 (G.722)", call.Info().Rate)
	}
	if r := <-rates; r != 16000 {
		t.Errorf("called leg at %d Hz, want 16000", r)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Error(err)
	}
	if caller.Calls() != 0 {
		t.Errorf("%d calls left on the caller after Hangup", caller.Calls())
	}
}

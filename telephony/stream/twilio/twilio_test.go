package twilio_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
	"github.com/parole-voice/parole/telephony/stream/twilio"
)

// Twilio's published request-validation example (its security docs and
// the test suites of its helper libraries).
func TestSignatureTwilioVectors(t *testing.T) {
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"},
	}
	if got := twilio.Signature("12345", u, params); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Errorf("signature %s, want Twilio's RSOYDt4T1cUTdK1PDd93/VVr8B8=", got)
	}
	if err := twilio.ValidateSignature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", u, params); err != nil {
		t.Error(err)
	}
	params.Set("Digits", "9999")
	if err := twilio.ValidateSignature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", u, params); !errors.Is(err, twilio.ErrSignature) {
		t.Errorf("tampered params: %v, want ErrSignature", err)
	}
	// Repeated parameters (twilio-python's test vector): each value, sorted.
	rep := url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}
	if got := twilio.Signature("12345", u, rep); got != "IK+Dwps556ElfBT0I3Rgjkr1wJU=" {
		t.Errorf("repeated parameters: signature %s, want IK+Dwps556ElfBT0I3Rgjkr1wJU=", got)
	}
	if err := twilio.ValidateSignature("12345", "", u, nil); !errors.Is(err, twilio.ErrSignature) {
		t.Errorf("no header: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	on := func(context.Context, telephony.Call) {}
	yes := true
	for name, cfg := range map[string]twilio.Config{
		"no OnCall":           {},
		"path":                {OnCall: on, Path: "twilio"},
		"public url":          {OnCall: on, PublicURL: "ftp://x"},
		"validate, no token":  {OnCall: on, ValidateSignature: &yes},
		"max message":         {OnCall: on, MaxMessageBytes: 10},
		"negative max calls":  {OnCall: on, MaxCalls: -1},
		"public url has path": {OnCall: on, PublicURL: "https://x/a"},
	} {
		if _, err := twilio.New(cfg); !errors.Is(err, stream.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

// A 1 kHz tone in arrives as 20 ms frames of 1 kHz; a key arrives as a
// digit; the bot's frames leave paced and in order, with marks Twilio
// echoes back.
func TestAudioBothWays(t *testing.T) {
	ts := newServer(t, twilio.Config{AuthToken: token}, nil)
	p, _, err := dial(t, ts, token)
	if err != nil {
		t.Fatal(err)
	}
	p.begin(map[string]string{"From": "+15550001", "To": "+15550002"})
	call := ts.waitCall(t)
	info := call.Info()
	if info.ID != "CA00000000000000000000000000000001" || info.Channel != "twilio" || info.Rate != 8000 ||
		info.From != "+15550001" || info.To != "+15550002" {
		t.Errorf("info %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// In: 25 frames of tone, sent in 40 ms messages and 10 ms ones (the
	// leg re-cuts them into 20 ms frames), then a key.
	go func() {
		pcm := tone(25*160, 1000, 8000, 0)
		for i, off := 0, 0; off < len(pcm); i++ {
			n := 320
			if i%3 == 2 {
				n = 80
			}
			n = min(n, len(pcm)-off)
			p.media(i, pcm[off:off+n])
			off += n
		}
		p.send(map[string]any{"event": "dtmf", "dtmf": map[string]any{"track": "inbound_track", "digit": "5"}})
	}()
	for i := range 25 {
		in, err := call.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv %d: %v", i, err)
		}
		if in.Frame == nil || len(in.Frame.Samples) != 160 || in.Frame.Rate != 8000 {
			t.Fatalf("Recv %d: %+v", i, in)
		}
		if c := crossings(in.Frame.Samples); c < 38 || c > 42 {
			t.Errorf("frame %d: %d zero crossings, want 40 for 1 kHz", i, c)
		}
		if r := rms(in.Frame.Samples); r < 5000 || r > 6300 {
			t.Errorf("frame %d: rms %.0f, want ≈ 5657", i, r)
		}
	}
	in, err := call.Recv(ctx)
	if err != nil || in.Digit != '5' {
		t.Fatalf("Recv: %+v %v, want key 5", in, err)
	}

	// Out: 25 frames, frame i at level 1000×(i+1).
	go func() {
		f := media.NewFrame(8000)
		for i := range 25 {
			for j := range f.Samples {
				f.Samples[j] = int16(1000 * (i + 1))
			}
			if err := call.Send(ctx, f); err != nil {
				t.Errorf("Send %d: %v", i, err)
				return
			}
		}
	}()
	var frames []outMsg
	var marks []string
	for len(frames) < 25 || len(marks) < 3 {
		m, err := p.read()
		if err != nil {
			t.Fatalf("after %d frames, %d marks: %v", len(frames), len(marks), err)
		}
		switch m.Event {
		case "media":
			frames = append(frames, m)
		case "mark":
			marks = append(marks, m.Mark.Name)
			// Twilio echoes a mark once the audio before it has played.
			p.send(map[string]any{"event": "mark", "mark": map[string]any{"name": m.Mark.Name}})
		default:
			t.Fatalf("unexpected %s", m.Event)
		}
	}
	for i, m := range frames {
		want := 1000 * (i + 1)
		if len(m.pcm) != 160 || absDiff(int(m.pcm[0]), want) > want/16 {
			t.Fatalf("frame %d: %d samples at %d, want 160 at ≈ %d (out of order?)", i, len(m.pcm), m.pcm[0], want)
		}
	}
	span := frames[24].at.Sub(frames[0].at)
	t.Logf("25 frames over %v; marks %q", span, marks)
	if span < 400*time.Millisecond {
		t.Errorf("25 frames arrived within %v: not paced at 20 ms", span)
	}
	if marks[len(marks)-1] != "parole-0-500" {
		t.Errorf("last mark %q, want parole-0-500 (500 ms)", marks[len(marks)-1])
	}
	// The echoes are read by Recv: send a frame to have it return.
	p.media(99, make([]int16, 160))
	if _, err := call.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	if got := call.Played(); got != 500*time.Millisecond {
		t.Errorf("Played %v, want 500ms", got)
	}
	if st := call.Stats(); st.Written != 25 {
		t.Errorf("stats %+v", st)
	}
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// Clear drops the queued audio and sends clear.
func TestClear(t *testing.T) {
	ts := newServer(t, twilio.Config{}, nil)
	p, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	p.begin(nil)
	call := ts.waitCall(t)
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan int)
	go func() { // the session's playout: Send until stopped
		f := media.NewFrame(8000)
		n := 0
		for ; ; n++ {
			f.Samples[0] = int16(n)
			if call.Send(ctx, f) != nil {
				break
			}
		}
		sent <- n
	}()
	got := 0
	for got < 5 {
		m, err := p.read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Event == "media" {
			got++
		}
	}
	cancel() // barge-in: playout stops, then Clear
	n := <-sent
	if err := call.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	sawClear, after := false, 0
	for {
		m, err := p.read()
		if err != nil {
			break // the read deadline set after clear
		}
		switch m.Event {
		case "clear":
			sawClear = true
			_ = p.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		case "media":
			got++
			if sawClear {
				after++
			}
		}
	}
	st := call.Stats()
	t.Logf("%d frames queued, %d sent to the peer, %d cleared, %d after clear", n, got, st.Cleared, after)
	if !sawClear {
		t.Fatal("no clear message")
	}
	if after > 1 {
		t.Errorf("%d media messages after clear, want at most the one in flight", after)
	}
	if st.Cleared < 1 || int64(got)+st.Cleared != int64(n) {
		t.Errorf("queued %d = sent %d + cleared %d does not hold", n, got, st.Cleared)
	}
}

// stop from Twilio, or the websocket closing, ends Recv with ErrHangup;
// Hangup closes the websocket with a normal closure.
func TestHangup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts := newServer(t, twilio.Config{}, nil)

	t.Run("stop", func(t *testing.T) {
		p, _, err := dial(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		p.begin(nil)
		call := ts.waitCall(t)
		p.send(map[string]any{"event": "stop", "stop": map[string]any{"accountSid": "AC0", "callSid": "CA0"}})
		if _, err := call.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
			t.Fatalf("Recv after stop: %v", err)
		}
		if err := call.Send(ctx, media.NewFrame(8000)); !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("Send after stop: %v", err)
		}
		if err := call.Hangup(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Run("socket closed", func(t *testing.T) {
		p, _, err := dial(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		p.begin(nil)
		call := ts.waitCall(t)
		p.conn.Close()
		if _, err := call.Recv(ctx); !errors.Is(err, telephony.ErrHangup) {
			t.Fatalf("Recv after close: %v", err)
		}
		call.Hangup(ctx)
	})
	t.Run("bot", func(t *testing.T) {
		p, _, err := dial(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		p.begin(nil)
		call := ts.waitCall(t)
		recvErr := make(chan error, 1)
		go func() { _, err := call.Recv(ctx); recvErr <- err }()
		if err := call.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := call.Hangup(ctx); err != nil {
			t.Errorf("second Hangup: %v", err)
		}
		_, err = p.read()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
			t.Errorf("peer read %v, want close 1000", err)
		}
		if err := <-recvErr; !errors.Is(err, telephony.ErrHangup) {
			t.Errorf("blocked Recv: %v", err)
		}
		if err := call.Transfer(ctx, "+1555", false); !errors.Is(err, telephony.ErrUnsupported) {
			t.Errorf("Transfer: %v", err)
		}
	})
}

// Bad messages close the websocket with a clear close frame; before start
// no call reaches OnCall, during a call Recv fails with ErrProtocol.
func TestBadMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts := newServer(t, twilio.Config{MaxMessageBytes: 4096}, nil)
	big := `{"event":"media","media":{"payload":"` + strings.Repeat("A", 8000) + `"}}`
	before := map[string]string{
		"bad JSON":           `{"event":"connected",`,
		"unknown event":      `{"event":"hello"}`,
		"no event":           `{"protocol":"Call"}`,
		"media before start": `{"event":"media","streamSid":"MZ1","media":{"payload":"//8="}}`,
		"wrong format": `{"event":"start","start":{"streamSid":"MZ1","callSid":"CA1",` +
			`"mediaFormat":{"encoding":"audio/x-l16","sampleRate":16000,"channels":1}}}`,
		"start without sids": `{"event":"start","start":{"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`,
		"oversized":          big,
	}
	for name, msg := range before {
		t.Run(name, func(t *testing.T) {
			p, _, err := dial(t, ts, "")
			if err != nil {
				t.Fatal(err)
			}
			p.raw(msg)
			_, err = p.read()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || (ce.Code != websocket.CloseProtocolError && ce.Code != websocket.CloseMessageTooBig) {
				t.Fatalf("peer read %v, want a close frame 1002/1009", err)
			}
			t.Logf("closed: %d %s", ce.Code, ce.Text)
			select {
			case c := <-ts.calls:
				t.Errorf("call %s reached OnCall", c.Info().ID)
			default:
			}
		})
	}
	during := map[string]string{
		"bad base64":       `{"event":"media","media":{"payload":"!!!!"}}`,
		"bad JSON":         `{"event":"media","media":`,
		"unknown event":    `{"event":"hello"}`,
		"second start":     `{"event":"start","start":{"streamSid":"MZ2","callSid":"CA2","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`,
		"bad digit":        `{"event":"dtmf","dtmf":{"digit":"55"}}`,
		"payload a number": `{"event":"media","media":{"payload":12}}`,
		"oversized":        big,
	}
	for name, msg := range during {
		t.Run("during/"+name, func(t *testing.T) {
			p, _, err := dial(t, ts, "")
			if err != nil {
				t.Fatal(err)
			}
			p.begin(nil)
			call := ts.waitCall(t)
			p.raw(msg)
			_, err = call.Recv(ctx)
			if !errors.Is(err, stream.ErrProtocol) && !errors.Is(err, stream.ErrTooLarge) {
				t.Fatalf("Recv: %v, want ErrProtocol or ErrTooLarge", err)
			}
			t.Log(err)
			_, err = p.read()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Errorf("peer read %v, want a close frame", err)
			}
			call.Hangup(ctx)
		})
	}
	t.Run("binary", func(t *testing.T) {
		p, _, err := dial(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		p.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		_, err = p.read()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseProtocolError {
			t.Fatalf("peer read %v", err)
		}
	})
}

// With an auth token, unsigned or forged requests get 403; the TwiML
// webhook answers <Connect><Stream> with the caller's From and To.
func TestSignatureAndTwiML(t *testing.T) {
	ts := newServer(t, twilio.Config{AuthToken: token, PublicURL: "https://bot.example.com"}, nil)
	for name, sig := range map[string]string{"none": "", "forged": "RSOYDt4T1cUTdK1PDd93/VVr8B8="} {
		h := http.Header{}
		if sig != "" {
			h.Set("X-Twilio-Signature", sig)
		}
		_, resp, err := websocket.DefaultDialer.Dial(ts.wsURL("/twilio"), h)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s signature: %v %v, want 403", name, resp, err)
		}
	}
	// Signed for the public URL, as Twilio would: accepted.
	h := http.Header{"X-Twilio-Signature": {twilio.Signature(token, "wss://bot.example.com/twilio", nil)}}
	conn, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/twilio"), h)
	if err != nil {
		t.Fatalf("signed upgrade: %v", err)
	}
	conn.Close()

	form := url.Values{"CallSid": {"CA1"}, "From": {"+15551234"}, "To": {"+15556789"}, "AccountSid": {"AC1"}}
	post := func(sig string, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, ts.http.URL+"/twilio/twiml", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		resp, err := ts.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := post("", form.Encode()); r.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned webhook: %d", r.StatusCode)
	} else {
		r.Body.Close()
	}
	if r := post("x", strings.Repeat("a=b&", 20000)); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized webhook: %d", r.StatusCode)
	} else {
		r.Body.Close()
	}
	resp := post(twilio.Signature(token, "https://bot.example.com/twilio/twiml", form), form.Encode())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("webhook: %d %s", resp.StatusCode, body)
	}
	var doc struct {
		XMLName xml.Name `xml:"Response"`
		Connect struct {
			Stream struct {
				URL    string `xml:"url,attr"`
				Params []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"Parameter"`
			} `xml:"Stream"`
		} `xml:"Connect"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("TwiML %s: %v", body, err)
	}
	st := doc.Connect.Stream
	if st.URL != "wss://bot.example.com/twilio" || len(st.Params) != 2 ||
		st.Params[0].Name != "From" || st.Params[0].Value != "+15551234" || st.Params[1].Value != "+15556789" {
		t.Errorf("TwiML %s", body)
	}
	r, err := ts.http.Client().Get(ts.http.URL + "/twilio/twiml")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET twiml: %d", r.StatusCode)
	}
}

// Beyond MaxCalls, upgrades get 503.
func TestMaxCalls(t *testing.T) {
	ts := newServer(t, twilio.Config{MaxCalls: 1}, nil)
	p, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	p.begin(nil)
	call := ts.waitCall(t)
	_, resp, err := dial(t, ts, "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second stream: %v %v, want 503", resp, err)
	}
	if ts.srv.Active() != 1 {
		t.Errorf("Active %d", ts.srv.Active())
	}
	call.Hangup(context.Background())
}

package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pionwebrtc "github.com/pion/webrtc/v4"
)

// startServe runs parole serve with the configuration text and returns its
// base URL and what it printed; the server stops when the test ends.
func startServe(t *testing.T, configText string, args ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parole.yaml")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "-config", path, "-http", "127.0.0.1:0", "-log-level", "warn", "-store", "memory"}, args...), nil, stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop after cancel")
		}
		http.DefaultClient.CloseIdleConnections()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\nstdout=%s\nstderr=%s", err, stdout.String(), stderr.String())
		default:
		}
	}
	t.Fatalf("server did not start; stdout=%q stderr=%q", stdout.String(), stderr.String())
	return "", nil
}

// Every channel configured in the file is mounted and answers with the demo
// flow or refuses what it must refuse.
func TestServeChannels(t *testing.T) {
	base, stdout := startServe(t, `
sip: {enabled: false}
bridges:
  twilio: {enabled: true}
  audiofork: {enabled: true}
  audiosocket: {enabled: true, listen: "127.0.0.1:0"}
connectors:
  allomedia: {enabled: true, username: am, password: secret}
  alexa: {enabled: true, skill_id: amzn1.ask.skill.test}
  teams: {enabled: true, app_id: app, app_password: pw}
  google: {enabled: true, project_id: my-project, dialogflow_username: df, dialogflow_password: dfsecret}
  slack: {enabled: true, signing_secret: slacksecret, bot_token: xoxb-test}
  messenger: {enabled: true, app_secret: fbsecret, verify_token: vt, page_access_token: pat}
  whatsapp: {enabled: true, app_secret: wasecret, verify_token: vt2, access_token: at, phone_number_id: "123"}
  googlechat: {enabled: true, project_number: "1234567890"}
  mattermost: {enabled: true, token: mmtoken, server_url: "http://127.0.0.1:1", bot_token: bt}
  twitter: {enabled: true, consumer_secret: cs, user_id: "42", access_token: at}
`)
	post := func(path, ctype, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Allo-Media: the demo flow answers through Tock's contract.
	body := `{"session":{"sessionId":"call-1","user":{"accessToken":null}},"text":"quels sont vos horaires","intent":null,"locale":"fr_FR"}`
	req, _ := http.NewRequest("POST", base+"/io/allomedia/call", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("am", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var am struct {
		SessionID  string `json:"sessionId"`
		OutputText struct {
			TextToSpeech string `json:"textToSpeech"`
		} `json:"outputText"`
	}
	err = json.NewDecoder(resp.Body).Decode(&am)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || am.SessionID != "call-1" || !strings.Contains(am.OutputText.TextToSpeech, "lundi au vendredi") {
		t.Fatalf("allomedia: %d %v %+v", resp.StatusCode, err, am)
	}
	// The live call view lists the Allo-Media conversation with its
	// transcript (parole listens on loopback: no token needed).
	var snap struct {
		Conversations []struct {
			ID, Channel string
			Transcript  []struct{ Kind, Text string }
		} `json:"conversations"`
	}
	get(t, base+"/api/calls", "application/json", func(b []byte) {
		if err := json.Unmarshal(b, &snap); err != nil {
			t.Fatal(err)
		}
	})
	if len(snap.Conversations) < 1 || snap.Conversations[0].Channel != "allomedia" || len(snap.Conversations[0].Transcript) < 2 {
		t.Errorf("live view: %+v", snap)
	}
	if resp, _ := post("/io/allomedia/call", "application/json", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("allomedia without credentials: %d", resp.StatusCode)
	}
	// Alexa and Teams verify every request: unsigned ones never reach the dialog.
	if resp, b := post("/io/alexa", "application/json", `{"version":"1.0","request":{"type":"LaunchRequest"}}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned alexa request: %d %s", resp.StatusCode, b)
	}
	if resp, b := post("/io/teams", "application/json", `{"type":"message","text":"hi"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated teams activity: %d %s", resp.StatusCode, b)
	}
	// Dialogflow ES fulfillment: basic auth, the demo flow answers.
	df := `{"responseId":"r1","session":"projects/my-agent/agent/sessions/s1","queryResult":{"queryText":"When are you open?","languageCode":"en","intent":{"displayName":"hours"}}}`
	if resp, b := post("/io/google/dialogflow", "application/json", df); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dialogflow without credentials: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", base+"/io/google/dialogflow", strings.NewReader(df))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("df", "dfsecret")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	dfb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(dfb), "fulfillmentText") {
		t.Errorf("dialogflow: %d %s", resp.StatusCode, dfb)
	}
	if resp, b := post("/io/google/actions", "application/json", `{"handler":{"name":"main"}}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned actions builder request: %d %s", resp.StatusCode, b)
	}
	// Slack signs every request: its URL verification is answered only
	// when the signature matches.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	verify := `{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`
	mac := hmac.New(sha256.New, []byte("slacksecret"))
	mac.Write([]byte("v0:" + ts + ":" + verify))
	sig := "v0=" + hex.EncodeToString(mac.Sum(nil))
	if resp, b := post("/io/slack/events", "application/json", verify, "X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig); resp.StatusCode != http.StatusOK || !strings.Contains(b, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
		t.Errorf("slack url_verification: %d %s", resp.StatusCode, b)
	}
	if resp, b := post("/io/slack/events", "application/json", verify, "X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=00"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged slack request: %d %s", resp.StatusCode, b)
	}
	// Meta's webhook verification echoes the challenge for the right token.
	for _, c := range []struct{ path, token string }{{"/io/messenger", "vt"}, {"/io/whatsapp", "vt2"}} {
		r, err := http.Get(base + c.path + "?hub.mode=subscribe&hub.verify_token=" + c.token + "&hub.challenge=1158201444")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || string(b) != "1158201444" {
			t.Errorf("%s verification: %d %s", c.path, r.StatusCode, b)
		}
	}
	// X's CRC challenge: response_token = base64(HMAC-SHA256(consumer secret, crc_token)).
	mac = hmac.New(sha256.New, []byte("cs"))
	mac.Write([]byte("challenge1"))
	get(t, base+"/io/twitter?crc_token=challenge1", "application/json", func(b []byte) {
		if want := "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil)); !strings.Contains(string(b), want) {
			t.Errorf("twitter CRC: %s, want %s", b, want)
		}
	})
	if resp, b := post("/io/googlechat", "application/json", `{"type":"MESSAGE","message":{"text":"hi"}}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated google chat event: %d %s", resp.StatusCode, b)
	}
	if resp, b := post("/io/mattermost", "application/x-www-form-urlencoded", "token=wrong&channel_id=c1&user_id=u1&text=hello"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("mattermost with a wrong token: %d %s", resp.StatusCode, b)
	}
	// Twilio's voice webhook gets TwiML connecting the call to the stream.
	resp, twiml := post("/twilio/twiml", "application/x-www-form-urlencoded", "From=%2B15551234&To=%2B15556789")
	if resp.StatusCode != http.StatusOK || !regexp.MustCompile(`<Connect><Stream url="ws://127\.0\.0\.1:\d+/twilio"`).MatchString(twiml) {
		t.Errorf("twiml: %d %s", resp.StatusCode, twiml)
	}
	// The audio-fork websocket refuses a plain GET.
	if r, err := http.Get(base + "/audiofork"); err != nil || r.StatusCode/100 != 4 {
		t.Errorf("GET /audiofork without upgrade: %v %v", r.Status, err)
	} else {
		r.Body.Close()
	}
	// AudioSocket listens where serve says; a hangup frame after the UUID
	// ends the call cleanly.
	m := regexp.MustCompile(`AudioSocket on (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve does not print the AudioSocket address: %s", stdout.String())
	}
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	uuid := []byte{0x01, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if _, err := conn.Write(append(uuid, 0x00, 0x00, 0x00)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn) // parole closes the connection once the call ended
	conn.Close()
	for _, want := range []string{"Teams messaging endpoint at", "Alexa skill endpoint at", "Twilio voice webhook"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("serve does not print %q:\n%s", want, stdout.String())
		}
	}
}

// On a public listener the live view's API needs the token; with none
// configured parole serve makes one and prints it.
func TestServeLiveViewNeedsToken(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("no wildcard listener:", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base, stdout := startServe(t, "sip: {enabled: false}\n", "-http", addr)
	m := regexp.MustCompile(`calls\.html \(token (\S+)\)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no token printed: %s", stdout.String())
	}
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer " + m[1], http.StatusOK}} {
		req, _ := http.NewRequest("GET", base+"/api/calls", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
}

// sip.routes sends a call for a called user to the flow dialog.flows names:
// sipp calls user 2000, the "sales" flow answers it, and the live view shows
// its greeting.
func TestServeRoutesSIPCallsToFlows(t *testing.T) {
	dir := t.TempDir()
	sales := filepath.Join(dir, "sales.yaml")
	if err := os.WriteFile(sales, []byte(`
name: sales
languages: [en]
start: hello
steps:
  hello:
    say: "Sales department, which product?"
    slot: {name: product, type: text}
    goto: bye
  bye:
    say: "Thank you."
    hangup: true
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The sales flow speaks with its own engine: a Voxygen-style service
	// that counts the requests and fails them (the espeak fallback speaks).
	var synthRequests atomic.Int32
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		synthRequests.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer engine.Close()
	base, stdout := startServe(t, "dialog: {flows: {sales: "+sales+"}}\nsip: {routes: {\"2000\": sales}}\n"+
		"voice: {tts: {flows: {sales: voxygen}, voxygen: {url: \""+engine.URL+"\", token: t, voice: v, max_retries: -1}}}\n", "-sip", "127.0.0.1:0")
	callSIPUser(t, stdout.String(), "2000")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var body []byte
		get(t, base+"/api/calls", "application/json", func(b []byte) { body = b })
		if strings.Contains(string(body), "Sales department, which product?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call to 2000 did not reach the sales flow: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if synthRequests.Load() == 0 {
		t.Error("the sales flow did not speak with its own engine (voice.tts.flows)")
	}
}

// A WHIP client (a pion peer) calls the bot: parole answers the SDP offer
// with 201 and a Location, the call runs the voice session, and DELETE on
// the Location hangs up.
func TestServeWebRTCWHIP(t *testing.T) {
	base, stdout := startServe(t, "sip: {enabled: false}\n")
	if !strings.Contains(stdout.String(), "/phone.html") {
		t.Errorf("serve does not print the softphone page: %s", stdout.String())
	}
	pc, err := pionwebrtc.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := pionwebrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	resp, err := http.Post(base+"/webrtc/whip", "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" || !strings.Contains(string(answer), "m=audio") {
		t.Fatalf("WHIP POST: %d location %q\n%s", resp.StatusCode, loc, answer)
	}
	if err := pc.SetRemoteDescription(pionwebrtc.SessionDescription{Type: pionwebrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	// The call reaches the live view as a webrtc conversation.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var body []byte
		get(t, base+"/api/calls", "application/json", func(b []byte) { body = b })
		if strings.Contains(string(body), `"channel":"webrtc"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WHIP call is not in the live view: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.HasPrefix(loc, "http") {
		loc = base + loc
	}
	req, _ := http.NewRequest("DELETE", loc, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Errorf("WHIP DELETE: %d", resp.StatusCode)
	}
}

// A cloud engine that cannot be reached does not leave a caller in silence:
// with voxygen configured on a dead address, the espeak fallback says the
// greeting to an AudioSocket call (and allomedia's failure falls back to
// sphinx the same way).
func TestServeEngineFallback(t *testing.T) {
	_, stdout := startServe(t, `
sip: {enabled: false}
bridges: {audiosocket: {enabled: true, listen: "127.0.0.1:0"}}
voice:
  stt: {engine: allomedia, allomedia: {url: "ws://127.0.0.1:1/", token: t, open_timeout: 1s, max_retries: -1}}
  tts: {engine: voxygen, voxygen: {url: "http://127.0.0.1:1/", token: t, voice: Fabienne, max_retries: -1}}
`)
	m := regexp.MustCompile(`AudioSocket on (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no AudioSocket address: %s", stdout.String())
	}
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0x01, 0x00, 0x10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var voiced int // audio frames with speech energy
	hdr := make([]byte, 3)
	for voiced < 25 {
		if _, err := io.ReadFull(conn, hdr); err != nil {
			t.Fatalf("after %d voiced frames: %v", voiced, err)
		}
		payload := make([]byte, int(hdr[1])<<8|int(hdr[2]))
		if _, err := io.ReadFull(conn, payload); err != nil {
			t.Fatal(err)
		}
		if hdr[0] != 0x10 {
			continue
		}
		var energy float64
		for i := 0; i+1 < len(payload); i += 2 {
			v := float64(int16(uint16(payload[i]) | uint16(payload[i+1])<<8))
			energy += v * v
		}
		if energy/float64(len(payload)/2) > 1e5 { // above -25 dBFS
			voiced++
		}
	}
	conn.Write([]byte{0x00, 0x00, 0x00})
}

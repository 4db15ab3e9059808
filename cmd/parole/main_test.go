package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media/wav"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

func TestServeHealthMetricsPagesAndShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-http", "127.0.0.1:0", "-log-level", "warn", "-store", "memory", "-sip", "127.0.0.1:0"}, nil, &stdout, &stderr)
	}()

	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("server did not start; stdout=%q stderr=%q err=%v", stdout.String(), stderr.String(), <-done)
	}

	var health map[string]string
	get(t, base+"/healthz", "application/json", func(body []byte) {
		if err := json.Unmarshal(body, &health); err != nil {
			t.Fatalf("healthz: %v", err)
		}
	})
	if health["status"] != "ok" || health["version"] != version {
		t.Errorf("healthz = %v", health)
	}
	get(t, base+"/metrics", "text/plain", func(body []byte) {
		if !bytes.Contains(body, []byte(`parole_build_info{version="dev"} 1`)) {
			t.Errorf("metrics lack parole_build_info:\n%.500s", body)
		}
	})
	get(t, base+"/", "text/html", func(body []byte) {
		if !bytes.Contains(body, []byte("<h1>parole</h1>")) {
			t.Errorf("index page: %.200s", body)
		}
	})

	get(t, base+"/chat.html", "text/html", func(body []byte) {
		if !bytes.Contains(body, []byte("chat.js")) {
			t.Errorf("chat page: %.200s", body)
		}
	})
	// The web chat channel answers with the demo flow (Tock's wire format).
	resp, err := http.Post(base+"/io/web", "application/json", strings.NewReader(`{"query":"When are you open?","userId":"u1","locale":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	var chat struct {
		Responses []struct {
			Text string `json:"text"`
		} `json:"responses"`
	}
	err = json.NewDecoder(resp.Body).Decode(&chat)
	resp.Body.Close()
	var said []string
	for _, r := range chat.Responses {
		said = append(said, r.Text)
	}
	if err != nil || resp.StatusCode != 200 || !strings.Contains(strings.Join(said, "|"), "Monday to Friday") {
		t.Fatalf("POST /io/web: %d %v %q", resp.StatusCode, err, said)
	}
	// parole chat -server talks to it over the same channel.
	var chatOut, chatErr bytes.Buffer
	in := strings.NewReader("2\ndemain\n/dtmf 1\n06 12 34 56 78\n1\n/quit\n")
	if err := run(ctx, []string{"chat", "-server", base, "-lang", "fr"}, in, &chatOut, &chatErr); err != nil {
		t.Fatalf("chat -server: %v\n%s", err, chatErr.String())
	}
	for _, want := range []string{
		"bot: Bienvenue sur la ligne de démonstration Parole.",
		"[2] Prendre rendez-vous",
		"bot: Quel jour souhaitez-vous venir ?",
		"the web chat channel carries text and choices only",
		"bot: Un rendez-vous le ",
		"bot: Votre rendez-vous est enregistré.",
	} {
		if !strings.Contains(chatOut.String(), want) {
			t.Fatalf("chat -server output lacks %q:\n%s", want, chatOut.String())
		}
	}
	// A real SIP user agent (sipp) calls the demo flow: the call is
	// answered, the voice session runs and sipp's BYE ends it.
	callSIP(t, stdout.String())
	deadline := time.Now().Add(15 * time.Second)
	for {
		var metrics []byte
		get(t, base+"/metrics", "text/plain", func(b []byte) { metrics = b })
		if bytes.Contains(metrics, []byte(`parole_voice_events_total{event="call"} 1`)) &&
			bytes.Contains(metrics, []byte(`parole_voice_turn_stage_seconds_count{stage="tts"}`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SIP call did not run the voice session:\n%s", metrics)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "/chat.html") {
		t.Errorf("serve does not print the chat page's address: %q", stdout.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	http.DefaultClient.CloseIdleConnections()
}

func get(t *testing.T, url, contentType string, check func([]byte)) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	check(body)
}

func TestConfigCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"config", "example"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, out.Bytes(), 0o600)
	out.Reset()
	if err := run(context.Background(), []string{"config", "check", good}, nil, &out, &errb); err != nil {
		t.Fatalf("the example does not pass its own check: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("server:\n  htp: :80\n"), 0o600)
	err := run(context.Background(), []string{"config", "check", bad}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:2: server.htp: unknown key") {
		t.Fatalf("config check of a bad file: %v", err)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve", "-http", "nocolon"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "server.http") {
		t.Fatalf("want a server.http error, got %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, &out, &errb); err != errUsage {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestFlowCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"flow", "demo"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "demo.yaml")
	os.WriteFile(good, out.Bytes(), 0o600)
	out.Reset()
	if err := run(context.Background(), []string{"flow", "check", good}, nil, &out, &errb); err != nil {
		t.Fatalf("the demo flow does not pass its own check: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "demo.yaml: ok") {
		t.Fatalf("flow check output: %q", out.String())
	}
	broken := strings.Replace(string(flowDemo(t)), "    goto: anything_else\n\n  anything_else:", "    goto: anything_els\n\n  anything_else:", 1)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(broken), 0o600)
	errb.Reset()
	err := run(context.Background(), []string{"flow", "check", good, bad}, nil, &out, &errb)
	if err != errFlowInvalid {
		t.Fatalf("flow check of a broken flow returned %v", err)
	}
	if !regexp.MustCompile(`bad\.yaml:\d+: steps\.hours\.goto: no step named "anything_els"`).MatchString(errb.String()) {
		t.Fatalf("flow check did not name the line and key:\n%s", errb.String())
	}
	if err := run(context.Background(), []string{"flow"}, nil, &out, &errb); err != errUsage {
		t.Fatalf("flow without arguments: %v", err)
	}
}

func flowDemo(t *testing.T) []byte {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"flow", "demo"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestChatCommand(t *testing.T) {
	in := strings.NewReader("quels sont vos horaires ?\n1\n/dtmf 2\n2026-12-01\n/dtmf 0612345678#\noui\n/quit\n")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"chat", "-lang", "fr"}, in, &out, &errb); err != nil {
		t.Fatalf("chat: %v\n%s", err, errb.String())
	}
	for _, want := range []string{
		"bot: Bienvenue sur la ligne de démonstration Parole.",
		"[1] Horaires",
		"bot: Nous sommes ouverts du lundi au vendredi",
		"bot: Quel jour souhaitez-vous venir ?",
		"bot: Un rendez-vous le mardi 1er décembre", // the year is said only when it is not the current one
		", et nous vous appellerons au 0612345678. C'est bien ça ?",
		"bot: Votre rendez-vous est enregistré.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("chat output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSayCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hello.wav")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"say", "-lang", "fr-FR", "-rate", "16000", "-o", out, "Bonjour,", "bienvenue", "chez", "Parole."}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("say: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, rate, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	var energy float64
	for _, s := range samples {
		energy += float64(s) * float64(s)
	}
	secs := float64(len(samples)) / float64(rate)
	if rate != 16000 || secs < 1 || secs > 5 || energy/float64(len(samples)) < 1e4 {
		t.Fatalf("say wrote %.2f s at %d Hz, mean power %.0f: not a spoken sentence", secs, rate, energy/float64(len(samples)))
	}
	if !strings.Contains(stdout.String(), "first audio after") {
		t.Fatalf("say output: %q", stdout.String())
	}
	if err := run(context.Background(), []string{"say", "-o", out}, nil, &stdout, &stderr); err != errUsage {
		t.Fatalf("say without text: %v", err)
	}
}

// TestServeAsksRasa checks that a configured Rasa server is asked first:
// it understands a phrase the built-in matcher does not.
func TestServeAsksRasa(t *testing.T) {
	var asked sync.WaitGroup
	asked.Add(1)
	var once sync.Once
	rasa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/model/parse" || r.URL.Query().Get("token") != "s3cret" {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		var req struct {
			Text string `json:"text"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if req.Text == "I fancy a chat with you on a weekday" {
			once.Do(asked.Done)
			io.WriteString(w, `{"text":"`+req.Text+`","intent":{"name":"book","confidence":0.93},"entities":[]}`)
			return
		}
		io.WriteString(w, `{"text":"`+req.Text+`","intent":{"name":"nlu_fallback","confidence":0.4},"entities":[]}`)
	}))
	defer rasa.Close()
	cfgPath := filepath.Join(t.TempDir(), "parole.yaml")
	os.WriteFile(cfgPath, []byte("dialog:\n  store: memory\n  rasa_url: "+rasa.URL+"\n  rasa_token: ${TEST_RASA_TOKEN}\n"), 0o600)
	t.Setenv("TEST_RASA_TOKEN", "s3cret")

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", cfgPath, "-http", "127.0.0.1:0", "-log-level", "warn", "-sip", "off"}, nil, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	}()
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("server did not start: %s", stderr.String())
	}
	resp, err := http.Post(base+"/io/web", "application/json", strings.NewReader(`{"query":"I fancy a chat with you on a weekday","userId":"r1","locale":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	asked.Wait()
	if !strings.Contains(string(body), "Which day would you like to come?") {
		t.Fatalf("reply did not follow Rasa's intent: %s", body)
	}
}

var sipAt = regexp.MustCompile(`sip:parole@(\S+) \(UDP\)`)

// callSIP makes one call with sipp to the SIP address parole serve printed:
// PCMA with telephone-event, a key, recorded speech, then BYE.
func callSIP(t *testing.T, out string) {
	t.Helper()
	callSIPUser(t, out, "service")
}

// callSIPUser is callSIP to a given called user.
func callSIPUser(t *testing.T, out, user string) {
	t.Helper()
	sipp := testutil.RequireTool(t, "sipp", "sip-tester")
	testutil.RequireFile(t, "/usr/share/sip-tester/g711a.pcap", "sip-tester")
	m := sipAt.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("serve printed no SIP address: %q", out)
	}
	cmd := exec.Command(sipp, "-sf", "testdata/uac_pcma_service.xml", "-m", "1", "-s", user,
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)&^1),
		"-timeout", "40s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", t.TempDir()+"/errors.log",
		m[1])
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, b)
	}
}

// freeUDPPort returns a UDP port free on 127.0.0.1 a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

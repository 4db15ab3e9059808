package sipload

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

const prompt = "/usr/share/asterisk/sounds/en/demo-congrats.wav"

// scenario is the sipp caller: INVITE offering PCMA and telephone-event
// (as trunks do; without it the leg runs its in-band DTMF detector on
// every frame, about 13 % of its CPU in a profile), then the A-law WAV
// streamed in a loop (sipp's rtp_stream) for hold, then BYE.
const scenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="parole sipload">
  <send retrans="500">
    <![CDATA[
      INVITE sip:bot@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "sipp" <sip:load@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:load@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:bot@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "sipp" <sip:load@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:load@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="%s,-1,8"/></action></nop>
  <pause milliseconds="%d"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:bot@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "sipp" <sip:load@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:load@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`

// result is one run's figures.
type result struct {
	calls           int
	hold            time.Duration
	answered, ended int64
	cpuPerCall      float64 // % of one core per call, over the steady state
	rssPerCall      float64 // KiB per call at the steady state
	frames, late    int64
	received        int64
	sippFailed      int64
	sippCPU         float64 // sipp's CPU, % of a core over its run
	load            string  // /proc/loadavg before the run
}

func childCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKiB reads VmRSS from /proc/self/status.
func rssKiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

// player is the bot of every call: it plays the prompt in a loop and
// reads the caller's audio until the call ends.
type player struct {
	pcm             []int16
	answered, ended atomic.Int64
	active          atomic.Int64
	frames, late    atomic.Int64
	received        atomic.Int64
}

func (p *player) onCall(ctx context.Context, call telephony.Call) {
	p.answered.Add(1)
	p.active.Add(1)
	defer p.active.Add(-1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, err := call.Recv(ctx); err != nil {
				return
			}
		}
	}()
	f := media.NewFrame(8000)
	for i := 0; ; i = (i + 160) % (len(p.pcm) - 160) {
		copy(f.Samples, p.pcm[i:i+160])
		if err := call.Send(ctx, f); err != nil {
			break
		}
	}
	wg.Wait()
	st := call.(*sip.Call).Stats()
	p.frames.Add(st.PacketsSent)
	p.late.Add(st.LateFrames)
	p.received.Add(st.PacketsReceived)
	p.ended.Add(1)
}

func TestLoad(t *testing.T) {
	if os.Getenv("PAROLE_SIPLOAD") == "" {
		t.Skip("load scenario: set PAROLE_SIPLOAD=1 to run it")
	}
	sipp := testutil.RequireTool(t, "sipp", "sip-tester")
	sox := testutil.RequireTool(t, "sox", "sox")
	testutil.RequireFile(t, prompt, "asterisk-core-sounds-en-wav")
	counts := []int{100, 250, 500}
	if v := os.Getenv("PAROLE_SIPLOAD_CALLS"); v != "" {
		counts = counts[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				t.Fatalf("PAROLE_SIPLOAD_CALLS %q", v)
			}
			counts = append(counts, n)
		}
	}
	hold := 40 * time.Second
	if v := os.Getenv("PAROLE_SIPLOAD_HOLD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		hold = d
	}
	dir := t.TempDir()
	alaw := filepath.Join(dir, "caller-alaw.wav")
	if out, err := exec.Command(sox, "/usr/share/asterisk/sounds/en/demo-instruct.wav", "-e", "a-law", "-c", "1", "-r", "8000", alaw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	f, err := os.Open(prompt)
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := wav.ReadAll(f)
	f.Close()
	if err != nil || rate != 8000 {
		t.Fatalf("prompt: %d Hz, %v", rate, err)
	}
	var results []result
	for _, n := range counts {
		results = append(results, run(t, sipp, dir, alaw, pcm, n, hold))
	}
	t.Logf("\n%s", table(results))
	fmt.Println(table(results))
}

func table(rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| calls | hold | CPU per call (%% of a core) | RSS per call | late frames | frames sent | RTP received | failed calls | sipp CPU | load before |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		failed := r.sippFailed + int64(r.calls) - r.ended
		fmt.Fprintf(&b, "| %d | %v | %.3f | %.0f KiB | %d (%.3f %%) | %d | %d | %d | %.0f %% | %s |\n",
			r.calls, r.hold, r.cpuPerCall, r.rssPerCall, r.late, 100*float64(r.late)/max(1, float64(r.frames)),
			r.frames, r.received, failed, r.sippCPU, r.load)
	}
	return b.String()
}

func run(t *testing.T, sippPath, dir, alaw string, pcm []int16, n int, hold time.Duration) result {
	p := &player{pcm: pcm}
	srv, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", MaxCalls: n + 10, OnCall: p.onCall})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	defer func() { stop(); <-served }()

	scen := filepath.Join(dir, fmt.Sprintf("uac_%d.xml", n))
	if err := os.WriteFile(scen, fmt.Appendf(nil, scenario, alaw, hold.Milliseconds()), 0o600); err != nil {
		t.Fatal(err)
	}
	stat := filepath.Join(dir, fmt.Sprintf("stat_%d.csv", n))
	const cps = 50
	debug.FreeOSMemory() // the previous run's heap must not hide this one's
	rssBase, load, child0, start := rssKiB(), loadavg(), childCPU(), time.Now()
	cmd := exec.Command(sippPath, "-sf", scen, "-m", strconv.Itoa(n), "-l", strconv.Itoa(n), "-r", strconv.Itoa(cps),
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", "30000",
		"-timeout", strconv.Itoa(int((hold+120*time.Second).Seconds()))+"s", "-timeout_error", "-nostdin",
		"-trace_stat", "-stf", stat, "-fd", "1",
		srv.Addr().String())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	// Steady state: from when the last call is up to before the first ends.
	ramp := time.Duration(n)*time.Second/cps + 2*time.Second
	time.Sleep(ramp)
	cpu0, t0 := rusage(), time.Now()
	if path := os.Getenv("PAROLE_SIPLOAD_CPUPROFILE"); path != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", path, n))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	window := hold - ramp - 2*time.Second
	if window < 5*time.Second {
		window = 5 * time.Second
	}
	time.Sleep(window / 2)
	rss := rssKiB()
	up := p.active.Load()
	time.Sleep(window / 2)
	cpu := rusage() - cpu0
	secs := time.Since(t0).Seconds()
	sippErr := <-waited
	sippCPU := 100 * (childCPU() - child0).Seconds() / time.Since(start).Seconds()
	// Let the handlers of the last BYEs finish.
	for end := time.Now().Add(10 * time.Second); p.ended.Load() < p.answered.Load() && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	r := result{calls: n, hold: hold, answered: p.answered.Load(), ended: p.ended.Load(),
		frames: p.frames.Load(), late: p.late.Load(), received: p.received.Load(), sippCPU: sippCPU, load: load}
	if up > 0 {
		r.cpuPerCall = 100 * cpu.Seconds() / secs / float64(up)
		r.rssPerCall = (rss - rssBase) / float64(up)
	}
	r.sippFailed = failedCalls(stat)
	t.Logf("N=%d: %d calls up in the steady state, CPU %.2fs over %.1fs, RSS %.0f → %.0f KiB, sipp: %v",
		n, up, cpu.Seconds(), secs, rssBase, rss, sippErr)
	if sippErr != nil {
		t.Errorf("sipp with %d calls: %v\n%s", n, sippErr, tailOf(out.String()))
	}
	if up != int64(n) {
		t.Errorf("%d calls up in the steady state, want %d", up, n)
	}
	return r
}

// failedCalls reads the last FailedCall(C) of sipp's statistics file.
func failedCalls(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return -1
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if h == "FailedCall(C)" && i < len(last) {
			n, err := strconv.ParseInt(last[i], 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func tailOf(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

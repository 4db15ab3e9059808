package webrtc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/telephony/webrtc"
	"github.com/parole-voice/parole/tts/cache"
	"github.com/parole-voice/parole/tts/espeak"
	"github.com/parole-voice/parole/web"
)

// events records the session events of the calls.
type events struct {
	mu  sync.Mutex
	all []session.Event
}

func (e *events) Observe(ev session.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) kinds(k session.EventKind) []session.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []session.Event
	for _, ev := range e.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// voiceServer is parole's browser-call side as `parole serve` assembles
// it: the pages of web.FS() and the WebRTC handler whose calls run the
// voice session with pocketsphinx, espeak-ng behind the prompt cache and
// the demo flow over the memory store.
type voiceServer struct {
	url    string
	store  *store.Memory
	events *events
	calls  chan string // ids of the calls that ended
}

func startVoiceServer(tb testing.TB) *voiceServer {
	tb.Helper()
	testutil.RequireFile(tb, sphinx.DefaultLM, "pocketsphinx-en-us")
	rec, err := sphinx.New(sphinx.Config{})
	if err != nil {
		tb.Fatalf("stt/sphinx: %v", err)
	}
	tb.Cleanup(func() { rec.Close() })
	es, err := espeak.New(espeak.Options{})
	if err != nil {
		tb.Fatalf("tts/espeak: %v", err)
	}
	synth, err := cache.New(es, cache.Options{Engine: "espeak", MaxBytes: 16 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	f, err := flow.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := flow.New(f)
	if err != nil {
		tb.Fatal(err)
	}
	vs := &voiceServer{store: store.NewMemory(store.Options{}), events: &events{}, calls: make(chan string, 8)}
	run := runner.New(eng, vs.store)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	phone, err := webrtc.New(webrtc.Config{Logger: log, OnCall: func(ctx context.Context, call *webrtc.Call) {
		page := call.Observer()
		var leg telephony.Call = call
		if dir := os.Getenv("PAROLE_RECORD"); dir != "" {
			rc := &recordingCall{Call: call}
			leg = rc
			defer func() { _ = os.WriteFile(dir+"/"+call.Info().ID+".raw", rc.bytes(), 0o644) }()
		}
		err := session.Run(ctx, leg, session.Config{
			Dialog: run, Recognizer: rec, Synthesizer: synth, Logger: log,
			Observer: session.ObserverFunc(func(e session.Event) { vs.events.Observe(e); page.Observe(e) }),
		})
		if err != nil && ctx.Err() == nil {
			tb.Errorf("session: %v", err)
		}
		tb.Logf("call %s (%s): %+v", call.Info().ID, call.Codec(), call.Stats())
		vs.calls <- call.Info().ID
	}})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(web.FS()))
	mux.Handle("/webrtc/", phone)
	hs := httptest.NewServer(mux)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := phone.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	vs.url = hs.URL
	return vs
}

// recordingCall keeps what Recv returns (PAROLE_RECORD=dir writes it as
// raw 16 kHz s16le, for listening to what the session heard).
type recordingCall struct {
	telephony.Call
	mu  sync.Mutex
	pcm []int16
}

func (r *recordingCall) Recv(ctx context.Context) (telephony.Input, error) {
	in, err := r.Call.Recv(ctx)
	if in.Frame != nil {
		r.mu.Lock()
		r.pcm = append(r.pcm, in.Frame.Samples...)
		r.mu.Unlock()
	}
	return in, err
}

func (r *recordingCall) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, 2*len(r.pcm))
	for i, v := range r.pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// callerWAV speaks text with espeak-ng and pads it with silence, at 48 kHz
// (Chromium loops the file as its microphone).
func callerWAV(tb testing.TB, text string, before, after time.Duration) string {
	tb.Helper()
	speech := testutil.SpokenWAV(tb, text)
	out := tb.TempDir() + "/question.wav"
	testutil.Run(tb, "sox", speech, "-r", "48000", "-c", "1", "-b", "16", out,
		"pad", fmt.Sprintf("%.3f", before.Seconds()), fmt.Sprintf("%.3f", after.Seconds()))
	return out
}

// chromium starts headless Chromium with wav as its fake microphone.
func chromium(tb testing.TB, wav string) context.Context {
	tb.Helper()
	path := testutil.RequireTool(tb, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wav),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(tb.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		tb.Fatalf("start chromium: %v", err)
	}
	tb.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

func evalJS[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// inboundEnergy is the totalAudioEnergy of the page's inbound audio
// stream (WebRTC getStats), or -1 without one.
const inboundEnergy = `(async () => {
  const pc = window.parolePhone.pc;
  if (!pc) return -1;
  let e = -1;
  (await pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio') e = s.totalAudioEnergy || 0; });
  return e;
})()`

// The softphone in real Chromium calls the demo bot: the caller's words
// (a looped espeak-ng WAV as fake microphone) reach the dialog, which
// moves to ask_date, and the bot's audio plays in the page.
func TestBrowserCall(t *testing.T) {
	if testing.Short() {
		t.Skip("real browser and engines: skipped with -short")
	}
	vs := startVoiceServer(t)
	// The caller speaks once the greeting (two prompts, 8.5 s) is over.
	ctx := chromium(t, callerWAV(t, "I would like to book an appointment", 11*time.Second, 3*time.Second))
	run := func(what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v\npage:\n%s", what, err, text)
		}
	}
	run("open the softphone", 20*time.Second,
		chromedp.Navigate(vs.url+"/phone.html"),
		chromedp.WaitVisible(chromedp.ID("call")),
		chromedp.Click(chromedp.ID("call")),
	)
	run("connect", 20*time.Second, chromedp.Poll[chromedp.Void](`window.parolePhone.state === 'connected'`, chromedp.WithPollingTimeout(20*time.Second)))
	run("hear the greeting as text", 20*time.Second, chromedp.Poll[chromedp.Void](`document.querySelector('#transcript .bot') !== null`, chromedp.WithPollingTimeout(20*time.Second)))
	// The bot asks for the date once the caller's words got through.
	run("reach ask_date", 70*time.Second, chromedp.Poll[chromedp.Void](
		`[...document.querySelectorAll('#transcript .bot')].some(e => e.textContent.includes('Which day'))`,
		chromedp.WithPollingTimeout(70*time.Second)))
	for _, e := range vs.events.kinds(session.Listening) {
		t.Logf("listening from %v", e.At)
	}
	for _, e := range vs.events.kinds(session.Final) {
		t.Logf("caller at %v: %q (confidence %.2f, rejected %v)", e.At, e.Text, e.Confidence, e.Rejected)
	}
	calls := vs.events.kinds(session.CallStarted)
	if len(calls) != 1 {
		t.Fatalf("%d calls started", len(calls))
	}
	ids := evalJS[string](t, ctx, `window.parolePhone.callId`)
	conv, _, err := vs.store.Load(context.Background(), ids)
	if err != nil {
		t.Fatalf("conversation %s: %v", ids, err)
	}
	if conv.Step != "ask_date" {
		t.Errorf("conversation at step %q, want ask_date", conv.Step)
	}
	// The page shows the caller's final transcript and the bot's audio
	// arrived: WebRTC inbound audio energy and the page's analyser.
	caller := evalJS[string](t, ctx, `[...document.querySelectorAll('#transcript .caller:not(.interim)')].map(e => e.textContent).join(' | ')`)
	if !strings.Contains(strings.ToLower(caller), "appointment") {
		t.Errorf("caller lines in the page: %q", caller)
	}
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	energy, err := chromedp.Run(c, chromedp.Evaluate[float64](inboundEnergy, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inbound audio: totalAudioEnergy %.3f", energy)
	if energy <= 0 {
		t.Errorf("no bot audio energy in the page (totalAudioEnergy %v)", energy)
	}
	// The answer's audio follows its text: give it time to reach the
	// page's analyser.
	heard := false
	for deadline := time.Now().Add(10 * time.Second); !heard && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		heard = evalJS[int](t, ctx, `window.parolePhone.onsets.length`) > 0
	}
	if !heard {
		t.Error("the page's analyser never heard the bot answer the caller")
	}
	// The keypad: Chromium sends RFC 4733 events (RTCDTMFSender), the
	// session collects the key.
	if !evalJS[bool](t, ctx, `!!(window.parolePhone.sender.dtmf && window.parolePhone.sender.dtmf.canInsertDTMF)`) {
		t.Error("the page cannot send RFC 4733 events")
	}
	run("press 4", 10*time.Second, chromedp.Click(chromedp.Search(`//section[@class="keypad"]/button[@data-key="4"]`)))
	deadline := time.Now().Add(15 * time.Second)
	for len(vs.events.kinds(session.Digits)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if d := vs.events.kinds(session.Digits); len(d) != 1 || d[0].Text != "4" {
		t.Errorf("keys collected by the session: %+v", d)
	}
	run("hang up", 10*time.Second, chromedp.Click(chromedp.ID("hangup")))
	select {
	case id := <-vs.calls:
		if id != ids {
			t.Errorf("call %s ended, want %s", id, ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after Hang up")
	}
	ended := vs.events.kinds(session.CallEnded)
	if len(ended) != 1 || ended[0].Reason != "caller hung up" {
		t.Errorf("call ended: %+v", ended)
	}
}

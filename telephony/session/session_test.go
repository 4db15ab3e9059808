package session_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/filecall"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/tts"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	t     *testing.T
	call  *filecall.Call
	synth *fakeTTS
	rec   *fakeSTT
	obs   *recorder
	store store.Store
	cfg   session.Config
	err   error
}

func newHarness(t *testing.T, fc filecall.Config, script ...stt.Result) *harness {
	t.Helper()
	if fc.MaxDuration == 0 {
		fc.MaxDuration = 2 * time.Minute
	}
	if fc.ID == "" {
		fc.ID = "call-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	call, err := filecall.New(fc)
	if err != nil {
		t.Fatal(err)
	}
	r, st := demoRunner(t)
	h := &harness{t: t, call: call, synth: &fakeTTS{}, rec: &fakeSTT{script: script}, obs: &recorder{}, store: st}
	h.cfg = session.Config{Dialog: r, Recognizer: h.rec, Synthesizer: h.synth, Observer: h.obs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return h
}

func (h *harness) run() {
	h.t.Helper()
	h.runCall(h.call)
}

func (h *harness) runCall(c telephony.Call) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.err = session.Run(ctx, c, h.cfg)
	if h.err != nil {
		h.t.Fatalf("Run: %v", h.err)
	}
}

// transcript returns the dialog events stored for the call.
func (h *harness) events() []dialog.Event {
	h.t.Helper()
	tr, err := h.store.Transcript(context.Background(), h.call.Info().ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []dialog.Event
	for _, e := range tr {
		if e.Kind == store.KindEvent {
			out = append(out, *e.Event)
		}
	}
	return out
}

func (h *harness) ended() session.Event {
	h.t.Helper()
	e := h.obs.kinds(session.CallEnded)
	if len(e) != 1 {
		h.t.Fatalf("%d call_ended events", len(e))
	}
	return e[0]
}

func (h *harness) action(k filecall.ActionKind) (filecall.Action, bool) {
	for _, a := range h.call.Actions() {
		if a.Kind == k {
			return a, true
		}
	}
	return filecall.Action{}, false
}

const (
	welcome = "Welcome to the Parole demo line."
	menu    = "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?"
)

// The caller says nothing: the flow's two no-input prompts, then its
// on_fail (operator) transfers the call.
func TestNoInputRetries(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: -1})
	h.run()
	got := h.obs.replies()
	want := []string{welcome + "\n" + menu, "Sorry, I didn't hear you.\n" + menu, "I still can't hear you.\n" + menu, "Please hold, I am transferring you to an operator."}
	if joined(got) != joined(want) {
		t.Fatalf("replies:\n%q\nwant\n%q", got, want)
	}
	if n := len(h.obs.kinds(session.NoInput)); n != 3 {
		t.Errorf("%d no-input events, want 3", n)
	}
	a, ok := h.action(filecall.ActionTransfer)
	if !ok || a.Target != "sip:operator@localhost" {
		t.Fatalf("actions %+v: no transfer to the operator", h.call.Actions())
	}
	if r := h.ended().Reason; r != "transferred" {
		t.Errorf("end reason %q", r)
	}
	// Each no-input comes 6 s (the demo's timeout) of call audio after the
	// end of the prompt before it.
	ni := h.obs.kinds(session.NoInput)
	ls := h.obs.kinds(session.Listening)
	for i := range ni {
		if d := ni[i].At - ls[i].At; d != 6*time.Second {
			t.Errorf("no-input %d after %v of silence, want 6s", i, d)
		}
	}
	evs := h.events()
	types := []dialog.EventType{}
	for _, e := range evs {
		types = append(types, e.Type)
	}
	wantTypes := []dialog.EventType{dialog.EventStart, dialog.EventNoInput, dialog.EventNoInput, dialog.EventNoInput, dialog.EventEnd}
	if len(types) != len(wantTypes) {
		t.Fatalf("transcript events %v, want %v", types, wantTypes)
	}
	for i := range types {
		if types[i] != wantTypes[i] {
			t.Fatalf("transcript events %v, want %v", types, wantTypes)
		}
	}
}

// speechAt returns caller audio: silence until at, speech for d, then
// silence.
func speechAt(at, d time.Duration) []int16 {
	return concat(silence(at), speech(d, uint64(at)))
}

func TestSpeechTurnAndHangup(t *testing.T) {
	// The caller waits for the menu prompt (about 4.4 s with the fake
	// engine) and says "goodbye".
	h := newHarness(t, filecall.Config{Input: speechAt(6*time.Second, 800*time.Millisecond), Tail: 20 * time.Second},
		stt.Result{Text: "goodbye", Confidence: 0.9})
	h.run()
	got := h.obs.replies()
	if len(got) != 2 || got[1] != "Thank you for calling. Goodbye!" {
		t.Fatalf("replies %q", got)
	}
	if _, ok := h.action(filecall.ActionHangup); !ok {
		t.Fatalf("no hangup in %+v", h.call.Actions())
	}
	if r := h.ended().Reason; r != "bot hung up" {
		t.Errorf("end reason %q", r)
	}
	evs := h.events()
	if evs[1].Type != dialog.EventText || evs[1].Text != "goodbye" || evs[1].Confidence != 0.9 {
		t.Errorf("event %+v", evs[1])
	}
	if _, ok := evs[1].Metadata["heard"]; ok {
		t.Errorf("no barge-in, but the event says heard: %v", evs[1].Metadata)
	}
	// The recognizer was steered by the gather: grammar, hints, language,
	// the call's rate and the flow's end silence.
	c := h.rec.configs[0]
	if c.SampleRate != 8000 || c.Grammar == nil || len(c.Hints) == 0 || c.EndSilence != 600*time.Millisecond || !c.InterimResults || c.Language != "en" {
		t.Errorf("stt config %+v", c)
	}
	// The goodbye prompt is in the output, after the caller's speech.
	out := h.call.Output()
	tr := h.obs.kinds(session.Latency)
	if len(tr) != 2 || tr[1].Trace.Input != "speech" || tr[1].Trace.Endpointing < 600*time.Millisecond {
		t.Fatalf("latency traces %+v", tr)
	}
	heard := nonZero(out[int(6800*time.Millisecond)*8/int(time.Millisecond):])
	if want := 5 * int(wordDur) * 8000 / int(time.Second); heard != want {
		t.Errorf("%d samples of the goodbye prompt played, want %d", heard, want)
	}
}

func nonZero(s []int16) int {
	n := 0
	for _, v := range s {
		if v != 0 {
			n++
		}
	}
	return n
}

// firstSilence returns the first sample index at or after from where the
// output is zero (the end of a prompt's audio).
func firstSilence(out []int16, from int) int {
	for i := from; i < len(out); i++ {
		if out[i] == 0 {
			return i
		}
	}
	return len(out)
}

func TestBargeIn(t *testing.T) {
	for _, mode := range []string{"lockstep", "free"} {
		t.Run(mode, func(t *testing.T) {
			onset := 1500 * time.Millisecond // during "Welcome to the Parole demo line." (6 words, 1.2 s) then the menu
			h := newHarness(t, filecall.Config{Input: speechAt(onset, 900*time.Millisecond), Tail: 3 * time.Second},
				stt.Result{Text: "book an appointment", Confidence: 0.8})
			var c telephony.Call = h.call
			if mode == "free" {
				c = noLockstep{h.call}
			}
			h.runCall(c)
			clr, ok := h.action(filecall.ActionClear)
			if !ok {
				t.Fatalf("no Clear: %+v", h.call.Actions())
			}
			// The VAD needs its onset frames (3 × 20 ms) to call it speech;
			// playout stops within one frame of that decision.
			if d := clr.At - onset; d < 0 || d > 80*time.Millisecond {
				t.Errorf("Clear at %v, %v after speech onset", clr.At, d)
			}
			out := h.call.Output()
			stop := firstSilence(out, int(onset)*8/int(time.Millisecond)-8000/10)
			stopAt := time.Duration(stop) * time.Second / 8000
			if stopAt > clr.At+media.FrameDuration {
				t.Errorf("prompt audio until %v, Clear at %v: more than one frame late", stopAt, clr.At)
			}
			if stopAt < onset {
				t.Errorf("prompt stopped at %v, before the caller spoke at %v", stopAt, onset)
			}
			bi := h.obs.kinds(session.BargeIn)
			if len(bi) != 1 {
				t.Fatalf("%d barge-in events", len(bi))
			}
			// 1.56 s into the prompt: the welcome (6 words) and 2 words
			// of the menu (its SSML, what the caller hears) have started.
			wantHeard, wantCut := welcome+" Say opening", "hours, or press 1."
			if mode == "free" {
				// The playout goroutine may lag the input by a frame or
				// two; the cut is at a word in the menu.
				wantHeard, wantCut = welcome+" Say", ""
			}
			if !strings.HasPrefix(bi[0].Heard, wantHeard) || !strings.HasPrefix(bi[0].Cut, wantCut) || bi[0].Cut == "" {
				t.Errorf("heard %q cut %q", bi[0].Heard, bi[0].Cut)
			}
			evs := h.events()
			if evs[1].Type != dialog.EventText || evs[1].Metadata["heard"] != bi[0].Heard || evs[1].Metadata["barge_in"] != "true" {
				t.Errorf("event after the barge-in %+v", evs[1])
			}
			if got := h.obs.replies(); len(got) < 2 || got[1] != "Which day would you like to come?" {
				t.Errorf("replies %q", got)
			}
		})
	}
}

// noLockstep hides the file leg's Lockstep method: the session runs its
// free-running playout goroutine, as on a live leg. Recv is paced at 5 ms a
// frame (4× real time) so that the playout goroutine keeps up with the
// input as it would on a live call.
type noLockstep struct{ *filecall.Call }

func (noLockstep) Lockstep() bool { return false }

func (c noLockstep) Recv(ctx context.Context) (telephony.Input, error) {
	time.Sleep(5 * time.Millisecond)
	return c.Call.Recv(ctx)
}

func TestFalseInterruptionResumes(t *testing.T) {
	for _, mode := range []string{"lockstep", "free"} {
		t.Run(mode, func(t *testing.T) {
			// A 100 ms cough during the welcome prompt; then silence.
			h := newHarness(t, filecall.Config{Input: speechAt(600*time.Millisecond, 100*time.Millisecond), Tail: -1, MaxDuration: 12 * time.Second})
			var c telephony.Call = h.call
			if mode == "free" {
				c = noLockstep{h.call}
			}
			h.runCall(c)
			if n := len(h.obs.kinds(session.FalseBargeIn)); n != 1 {
				t.Fatalf("%d false barge-ins", n)
			}
			if n := len(h.obs.kinds(session.BargeIn)); n != 0 {
				t.Fatalf("%d barge-ins", n)
			}
			// The whole first prompt was played, once: every sample the
			// engine produced for it is in the output before the first
			// no-input.
			ls := h.obs.kinds(session.Listening)
			first := h.obs.kinds(session.Reply)[0].Reply
			words := 0
			for _, m := range first.Messages {
				src := m.Text
				if m.SSML != "" {
					src = m.SSML
				}
				words += len(wordSpans(src))
			}
			out := h.call.Output()
			end := min(len(out), int(ls[0].At)*8/int(time.Millisecond))
			if got, want := nonZero(out[:end]), words*int(wordDur)*8000/int(time.Second); got != want {
				t.Errorf("%d samples of the first prompt played before listening, want %d", got, want)
			}
		})
	}
}

func TestDTMFBargeIn(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: 8 * time.Second, Keys: []filecall.Key{{At: 2 * time.Second, Digit: '2'}}})
	h.run()
	clr, ok := h.action(filecall.ActionClear)
	if !ok || clr.At != 2*time.Second {
		t.Fatalf("clear %+v (want at 2s)", clr)
	}
	evs := h.events()
	if evs[1].Type != dialog.EventDTMF || evs[1].Digits != "2" || evs[1].Metadata["barge_in"] != "true" {
		t.Fatalf("event %+v", evs[1])
	}
	if got := h.obs.replies(); got[1] != "Which day would you like to come?" {
		t.Errorf("replies %q", got)
	}
	// 2 s into the prompt: the welcome (1.2 s) and 4 words of the menu
	// (0.8 s) were played; the next prompt starts at once.
	bi := h.obs.kinds(session.BargeIn)
	if len(bi) != 1 || bi[0].Heard != welcome+" Say opening hours, or" || !strings.HasPrefix(bi[0].Cut, "press 1.") {
		t.Fatalf("barge-in %+v", bi)
	}
	if n := nonZero(h.call.Output()[:2*8000]); n != 2*8000 {
		t.Errorf("%d samples of prompt in the first 2 s", n)
	}
}

func TestDTMFDigits(t *testing.T) {
	// Book, a date, then the phone number keyed in (10 digits ends it)
	// and then "123#" at the confirmation (a no-match: yes/no wanted,
	// and the digits are one key each there).
	keys := []filecall.Key{}
	at := 20 * time.Second
	for _, d := range "0612345678" {
		keys = append(keys, filecall.Key{At: at, Digit: d})
		at += 300 * time.Millisecond
	}
	in := concat(speechAt(6*time.Second, 700*time.Millisecond), speechAt(4*time.Second, 700*time.Millisecond))
	h := newHarness(t, filecall.Config{Input: in, Keys: keys, Tail: 12 * time.Second},
		stt.Result{Text: "book an appointment"}, stt.Result{Text: "tomorrow"})
	h.run()
	var dt []dialog.Event
	for _, e := range h.events() {
		if e.Type == dialog.EventDTMF {
			dt = append(dt, e)
		}
	}
	if len(dt) != 1 || dt[0].Digits != "0612345678" {
		t.Fatalf("dtmf events %+v", dt)
	}
	rs := h.obs.replies()
	if !strings.Contains(rs[len(rs)-1], "0612345678") && !strings.Contains(joined(rs), "we will call you on") {
		t.Errorf("replies %q", rs)
	}
}

func TestDTMFTerminatorAndInterDigit(t *testing.T) {
	// At the phone step, "123#" is too short (10 digits wanted): no-match;
	// then "45" and a pause: the inter-digit timeout (5 s in the flow)
	// ends it, too short again.
	var keys []filecall.Key
	at := 20 * time.Second
	for _, d := range "123#" {
		keys = append(keys, filecall.Key{At: at, Digit: d})
		at += 300 * time.Millisecond
	}
	at += 2 * time.Second // during the re-prompt
	for _, d := range "45" {
		keys = append(keys, filecall.Key{At: at, Digit: d})
		at += 300 * time.Millisecond
	}
	in := concat(speechAt(6*time.Second, 700*time.Millisecond), speechAt(4*time.Second, 700*time.Millisecond))
	h := newHarness(t, filecall.Config{Input: in, Keys: keys, Tail: 30 * time.Second},
		stt.Result{Text: "book an appointment"}, stt.Result{Text: "tomorrow"})
	h.run()
	var dg []string
	for _, e := range h.obs.kinds(session.Digits) {
		dg = append(dg, e.Text)
	}
	if joined(dg) != "123 | 45" {
		t.Fatalf("digits %q", dg)
	}
	nm := h.obs.kinds(session.NoMatch)
	if len(nm) < 2 {
		t.Fatalf("%d no-match events", len(nm))
	}
	// "45" ends 5 s (the flow's inter-digit timeout) after the "5".
	if d := nm[1].At - (at - 300*time.Millisecond); d < 5*time.Second || d > 5*time.Second+media.FrameDuration {
		t.Errorf("inter-digit timeout after %v", d)
	}
}

func TestNoMatchOnRejected(t *testing.T) {
	h := newHarness(t, filecall.Config{Input: speechAt(6*time.Second, 800*time.Millisecond), Tail: 5 * time.Second},
		stt.Result{Text: "blah", Rejected: true})
	h.run()
	evs := h.events()
	if evs[1].Type != dialog.EventNoMatch {
		t.Fatalf("event %+v", evs[1])
	}
	if got := h.obs.replies(); !strings.HasPrefix(got[1], "Sorry, I didn't understand.") {
		t.Errorf("replies %q", got)
	}
	f := h.obs.kinds(session.Final)
	if len(f) != 1 || !f[0].Rejected {
		t.Errorf("final events %+v", f)
	}
}

func TestSTTFailureFallback(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: -1, MaxDuration: time.Minute})
	h.rec.openErr = errors.New("recognizer down")
	h.run()
	errs := h.obs.kinds(session.Error)
	if len(errs) != 3 {
		t.Fatalf("%d errors, want 3 (MaxFailures)", len(errs))
	}
	for _, e := range errs {
		if e.Engine != "stt" || !errors.Is(e.Err, session.ErrEngine) {
			t.Errorf("error event %+v", e)
		}
	}
	said := h.synth.texts()
	n := strings.Count(joined(said), session.DefaultFallback)
	if n != 3 {
		t.Errorf("fallback said %d times: %q", n, said)
	}
	// The call went on: the dialog got no-matches and answered them.
	evs := h.events()
	if evs[1].Type != dialog.EventNoMatch || evs[2].Type != dialog.EventNoMatch {
		t.Errorf("events %+v", evs)
	}
	if _, ok := h.action(filecall.ActionHangup); !ok {
		t.Errorf("no hangup after repeated failures: %+v", h.call.Actions())
	}
	if r := h.ended().Reason; r != "too many failures" {
		t.Errorf("end reason %q", r)
	}
}

func TestTTSFailureTone(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: -1, MaxDuration: time.Minute})
	h.synth.fail = func(tts.Request) error { return errors.New("synthesizer down") }
	h.run()
	errs := h.obs.kinds(session.Error)
	if len(errs) != 3 || errs[0].Engine != "tts" {
		t.Fatalf("errors %+v", errs)
	}
	// Never a silent call: a tone (400 ms) for each failure.
	if n := nonZero(h.call.Output()); n < 3*3000 {
		t.Errorf("%d samples of audio played", n)
	}
	if _, ok := h.action(filecall.ActionHangup); !ok {
		t.Errorf("no hangup: %+v", h.call.Actions())
	}
}

func TestTTSFailureOnceGoesOn(t *testing.T) {
	// Only the first prompt fails: the fallback is said, the dialog gets a
	// no-match and its retry prompt plays.
	h := newHarness(t, filecall.Config{Tail: 12 * time.Second})
	first := true
	h.synth.fail = func(r tts.Request) error {
		if first && r.Text == welcome {
			first = false
			return errors.New("hiccup")
		}
		return nil
	}
	h.run()
	if n := len(h.obs.kinds(session.Error)); n != 1 {
		t.Fatalf("%d errors", n)
	}
	said := h.synth.texts()
	if len(said) < 3 || said[1] != session.DefaultFallback {
		t.Fatalf("said %q", said)
	}
	if got := h.obs.replies(); !strings.HasPrefix(got[1], "Sorry, I didn't understand.") {
		t.Errorf("replies %q", got)
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t, filecall.Config{Input: speechAt(6*time.Second, 600*time.Millisecond)},
		stt.Result{Text: "operator"})
	h.run()
	a, ok := h.action(filecall.ActionTransfer)
	if !ok || a.Target != "sip:operator@localhost" {
		t.Fatalf("actions %+v", h.call.Actions())
	}
	if got := h.obs.replies(); got[1] != "Please hold, I am transferring you to an operator." {
		t.Errorf("replies %q", got)
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: -1, MaxDuration: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var after int
	h.cfg.Observer = session.ObserverFunc(func(e session.Event) {
		if e.Kind == session.Listening {
			after++
			cancel()
		}
	})
	err := session.Run(ctx, noLockstep{h.call}, h.cfg)
	if !errors.Is(err, context.Canceled) || after != 1 {
		t.Fatalf("Run = %v after %d listening events", err, after)
	}
	cancel()
}

func TestConfigErrors(t *testing.T) {
	call, _ := filecall.New(filecall.Config{})
	if err := session.Run(context.Background(), call, session.Config{}); !errors.Is(err, session.ErrConfig) {
		t.Errorf("empty config: %v", err)
	}
}

type metricsRec struct {
	stages map[string]int
	counts map[string]int
}

func (m *metricsRec) ObserveStage(stage string, d time.Duration) {
	if d < 0 {
		panic("negative stage duration")
	}
	m.stages[stage]++
}
func (m *metricsRec) Count(what string) { m.counts[what]++ }

// A Go bot that plays a greeting and a recording, records the caller's
// message and hangs up once it has the attachment.
var recordBot = func(audioURL string) dialog.Bot {
	return dialog.BotFunc(func(ctx context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
		switch ev.Type {
		case dialog.EventStart:
			return dialog.Reply{Messages: []dialog.Message{
				{Text: "Leave a message"},
				{Audio: &dialog.Audio{URL: audioURL, Text: "jingle"}},
				{Audio: &dialog.Audio{URL: "https://example.com/x.mp3", Text: "after the tone"}},
			}, Record: &dialog.Record{Beep: true, EndSilence: time.Second, MaxDuration: 10 * time.Second}}, nil
		case dialog.EventAttachment:
			return dialog.Reply{Messages: []dialog.Message{{Text: "Thanks"}}, Hangup: true}, nil
		case dialog.EventNoMatch:
			return dialog.Reply{Messages: []dialog.Message{{Text: "Cannot record"}}, Hangup: true}, nil
		case dialog.EventNoInput:
			return dialog.Reply{Messages: []dialog.Message{{Text: "Nothing recorded"}}, Hangup: true}, nil
		}
		return dialog.Reply{}, nil
	})
}

func TestRecordAndAudioFiles(t *testing.T) {
	dir := t.TempDir()
	jingle := make([]int16, 4000) // 500 ms at 8 kHz, a recognisable ramp
	for i := range jingle {
		jingle[i] = int16(100 + i)
	}
	jp := filepath.Join(dir, "jingle.wav")
	var buf bytes.Buffer
	if err := wav.Encode(&buf, wav.PCM, 8000, jingle); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(jp, buf.Bytes(), 0o644)

	msg := speech(1500*time.Millisecond, 3)
	h := newHarness(t, filecall.Config{Input: msg, AfterPrompt: 200 * time.Millisecond, Tail: 5 * time.Second})
	st := store.NewMemory(store.Options{})
	h.store = st
	h.cfg.Dialog = runner.New(recordBot("file://"+jp), st)
	h.cfg.RecordDir = dir
	m := &metricsRec{stages: map[string]int{}, counts: map[string]int{}}
	h.cfg.Metrics = m
	h.run()
	// The output: "Leave a message" (3 words), the jingle as is, "after
	// the tone" (http audio: its text said), the beep.
	out := h.call.Output()
	words := 3 * int(wordDur) * 8 / int(time.Millisecond)
	if !slices.Equal(out[words:words+len(jingle)], jingle) {
		t.Fatalf("the jingle is not played after the first message")
	}
	said := h.synth.texts()
	if joined(said[:2]) != "Leave a message | after the tone" {
		t.Errorf("said %q", said)
	}
	rec := h.obs.kinds(session.Recorded)
	if len(rec) != 1 || !strings.HasPrefix(rec[0].Text, "file://"+dir) {
		t.Fatalf("recorded %+v", rec)
	}
	f, err := os.Open(strings.TrimPrefix(rec[0].Text, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	got, rate, err := wav.ReadAll(f)
	f.Close()
	if err != nil || rate != 8000 {
		t.Fatalf("recording: %d Hz, %v", rate, err)
	}
	// The recording holds the caller's message, from its start, then the
	// 1 s end silence (plus the VAD's hangover).
	start, _ := h.call.InputStart()
	recStart := rec[0].At - time.Duration(len(got))*time.Second/8000
	if off := int(start-recStart) * 8 / int(time.Millisecond); off < 0 || off+len(msg) > len(got) || !slices.Equal(got[off:off+len(msg)], msg) {
		t.Fatalf("the message is not in the %d-sample recording (offset %d)", len(got), off)
	}
	if d := time.Duration(len(got)) * time.Second / 8000; d > 1500*time.Millisecond+time.Second+400*time.Millisecond+300*time.Millisecond {
		t.Errorf("recording lasts %v", d)
	}
	evs := h.events()
	if evs[1].Type != dialog.EventAttachment || evs[1].Attachment.ContentType != "audio/wav" || evs[1].Metadata["duration_ms"] == "" {
		t.Errorf("event %+v", evs[1])
	}
	if _, ok := h.action(filecall.ActionHangup); !ok {
		t.Error("no hangup")
	}
	if m.counts["call"] != 1 || m.counts["turn"] != 2 || m.stages["overhead"] != 2 || m.stages["dialog"] != 2 {
		t.Errorf("metrics %+v", m)
	}
}

func TestRecordNotConfigured(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: 3 * time.Second})
	st := store.NewMemory(store.Options{})
	h.store = st
	h.cfg.Dialog = runner.New(recordBot("missing.wav"), st)
	h.run()
	errs := h.obs.kinds(session.Error)
	// The missing audio file (its text is said instead), then the
	// recording.
	if said := h.synth.texts(); len(said) < 2 || said[1] != "jingle" {
		t.Errorf("said %q", said)
	}
	if len(errs) != 2 || errs[0].Engine != "audio" || errs[1].Engine != "record" || !errors.Is(errs[1].Err, session.ErrRecordUnavailable) {
		t.Fatalf("errors %+v", errs)
	}
	if got := h.obs.replies(); got[len(got)-1] != "Cannot record" {
		t.Errorf("replies %q", got)
	}
}

// In-band DTMF: the caller's key is a tone pair in the audio.
func TestInbandDTMF(t *testing.T) {
	// '2': 697 Hz + 1336 Hz, 100 ms, after the greeting.
	key := make([]int16, 800)
	for i := range key {
		x := float64(i) / 8000
		key[i] = int16(6000*math.Sin(2*math.Pi*697*x) + 6000*math.Sin(2*math.Pi*1336*x))
	}
	h := newHarness(t, filecall.Config{Input: key, AfterPrompt: 500 * time.Millisecond, Tail: 3 * time.Second})
	h.cfg.InbandDTMF = true
	h.run()
	evs := h.events()
	if len(evs) < 2 || evs[1].Type != dialog.EventDTMF || evs[1].Digits != "2" {
		t.Fatalf("events %+v", evs)
	}
	if got := h.obs.replies(); got[1] != "Which day would you like to come?" {
		t.Errorf("replies %q", got)
	}
}

// The recognizer's connection breaks while the caller listens to the menu,
// and the synthesizer crashes in the middle of the next prompt: each time
// the fallback is said (after the audio already played) and the dialog
// gets a no-match; the call goes on.
func TestEngineErrorsMidStream(t *testing.T) {
	h := newHarness(t, filecall.Config{Tail: -1, MaxDuration: 40 * time.Second})
	h.rec.writeErrAfter = 50 // 1 s into the first prompt
	h.synth.breakAfter, h.synth.breakWord = 2, "understand"
	h.run()
	errs := h.obs.kinds(session.Error)
	if len(errs) < 2 || errs[0].Engine != "stt" || errs[1].Engine != "tts" {
		t.Fatalf("errors %+v", errs)
	}
	said := h.synth.texts()
	// The welcome, the fallback, the no-match prompt (which breaks), the
	// fallback again…
	if len(said) < 4 || said[1] != session.DefaultFallback || !strings.Contains(said[2], "understand") || said[3] != session.DefaultFallback {
		t.Fatalf("said %q", said)
	}
	// The recognizer failed on the frame at 1 s: the prompt played until
	// then and the fallback starts at once.
	out := h.call.Output()
	if errs[0].At != 1020*time.Millisecond || nonZero(out[:8000]) != 8000 {
		t.Errorf("stt failure at %v, %d samples of prompt before", errs[0].At, nonZero(out[:8000]))
	}
	evs := h.events()
	if evs[1].Type != dialog.EventNoMatch {
		t.Errorf("events %+v", evs)
	}
	if r := h.ended().Reason; r != "too many failures" && r != "transferred" {
		t.Errorf("end %q", r)
	}
}

func TestRecordSilentCaller(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, filecall.Config{Tail: -1, MaxDuration: time.Minute})
	st := store.NewMemory(store.Options{})
	h.store = st
	h.cfg.Dialog = runner.New(recordBot("https://example.com/jingle.mp3"), st)
	h.cfg.RecordDir = dir
	h.run()
	if got := h.obs.replies(); got[len(got)-1] != "Nothing recorded" {
		t.Errorf("replies %q", got)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

// Wideband and WebRTC-rate legs: the session synthesizes at the call's
// rate and runs its VAD at 16 kHz (resampled from 48 kHz).
func TestRates(t *testing.T) {
	for _, rate := range []int{16000, 48000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			h := newHarness(t, filecall.Config{Rate: rate, InputRate: 8000, Input: speechAt(6*time.Second, 800*time.Millisecond), Tail: 5 * time.Second},
				stt.Result{Text: "goodbye"})
			h.run()
			if got := h.obs.replies(); len(got) != 2 || got[1] != "Thank you for calling. Goodbye!" {
				t.Fatalf("replies %q", got)
			}
			if c := h.rec.configs[0]; c.SampleRate != rate {
				t.Errorf("stt at %d Hz", c.SampleRate)
			}
			for _, r := range h.synth.requests {
				if r.SampleRate != rate {
					t.Errorf("tts at %d Hz", r.SampleRate)
				}
			}
			// The greeting (6 words, and 16 of the menu's SSML) and the
			// goodbye (5) were played in full.
			if n, want := nonZero(h.call.Output()), 27*int(wordDur)*rate/int(time.Second); n != want {
				t.Errorf("%d samples played, want %d", n, want)
			}
		})
	}
}

// promptDialog says prompt with a gather that the caller may not
// interrupt, then hangs up after any answer.
type promptDialog struct{ prompt string }

func (d promptDialog) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	if ev.Type == dialog.EventStart {
		return dialog.Reply{Messages: []dialog.Message{{Text: d.prompt}}, Gather: &dialog.Gather{Speech: true}}, nil
	}
	return dialog.Reply{Messages: []dialog.Message{{Text: "bye"}}, Hangup: true}, nil
}

// A caller who starts speaking 400 ms before the end of a prompt without
// barge-in: the recognizer stream opens when the prompt ends, and is given
// the speech from its start (Config.PreRoll), each frame once; without the
// pre-roll it hears only the 600 ms after the prompt.
func TestPreRollSpeechBeforeStream(t *testing.T) {
	const speechFrames = 50 // 1 s of speech
	for _, c := range []struct {
		name     string
		preRoll  time.Duration
		min, max int
	}{
		{"pre-roll", 0, speechFrames - 3, speechFrames},
		{"off", -1, 0, speechFrames - 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			// the prompt: five words of wordDur, 1 s
			h := newHarness(t, filecall.Config{Input: speech(time.Second, 7), Lead: 600 * time.Millisecond, Tail: 3 * time.Second},
				stt.Result{Text: "hello", Confidence: 0.9})
			h.cfg.Dialog = promptDialog{prompt: "one two three four five"}
			h.cfg.PreRoll = c.preRoll
			h.run()
			if len(h.rec.streams) == 0 {
				t.Fatal("no recognizer stream opened")
			}
			got := h.rec.streams[0].loudTotal
			t.Logf("speech frames given to the stream: %d of %d", got, speechFrames)
			if got < c.min || got > c.max {
				t.Errorf("the stream got %d speech frames, want %d to %d", got, c.min, c.max)
			}
			if f := h.obs.kinds(session.Final); len(f) != 1 || f[0].Text != "hello" {
				t.Errorf("finals %+v", f)
			}
		})
	}
}

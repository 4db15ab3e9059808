package live

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil/chromiumtest"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/web"
)

// browser is a headless Chromium driven by chromedp (chromiumtest), with
// the page's uncaught exceptions and console errors collected.
type browser struct {
	*chromiumtest.Browser
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	b := chromiumtest.New(t, chromiumtest.Options{Width: 1100, Height: 900,
		// The page's first request is refused with 401 on purpose.
		Ignore: func(m chromedp.ConsoleMessage) bool {
			return strings.Contains(m.Text, "status of 401") && strings.Contains(m.URL, "/api/calls")
		}})
	return &browser{Browser: b, ctx: b.Ctx}
}

func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.Run(t, what, steps...)
}

func (b *browser) checkErrors(t *testing.T) {
	t.Helper()
	b.CheckErrors(t)
}

func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return chromiumtest.Eval[T](t, b.Browser, expr)
}

func waitJS(expr string) chromedp.Action[chromedp.Void] { return chromiumtest.WaitJS(expr) }

func waitText(css, text string) chromedp.Action[chromedp.Void] {
	return chromiumtest.WaitText(css, text)
}

// screenshot saves the page as name.png in dir and, when
// PAROLE_SCREENSHOTS names a folder, there too.
func screenshot(t *testing.T, dir, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			return chromedp.Void{}, err
		}
		t.Logf("screenshot: %s", p)
		if d := os.Getenv("PAROLE_SCREENSHOTS"); d != "" {
			return chromedp.Void{}, os.WriteFile(filepath.Join(d, name+".png"), png, 0o644)
		}
		return chromedp.Void{}, nil
	}
}

// waterfallRect is a bar of a drawn waterfall.
type waterfallRect struct {
	Stage string  `json:"stage"`
	MS    float64 `json:"ms"`
	Width float64 `json:"width"`
	X     float64 `json:"x"`
}

// lastWaterfall returns the bars of the last waterfall drawn.
func lastWaterfall(t *testing.T, b *browser) []waterfallRect {
	t.Helper()
	js := `JSON.stringify((() => { const s = document.querySelectorAll('#transcript svg.waterfall'); if (!s.length) return [];
		return Array.from(s[s.length-1].querySelectorAll('rect[data-stage]')).map(r => ({stage: r.dataset.stage, ms: +r.dataset.ms,
		width: r.width.baseVal.value, x: r.x.baseVal.value})); })())`
	var v []waterfallRect
	if err := json.Unmarshal([]byte(eval[string](t, b, js)), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkProportional checks the bars' stage names, widths proportional to
// their durations, and that each starts where the one before ends.
func checkProportional(t *testing.T, rects []waterfallRect, stages []string, ms []float64) {
	t.Helper()
	if len(rects) != len(stages) {
		t.Fatalf("waterfall has %d bars %+v, want %d", len(rects), rects, len(stages))
	}
	var k float64
	for i, r := range rects {
		if r.Stage != stages[i] || r.MS != ms[i] {
			t.Errorf("bar %d: %s %.1f ms, want %s %.1f ms", i, r.Stage, r.MS, stages[i], ms[i])
		}
		if i == 0 {
			k = r.Width / r.MS
		} else if math.Abs(r.Width-k*r.MS) > 0.01 {
			t.Errorf("bar %s: width %.3f px for %.1f ms, want %.3f (%.4f px/ms)", r.Stage, r.Width, r.MS, k*r.MS, k)
		}
		if i > 0 && math.Abs(r.X-(rects[i-1].X+rects[i-1].Width)) > 0.02 {
			t.Errorf("bar %s starts at %.2f, the previous ends at %.2f", r.Stage, r.X, rects[i-1].X+rects[i-1].Width)
		}
	}
	if k <= 0 {
		t.Errorf("scale %v px/ms", k)
	}
}

func TestCallViewInChromium(t *testing.T) {
	b := newBrowser(t)
	const token = "operator-token-42"
	h := newHub(t, Config{Token: token})
	// The text conversation runs the demo flow on the real runner, wrapped.
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	defer st.Close()
	chat := h.Wrap(runner.New(e, st))

	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.Handle(r, h)
	}
	mux.Handle("/", http.FileServerFS(web.FS()))
	srv := httptest.NewServer(mux)
	// The hub's Close ends the page's event stream, which srv.Close would
	// otherwise wait for.
	t.Cleanup(func() { h.Close(); srv.Close() })
	ctx := context.Background()

	// A SIP call already under way when the page opens.
	info := telephony.Info{ID: "sip-7f3a", Channel: "sip", From: "+33612345678", To: "+33187654321", Rate: 8000}
	call := h.CallObserver(info)
	welcome := dialog.Say("Welcome to the Parole demo line.", "What would you like?")
	for _, ev := range []session.Event{
		{Kind: session.CallStarted},
		{Kind: session.Reply, Text: welcome.Text(), Reply: &welcome},
		{Kind: session.Latency, Trace: &session.Trace{Turn: 0, Input: "start", Dialog: 4 * time.Millisecond, TTS: 38 * time.Millisecond, Playout: 3 * time.Millisecond, Total: 47 * time.Millisecond, Overhead: 5 * time.Millisecond}},
		{Kind: session.Listening, Turn: 1, At: 2400 * time.Millisecond},
	} {
		call.Observe(ev)
	}
	// A web chat.
	ws := runner.Session{ConversationID: "web:5c1e", Channel: "web", ChannelUserID: "5c1e", Locale: "en-US"}
	for _, ev := range []dialog.Event{{Type: dialog.EventStart}, dialog.Text("When are you open?")} {
		if _, err := chat.Handle(ctx, ws, ev); err != nil {
			t.Fatal(err)
		}
	}

	b.run(t, "the page asks for the token",
		chromedp.Navigate(srv.URL+"/calls.html"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	b.run(t, "a wrong token is refused",
		chromedp.SendKeys(chromedp.ID("token"), "guess"),
		chromedp.Click(chromedp.ID("auth-submit")),
		waitText("#auth-error", "refused"),
	)
	b.run(t, "the right token opens the view",
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("auth-submit")),
		waitJS(`document.querySelectorAll('#calls li.call').length === 2`),
		waitText("#status", "live"),
	)
	if v := eval[bool](t, b, `getComputedStyle(document.getElementById('auth')).display === 'none' && getComputedStyle(document.getElementById('view')).display !== 'none'`); !v {
		t.Error("the token form is still shown, or the view is not")
	}
	if got := eval[string](t, b, `sessionStorage.getItem('parole.live.token')`); got != token {
		t.Errorf("sessionStorage token %q", got)
	}
	list := eval[string](t, b, `document.getElementById('calls').innerText`)
	for _, want := range []string{"CALL · SIP", "+33612345678 → +33187654321", "CHAT · WEB", "5c1e"} {
		if !strings.Contains(list, want) {
			t.Errorf("list %q lacks %q", list, want)
		}
	}
	if n := eval[int](t, b, `document.querySelectorAll('#calls li[data-channel=sip] svg.icon-phone, #calls li[data-channel=web] svg.icon-chat').length`); n != 2 {
		t.Errorf("%d channel icons, want a phone and a chat bubble", n)
	}

	b.run(t, "open the call",
		chromedp.Click(chromedp.CSS(`#calls li[data-id="sip-7f3a"]`)),
		waitText("#transcript", "Welcome to the Parole demo line."),
		waitJS(`document.querySelectorAll('#transcript svg.waterfall').length === 1`),
	)
	// The caller speaks: interim results show greyed, then the final.
	call.Observe(session.Event{Kind: session.Interim, Turn: 1, Text: "opening", At: 3 * time.Second})
	b.run(t, "interim", waitText("#transcript li.interim", "opening"))
	if c := eval[string](t, b, `getComputedStyle(document.querySelector('#transcript li.interim')).color`); c != "rgb(138, 147, 163)" {
		t.Errorf("interim colour %s, want the grey of calls.css", c)
	}
	hours := dialog.Say("We are open Monday to Friday, from 9 am to 6 pm.")
	trace := &session.Trace{Turn: 1, Input: "speech", Endpointing: 800 * time.Millisecond, STT: 140 * time.Millisecond,
		Dialog: 6 * time.Millisecond, TTS: 62 * time.Millisecond, Playout: 21 * time.Millisecond, Total: 240 * time.Millisecond, Overhead: 32 * time.Millisecond}
	for _, ev := range []session.Event{
		{Kind: session.Interim, Turn: 1, Text: "opening hours", At: 3200 * time.Millisecond},
		{Kind: session.Final, Turn: 1, Text: "opening hours", Confidence: 0.91, At: 4100 * time.Millisecond},
		{Kind: session.Reply, Turn: 2, Text: hours.Text(), Reply: &hours, At: 4100 * time.Millisecond},
		{Kind: session.Latency, Turn: 2, Trace: trace, At: 4200 * time.Millisecond},
		{Kind: session.BargeIn, Turn: 2, Heard: "We are open Monday to Friday,", Cut: "from 9 am to 6 pm.", At: 5 * time.Second},
	} {
		call.Observe(ev)
	}
	b.run(t, "final, reply, waterfall, barge-in",
		waitJS(`!document.querySelector('#transcript li.interim')`),
		waitText("#transcript li.user", "opening hours"),
		waitText("#transcript", "We are open Monday to Friday, from 9 am to 6 pm."),
		waitJS(`document.querySelectorAll('#transcript svg.waterfall').length === 2`),
		waitText("#transcript li.barge_in", "from 9 am to 6 pm."),
		waitJS(`document.querySelectorAll('#transcript li.bot.cut').length === 1`),
	)
	// endpointing 800, stt 140, dialog 6, tts 62, playout 21, and the
	// session's other 240-140-6-62-21 = 11 ms.
	checkProportional(t, lastWaterfall(t, b),
		[]string{"endpointing", "stt", "dialog", "tts", "playout", "session"},
		[]float64{800, 140, 6, 62, 21, 11})
	if got := eval[string](t, b, `document.querySelectorAll('#transcript svg.waterfall')[1].querySelector('.caption').textContent`); !strings.Contains(got, "1040 ms from end of speech to first frame played") {
		t.Errorf("waterfall caption %q", got)
	}
	if got := eval[string](t, b, `Array.from(document.querySelectorAll('#transcript svg.waterfall')[1].querySelectorAll('text.ms')).map(e => e.textContent).join(',')`); got != "800 ms,140 ms,6.0 ms,62.0 ms,21.0 ms,11.0 ms" {
		t.Errorf("ms labels %q", got)
	}
	// The caller goes on speaking after the barge-in: greyed partial text.
	call.Observe(session.Event{Kind: session.Interim, Turn: 2, Text: "talk to some", At: 5400 * time.Millisecond})
	shots := t.TempDir()
	b.run(t, "screenshot the call",
		waitText("#transcript li.interim", "talk to some"),
		screenshot(t, shots, "live-call"),
	)

	b.run(t, "open the chat",
		chromedp.Click(chromedp.CSS(`#calls li[data-id="web:5c1e"]`)),
		waitText("#transcript li.user", "When are you open?"),
		waitText("#transcript", "We are open Monday to Friday, from 9 am to 6 pm."),
	)
	rects := lastWaterfall(t, b)
	if len(rects) != 1 || rects[0].Stage != "dialog" || rects[0].MS <= 0 || rects[0].Width <= 0 {
		t.Errorf("chat waterfall %+v, want one dialog bar", rects)
	}
	// The chat goes on live while it is shown.
	if _, err := chat.Handle(ctx, ws, dialog.Text("book an appointment")); err != nil {
		t.Fatal(err)
	}
	b.run(t, "the chat goes on", waitText("#transcript", "book an appointment"))

	// The call ends: the list marks it, the view keeps it.
	call.Observe(session.Event{Kind: session.CallEnded, Turn: 2, Reason: "caller hung up"})
	b.run(t, "the call ends",
		waitJS(`document.querySelector('#calls li[data-id="sip-7f3a"]').classList.contains('ended')`),
		waitText("#count", "1"),
		screenshot(t, shots, "live-chat"),
	)
	// Everything the page loaded came from this server.
	resources := eval[[]string](t, b, `performance.getEntriesByType('resource').map(r => r.name).concat([location.href])`)
	for _, r := range resources {
		if !strings.HasPrefix(r, srv.URL+"/") {
			t.Errorf("the page requested %s, outside the server", r)
		}
	}
	b.checkErrors(t)
}

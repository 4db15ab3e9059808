package webrtc_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/telephony/session"
)

// onset is one voice-to-voice turn measured in the page.
type onset struct {
	Latency float64 `json:"latency"` // ms from the end of the caller's sound to the bot's
}

// jitterBufferMS is the mean delay of Chromium's receive jitter buffer for
// the bot's audio so far (inbound-rtp jitterBufferDelay over
// jitterBufferEmittedCount), in ms, or -1.
const jitterBufferMS = `(async () => {
  const pc = window.parolePhone.pc;
  if (!pc) return -1;
  let d = -1;
  (await pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.jitterBufferEmittedCount) d = 1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount; });
  return d;
})()`

// BenchmarkVoiceToVoice measures 20 turns of the softphone in headless
// Chromium against the demo flow on the embedded engines: from the end of
// the fake caller's speech (the page's microphone analyser falls silent)
// to the first bot audio energy in the page (the analyser on the remote
// track), with the per-stage breakdown of the session's latency traces.
// The caller loops "what can I say" (the flow's help, which keeps the
// call on the menu); when a call ends (misrecognitions lead the flow to
// the operator) the page calls again. Run it with -benchtime=1x.
func BenchmarkVoiceToVoice(b *testing.B) {
	const turns = 20
	for i := 0; i < b.N; i++ {
		vs := startVoiceServer(b)
		ctx := chromium(b, callerWAV(b, "what can I say", 300*time.Millisecond, 3500*time.Millisecond))
		var lat, jbMS []float64
		deadline := time.Now().Add(6 * time.Minute)
		for len(lat) < turns && time.Now().Before(deadline) {
			c, cancel := context.WithTimeout(ctx, 60*time.Second)
			err := chromedp.Do(c, chromedp.Navigate(vs.url+"/phone.html"), chromedp.WaitVisible(chromedp.ID("call")),
				chromedp.Click(chromedp.ID("call")),
				chromedp.Poll[chromedp.Void](`window.parolePhone.state === 'connected'`, chromedp.WithPollingTimeout(20*time.Second)))
			cancel()
			if err != nil {
				b.Fatalf("call: %v", err)
			}
			seen := 0
			for time.Now().Before(deadline) && len(lat) < turns {
				time.Sleep(500 * time.Millisecond)
				c, cancel := context.WithTimeout(ctx, 20*time.Second)
				got, err := chromedp.Run(c, chromedp.Evaluate[[]onset](`window.parolePhone.onsets`))
				state, _ := chromedp.Run(c, chromedp.Evaluate[string](`window.parolePhone.state`))
				cancel()
				if err != nil {
					b.Logf("reading the page: %v", err) // a loaded machine: try again
					continue
				}
				for _, o := range got[seen:] {
					lat = append(lat, o.Latency)
				}
				seen = len(got)
				if state == "ended" || state == "closed" {
					break
				}
			}
			c, cancel = context.WithTimeout(ctx, 20*time.Second)
			if jb, err := chromedp.Run(c, chromedp.Evaluate[float64](jitterBufferMS, chromedp.EvalAwaitPromise)); err == nil && jb >= 0 {
				jbMS = append(jbMS, jb)
			}
			_ = chromedp.Do(c, chromedp.Evaluate[chromedp.Void](`window.parolePhone.ws && document.getElementById('hangup').click()`))
			cancel()
			time.Sleep(500 * time.Millisecond)
		}
		if len(lat) < turns {
			b.Fatalf("%d turns measured", len(lat))
		}
		lat = lat[:turns]
		var sum session.Summary
		for _, e := range vs.events.kinds(session.Latency) {
			if e.Trace != nil && e.Trace.Input == "speech" {
				sum.Add(*e.Trace)
			}
		}
		sorted := slices.Clone(lat)
		slices.Sort(sorted)
		pct := func(p float64) float64 {
			k := int(p/100*float64(len(sorted))+0.5) - 1
			return sorted[max(0, min(k, len(sorted)-1))]
		}
		fmt.Fprintf(os.Stdout, "voice-to-voice in the page over %d turns: p50 %.0f ms, p95 %.0f ms (all: %.0f)\n", turns, pct(50), pct(95), lat)
		fmt.Fprintf(os.Stdout, "session traces (ms) of the %d speech turns:\n", len(sum.Traces))
		_ = sum.WriteTable(os.Stdout)
		if len(jbMS) > 0 {
			fmt.Fprintf(os.Stdout, "Chromium's jitter buffer delay (getStats, mean per call): %.0f ms\n", jbMS)
			b.ReportMetric(jbMS[0], "chromium-jitter-buffer-ms")
		}
		b.ReportMetric(pct(50), "v2v-p50-ms")
		b.ReportMetric(pct(95), "v2v-p95-ms")
		b.ReportMetric(float64(sum.Percentile("endpointing", 50))/1e6, "endpointing-p50-ms")
		b.ReportMetric(float64(sum.Percentile("total", 50))/1e6, "decision-to-audio-p50-ms")
		b.ReportMetric(float64(sum.Percentile("overhead", 50))/1e6, "overhead-p50-ms")
	}
}

package session

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Trace is the latency of one turn, from the end of the caller's input to
// the first frame of the answer played.
//
// Endpointing is counted in call audio (the end silence the session waits
// for); the other stages are wall-clock time from the moment the session
// decided the caller was done.
type Trace struct {
	// Turn is the turn the trace belongs to.
	Turn int
	// Input says what ended the turn: "speech", "dtmf", "no_input",
	// "no_match", "record", "error".
	Input string
	// Endpointing is the call audio from the end of the caller's speech
	// (the VAD's last speech frame) to the endpoint decision (end silence
	// or the recognizer's final result).
	Endpointing time.Duration
	// STT is the recognizer's time: the wait, after the endpoint decision,
	// for the final result, plus opening the next turn's stream when that
	// comes before the answer's first frame (a barge-in prompt).
	STT time.Duration
	// Dialog is the dialog's Handle.
	Dialog time.Duration
	// TTS is from the synthesis request to its first audio.
	TTS time.Duration
	// Playout is from the first audio to the first frame sent.
	Playout time.Duration
	// Total is from the endpoint decision to the first frame sent.
	Total time.Duration
	// Overhead is Total minus STT, Dialog and TTS: the session's own time.
	Overhead time.Duration
}

// stages lists the per-stage durations of t in the order of [Summary].
func (t *Trace) stages() [7]time.Duration {
	return [7]time.Duration{t.Endpointing, t.STT, t.Dialog, t.TTS, t.Playout, t.Total, t.Overhead}
}

// StageNames names the stages of a [Trace], as reported to [Metrics].
var StageNames = [7]string{"endpointing", "stt", "dialog", "tts", "playout", "total", "overhead"}

// Summary aggregates the traces of a call (or of many).
type Summary struct {
	// Traces are the turns' traces in order.
	Traces []Trace
}

// Add appends t.
func (s *Summary) Add(t Trace) { s.Traces = append(s.Traces, t) }

// Percentile returns the p-th percentile (0 to 100, nearest rank) of the
// named stage over the traces, or 0 without traces or for an unknown stage.
func (s *Summary) Percentile(stage string, p float64) time.Duration {
	i := slices.Index(StageNames[:], stage)
	if i < 0 || len(s.Traces) == 0 {
		return 0
	}
	v := make([]time.Duration, len(s.Traces))
	for j := range s.Traces {
		v[j] = s.Traces[j].stages()[i]
	}
	slices.Sort(v)
	k := int(p/100*float64(len(v))+0.5) - 1
	k = max(0, min(k, len(v)-1))
	return v[k]
}

// WriteTable writes one line per turn and the p50/p95/max of every stage,
// in milliseconds, aligned in columns.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "turn\tinput\t")
	for _, n := range StageNames {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	for _, t := range s.Traces {
		fmt.Fprintf(tw, "%d\t%s\t", t.Turn, t.Input)
		for _, d := range t.stages() {
			fmt.Fprintf(tw, "%s\t", ms(d))
		}
		fmt.Fprintln(tw)
	}
	if len(s.Traces) > 0 {
		for _, p := range []struct {
			name string
			p    float64
		}{{"p50", 50}, {"p95", 95}, {"max", 100}} {
			fmt.Fprintf(tw, "%s\t\t", p.name)
			for _, n := range StageNames {
				fmt.Fprintf(tw, "%s\t", ms(s.Percentile(n, p.p)))
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

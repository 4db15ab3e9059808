package stt

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
)

// reportOn runs the corpus measurements only when asked: with -run
// selecting TestReport, or PAROLE_STT_REPORT=1. They take minutes.
func reportOn(t *testing.T) {
	if os.Getenv("PAROLE_STT_REPORT") != "" {
		return
	}
	if f := flag.Lookup("test.run"); f != nil && strings.Contains(f.Value.String(), "TestReport") {
		return
	}
	t.Skip("corpus measurement: go test -run TestReport -v ./benchmarks/stt/ (or PAROLE_STT_REPORT=1)")
}

// limit is PAROLE_STT_PROMPTS (how many prompts the free-text WER run
// uses; all by default).
func limit(n int) int {
	if v, err := strconv.Atoi(os.Getenv("PAROLE_STT_PROMPTS")); err == nil && v > 0 && v < n {
		return v
	}
	return n
}

var frontEnds = []sphinx.FrontEnd{sphinx.Upsample, sphinx.Native8k}

func init() {
	// PAROLE_STT_FRONTEND=0 or 1 measures one front end only.
	if v, err := strconv.Atoi(os.Getenv("PAROLE_STT_FRONTEND")); err == nil {
		frontEnds = []sphinx.FrontEnd{sphinx.FrontEnd(v)}
	}
}

func newRecognizer(t *testing.T, cfg sphinx.Config) *sphinx.Recognizer {
	t.Helper()
	requireModel(t)
	if v, err := strconv.ParseFloat(os.Getenv("PAROLE_STT_GARBAGE"), 64); err == nil {
		cfg.GarbageWeight = v // tuning: the out-of-grammar loop's weight
	}
	if v := os.Getenv("PAROLE_STT_ARGS"); v != "" {
		cfg.Args = append(cfg.Args, strings.Fields(v)...) // tuning: pocketsphinx arguments
	}
	r, err := sphinx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

type timing struct {
	audio, engine time.Duration
	toFinal       []time.Duration
}

func (tm *timing) add(r run) {
	tm.audio += r.audio
	tm.engine += r.engine
	tm.toFinal = append(tm.toFinal, r.toFinal)
}

func (tm *timing) String() string {
	slices.Sort(tm.toFinal)
	q := func(p float64) time.Duration {
		if len(tm.toFinal) == 0 {
			return 0
		}
		return tm.toFinal[int(p*float64(len(tm.toFinal)-1))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("audio %.0f s, engine %.1f s, x-realtime %.1f, CloseSend→final p50 %v p95 %v",
		tm.audio.Seconds(), tm.engine.Seconds(), tm.audio.Seconds()/tm.engine.Seconds(), q(0.5), q(0.95))
}

// TestReport prints the accuracy and speed figures of stt/sphinx on the
// Asterisk prompts and on espeak-ng renderings of the demo flow's phrases.
func TestReport(t *testing.T) {
	reportOn(t)
	prompts := loadPrompts(t)
	t.Run("GrammarPrompts", func(t *testing.T) { reportGrammarPrompts(t, prompts) })
	t.Run("GrammarDemo", reportGrammarDemo)
	t.Run("Ceiling", reportCeiling)
	t.Run("Setup", reportSetup)
	t.Run("FreeText", func(t *testing.T) { reportFreeText(t, prompts) })
}

// reportFreeText: word error rate with the full language model.
func reportFreeText(t *testing.T, prompts []prompt) {
	prompts = prompts[:limit(len(prompts))]
	for _, fe := range frontEnds {
		r := newRecognizer(t, sphinx.Config{FrontEnd: fe})
		var ref, sub, del, ins int
		var tm timing
		for i, p := range prompts {
			res := recognize(t, r, stt.Config{}, p.audio, 8000)
			s, d, in := wordErrors(p.words, res.text())
			ref, sub, del, ins = ref+len(p.words), sub+s, del+d, ins+in
			tm.add(res)
			if testing.Verbose() && i < 8 {
				t.Logf("  %-28s ref %q\n%33s hyp %q", p.name, strings.Join(p.words, " "), "", strings.Join(res.text(), " "))
			}
		}
		t.Logf("free text, front end %-12s: %d prompts, %d words: WER %.1f%% (sub %d, del %d, ins %d); %s",
			fe, len(prompts), ref, 100*float64(sub+del+ins)/float64(ref), sub, del, ins, &tm)
	}
}

// grammarPrompts picks one-sentence prompts of 2 to 12 words, all in the
// dictionary, with distinct texts, in name order, and splits them in
// blocks of n: the first n in-grammar and the next n out-of-grammar ones
// for the tune split (the blocks the rejection weight was tuned on), the
// two blocks after those for the held-out split.
func grammarPrompts(r *sphinx.Recognizer, prompts []prompt, n int, split string) (in, out []prompt) {
	all := eligiblePrompts(r, prompts)
	first := 0
	if split == "held" {
		first = 2 * n
	}
	block := func(i int) []prompt { return all[min(i, len(all)):min(i+n, len(all))] }
	return block(first), block(first + n)
}

func eligiblePrompts(r *sphinx.Recognizer, prompts []prompt) []prompt {
	var all []prompt
	seen := map[string]bool{}
	for _, p := range prompts {
		body := strings.TrimRight(p.text, ".!?… ")
		if strings.ContainsAny(body, ".!?") || len(p.words) < 2 || len(p.words) > 12 {
			continue
		}
		key := strings.Join(p.words, " ")
		if seen[key] || !slices.ContainsFunc(p.words, func(string) bool { return true }) {
			continue
		}
		ok := true
		for _, w := range p.words {
			ok = ok && r.HasWord(w)
		}
		if !ok {
			continue
		}
		seen[key] = true
		all = append(all, p)
	}
	return all
}

type tally struct{ n, correct, rejected, noFinal, wrong int }

func (c tally) String() string {
	return fmt.Sprintf("%d: exact %d (%.1f%%), rejected %d (%.1f%%; no final %d), wrong %d (%.1f%%)", c.n,
		c.correct, 100*float64(c.correct)/float64(c.n), c.rejected, 100*float64(c.rejected)/float64(c.n), c.noFinal,
		c.wrong, 100*float64(c.wrong)/float64(c.n))
}

// judge scores the first final result of a single-utterance stream
// against want ("" = out of grammar, must be rejected).
func (c *tally) judge(res run, want string) {
	c.n++
	switch {
	case len(res.finals) == 0:
		c.rejected++
		c.noFinal++
	case res.finals[0].Rejected:
		c.rejected++
	case res.finals[0].Value == want:
		c.correct++
	default:
		c.wrong++
	}
}

const groupSize = 10

// reportGrammarPrompts: sentence accuracy of real prompts against grammars
// of 10 prompt sentences, and rejection of other prompts.
func reportGrammarPrompts(t *testing.T, prompts []prompt) {
	for _, split := range splits() {
		for _, fe := range frontEnds {
			reportGrammarPromptsSplit(t, prompts, split, fe)
		}
	}
}

func reportGrammarPromptsSplit(t *testing.T, prompts []prompt, split string, fe sphinx.FrontEnd) {
	r := newRecognizer(t, sphinx.Config{FrontEnd: fe})
	in, out := grammarPrompts(r, prompts, 50, split)
	var groups []*stt.Grammar
	for i := 0; i < len(in); i += groupSize {
		g := &stt.Grammar{}
		for _, p := range in[i:min(i+groupSize, len(in))] {
			g.Rules = append(g.Rules, stt.Rule{Phrase: p.text, Value: p.name})
		}
		groups = append(groups, g)
	}
	var inG, outG tally
	var tm timing
	for i, p := range in {
		cfg := stt.Config{Grammar: groups[i/groupSize], SingleUtterance: true, EndSilence: 800 * time.Millisecond}
		res := recognize(t, r, cfg, p.audio, 8000)
		tm.add(res)
		inG.judge(res, p.name)
		if testing.Verbose() && (len(res.finals) == 0 || res.finals[0].Value != p.name) {
			t.Logf("  miss %-26s %q → %+v", p.name, p.text, firstText(res))
		}
	}
	for i, p := range out {
		cfg := stt.Config{Grammar: groups[i%len(groups)], SingleUtterance: true, EndSilence: 800 * time.Millisecond}
		res := recognize(t, r, cfg, p.audio, 8000)
		tm.add(res)
		outG.judge(res, "")
	}
	t.Logf("grammar of %d prompt sentences, %s split, front end %s: in-grammar %v; out-of-grammar %v; %s",
		groupSize, split, fe, inG, outG, &tm)
}

func firstText(r run) string {
	if len(r.finals) == 0 {
		return "(no final)"
	}
	f := r.finals[0]
	return fmt.Sprintf("%q rejected=%v value=%s", f.Text, f.Rejected, f.Value)
}

// yesWords and noWords copy the yes/no grammar phrases of dialog/flow
// (flow.yesWords, flow.noWords: unexported).
var (
	yesWords = []string{"yes", "yeah", "yep", "sure", "correct", "that's right", "of course", "absolutely", "okay"}
	noWords  = []string{"no", "nope", "not really", "no thanks", "that's wrong", "incorrect"}
	digits   = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
)

// demoGrammars builds the grammars of the demo flow's gathering steps in
// English, as dialog/flow does: the step's intents or yes/no words, plus
// the global intents; and a digits grammar for the phone number step.
func demoGrammars(t *testing.T) map[string]*stt.Grammar {
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var globals []stt.Rule
	for name, g := range f.Globals {
		for _, p := range g.Examples["en"] {
			globals = append(globals, stt.Rule{Phrase: p, Value: "global:" + name})
		}
	}
	out := map[string]*stt.Grammar{}
	menu := &stt.Grammar{}
	for name, in := range f.Step("menu").Intents {
		for _, p := range in.Examples["en"] {
			menu.Rules = append(menu.Rules, stt.Rule{Phrase: p, Value: name})
		}
	}
	menu.Rules = append(menu.Rules, globals...)
	out["menu"] = menu
	yn := &stt.Grammar{}
	for _, p := range yesWords {
		yn.Rules = append(yn.Rules, stt.Rule{Phrase: p, Value: "yes"})
	}
	for _, p := range noWords {
		yn.Rules = append(yn.Rules, stt.Rule{Phrase: p, Value: "no"})
	}
	yn.Rules = append(yn.Rules, globals...)
	out["yes_no"] = yn
	dg := &stt.Grammar{}
	for i, p := range digits {
		dg.Rules = append(dg.Rules, stt.Rule{Phrase: p, Value: strconv.Itoa(i)})
	}
	dg.Rules = append(dg.Rules, globals...)
	out["digits"] = dg
	return out
}

// voice is one espeak-ng voice at one speaking rate (words per minute).
type voice struct {
	name string
	rate int
}

// The demo phrases are spoken by two disjoint sets of voices and rates:
// tuneVoices for choosing the recognizer's settings, heldOutVoices for
// the reported figure (never looked at while tuning).
var (
	tuneVoices    = []voice{{"en-us", 140}, {"en-us", 170}, {"en+f3", 140}, {"en+f3", 170}}
	heldOutVoices = []voice{{"en-gb", 155}, {"en-gb", 185}, {"en-us+m3", 155}, {"en-us+m3", 185}}
)

// splits are the voice sets reportGrammarDemo measures:
// PAROLE_STT_SPLIT=tune or held selects one.
func splits() []string {
	switch v := os.Getenv("PAROLE_STT_SPLIT"); v {
	case "tune", "held":
		return []string{v}
	}
	return []string{"tune", "held"}
}

// reportGrammarDemo: every phrase of the demo grammars spoken by espeak-ng
// against its step's grammar; and prompts of the Asterisk corpus against
// the demo grammars for rejection (every 14th prompt for the tune split,
// those 7 further on for the held-out one).
func reportGrammarDemo(t *testing.T) {
	grammars := demoGrammars(t)
	dir := t.TempDir()
	type utt struct {
		step, phrase, value string
		voice               voice
		audio               []int16
	}
	prompts := loadPrompts(t)
	for _, split := range splits() {
		vs, first := tuneVoices, 0
		if split == "held" {
			vs, first = heldOutVoices, 7
		}
		var utts []utt
		for _, step := range []string{"menu", "yes_no", "digits"} {
			for _, rule := range grammars[step].Rules {
				for _, v := range vs {
					utts = append(utts, utt{step, rule.Phrase, rule.Value, v, speak(t, dir, v.name, v.rate, rule.Phrase)})
				}
			}
		}
		for _, fe := range frontEnds {
			r := newRecognizer(t, sphinx.Config{FrontEnd: fe})
			var all tally
			per := map[string]*tally{}
			var tm timing
			for _, u := range utts {
				cfg := stt.Config{Grammar: grammars[u.step], SingleUtterance: true, EndSilence: 800 * time.Millisecond}
				res := recognize(t, r, cfg, u.audio, 8000)
				tm.add(res)
				all.judge(res, u.value)
				if per[u.step] == nil {
					per[u.step] = &tally{}
				}
				per[u.step].judge(res, u.value)
				if testing.Verbose() && (len(res.finals) == 0 || res.finals[0].Value != u.value) {
					t.Logf("  miss %-7s %-8s %d %q → %s", u.step, u.voice.name, u.voice.rate, u.phrase, firstText(res))
				}
			}
			var oog tally
			for i := first; i < len(prompts); i += 14 {
				for _, step := range []string{"menu", "yes_no", "digits"} {
					res := recognize(t, r, stt.Config{Grammar: grammars[step], SingleUtterance: true, EndSilence: 800 * time.Millisecond}, prompts[i].audio, 8000)
					tm.add(res)
					oog.judge(res, "")
					if testing.Verbose() && len(res.finals) > 0 && !res.finals[0].Rejected {
						t.Logf("  accepted %-7s %s %q → %s", step, prompts[i].name, prompts[i].text, firstText(res))
					}
				}
			}
			t.Logf("demo flow phrases, %s split (espeak-ng %v), front end %s: all %v", split, vs, fe, all)
			for _, step := range []string{"menu", "yes_no", "digits"} {
				t.Logf("    step %-7s %v", step, per[step])
			}
			t.Logf("    Asterisk prompts against the demo grammars (out of grammar): %v; %s", oog, &tm)
		}
	}
}

// reportSetup: decoder creation (model load) against a pooled stream.
func reportSetup(t *testing.T) {
	r := newRecognizer(t, sphinx.Config{})
	g := demoGrammars(t)["menu"]
	var cold, warm []time.Duration
	for range 3 {
		r2, err := sphinx.New(sphinx.Config{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s, err := r2.Stream(t.Context(), stt.Config{SampleRate: 8000, Grammar: g})
		if err != nil {
			t.Fatal(err)
		}
		cold = append(cold, time.Since(start))
		s.Close()
		r2.Close()
	}
	s, err := r.Stream(t.Context(), stt.Config{SampleRate: 8000, Grammar: g})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 20 {
		start := time.Now()
		s, err := r.Stream(t.Context(), stt.Config{SampleRate: 8000, Grammar: g})
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, time.Since(start))
		s.Close()
	}
	slices.Sort(cold)
	slices.Sort(warm)
	t.Logf("stream setup: new decoder (model load + grammar) median %v; pooled decoder, grammar loaded median %v",
		cold[len(cold)/2].Round(time.Millisecond), warm[len(warm)/2].Round(time.Microsecond))
}

// reportCeiling: the demo phrases of the held-out voices against their
// grammars with the out-of-grammar loop off (every utterance forced onto
// the nearest phrase), at 8 kHz (upsampled) and at 16 kHz straight from
// espeak-ng: how well the en-us acoustic model tells espeak-ng's phrases
// apart at all, and what the telephone band costs.
func reportCeiling(t *testing.T) {
	grammars := demoGrammars(t)
	dir := t.TempDir()
	r := newRecognizer(t, sphinx.Config{GarbageWeight: -1})
	for _, rate := range []int{8000, 16000} {
		var all tally
		for _, step := range []string{"menu", "yes_no", "digits"} {
			for _, rule := range grammars[step].Rules {
				for _, v := range heldOutVoices {
					audio := speakAt(t, dir, v.name, v.rate, rule.Phrase, rate)
					cfg := stt.Config{Grammar: grammars[step], SingleUtterance: true, EndSilence: 800 * time.Millisecond}
					all.judge(recognize(t, r, cfg, audio, rate), rule.Value)
				}
			}
		}
		t.Logf("ceiling: demo phrases, held-out voices, no out-of-grammar loop (forced choice), %d Hz: %v", rate, all)
	}
}

package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/intent"
)

// Engine runs a [Flow] as a [dialog.Bot]. It is safe for concurrent use by
// many conversations; the state of each lives in its [dialog.Conversation]
// (the current step in Step, collected values in Slots, retry counters in
// Vars), so any store can keep it between events.
type Engine struct {
	flow    *Flow
	globals map[string]*intent.Matcher // by language; empty without global intents
	steps   map[string]*compiledStep
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time
	nlu     intent.NLU      // nil: the built-in matcher only
	dates   map[string]bool // names of the flow's date slots
}

type compiledStep struct {
	intents map[string]*intent.Matcher // by language: the step's intents, or a list slot's values
	gather  map[string]*dialog.Gather
}

// Option configures an [Engine].
type Option func(*Engine)

// WithHTTPClient sets the client webhook steps use (default: a client with
// no timeout of its own; each webhook has its timeout).
func WithHTTPClient(c *http.Client) Option { return func(e *Engine) { e.client = c } }

// WithLogger sets where the engine logs webhook failures and flow errors.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// WithNLU plugs an external natural-language understanding back end (Rasa,
// …) in front of the built-in matcher. For typed or recognized text the
// engine asks it first: an intent it names that is one of the current
// step's intents or a global intent, with a confidence at or above the
// flow's threshold, wins. Otherwise — another intent, a low confidence, or
// an error of the back end (logged) — the built-in matcher decides, so a
// slow or broken NLU never stops a conversation.
func WithNLU(n intent.NLU) Option { return func(e *Engine) { e.nlu = n } }

// WithClock sets the clock used for relative dates ("tomorrow").
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// maxHops bounds the steps one event may walk through without waiting for
// input, so that webhooks sending the flow round in circles end in an error.
const maxHops = 64

// ErrLoop is returned when one event walks through more than 64 steps.
var ErrLoop = errors.New("flow: too many steps without waiting for input")

// New returns an engine running f, which must come from [Parse] or [Load].
func New(f *Flow, opts ...Option) (*Engine, error) {
	e := &Engine{flow: f, steps: map[string]*compiledStep{}, client: &http.Client{}, logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(e)
	}
	e.dates = map[string]bool{}
	for _, st := range f.Steps {
		if st.Slot != nil && st.Slot.Type == SlotDate {
			e.dates[st.Slot.Name] = true
		}
	}
	var err error
	globals := map[string]LocalizedList{}
	for name, g := range f.Globals {
		globals[name] = g.Examples
	}
	if e.globals, err = matchers(f, globals); err != nil {
		return nil, fmt.Errorf("flow %s: global intents: %w", f.file, err)
	}
	for name, s := range f.Steps {
		cs := &compiledStep{gather: map[string]*dialog.Gather{}}
		examples := map[string]LocalizedList{}
		for iname, in := range s.Intents {
			examples[iname] = in.Examples
		}
		if s.Slot != nil && s.Slot.Type == SlotList {
			for v, syn := range s.Slot.Values {
				examples[v] = syn
			}
		}
		if cs.intents, err = matchers(f, examples); err != nil {
			return nil, fmt.Errorf("flow %s: step %s: %w", f.file, name, err)
		}
		for _, lang := range f.Languages {
			cs.gather[lang] = e.buildGather(s, lang)
		}
		e.steps[name] = cs
	}
	return e, nil
}

// matchers builds one intent matcher per flow language from the examples
// of each named intent.
func matchers(f *Flow, examples map[string]LocalizedList) (map[string]*intent.Matcher, error) {
	if len(examples) == 0 {
		return nil, nil
	}
	out := map[string]*intent.Matcher{}
	for _, lang := range f.Languages {
		var ins []intent.Intent
		for _, name := range sortedKeys(examples) {
			if ex := examples[name].In(lang); len(ex) > 0 {
				ins = append(ins, intent.Intent{Name: name, Lang: lang, Examples: ex})
			}
		}
		m, err := intent.NewMatcher(ins, intent.WithThreshold(f.Defaults.Threshold))
		if err != nil {
			return nil, fmt.Errorf("language %s: %w", lang, err)
		}
		out[lang] = m
	}
	return out, nil
}

// Flow returns the flow the engine runs.
func (e *Engine) Flow() *Flow { return e.flow }

// retries is the Vars key of the current step's retry counter.
const retriesVar = "flow.retries"

// turn collects the reply of one event.
type turn struct {
	conv  *dialog.Conversation
	lang  string
	reply dialog.Reply
	nlu   intent.Result // the external NLU's reading of a text event
}

func (t *turn) say(m dialog.Message) { t.reply.Messages = append(t.reply.Messages, m) }

// Handle runs one event through the flow. Events of an ended conversation
// start it again; an EventEnd marks it ended and returns an empty reply.
func (e *Engine) Handle(ctx context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
	if err := ev.Validate(); err != nil {
		return dialog.Reply{}, err
	}
	t := &turn{conv: conv, lang: e.language(conv)}
	if ev.Type == dialog.EventEnd {
		conv.Ended = true
		return dialog.Reply{}, nil
	}
	step := e.flow.Steps[conv.Step]
	if ev.Type == dialog.EventStart || step == nil || conv.Ended || !step.gathers() {
		conv.Ended = false
		conv.Slots = nil
		err := e.enter(ctx, t, e.flow.Start)
		return t.reply, err
	}
	switch ev.Type {
	case dialog.EventNoInput:
		return t.reply, e.retry(ctx, t, step, true)
	case dialog.EventNoMatch, dialog.EventAttachment:
		return t.reply, e.retry(ctx, t, step, false)
	}
	if e.nlu != nil && ev.Type == dialog.EventText && (len(step.Intents) > 0 || len(e.flow.Globals) > 0) {
		res, err := e.nlu.Parse(ctx, ev.Text, t.lang)
		if err != nil {
			e.logger.LogAttrs(ctx, slog.LevelWarn, "NLU failed, using the built-in matcher",
				slog.String("flow", e.flow.Name), slog.String("step", step.name), slog.String("error", err.Error()))
		} else if res.Confidence >= e.flow.Defaults.Threshold {
			t.nlu = res
		}
	}
	// A step intent the NLU named confidently wins over the built-in
	// matching of global intents.
	if _, stepIntent := step.Intents[t.nlu.Intent]; !stepIntent {
		if g, name := e.matchGlobal(ctx, t, ev); g != nil {
			return t.reply, e.global(ctx, t, step, name, g)
		}
	}
	value, ok := e.understand(ctx, t, step, ev)
	if !ok {
		return t.reply, e.retry(ctx, t, step, false)
	}
	next := step.Goto
	if len(step.Intents) > 0 {
		if in := step.Intents[value]; in != nil && in.Goto != "" {
			next = in.Goto
		}
		conv.SetVar("intent", value)
	}
	if step.Slot != nil {
		conv.SetSlot(step.Slot.Name, value)
		if to, ok := step.When[value]; ok {
			next = to
		}
	}
	return t.reply, e.enter(ctx, t, next)
}

// language picks the flow language closest to the conversation's locale.
func (e *Engine) language(conv *dialog.Conversation) string {
	l := conv.Language()
	for _, fl := range e.flow.Languages {
		if fl == l {
			return l
		}
	}
	return e.flow.Languages[0]
}

// enter moves the conversation into step name and walks on until a step
// waits for input or ends the conversation.
func (e *Engine) enter(ctx context.Context, t *turn, name string) error {
	for hop := 0; ; hop++ {
		if hop == maxHops {
			return fmt.Errorf("%w (at step %s)", ErrLoop, name)
		}
		s := e.flow.Steps[name]
		if s == nil {
			return fmt.Errorf("flow: no step named %q", name)
		}
		t.conv.Step = name
		delete(t.conv.Vars, retriesVar)
		e.prompt(t, s)
		switch {
		case s.gathers():
			t.reply.Gather = e.gather(t, s)
			return nil
		case s.Transfer != "":
			t.reply.Transfer = &dialog.Transfer{Target: s.Transfer, Bridge: s.Bridge}
			t.conv.Ended = true
			return nil
		case s.Hangup:
			t.reply.Hangup = true
			t.conv.Ended = true
			return nil
		case s.Webhook != nil:
			name = e.callWebhook(ctx, t, s)
		default:
			name = s.Goto
		}
	}
}

// prompt adds the step's prompt to the reply, in the form the channel
// wants.
func (e *Engine) prompt(t *turn, s *Step) {
	fallback := e.flow.Languages[0]
	slots := e.shown(t)
	text := fill(s.Say.In(t.lang, fallback), slots)
	if t.conv.Voice {
		if s.Audio != "" {
			t.say(dialog.Message{Audio: &dialog.Audio{URL: s.Audio, Text: text}})
			if len(s.Voice) == 0 {
				return
			}
		}
		spoken := fill(s.Voice.In(t.lang, fallback), slots)
		switch {
		case strings.HasPrefix(strings.TrimSpace(spoken), "<speak"):
			t.say(dialog.Message{Text: text, SSML: spoken})
		case spoken != "":
			t.say(dialog.Message{Text: spoken})
		case text != "":
			t.say(dialog.Message{Text: text})
		}
		return
	}
	if shown := fill(s.Text.In(t.lang, fallback), slots); shown != "" {
		text = shown
	}
	m := dialog.Message{Text: text, Choices: e.choices(s, t.lang)}
	if m.Text != "" || len(m.Choices) > 0 {
		t.say(m)
	}
}

// choices are the buttons a text channel shows for a step.
func (e *Engine) choices(s *Step, lang string) []dialog.Choice {
	var out []dialog.Choice
	for _, name := range s.intentNames() {
		in := s.Intents[name]
		title := in.Label.In(lang, "")
		if title == "" {
			if ex := in.Examples.In(lang); len(ex) > 0 {
				title = ex[0]
			}
		}
		out = append(out, dialog.Choice{Title: title, Payload: name})
	}
	if sl := s.Slot; sl != nil {
		switch sl.Type {
		case SlotYesNo:
			yes, no := "Yes", "No"
			if lang == "fr" {
				yes, no = "Oui", "Non"
			}
			out = append(out, dialog.Choice{Title: yes, Payload: "yes"}, dialog.Choice{Title: no, Payload: "no"})
		case SlotList:
			for _, v := range sortedKeys(sl.Values) {
				title := v
				if syn := sl.Values[v].In(lang); len(syn) > 0 {
					title = syn[0]
				}
				out = append(out, dialog.Choice{Title: title, Payload: v})
			}
		}
	}
	return out
}

// gather returns the step's gather for the turn's language.
func (e *Engine) gather(t *turn, s *Step) *dialog.Gather {
	g := *e.steps[s.name].gather[t.lang]
	return &g
}

// buildGather derives what the recognizer should expect in step s: phrase
// hints and a grammar from the intents, list values, yes/no words and
// global intents, DTMF keys, and timeouts.
func (e *Engine) buildGather(s *Step, lang string) *dialog.Gather {
	if !s.gathers() {
		return nil
	}
	f := e.flow
	g := &dialog.Gather{Speech: true, BargeIn: true, Language: lang}
	if f.Defaults.BargeIn != nil {
		g.BargeIn = *f.Defaults.BargeIn
	}
	if s.BargeIn != nil {
		g.BargeIn = *s.BargeIn
	}
	g.NoInputTimeout = time.Duration(f.Defaults.NoInputTimeout)
	if s.NoInputTimeout > 0 {
		g.NoInputTimeout = time.Duration(s.NoInputTimeout)
	}
	g.EndSilence = time.Duration(f.Defaults.EndSilence)
	if s.EndSilence > 0 {
		g.EndSilence = time.Duration(s.EndSilence)
	}
	var rules []dialog.GrammarRule
	add := func(value string, phrases []string) {
		for _, p := range phrases {
			rules = append(rules, dialog.GrammarRule{Phrase: p, Value: value})
			g.Hints = append(g.Hints, p)
		}
	}
	keys := map[string]string{}
	for _, name := range s.intentNames() {
		in := s.Intents[name]
		add(name, in.Examples.In(lang))
		if in.DTMF != "" {
			keys[in.DTMF] = name
		}
	}
	closed := len(s.Intents) > 0
	if sl := s.Slot; sl != nil {
		switch sl.Type {
		case SlotList:
			closed = true
			for _, v := range sortedKeys(sl.Values) {
				add(v, sl.Values[v].In(lang))
			}
		case SlotYesNo:
			closed = true
			add("yes", yesWords[lang])
			add("no", noWords[lang])
			keys["1"], keys["2"] = "yes", "no"
		case SlotDigits, SlotNumber:
			max := sl.MaxDigits
			if sl.Type == SlotNumber && max == 0 {
				max = 18
			}
			g.DTMF = &dialog.DTMFOptions{MinDigits: sl.MinDigits, MaxDigits: max, Terminator: "#", InterDigitTimeout: 5 * time.Second}
		}
	}
	for _, name := range sortedKeys(f.Globals) {
		gl := f.Globals[name]
		add("global:"+name, gl.Examples.In(lang))
		if gl.DTMF != "" && g.DTMF == nil {
			keys[gl.DTMF] = "global:" + name
		}
	}
	if len(keys) > 0 && g.DTMF == nil {
		g.DTMF = &dialog.DTMFOptions{Options: keys}
	}
	if closed {
		g.Grammar = &dialog.Grammar{Rules: rules}
	}
	return g
}

// retry handles a no-input (noInput true) or no-match in step s: an
// escalating retry prompt and the step again, or the step's on_fail once
// the retries are spent.
func (e *Engine) retry(ctx context.Context, t *turn, s *Step, noInput bool) error {
	n, _ := strconv.Atoi(t.conv.Vars[retriesVar])
	n++
	max := s.MaxRetries
	if max == 0 {
		max = e.flow.Defaults.MaxRetries
	}
	if n > max {
		if to := firstNonEmpty(s.OnFail, e.flow.Defaults.OnFail); to != "" {
			return e.enter(ctx, t, to)
		}
		t.say(dialog.Message{Text: builtin(t.lang, "fail")})
		t.reply.Hangup = true
		t.conv.Ended = true
		return nil
	}
	prompts, own := s.NoMatch, true
	if noInput {
		prompts = s.NoInput
	}
	if len(prompts) == 0 {
		prompts, own = e.flow.Defaults.NoMatch, false
		if noInput {
			prompts = e.flow.Defaults.NoInput
		}
	}
	var text string
	if len(prompts) > 0 {
		text = fill(prompts[min(n, len(prompts))-1].In(t.lang, e.flow.Languages[0]), e.shown(t))
	} else if noInput {
		text = builtin(t.lang, "no_input")
	} else {
		text = builtin(t.lang, "no_match")
	}
	t.say(dialog.Message{Text: text})
	if !own {
		e.prompt(t, s)
	}
	t.conv.SetVar(retriesVar, strconv.Itoa(n))
	t.reply.Gather = e.gather(t, s)
	return nil
}

// matchGlobal returns the global intent ev expresses, if any.
func (e *Engine) matchGlobal(ctx context.Context, t *turn, ev dialog.Event) (*Global, string) {
	lang := t.lang
	if g := e.flow.Globals[t.nlu.Intent]; g != nil {
		return g, t.nlu.Intent
	}
	switch ev.Type {
	case dialog.EventChoice:
		if name, ok := strings.CutPrefix(ev.Choice, "global:"); ok && e.flow.Globals[name] != nil {
			return e.flow.Globals[name], name
		}
	case dialog.EventDTMF:
		for name, g := range e.flow.Globals {
			if g.DTMF != "" && ev.Digits == g.DTMF {
				return g, name
			}
		}
	case dialog.EventText:
		gm := e.globals[lang]
		if gm == nil {
			return nil, ""
		}
		m, err := gm.Match(ctx, ev.Text, lang)
		if err == nil && len(m) > 0 && m[0].Score >= 0.75 {
			return e.flow.Globals[m[0].Intent], m[0].Intent
		}
	}
	return nil, ""
}

// global runs global intent g in step s.
func (e *Engine) global(ctx context.Context, t *turn, s *Step, name string, g *Global) error {
	say := fill(g.Say.In(t.lang, e.flow.Languages[0]), e.shown(t))
	switch g.Action {
	case "help":
		if help := s.Help.In(t.lang, e.flow.Languages[0]); help != "" {
			say = fill(help, e.shown(t))
		}
		fallthrough
	case "repeat":
		if say != "" {
			t.say(dialog.Message{Text: say})
		}
		e.prompt(t, s)
		t.reply.Gather = e.gather(t, s)
		return nil
	}
	if say != "" {
		t.say(dialog.Message{Text: say})
	}
	t.conv.SetVar("global", name)
	return e.enter(ctx, t, g.Goto)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var builtinTexts = map[string]map[string]string{
	"en": {
		"no_input": "Sorry, I didn't hear you.",
		"no_match": "Sorry, I didn't understand.",
		"fail":     "Sorry, I can't help you with that. Goodbye.",
	},
	"fr": {
		"no_input": "Désolé, je ne vous ai pas entendu.",
		"no_match": "Désolé, je n'ai pas compris.",
		"fail":     "Désolé, je ne peux pas vous aider. Au revoir.",
	},
}

func builtin(lang, key string) string {
	if m, ok := builtinTexts[lang]; ok {
		return m[key]
	}
	return builtinTexts["en"][key]
}

// shown returns the slot values as prompts say them: date slots (stored as
// YYYY-MM-DD) in words of the conversation's language.
func (e *Engine) shown(t *turn) map[string]string {
	slots := t.conv.Slots
	var out map[string]string
	for name := range e.dates {
		v, ok := slots[name]
		if !ok {
			continue
		}
		d, err := time.Parse("2006-01-02", v)
		if err != nil {
			continue
		}
		if out == nil {
			out = maps.Clone(slots)
		}
		out[name] = sayDate(d, t.lang, e.now())
	}
	if out == nil {
		return slots
	}
	return out
}

var (
	frenchDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// sayDate writes d as a person says it: "Tuesday, December 1" or "mardi
// 1er décembre", with the year when it is not the current one.
func sayDate(d time.Time, lang string, now time.Time) string {
	withYear := d.Year() != now.Year()
	if lang == "fr" {
		day := strconv.Itoa(d.Day())
		if d.Day() == 1 {
			day = "1er"
		}
		s := frenchDays[d.Weekday()] + " " + day + " " + frenchMonths[d.Month()-1]
		if withYear {
			s += " " + strconv.Itoa(d.Year())
		}
		return s
	}
	if withYear {
		return d.Format("Monday, January 2, 2006")
	}
	return d.Format("Monday, January 2")
}

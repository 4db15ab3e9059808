package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/parole-voice/parole/internal/yamlx"
)

// ErrInvalid is wrapped by every error [Parse] returns about a flow's
// content.
var ErrInvalid = errors.New("invalid call flow")

// Error is one problem found in a flow file: its file, line, dotted key and
// what is wrong. It wraps [ErrInvalid].
type Error struct {
	File string // file name
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key, e.g. "steps.welcome.goto"
	Msg  string
}

func (e *Error) Error() string {
	return (&yamlx.Error{File: e.File, Line: e.Line, Key: e.Key, Msg: e.Msg}).Error()
}

// Unwrap makes every Error match [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }

// Load reads and checks the flow file at path. Environment variables written
// ${VAR} in webhook URLs and headers are expanded.
func Load(path string) (*Flow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes and checks the flow in data, named name in errors, expanding
// ${VAR} in webhook URLs and headers with lookupEnv (nil means none are
// set). Every problem found is returned, joined with [errors.Join], each an
// *[Error] with its line.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Flow, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty flow"}
		}
		return nil, &Error{File: name, Line: yamlx.ErrorLine(err), Msg: lineMsg.ReplaceAllString(err.Error(), "")}
	}
	f := &Flow{file: name, lines: yamlx.Lines(&root)}
	var errs []error
	report := func(key string, line int, msg string) {
		errs = append(errs, &Error{File: name, Line: line, Key: key, Msg: msg})
	}
	yamlx.CheckKnown(&root, reflect.TypeOf(*f), "", func(key string, line int) { report(key, line, "unknown key") })
	if err := root.Decode(f); err != nil {
		for _, e := range yamlx.TypeErrors(name, err, f.lines) {
			var ye *yamlx.Error
			if errors.As(e, &ye) {
				errs = append(errs, &Error{File: ye.File, Line: ye.Line, Key: ye.Key, Msg: ye.Msg})
			}
		}
		return nil, errors.Join(errs...)
	}
	f.check(func(key, msg string) { report(key, f.lines[key], msg) }, lookupEnv)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errLine(errs[i]) < errLine(errs[j]) })
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func errLine(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Line
	}
	return 0
}

// File returns the name the flow was parsed under.
func (f *Flow) File() string { return f.file }

// Step returns the step called name, or nil.
func (f *Flow) Step(name string) *Step { return f.Steps[name] }

// lineMsg is the "yaml: line N: " prefix of yaml.v3 syntax errors, whose
// line the Error already carries.
var lineMsg = regexp.MustCompile(`^yaml: (line \d+: )?`)

var validLanguage = regexp.MustCompile(`^[a-z]{2,3}$`)

// check validates the decoded flow, reporting each problem by dotted key.
func (f *Flow) check(bad func(key, msg string), lookupEnv func(string) (string, bool)) {
	if len(f.Languages) == 0 {
		f.Languages = []string{"en"}
	}
	for i, l := range f.Languages {
		if !validLanguage.MatchString(l) {
			bad(fmt.Sprintf("languages.%d", i), fmt.Sprintf("want a lower-case language code such as en or fr, got %q", l))
		}
	}
	if f.Defaults.MaxRetries == 0 {
		f.Defaults.MaxRetries = 2
	}
	if f.Defaults.MaxRetries < 0 {
		bad("defaults.max_retries", "must not be negative")
	}
	if f.Defaults.Threshold == 0 {
		f.Defaults.Threshold = 0.5
	}
	if f.Defaults.Threshold < 0 || f.Defaults.Threshold > 1 {
		bad("defaults.threshold", "want a score between 0 and 1")
	}
	if len(f.Steps) == 0 {
		bad("steps", "a flow needs at least one step")
		return
	}
	for name, s := range f.Steps {
		if s == nil {
			s = &Step{}
			f.Steps[name] = s
		}
		s.name = name
		s.line = f.lines["steps."+name]
		for iname, in := range s.Intents {
			if in == nil {
				bad("steps."+name+".intents."+iname, "empty intent")
				s.Intents[iname] = &Intent{}
			}
		}
	}
	target := func(key, to string) {
		if to != "" && f.Steps[to] == nil {
			bad(key, fmt.Sprintf("no step named %q", to))
		}
	}
	if f.Start == "" {
		bad("start", "required: the step a conversation starts in")
	}
	target("start", f.Start)
	target("defaults.on_fail", f.Defaults.OnFail)
	f.checkTexts("defaults.no_input", f.Defaults.NoInput, bad)
	f.checkTexts("defaults.no_match", f.Defaults.NoMatch, bad)

	globalKeys := map[string]string{}
	for name, g := range f.Globals {
		key := "globals." + name
		if g == nil {
			bad(key, "empty global intent")
			g = &Global{Action: "repeat"}
			f.Globals[name] = g
			continue
		}
		f.checkExamples(key+".examples", g.Examples, bad)
		switch g.Action {
		case "":
			if g.Goto == "" {
				bad(key, "needs goto or action (repeat, help)")
			}
			g.Action = "goto"
		case "goto":
			if g.Goto == "" {
				bad(key+".action", "action goto needs goto")
			}
		case "repeat", "help":
		default:
			bad(key+".action", fmt.Sprintf("want goto, repeat or help, got %q", g.Action))
		}
		target(key+".goto", g.Goto)
		if g.DTMF != "" {
			checkKey(key+".dtmf", g.DTMF, bad)
			globalKeys[g.DTMF] = name
		}
		f.checkText(key+".say", g.Say, false, bad)
	}

	for name, s := range f.Steps {
		key := "steps." + name
		f.checkStep(key, s, globalKeys, target, bad, lookupEnv)
	}
	f.checkReachable(bad)
	f.checkLoops(bad)
}

func (f *Flow) checkStep(key string, s *Step, globalKeys map[string]string, target func(key, to string), bad func(key, msg string), lookupEnv func(string) (string, bool)) {
	kinds := []string{}
	if s.gathers() {
		kinds = append(kinds, "intents/slot")
	}
	if s.Webhook != nil {
		kinds = append(kinds, "webhook")
	}
	if s.Transfer != "" {
		kinds = append(kinds, "transfer")
	}
	if s.Hangup {
		kinds = append(kinds, "hangup")
	}
	if len(kinds) > 1 {
		bad(key, "a step does one of intents/slot, webhook, transfer or hangup; this one does "+strings.Join(kinds, " and "))
	}
	if len(s.Intents) > 0 && s.Slot != nil {
		bad(key+".slot", "a step expects intents or fills a slot, not both")
	}
	f.checkText(key+".say", s.Say, !s.gathers() && s.Goto == "" && s.Webhook == nil && s.Transfer == "" && !s.Hangup && s.Audio == "", bad)
	f.checkText(key+".voice", s.Voice, false, bad)
	f.checkText(key+".text", s.Text, false, bad)
	f.checkText(key+".help", s.Help, false, bad)
	f.checkTexts(key+".no_input", s.NoInput, bad)
	f.checkTexts(key+".no_match", s.NoMatch, bad)
	if s.gathers() && len(s.Say) == 0 && len(s.Voice) == 0 && len(s.Text) == 0 && s.Audio == "" {
		bad(key, "a step that waits for input needs a prompt (say)")
	}
	if s.MaxRetries < 0 {
		bad(key+".max_retries", "must not be negative")
	}
	target(key+".goto", s.Goto)
	target(key+".on_fail", s.OnFail)
	keys := map[string]string{}
	for _, iname := range s.intentNames() {
		in := s.Intents[iname]
		ikey := key + ".intents." + iname
		f.checkExamples(ikey+".examples", in.Examples, bad)
		if in.Goto == "" && s.Goto == "" {
			bad(ikey, "needs goto (or the step needs one)")
		}
		target(ikey+".goto", in.Goto)
		if in.DTMF != "" {
			checkKey(ikey+".dtmf", in.DTMF, bad)
			if other, ok := keys[in.DTMF]; ok {
				bad(ikey+".dtmf", fmt.Sprintf("key %s already chooses intent %s", in.DTMF, other))
			}
			if g, ok := globalKeys[in.DTMF]; ok {
				bad(ikey+".dtmf", fmt.Sprintf("key %s is taken by global intent %s", in.DTMF, g))
			}
			keys[in.DTMF] = iname
		}
	}
	if sl := s.Slot; sl != nil {
		f.checkSlot(key+".slot", sl, bad)
		if s.Goto == "" && len(s.When) == 0 {
			bad(key, "a step that fills a slot needs goto or when")
		}
	}
	for v, to := range s.When {
		target(key+".when."+v, to)
	}
	if len(s.When) > 0 && s.Slot == nil {
		bad(key+".when", "when chooses by the slot's value: the step needs a slot")
	}
	if s.Transfer != "" && !validTransferTarget(s.Transfer) {
		bad(key+".transfer", fmt.Sprintf("want a sip: or sips: URI or a phone number such as +33123456789, got %q", s.Transfer))
	}
	if w := s.Webhook; w != nil {
		expand := func(k, v string) string {
			return expandEnv(v, lookupEnv, func(name string) { bad(k, "environment variable "+name+" is not set") })
		}
		w.URL = expand(key+".webhook.url", w.URL)
		for h, v := range w.Headers {
			w.Headers[h] = expand(key+".webhook.headers."+h, v)
		}
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".webhook.url", fmt.Sprintf("want an http or https URL, got %q", w.URL))
		}
		if w.OnError == "" {
			bad(key+".webhook", "needs on_error: the step to go to when the call fails")
		}
		target(key+".webhook.on_error", w.OnError)
		if s.Goto == "" {
			bad(key, "a webhook step needs goto (the answer may override it)")
		}
	}
	if !s.gathers() && s.Webhook == nil && s.Transfer == "" && !s.Hangup && s.Goto == "" {
		bad(key, "the step ends nowhere: give it goto, hangup, transfer, intents or a slot")
	}
}

func (f *Flow) checkSlot(key string, sl *Slot, bad func(key, msg string)) {
	if sl.Name == "" {
		bad(key+".name", "required")
	}
	switch sl.Type {
	case SlotNumber, SlotDigits, SlotYesNo, SlotDate, SlotText:
		if len(sl.Values) > 0 {
			bad(key+".values", "only list slots have values")
		}
	case SlotList:
		if len(sl.Values) == 0 {
			bad(key+".values", "a list slot needs values")
		}
		for v, syn := range sl.Values {
			f.checkExamples(key+".values."+v, syn, bad)
		}
	case "":
		bad(key+".type", "required: number, digits, yes_no, date, text or list")
	default:
		bad(key+".type", fmt.Sprintf("want number, digits, yes_no, date, text or list, got %q", sl.Type))
	}
	if sl.MinDigits < 0 || sl.MaxDigits < 0 || sl.MaxDigits > 0 && sl.MinDigits > sl.MaxDigits {
		bad(key, fmt.Sprintf("digits bounds %d..%d", sl.MinDigits, sl.MaxDigits))
	}
	if sl.Min != nil && sl.Max != nil && *sl.Min > *sl.Max {
		bad(key, fmt.Sprintf("number bounds %d..%d", *sl.Min, *sl.Max))
	}
}

// checkText reports a text missing for one of the flow's languages;
// required says whether an empty text is an error too.
func (f *Flow) checkText(key string, l Localized, required bool, bad func(key, msg string)) {
	if len(l) == 0 {
		if required {
			bad(key, "required")
		}
		return
	}
	for lang := range l {
		if lang != anyLanguage && !f.speaks(lang) {
			bad(key+"."+lang, fmt.Sprintf("language %s is not in the flow's languages %v", lang, f.Languages))
		}
	}
	if _, ok := l[anyLanguage]; ok {
		return
	}
	for _, lang := range f.Languages {
		if _, ok := l[lang]; !ok {
			bad(key, "no text in "+lang)
		}
	}
}

func (f *Flow) checkTexts(key string, ls []Localized, bad func(key, msg string)) {
	for i, l := range ls {
		f.checkText(fmt.Sprintf("%s.%d", key, i), l, true, bad)
	}
}

func (f *Flow) checkExamples(key string, l LocalizedList, bad func(key, msg string)) {
	for lang := range l {
		if lang != anyLanguage && !f.speaks(lang) {
			bad(key+"."+lang, fmt.Sprintf("language %s is not in the flow's languages %v", lang, f.Languages))
		}
	}
	for _, lang := range f.Languages {
		if len(l.In(lang)) == 0 {
			bad(key, "no example in "+lang)
		}
	}
}

func (f *Flow) speaks(lang string) bool {
	for _, l := range f.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// next lists the steps a step can lead to.
func (f *Flow) next(s *Step) []string {
	out := []string{s.Goto, s.OnFail, f.Defaults.OnFail}
	for _, in := range s.Intents {
		if in != nil {
			out = append(out, in.Goto)
		}
	}
	for _, to := range s.When {
		out = append(out, to)
	}
	if s.Webhook != nil {
		out = append(out, s.Webhook.OnError)
	}
	if s.gathers() {
		for _, g := range f.Globals {
			if g != nil {
				out = append(out, g.Goto)
			}
		}
	}
	return out
}

// checkReachable reports steps no path from the start reaches.
func (f *Flow) checkReachable(bad func(key, msg string)) {
	if f.Steps[f.Start] == nil {
		return
	}
	seen := map[string]bool{}
	queue := []string{f.Start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == "" || seen[n] || f.Steps[n] == nil {
			continue
		}
		seen[n] = true
		if s := f.Steps[n]; s.Webhook != nil {
			// A webhook's answer may choose any step.
			for name := range f.Steps {
				queue = append(queue, name)
			}
		}
		queue = append(queue, f.next(f.Steps[n])...)
	}
	for name := range f.Steps {
		if !seen[name] {
			bad("steps."+name, "unreachable: no path from the start step leads here")
		}
	}
}

// checkLoops reports goto cycles that never wait for input: the engine
// would go round them forever.
func (f *Flow) checkLoops(bad func(key, msg string)) {
	state := map[string]int{} // 0 new, 1 on the path, 2 done
	var visit func(name string) bool
	visit = func(name string) bool {
		s := f.Steps[name]
		if s == nil || s.gathers() || s.Transfer != "" || s.Hangup || s.Webhook != nil {
			return false
		}
		switch state[name] {
		case 1:
			return true
		case 2:
			return false
		}
		state[name] = 1
		loop := visit(s.Goto)
		state[name] = 2
		return loop
	}
	names := make([]string, 0, len(f.Steps))
	for n := range f.Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if state[n] == 0 && visit(n) {
			bad("steps."+n+".goto", "goto loop that never waits for input")
		}
	}
}

func checkKey(key, k string, bad func(key, msg string)) {
	if len(k) != 1 || !strings.Contains("0123456789*#ABCD", k) {
		bad(key, fmt.Sprintf("want one key of 0-9 * # A-D, got %q", k))
	}
}

var phoneNumber = regexp.MustCompile(`^\+?[0-9]{2,15}$`)

func validTransferTarget(t string) bool {
	if strings.HasPrefix(t, "sip:") || strings.HasPrefix(t, "sips:") {
		return strings.Contains(t, "@") || len(t) > len("sips:")
	}
	return phoneNumber.MatchString(t)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func expandEnv(s string, lookup func(string) (string, bool), missing func(name string)) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v, ok := lookup(name)
		if !ok {
			missing(name)
		}
		return v
	})
}

package flow

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Flow is a parsed call flow: steps, global intents and defaults. Build one
// with [Parse] or [Load], which check it; a Flow is read-only afterwards and
// safe for concurrent use.
type Flow struct {
	// Name names the flow in logs and metrics.
	Name string `yaml:"name"`
	// Languages are the languages the flow speaks, the default first:
	// "en", "fr", …
	Languages []string `yaml:"languages"`
	// Start is the step a new conversation enters.
	Start string `yaml:"start"`
	// Defaults apply to every step that does not set its own.
	Defaults Defaults `yaml:"defaults"`
	// Globals are intents recognised in every step that gathers input:
	// help, repeat, operator, cancel, goodbye, or any other.
	Globals map[string]*Global `yaml:"globals"`
	// Steps by name.
	Steps map[string]*Step `yaml:"steps"`

	file  string
	lines map[string]int
}

// Defaults are the flow-wide settings of gathering steps.
type Defaults struct {
	// NoInputTimeout is how long to wait for the caller to start speaking.
	NoInputTimeout Duration `yaml:"no_input_timeout"`
	// EndSilence is the pause that ends an utterance.
	EndSilence Duration `yaml:"end_silence"`
	// MaxRetries is how many no-input or no-match retries a step allows
	// before it gives up and goes to its on_fail step.
	MaxRetries int `yaml:"max_retries"`
	// BargeIn lets callers interrupt prompts.
	BargeIn *bool `yaml:"barge_in"`
	// OnFail is where a step without its own on_fail goes when retries run
	// out.
	OnFail string `yaml:"on_fail"`
	// NoInput and NoMatch are the retry prompts of steps without their own,
	// in escalating order.
	NoInput []Localized `yaml:"no_input"`
	NoMatch []Localized `yaml:"no_match"`
	// Threshold is the lowest intent-matching score accepted, in [0,1].
	Threshold float64 `yaml:"threshold"`
}

// Global is an intent recognised in every gathering step.
type Global struct {
	// Examples are phrases that express the intent, by language.
	Examples LocalizedList `yaml:"examples"`
	// Action is what the intent does: "repeat" says the current step's
	// prompt again, "help" says Say (or the step's help) then reprompts,
	// "goto" (the default when Goto is set) moves to Goto.
	Action string `yaml:"action"`
	// Say is said before the action.
	Say Localized `yaml:"say"`
	// Goto is the step the intent moves to.
	Goto string `yaml:"goto"`
	// DTMF is a key that triggers the intent ("0" for the operator).
	DTMF string `yaml:"dtmf"`
}

// Step is one point of the flow: it says its prompt, then gathers input
// (intents or a slot), calls a webhook, transfers, hangs up or goes on.
type Step struct {
	// Say is the prompt, by language; {slot} is replaced by the slot's value.
	Say Localized `yaml:"say"`
	// Voice replaces Say on voice channels; it may be SSML (<speak>…).
	Voice Localized `yaml:"voice"`
	// Text replaces Say on text channels.
	Text Localized `yaml:"text"`
	// Audio is a recording played on voice channels before the prompt.
	Audio string `yaml:"audio"`
	// Help is said by the help global intent in this step.
	Help Localized `yaml:"help"`

	// Intents the step expects, by name; the first that matches wins.
	Intents map[string]*Intent `yaml:"intents"`
	// Slot the step fills.
	Slot *Slot `yaml:"slot"`
	// Webhook calls an HTTP endpoint with the conversation.
	Webhook *Webhook `yaml:"webhook"`
	// Transfer hands the call to a SIP URI or phone number.
	Transfer string `yaml:"transfer"`
	// Bridge makes the transfer a bridged call instead of a SIP REFER.
	Bridge bool `yaml:"bridge"`
	// Hangup ends the conversation after the prompt.
	Hangup bool `yaml:"hangup"`

	// Goto is the next step once the step is done.
	Goto string `yaml:"goto"`
	// When chooses the next step by the slot's value ("yes", "no", a list
	// value); Goto is the fallback.
	When map[string]string `yaml:"when"`

	// NoInput and NoMatch are escalating retry prompts.
	NoInput []Localized `yaml:"no_input"`
	NoMatch []Localized `yaml:"no_match"`
	// MaxRetries overrides the flow default (0 keeps it).
	MaxRetries int `yaml:"max_retries"`
	// OnFail is where to go when retries run out.
	OnFail string `yaml:"on_fail"`
	// NoInputTimeout and EndSilence override the flow defaults.
	NoInputTimeout Duration `yaml:"no_input_timeout"`
	EndSilence     Duration `yaml:"end_silence"`
	// BargeIn overrides the flow default.
	BargeIn *bool `yaml:"barge_in"`

	name string
	line int
}

// Name returns the step's name.
func (s *Step) Name() string { return s.name }

// gathers reports whether the step waits for the user's input.
func (s *Step) gathers() bool { return len(s.Intents) > 0 || s.Slot != nil }

// intentNames returns the step's intents in a stable order: by DTMF key,
// then by name.
func (s *Step) intentNames() []string {
	names := make([]string, 0, len(s.Intents))
	for n := range s.Intents {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.Intents[names[i]], s.Intents[names[j]]
		if a.DTMF != b.DTMF {
			if a.DTMF == "" || b.DTMF == "" {
				return b.DTMF == ""
			}
			return a.DTMF < b.DTMF
		}
		return names[i] < names[j]
	})
	return names
}

// Intent is one thing the user can ask for in a step.
type Intent struct {
	// Label is the button title on text channels, by language; empty means
	// the first example.
	Label Localized `yaml:"label"`
	// Examples are phrases that express the intent, by language.
	Examples LocalizedList `yaml:"examples"`
	// DTMF is the key that chooses the intent ("press 1 for …").
	DTMF string `yaml:"dtmf"`
	// Goto is where the intent leads.
	Goto string `yaml:"goto"`
}

// SlotType is the kind of value a slot holds.
type SlotType string

// The slot types.
const (
	SlotNumber SlotType = "number" // an integer, spoken or keyed
	SlotDigits SlotType = "digits" // a digit string (phone, account number)
	SlotYesNo  SlotType = "yes_no" // "yes" or "no"
	SlotDate   SlotType = "date"   // a civil date, YYYY-MM-DD
	SlotText   SlotType = "text"   // free text, taken as said
	SlotList   SlotType = "list"   // one value of a custom list
)

// Slot is a value a step collects.
type Slot struct {
	// Name is the slot's name, used in {name} substitutions and webhooks.
	Name string `yaml:"name"`
	// Type is the kind of value.
	Type SlotType `yaml:"type"`
	// Values are the values of a list slot, each with its synonyms by
	// language.
	Values map[string]LocalizedList `yaml:"values"`
	// MinDigits and MaxDigits bound a digits slot; Min and Max a number.
	MinDigits int    `yaml:"min_digits"`
	MaxDigits int    `yaml:"max_digits"`
	Min       *int64 `yaml:"min"`
	Max       *int64 `yaml:"max"`
}

// Webhook calls an HTTP endpoint: a POST of the conversation as JSON, whose
// JSON answer may set slots, say something and choose the next step.
type Webhook struct {
	// URL is the endpoint; ${VAR} in the flow file is expanded from the
	// environment.
	URL string `yaml:"url"`
	// Timeout bounds the call (default 5s).
	Timeout Duration `yaml:"timeout"`
	// Headers are sent with the request (an API key, …).
	Headers map[string]string `yaml:"headers"`
	// OnError is the step to go to when the call fails or times out.
	OnError string `yaml:"on_error"`
}

// Duration is a time.Duration written "5s", "800ms" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return typeError(n, "want a duration such as 5s or 800ms, got %q", n.Value)
	}
	if v < 0 {
		return typeError(n, "duration %s is negative", n.Value)
	}
	*d = Duration(v)
	return nil
}

// typeError is a decoding error yaml.v3 collects with the others, so that
// the loader can name its key and line.
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// Localized is a text in several languages: in YAML either one string for
// every language or a mapping from language to string.
type Localized map[string]string

// anyLanguage is the key of a text written once for every language.
const anyLanguage = "*"

// UnmarshalYAML accepts a string or a language → string mapping.
func (l *Localized) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = Localized{anyLanguage: n.Value}
		return nil
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		*l = m
		return nil
	}
	return typeError(n, "want a text or a mapping from language to text")
}

// In returns the text for language lang, falling back to the text written
// for every language and then to fallback's text.
func (l Localized) In(lang, fallback string) string {
	if s, ok := l[lang]; ok {
		return s
	}
	if s, ok := l[anyLanguage]; ok {
		return s
	}
	return l[fallback]
}

// LocalizedList is a list of phrases in several languages: in YAML a list
// for every language, or a mapping from language to list.
type LocalizedList map[string][]string

// UnmarshalYAML accepts a list (or one string) or a language → list mapping.
func (l *LocalizedList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = LocalizedList{anyLanguage: {n.Value}}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = LocalizedList{anyLanguage: s}
		return nil
	case yaml.MappingNode:
		m := LocalizedList{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			var one LocalizedList
			if err := one.UnmarshalYAML(n.Content[i+1]); err != nil {
				return err
			}
			m[n.Content[i].Value] = one[anyLanguage]
		}
		*l = m
		return nil
	}
	return typeError(n, "want a list of phrases or a mapping from language to list")
}

// In returns the phrases for language lang plus those written for every
// language.
func (l LocalizedList) In(lang string) []string {
	return slices.Concat(l[lang], l[anyLanguage])
}

// fill replaces {name} in s by the value of slot name; unknown names stay.
func fill(s string, slots map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		if v, ok := slots[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

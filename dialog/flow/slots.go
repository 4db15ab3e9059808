package flow

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/intent"
)

// yesWords and noWords are the grammar phrases of yes/no slots; the slot
// itself understands more through [intent.YesNo].
var (
	yesWords = map[string][]string{
		"en": {"yes", "yeah", "yep", "sure", "correct", "that's right", "of course", "absolutely", "okay"},
		"fr": {"oui", "ouais", "bien sûr", "d'accord", "exactement", "tout à fait", "c'est ça", "c'est bien ça"},
	}
	noWords = map[string][]string{
		"en": {"no", "nope", "not really", "no thanks", "that's wrong", "incorrect"},
		"fr": {"non", "pas du tout", "non merci", "pas vraiment", "c'est faux"},
	}
)

// understand returns what ev means in step s: the intent name in an intents
// step, the slot value in a slot step.
func (e *Engine) understand(ctx context.Context, t *turn, s *Step, ev dialog.Event) (string, bool) {
	cs := e.steps[s.name]
	lang := t.lang
	if len(s.Intents) > 0 {
		if _, ok := s.Intents[t.nlu.Intent]; ok {
			return t.nlu.Intent, true
		}
		switch ev.Type {
		case dialog.EventChoice:
			_, ok := s.Intents[ev.Choice]
			return ev.Choice, ok
		case dialog.EventDTMF:
			for name, in := range s.Intents {
				if in.DTMF != "" && strings.HasPrefix(ev.Digits, in.DTMF) {
					return name, true
				}
			}
			return "", false
		}
		return e.bestIntent(ctx, cs, ev.Text, lang)
	}
	sl := s.Slot
	switch sl.Type {
	case SlotYesNo:
		switch ev.Type {
		case dialog.EventChoice:
			return ev.Choice, ev.Choice == "yes" || ev.Choice == "no"
		case dialog.EventDTMF:
			switch strings.TrimSuffix(ev.Digits, "#") {
			case "1":
				return "yes", true
			case "2":
				return "no", true
			}
			return "", false
		}
		a, ok := intent.YesNo(ev.Text, lang)
		if !ok || a == intent.Unknown {
			return "", false
		}
		return a.String(), true
	case SlotList:
		if ev.Type == dialog.EventChoice {
			_, ok := sl.Values[ev.Choice]
			return ev.Choice, ok
		}
		if ev.Type != dialog.EventText {
			return "", false
		}
		return e.bestIntent(ctx, cs, ev.Text, lang)
	case SlotDigits:
		d := digitsOf(ev, lang)
		n := len(d)
		if n == 0 || n < sl.MinDigits || sl.MaxDigits > 0 && n > sl.MaxDigits {
			return "", false
		}
		return d, true
	case SlotNumber:
		var v int64
		var ok bool
		if ev.Type == dialog.EventText {
			v, ok = intent.Value(ev.Text, lang)
		} else if d := digitsOf(ev, lang); d != "" {
			var err error
			v, err = strconv.ParseInt(d, 10, 64)
			ok = err == nil
		}
		if !ok || sl.Min != nil && v < *sl.Min || sl.Max != nil && v > *sl.Max {
			return "", false
		}
		return strconv.FormatInt(v, 10), true
	case SlotDate:
		text := ev.Text
		if ev.Type == dialog.EventChoice {
			text = ev.Choice
		}
		if d, err := time.Parse("2006-01-02", strings.TrimSpace(text)); err == nil {
			return d.Format("2006-01-02"), true // a date picker's answer
		}
		d, ok := intent.ParseDate(text, lang, e.now())
		if !ok {
			return "", false
		}
		return d.String(), true
	case SlotText:
		switch ev.Type {
		case dialog.EventText:
			t := strings.TrimSpace(ev.Text)
			return t, t != ""
		case dialog.EventChoice:
			return ev.Choice, true
		case dialog.EventDTMF:
			return ev.Digits, true
		}
	}
	return "", false
}

// bestIntent returns the best-scoring intent (or list value) of the step.
func (e *Engine) bestIntent(ctx context.Context, cs *compiledStep, text, lang string) (string, bool) {
	im := cs.intents[lang]
	if im == nil || strings.TrimSpace(text) == "" {
		return "", false
	}
	m, err := im.Match(ctx, text, lang)
	if err != nil || len(m) == 0 {
		return "", false
	}
	return m[0].Intent, true
}

// digitsOf returns the digits a DTMF event keyed (without the "#"
// terminator) or a text event spelled out.
func digitsOf(ev dialog.Event, lang string) string {
	switch ev.Type {
	case dialog.EventDTMF:
		d := strings.TrimSuffix(ev.Digits, "#")
		if strings.Trim(d, "0123456789") != "" {
			return ""
		}
		return d
	case dialog.EventText:
		d, _ := intent.Digits(ev.Text, lang)
		return d
	case dialog.EventChoice:
		if strings.Trim(ev.Choice, "0123456789") == "" {
			return ev.Choice
		}
	}
	return ""
}

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

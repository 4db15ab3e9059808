package store

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

// encodeEntryJSON appends json.Marshal(e) to dst, through the fast path
// when it can.
func encodeEntryJSON(dst []byte, e *Entry) ([]byte, error) {
	if out, ok := appendEntryJSON(dst, e); ok {
		return out, nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendEntryJSON appends the JSON of e to dst, the same bytes as
// json.Marshal(e), and returns ok false (dst unchanged) where it does not
// know how: a confidence json.Marshal would write with an exponent or
// refuse, a time it refuses, or dialog's types changed shape since this
// was written (see entryFast). Every turn encodes two entries, and this
// costs a fraction of encoding/json's reflection. The tests hold it to
// json.Marshal (entryjson_test.go, FuzzEntryJSON).
func appendEntryJSON(dst []byte, e *Entry) ([]byte, bool) {
	if !entryFast {
		return dst, false
	}
	w := jsonWriter{b: dst, ok: true}
	w.raw(`{`)
	if e.Seq != 0 {
		w.raw(`"seq":`)
		w.b = strconv.AppendUint(w.b, e.Seq, 10)
		w.raw(`,`)
	}
	w.raw(`"time":`)
	w.time(e.Time)
	w.raw(`,"kind":`)
	w.str(string(e.Kind))
	if e.Channel != "" {
		w.raw(`,"channel":`)
		w.str(e.Channel)
	}
	if e.Event != nil {
		w.raw(`,"event":`)
		w.event(e.Event)
	}
	if e.Reply != nil {
		w.raw(`,"reply":`)
		w.reply(e.Reply)
	}
	w.raw(`}`)
	if !w.ok {
		return dst, false
	}
	return w.b, true
}

// jsonWriter appends JSON as encoding/json writes it; ok turns false at
// the first value it cannot write the same way.
type jsonWriter struct {
	b  []byte
	ok bool
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) str(s string) { w.b = appendJSONString(w.b, s) }

func (w *jsonWriter) time(t time.Time) {
	var ok bool
	if w.b, ok = appendTime(w.b, t); !ok {
		w.ok = false
	}
}

// float writes f as encoding/json does when that needs no exponent.
func (w *jsonWriter) float(f float64) {
	if abs := math.Abs(f); math.IsNaN(f) || math.IsInf(f, 0) || abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		w.ok = false
		return
	}
	w.b = strconv.AppendFloat(w.b, f, 'f', -1, 64)
}

func (w *jsonWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// field writes the separator and key of the next field of an object:
// first is true for the object's first field written.
func (w *jsonWriter) field(first *bool, key string) {
	if !*first {
		w.raw(`,`)
	}
	*first = false
	w.raw(`"`)
	w.raw(key)
	w.raw(`":`)
}

func (w *jsonWriter) strField(first *bool, key, s string, omitEmpty bool) {
	if omitEmpty && s == "" {
		return
	}
	w.field(first, key)
	w.str(s)
}

func (w *jsonWriter) strMap(m map[string]string) {
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.raw(`{`)
	for i, k := range keys {
		if i > 0 {
			w.raw(`,`)
		}
		w.str(k)
		w.raw(`:`)
		w.str(m[k])
	}
	w.raw(`}`)
}

func (w *jsonWriter) event(ev *dialog.Event) {
	first := true
	w.raw(`{`)
	w.strField(&first, "type", string(ev.Type), false)
	w.field(&first, "time")
	w.time(ev.Time)
	w.strField(&first, "text", ev.Text, true)
	if ev.Confidence != 0 {
		w.field(&first, "confidence")
		w.float(ev.Confidence)
	}
	if len(ev.Alternatives) > 0 {
		w.field(&first, "alternatives")
		w.raw(`[`)
		for i, a := range ev.Alternatives {
			if i > 0 {
				w.raw(`,`)
			}
			w.raw(`{"text":`)
			w.str(a.Text)
			w.raw(`,"confidence":`)
			w.float(a.Confidence)
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	w.strField(&first, "digits", ev.Digits, true)
	w.strField(&first, "choice", ev.Choice, true)
	if ev.Attachment != nil {
		w.field(&first, "attachment")
		w.attachment(ev.Attachment)
	}
	if len(ev.Metadata) > 0 {
		w.field(&first, "metadata")
		w.strMap(ev.Metadata)
	}
	w.raw(`}`)
}

func (w *jsonWriter) attachment(a *dialog.Attachment) {
	w.raw(`{"url":`)
	w.str(a.URL)
	if a.Name != "" {
		w.raw(`,"name":`)
		w.str(a.Name)
	}
	if a.ContentType != "" {
		w.raw(`,"content_type":`)
		w.str(a.ContentType)
	}
	w.raw(`}`)
}

func (w *jsonWriter) choices(cs []dialog.Choice) {
	w.raw(`[`)
	for i, c := range cs {
		if i > 0 {
			w.raw(`,`)
		}
		first := true
		w.raw(`{`)
		w.strField(&first, "title", c.Title, false)
		w.strField(&first, "payload", c.Payload, true)
		w.strField(&first, "url", c.URL, true)
		w.strField(&first, "image_url", c.ImageURL, true)
		w.raw(`}`)
	}
	w.raw(`]`)
}

func (w *jsonWriter) reply(r *dialog.Reply) {
	first := true
	w.raw(`{`)
	if len(r.Messages) > 0 {
		w.field(&first, "messages")
		w.raw(`[`)
		for i := range r.Messages {
			if i > 0 {
				w.raw(`,`)
			}
			w.message(&r.Messages[i])
		}
		w.raw(`]`)
	}
	if g := r.Gather; g != nil {
		w.field(&first, "gather")
		w.gather(g)
	}
	if rec := r.Record; rec != nil {
		w.field(&first, "record")
		f := true
		w.raw(`{`)
		if rec.MaxDuration != 0 {
			w.field(&f, "max_duration")
			w.int(int64(rec.MaxDuration))
		}
		if rec.EndSilence != 0 {
			w.field(&f, "end_silence")
			w.int(int64(rec.EndSilence))
		}
		if rec.Beep {
			w.field(&f, "beep")
			w.bool(true)
		}
		w.raw(`}`)
	}
	if t := r.Transfer; t != nil {
		w.field(&first, "transfer")
		w.raw(`{"target":`)
		w.str(t.Target)
		if t.Bridge {
			w.raw(`,"bridge":true`)
		}
		w.raw(`}`)
	}
	if r.Hangup {
		w.field(&first, "hangup")
		w.bool(true)
	}
	w.raw(`}`)
}

func (w *jsonWriter) message(m *dialog.Message) {
	first := true
	w.raw(`{`)
	w.strField(&first, "text", m.Text, true)
	w.strField(&first, "ssml", m.SSML, true)
	if a := m.Audio; a != nil {
		w.field(&first, "audio")
		w.raw(`{"url":`)
		w.str(a.URL)
		if a.Text != "" {
			w.raw(`,"text":`)
			w.str(a.Text)
		}
		w.raw(`}`)
	}
	if len(m.Choices) > 0 {
		w.field(&first, "choices")
		w.choices(m.Choices)
	}
	if c := m.Card; c != nil {
		w.field(&first, "card")
		f := true
		w.raw(`{`)
		w.strField(&f, "title", c.Title, false)
		w.strField(&f, "subtitle", c.Subtitle, true)
		w.strField(&f, "image_url", c.ImageURL, true)
		if len(c.Buttons) > 0 {
			w.field(&f, "buttons")
			w.choices(c.Buttons)
		}
		w.raw(`}`)
	}
	if m.Attachment != nil {
		w.field(&first, "attachment")
		w.attachment(m.Attachment)
	}
	w.raw(`}`)
}

func (w *jsonWriter) gather(g *dialog.Gather) {
	first := true
	w.raw(`{`)
	if len(g.Hints) > 0 {
		w.field(&first, "hints")
		w.raw(`[`)
		for i, h := range g.Hints {
			if i > 0 {
				w.raw(`,`)
			}
			w.str(h)
		}
		w.raw(`]`)
	}
	if gr := g.Grammar; gr != nil {
		w.field(&first, "grammar")
		w.raw(`{"rules":`)
		if gr.Rules == nil {
			w.raw(`null`)
		} else {
			w.raw(`[`)
			for i, r := range gr.Rules {
				if i > 0 {
					w.raw(`,`)
				}
				w.raw(`{"phrase":`)
				w.str(r.Phrase)
				w.raw(`,"value":`)
				w.str(r.Value)
				w.raw(`}`)
			}
			w.raw(`]`)
		}
		w.raw(`}`)
	}
	if d := g.DTMF; d != nil {
		w.field(&first, "dtmf")
		f := true
		w.raw(`{`)
		if len(d.Options) > 0 {
			w.field(&f, "options")
			w.strMap(d.Options)
		}
		if d.MinDigits != 0 {
			w.field(&f, "min_digits")
			w.int(int64(d.MinDigits))
		}
		if d.MaxDigits != 0 {
			w.field(&f, "max_digits")
			w.int(int64(d.MaxDigits))
		}
		w.strField(&f, "terminator", d.Terminator, true)
		if d.InterDigitTimeout != 0 {
			w.field(&f, "inter_digit_timeout")
			w.int(int64(d.InterDigitTimeout))
		}
		w.raw(`}`)
	}
	w.field(&first, "speech")
	w.bool(g.Speech)
	if g.NoInputTimeout != 0 {
		w.field(&first, "no_input_timeout")
		w.int(int64(g.NoInputTimeout))
	}
	if g.EndSilence != 0 {
		w.field(&first, "end_silence")
		w.int(int64(g.EndSilence))
	}
	if g.MaxDuration != 0 {
		w.field(&first, "max_duration")
		w.int(int64(g.MaxDuration))
	}
	w.field(&first, "barge_in")
	w.bool(g.BargeIn)
	w.strField(&first, "language", g.Language, true)
	w.raw(`}`)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted and escaped exactly as json.Marshal
// does: HTML characters (<, >, &) escaped, invalid UTF-8 as U+FFFD, U+2028
// and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// entryShapes are the types appendEntryJSON writes, as it knows them: per
// type, its fields' names, JSON tags and types.
var entryShapes = map[reflect.Type]string{
	reflect.TypeFor[Entry]():              "Seq seq,omitempty uint64; Time time time.Time; Kind kind store.Kind; Channel channel,omitempty string; Event event,omitempty *dialog.Event; Reply reply,omitempty *dialog.Reply",
	reflect.TypeFor[dialog.Event]():       "Type type dialog.EventType; Time time time.Time; Text text,omitempty string; Confidence confidence,omitempty float64; Alternatives alternatives,omitempty []dialog.Alternative; Digits digits,omitempty string; Choice choice,omitempty string; Attachment attachment,omitempty *dialog.Attachment; Metadata metadata,omitempty map[string]string",
	reflect.TypeFor[dialog.Alternative](): "Text text string; Confidence confidence float64",
	reflect.TypeFor[dialog.Attachment]():  "URL url string; Name name,omitempty string; ContentType content_type,omitempty string",
	reflect.TypeFor[dialog.Reply]():       "Messages messages,omitempty []dialog.Message; Gather gather,omitempty *dialog.Gather; Record record,omitempty *dialog.Record; Transfer transfer,omitempty *dialog.Transfer; Hangup hangup,omitempty bool",
	reflect.TypeFor[dialog.Message]():     "Text text,omitempty string; SSML ssml,omitempty string; Audio audio,omitempty *dialog.Audio; Choices choices,omitempty []dialog.Choice; Card card,omitempty *dialog.Card; Attachment attachment,omitempty *dialog.Attachment",
	reflect.TypeFor[dialog.Audio]():       "URL url string; Text text,omitempty string",
	reflect.TypeFor[dialog.Choice]():      "Title title string; Payload payload,omitempty string; URL url,omitempty string; ImageURL image_url,omitempty string",
	reflect.TypeFor[dialog.Card]():        "Title title string; Subtitle subtitle,omitempty string; ImageURL image_url,omitempty string; Buttons buttons,omitempty []dialog.Choice",
	reflect.TypeFor[dialog.Gather]():      "Hints hints,omitempty []string; Grammar grammar,omitempty *dialog.Grammar; DTMF dtmf,omitempty *dialog.DTMFOptions; Speech speech bool; NoInputTimeout no_input_timeout,omitempty time.Duration; EndSilence end_silence,omitempty time.Duration; MaxDuration max_duration,omitempty time.Duration; BargeIn barge_in bool; Language language,omitempty string",
	reflect.TypeFor[dialog.Grammar]():     "Rules rules []dialog.GrammarRule",
	reflect.TypeFor[dialog.GrammarRule](): "Phrase phrase string; Value value string",
	reflect.TypeFor[dialog.DTMFOptions](): "Options options,omitempty map[string]string; MinDigits min_digits,omitempty int; MaxDigits max_digits,omitempty int; Terminator terminator,omitempty string; InterDigitTimeout inter_digit_timeout,omitempty time.Duration",
	reflect.TypeFor[dialog.Record]():      "MaxDuration max_duration,omitempty time.Duration; EndSilence end_silence,omitempty time.Duration; Beep beep,omitempty bool",
	reflect.TypeFor[dialog.Transfer]():    "Target target string; Bridge bridge,omitempty bool",
}

// shapeOf describes a struct type as entryShapes does.
func shapeOf(typ reflect.Type) string {
	parts := make([]string, typ.NumField())
	for i := range parts {
		f := typ.Field(i)
		parts[i] = f.Name + " " + f.Tag.Get("json") + " " + f.Type.String()
		if _, ok := f.Tag.Lookup("json"); !ok || f.Tag != reflect.StructTag(`json:"`+f.Tag.Get("json")+`"`) {
			parts[i] += " (other tags)"
		}
	}
	return strings.Join(parts, "; ")
}

// entryFast says dialog's types are still those appendEntryJSON was
// written for (and implement no JSON methods of their own). When one
// changes, encoding/json does all the work, and TestEntryJSONShapes fails
// so that appendEntryJSON gets updated.
var entryFast = func() bool {
	marshaler := reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()
	textMarshaler := reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	for typ, want := range entryShapes {
		if shapeOf(typ) != want || typ.Implements(marshaler) || reflect.PointerTo(typ).Implements(marshaler) ||
			typ.Implements(textMarshaler) || reflect.PointerTo(typ).Implements(textMarshaler) {
			return false
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Kind](), reflect.TypeFor[dialog.EventType]()} {
		if typ.Kind() != reflect.String || typ.Implements(marshaler) || typ.Implements(textMarshaler) {
			return false
		}
	}
	return true
}()

package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

// Every turn decodes one stored conversation and encodes it again, and
// encoding/json's reflection made that the largest cost of a bbolt turn
// after bbolt itself. appendConvJSON and parseConvJSON are a fast path for
// the JSON that json.Marshal writes for a [dialog.Conversation]: the
// encoder (built on entryjson.go's jsonWriter) writes exactly the bytes
// json.Marshal would, and the decoder
// accepts only a strict subset of JSON (the known keys, each once, in any
// order; strings without escapes; no null, no numbers) and reports
// anything else as not handled, for encoding/json to deal with. The tests
// hold both to encoding/json as the reference (convjson_test.go, and
// FuzzConvJSON on arbitrary input).

// appendConvJSON appends the JSON of conv to dst, the same bytes as
// json.Marshal(conv), and returns ok false (and dst unchanged) when it
// cannot: a time json.Marshal refuses, or dialog.Conversation changed
// shape (see convFast).
func appendConvJSON(dst []byte, conv *dialog.Conversation) ([]byte, bool) {
	if !convFast {
		return dst, false
	}
	w := jsonWriter{b: dst, ok: true}
	first := true
	w.raw(`{`)
	w.strField(&first, "id", conv.ID, false)
	w.strField(&first, "user_id", conv.UserID, true)
	w.strField(&first, "channel", conv.Channel, false)
	if conv.Voice {
		w.raw(`,"voice":true`)
	}
	w.strField(&first, "locale", conv.Locale, true)
	w.strField(&first, "step", conv.Step, true)
	if len(conv.Slots) > 0 {
		w.field(&first, "slots")
		w.strMap(conv.Slots)
	}
	if len(conv.Vars) > 0 {
		w.field(&first, "vars")
		w.strMap(conv.Vars)
	}
	w.field(&first, "started")
	w.time(conv.Started)
	w.field(&first, "updated")
	w.time(conv.Updated)
	if conv.Ended {
		w.raw(`,"ended":true`)
	}
	w.raw(`}`)
	if !w.ok {
		return dst, false
	}
	return w.b, true
}

// appendTime appends t quoted in RFC 3339 with nanoseconds, as
// time.Time.MarshalJSON does; ok false where that fails.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	out, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return dst, false
	}
	return append(out, '"'), true
}

// parseConvJSON decodes b into conv when b is in the subset the fast path
// reads (see above); ok false means it is not, and conv must be thrown
// away. When ok is true, json.Unmarshal of b gives the same conversation.
func parseConvJSON(b []byte, conv *dialog.Conversation) bool {
	if !convFast {
		return false
	}
	p := convParser{b: b}
	p.space()
	if !p.byte('{') {
		return false
	}
	var seen uint16
	p.space()
	if p.byte('}') {
		return p.end()
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if !p.byte(':') {
			return false
		}
		p.space()
		field := -1
		for i, name := range convKeys {
			if string(key) == name {
				field = i
				break
			}
		}
		if field < 0 || seen&(1<<field) != 0 {
			return false // unknown key (json matches it case-insensitively) or a repeat
		}
		seen |= 1 << field
		switch convKeys[field] {
		case "id":
			ok = p.strField(&conv.ID)
		case "user_id":
			ok = p.strField(&conv.UserID)
		case "channel":
			ok = p.strField(&conv.Channel)
		case "locale":
			ok = p.strField(&conv.Locale)
		case "step":
			ok = p.strField(&conv.Step)
		case "voice":
			conv.Voice, ok = p.boolean()
		case "ended":
			conv.Ended, ok = p.boolean()
		case "slots":
			conv.Slots, ok = p.strMap()
		case "vars":
			conv.Vars, ok = p.strMap()
		case "started":
			ok = p.time(&conv.Started)
		case "updated":
			ok = p.time(&conv.Updated)
		}
		if !ok {
			return false
		}
		p.space()
		if p.byte('}') {
			return p.end()
		}
		if !p.byte(',') {
			return false
		}
	}
}

// convKeys are the JSON names of dialog.Conversation's fields.
var convKeys = [...]string{"id", "user_id", "channel", "voice", "locale", "step", "slots", "vars", "started", "updated", "ended"}

// convFields is dialog.Conversation as the fast path knows it: each
// field's name, JSON tag and type.
var convFields = []struct {
	name, tag string
	typ       reflect.Type
}{
	{"ID", "id", reflect.TypeFor[string]()},
	{"UserID", "user_id,omitempty", reflect.TypeFor[string]()},
	{"Channel", "channel", reflect.TypeFor[string]()},
	{"Voice", "voice,omitempty", reflect.TypeFor[bool]()},
	{"Locale", "locale,omitempty", reflect.TypeFor[string]()},
	{"Step", "step,omitempty", reflect.TypeFor[string]()},
	{"Slots", "slots,omitempty", reflect.TypeFor[map[string]string]()},
	{"Vars", "vars,omitempty", reflect.TypeFor[map[string]string]()},
	{"Started", "started", reflect.TypeFor[time.Time]()},
	{"Updated", "updated", reflect.TypeFor[time.Time]()},
	{"Ended", "ended,omitempty", reflect.TypeFor[bool]()},
}

// convFast says dialog.Conversation is still the struct the fast path was
// written for. When a field is added or changed, the fast path steps aside
// and encoding/json does all the work (and TestConvJSONFields fails, so
// that the fast path gets updated).
var convFast = convShapeKnown()

func convShapeKnown() bool {
	typ := reflect.TypeFor[dialog.Conversation]()
	if typ.NumField() != len(convFields) {
		return false
	}
	for i, w := range convFields {
		f := typ.Field(i)
		if f.Name != w.name || f.Tag.Get("json") != w.tag || f.Type != w.typ {
			return false
		}
	}
	return true
}

// convParser reads the subset of JSON parseConvJSON accepts.
type convParser struct {
	b []byte
	i int
}

func (p *convParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *convParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *convParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// str reads a string without escapes, of valid UTF-8 and without control
// characters, and returns its contents (aliasing b).
func (p *convParser) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *convParser) strField(dst *string) bool {
	s, ok := p.str()
	if ok {
		*dst = string(s)
	}
	return ok
}

func (p *convParser) boolean() (bool, bool) {
	switch {
	case bytes.HasPrefix(p.b[p.i:], []byte("true")):
		p.i += 4
		return true, true
	case bytes.HasPrefix(p.b[p.i:], []byte("false")):
		p.i += 5
		return false, true
	}
	return false, false
}

func (p *convParser) strMap() (map[string]string, bool) {
	if !p.byte('{') {
		return nil, false
	}
	m := make(map[string]string)
	p.space()
	if p.byte('}') {
		return m, true
	}
	for {
		p.space()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if !p.byte(':') {
			return nil, false
		}
		p.space()
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		m[string(k)] = string(v)
		p.space()
		if p.byte('}') {
			return m, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// time reads a quoted time with time.Time's own JSON decoder, as
// encoding/json does.
func (p *convParser) time(dst *time.Time) bool {
	start := p.i
	if _, ok := p.str(); !ok {
		return false
	}
	return dst.UnmarshalJSON(p.b[start:p.i]) == nil
}

// encodeConvJSON is json.Marshal(conv) through the fast path when it can.
func encodeConvJSON(dst []byte, conv *dialog.Conversation) ([]byte, error) {
	if out, ok := appendConvJSON(dst, conv); ok {
		return out, nil
	}
	b, err := json.Marshal(conv)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// TestConvJSONFields: the fast conversation codec knows every field of
// dialog.Conversation by name, JSON tag and type. When this fails, a field
// was added or changed there: the store still works (convFast is false, so
// encoding/json does everything), but appendConvJSON, parseConvJSON and
// convFields need the new field.
func TestConvJSONFields(t *testing.T) {
	if !convFast {
		typ := reflect.TypeFor[dialog.Conversation]()
		for i := range typ.NumField() {
			f := typ.Field(i)
			t.Logf("field %d: %s %v `json:%q`", i, f.Name, f.Type, f.Tag.Get("json"))
		}
		t.Fatal("dialog.Conversation is not the struct the fast JSON path knows (convFields)")
	}
}

// convSamples are conversations for the codec tests: empty, full, and
// with values the fast path must leave to encoding/json.
func convSamples() []*dialog.Conversation {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	full := fullConversation("call-1", "alice", "sip")
	full.Started, full.Updated = t0, t0.Add(time.Minute)
	return []*dialog.Conversation{
		{},
		{ID: "c"},
		full,
		{ID: "é ü 日本", Channel: "web", Voice: true, Ended: true, Slots: map[string]string{}, Vars: map[string]string{"": ""}},
		{ID: "x", Started: t0.In(time.FixedZone("CET", 3600)), Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600))},
		{ID: `quote"d`},
		{ID: "tab\there"},
		{ID: "html<b>&"},
		{ID: "x", Slots: map[string]string{"k": "line\nbreak"}},
		{ID: "x", Vars: map[string]string{"a\u2028": "b"}},
		{ID: "bad\xffutf8"},
		{ID: "x", Started: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "x", Step: "s", Slots: map[string]string{"z": "1", "a": "2", "m": "3"}, Vars: map[string]string{"retries": "2"}},
		{ID: "call-2", UserID: "bob", Channel: "sip", Voice: true, Locale: "en-US", Step: "confirm",
			Slots: map[string]string{"date": "2026-12-01", "phone": "0612345678"}, Vars: map[string]string{"tries": "1"},
			Started: t0, Updated: t0.Add(time.Second), Ended: true},
	}
}

// TestConvJSONEncode: the fast encoder writes exactly what json.Marshal
// writes, or declines.
func TestConvJSONEncode(t *testing.T) {
	fast := 0
	for _, c := range convSamples() {
		want, wantErr := json.Marshal(c)
		got, ok := appendConvJSON([]byte("prefix"), c)
		if !ok {
			if !bytes.Equal(got, []byte("prefix")) {
				t.Errorf("%q: declined but changed dst to %q", c.ID, got)
			}
			continue
		}
		fast++
		if wantErr != nil {
			t.Errorf("%q: fast path encoded what json.Marshal refuses (%v)", c.ID, wantErr)
			continue
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Errorf("%q:\nfast %s\njson %s", c.ID, got[len("prefix"):], want)
		}
		enc, err := encodeConvJSON(nil, c)
		if err != nil || !bytes.Equal(enc, want) {
			t.Errorf("%q: encodeConvJSON %s, %v", c.ID, enc, err)
		}
	}
	if fast < 6 {
		t.Errorf("fast path took only %d samples", fast)
	}
}

// TestConvJSONDecode: what the fast decoder reads, it reads as
// json.Unmarshal does, on json.Marshal's output and on hand-written JSON.
func TestConvJSONDecode(t *testing.T) {
	var inputs [][]byte
	for _, c := range convSamples() {
		if b, err := json.Marshal(c); err == nil {
			inputs = append(inputs, b)
		}
	}
	inputs = append(inputs, [][]byte{
		[]byte(` { "step" : "a" , "id":"c", "slots" : { "x" : "y" , "x":"z"} } `),
		[]byte(`{"id":"c","ID":"d"}`),
		[]byte(`{"id":"c","id":"d"}`),
		[]byte(`{"id":"c","voice":null}`),
		[]byte(`{"id":"c","voice":1}`),
		[]byte(`{"id":"c","extra":1}`),
		[]byte(`{"id":"c\u0041"}`),
		[]byte(`{"id":"c"} x`),
		[]byte(`{"id":"c",}`),
		[]byte(`{"started":"2026-03-01T09:00:00+01:00"}`),
		[]byte(`{"started":"yesterday"}`),
		[]byte(`{}`),
		[]byte(`[]`),
	}...)
	fast := 0
	for _, b := range inputs {
		var got dialog.Conversation
		if !parseConvJSON(b, &got) {
			continue
		}
		fast++
		var want dialog.Conversation
		if err := json.Unmarshal(b, &want); err != nil {
			t.Errorf("%s: fast path read what json.Unmarshal refuses (%v)", b, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nfast %+v\njson %+v", b, got, want)
		}
	}
	if fast < 8 {
		t.Errorf("fast path took only %d inputs", fast)
	}
}

// FuzzConvJSON holds the fast decoder to encoding/json on arbitrary
// input, and the encoder on whatever conversation that input decodes to.
func FuzzConvJSON(f *testing.F) {
	for _, c := range convSamples() {
		if b, err := json.Marshal(c); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"c","slots":{"a":"b"},"voice":true,"ended":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got, want dialog.Conversation
		wantErr := json.Unmarshal(b, &want)
		if parseConvJSON(b, &got) {
			if wantErr != nil {
				t.Fatalf("fast path read what json.Unmarshal refuses (%v)", wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("fast %+v\njson %+v", got, want)
			}
		}
		if wantErr != nil {
			return
		}
		ref, refErr := json.Marshal(&want)
		enc, ok := appendConvJSON(nil, &want)
		if ok && (refErr != nil || !bytes.Equal(enc, ref)) {
			t.Fatalf("fast encoding %s\njson.Marshal %s (%v)", enc, ref, refErr)
		}
	})
}

package store

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoders of stored values: a
// bbolt conversation record, conversation JSON and transcript entry JSON.
// Each either decodes or fails with ErrCorrupt; none panics.
func FuzzDecode(f *testing.F) {
	rec := binary.BigEndian.AppendUint64(nil, 3)
	rec = binary.BigEndian.AppendUint64(rec, 0)
	rec = binary.BigEndian.AppendUint16(rec, 5)
	rec = append(rec, `alice{"id":"c","channel":"sip","slots":{"a":"b"}}`...)
	f.Add(rec)
	f.Add([]byte(`{"id":"c","started":"2026-03-01T09:00:00Z"}`))
	f.Add([]byte(`{"kind":"event","event":{"type":"text","text":"hi"}}`))
	f.Add([]byte(`{"kind":"reply","reply":{"messages":[{"text":"x"}],"gather":{"no_input_timeout":5}}}`))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
		}
		r, err := parseConv("c", b)
		check(err)
		if err == nil {
			if len(r.user) > len(b) {
				t.Fatal("user id longer than the record")
			}
			_, err = decodeConv("c", r.json)
			check(err)
		}
		_, err = decodeConv("c", b)
		check(err)
		_, err = decodeEntry("c", 1, b)
		check(err)
	})
}

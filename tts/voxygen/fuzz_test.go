package voxygen

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{threeSentences, "Mr. Smith. « Oui ? » Non…", "a\n\nb", "x. y! z?", "ééé. ààà", "p.m. today. \u00a0» x"} {
		f.Add(s, 0)
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < 0 || max > 5000 {
			return
		}
		segs := SplitSentences(text, max)
		prev := 0
		var joined []string
		for _, s := range segs {
			if s.Offset < prev || s.Offset+len(s.Text) > len(text) || text[s.Offset:s.Offset+len(s.Text)] != s.Text {
				t.Fatalf("segment %+v out of place in %q", s, text)
			}
			if strings.TrimSpace(s.Text) == "" || s.Text != strings.TrimSpace(s.Text) {
				t.Fatalf("segment %q not trimmed", s.Text)
			}
			if max > 0 && len(s.Text) > max {
				t.Fatalf("segment of %d bytes, max %d", len(s.Text), max)
			}
			if utf8.ValidString(text) && !utf8.ValidString(s.Text) {
				t.Fatalf("segment %q cuts a rune", s.Text)
			}
			prev = s.Offset + len(s.Text)
			joined = append(joined, s.Text)
		}
		// Nothing but spaces is lost.
		if strings.Join(strings.Fields(strings.Join(joined, " ")), " ") != strings.Join(strings.Fields(text), " ") && utf8.ValidString(text) && max == 0 {
			t.Fatalf("text changed: %q → %q", text, joined)
		}
	})
}

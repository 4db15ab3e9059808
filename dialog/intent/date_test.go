package intent

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	// Tuesday 24 November 2026, late in the evening.
	ref := time.Date(2026, time.November, 24, 22, 30, 0, 0, time.UTC)
	cases := []struct{ text, lang, want string }{
		{"today", "en", "2026-11-24"},
		{"tomorrow please", "en", "2026-11-25"},
		{"the day after tomorrow", "en", "2026-11-26"},
		{"yesterday", "en", "2026-11-23"},
		{"Demain !", "fr", "2026-11-25"},
		{"après-demain", "fr", "2026-11-26"},
		{"aujourd'hui", "fr", "2026-11-24"},
		{"avant-hier", "fr", "2026-11-22"},
		{"in 3 days", "en", "2026-11-27"},
		{"in three days", "en", "2026-11-27"},
		{"in a week", "en", "2026-12-01"},
		{"in two weeks", "en", "2026-12-08"},
		{"dans huit jours", "fr", "2026-12-01"},
		{"dans quinze jours", "fr", "2026-12-08"},
		{"dans trois jours", "fr", "2026-11-27"},
		{"monday", "en", "2026-11-30"},
		{"next monday", "en", "2026-11-30"},
		{"on tuesday", "en", "2026-12-01"},
		{"this tuesday", "en", "2026-11-24"},
		{"this friday", "en", "2026-11-27"},
		{"last friday", "en", "2026-11-20"},
		{"lundi prochain", "fr", "2026-11-30"},
		{"jeudi", "fr", "2026-11-26"},
		{"ce jeudi", "fr", "2026-11-26"},
		{"mardi dernier", "fr", "2026-11-17"},
		{"march 3rd", "en", "2027-03-03"},
		{"March 3", "en", "2027-03-03"},
		{"march the third", "en", "2027-03-03"},
		{"the 3rd of march", "en", "2027-03-03"},
		{"december twenty first", "en", "2026-12-21"},
		{"on the twenty first of december", "en", "2026-12-21"},
		{"le 3 mars", "fr", "2027-03-03"},
		{"le trois mars", "fr", "2027-03-03"},
		{"le premier mai", "fr", "2027-05-01"},
		{"le 1er décembre", "fr", "2026-12-01"},
		{"le vingt et un décembre", "fr", "2026-12-21"},
		{"le trente et un décembre", "fr", "2026-12-31"},
		{"le 24 novembre", "fr", "2026-11-24"},
		{"le 23 novembre", "fr", "2027-11-23"},
		{"le 3 mars 2028", "fr", "2028-03-03"},
		{"le trois mars deux mille vingt huit", "fr", "2028-03-03"},
		{"march 3rd 2025", "en", "2025-03-03"},
		{"lundi 7 décembre", "fr", "2026-12-07"},
		{"the 14th", "en", "2026-12-14"},
		{"the 28th", "en", "2026-11-28"},
		{"le 28", "fr", "2026-11-28"},
		{"le 31", "fr", "2026-12-31"},      // November has no 31st
		{"29 février", "fr", "2028-02-29"}, // 2027 has none: the next one
		{"je voudrais un rendez-vous pour demain matin", "fr", "2026-11-25"},
		{"can i come on friday", "en", "2026-11-27"},
		{"demain", "", "2026-11-25"},
	}
	for _, c := range cases {
		d, ok := ParseDate(c.text, c.lang, ref)
		if !ok || d.String() != c.want {
			t.Errorf("ParseDate(%q, %q) = %v %v, want %s", c.text, c.lang, d, ok, c.want)
		}
	}
}

func TestParseDateNone(t *testing.T) {
	ref := time.Date(2026, time.November, 24, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct{ text, lang string }{
		{"", "en"},
		{"hello", "en"},
		{"i may come", "en"},
		{"30 february", "en"},
		{"le 32 mars", "fr"},
		{"in the morning", "en"},
		{"3 people", "en"},
		{"demain", "en"},
		{"tomorrow", "fr"},
	} {
		if d, ok := ParseDate(c.text, c.lang, ref); ok {
			t.Errorf("ParseDate(%q, %q) = %v, want none", c.text, c.lang, d)
		}
	}
}

func TestDateString(t *testing.T) {
	if s := (Date{2026, time.March, 3}).String(); s != "2026-03-03" {
		t.Fatal(s)
	}
}

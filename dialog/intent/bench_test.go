package intent

import (
	"context"
	"testing"
	"time"
)

// benchUtterances mix exact phrases, recognizer output with fillers, typos
// and no-matches, in French and English.
var benchUtterances = []struct{ text, lang string }{
	{"euh bonjour je voudrais prendre un rendez vous s il vous plait", "fr"},
	{"annuler mon rendez-vous", "fr"},
	{"quels sont vos horraires", "fr"},
	{"j ai un souci avec ma facture de janvier", "fr"},
	{"quel temps fait-il a paris", "fr"},
	{"uh hi i would like to make an appointement please", "en"},
	{"cancell my apointment", "en"},
	{"can i talk to an agent", "en"},
}

func reportRate(b *testing.B, n int, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// BenchmarkMatch ranks a flow-sized intent set (9 intents, 37 examples, two
// languages) against one utterance per op, reusing the result slice.
func BenchmarkMatch(b *testing.B) {
	m := flowMatcher(b)
	dst := make([]Scored, 0, 16)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		u := benchUtterances[n%len(benchUtterances)]
		dst = m.AppendMatch(dst[:0], u.text, u.lang)
		n++
	}
	reportRate(b, n, "matches/s")
}

// BenchmarkMatchAlloc is BenchmarkMatch through Match, which allocates its
// result.
func BenchmarkMatchAlloc(b *testing.B) {
	m := flowMatcher(b)
	ctx := context.Background()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		u := benchUtterances[n%len(benchUtterances)]
		if _, err := m.Match(ctx, u.text, u.lang); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n, "matches/s")
}

// BenchmarkNewMatcher compiles the flow-sized intent set.
func BenchmarkNewMatcher(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		flowMatcher(b)
	}
}

// BenchmarkParseNumber reads numbers out of short utterances.
func BenchmarkParseNumber(b *testing.B) {
	texts := []struct{ text, lang string }{
		{"my number is four five six please", "en"},
		{"zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "fr"},
		{"one thousand two hundred and five", "en"},
		{"quatre-vingt-dix-neuf", "fr"},
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t := texts[n%len(texts)]
		if _, ok := ParseNumber(t.text, t.lang); !ok {
			b.Fatal("no number")
		}
		n++
	}
	reportRate(b, n, "parses/s")
}

// BenchmarkYesNo reads short answers.
func BenchmarkYesNo(b *testing.B) {
	texts := []struct{ text, lang string }{
		{"yeah that's right", "en"}, {"not really", "en"}, {"oui bien sûr", "fr"}, {"pas du tout merci", "fr"},
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t := texts[n%len(texts)]
		YesNo(t.text, t.lang)
		n++
	}
	reportRate(b, n, "answers/s")
}

// BenchmarkNormalize normalises a typed French sentence.
func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Normalize("J'aimerais prendre un rendez-vous aujourd'hui, à 14h30 ? Ça serait génial !")
	}
}

// BenchmarkParseDate reads days out of short utterances.
func BenchmarkParseDate(b *testing.B) {
	ref := time.Date(2026, time.November, 24, 15, 0, 0, 0, time.UTC)
	texts := []struct{ text, lang string }{
		{"je voudrais un rendez-vous pour demain matin", "fr"}, {"next monday please", "en"},
		{"le trois mars", "fr"}, {"on the twenty first of december", "en"},
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t := texts[n%len(texts)]
		if _, ok := ParseDate(t.text, t.lang, ref); !ok {
			b.Fatal("no date")
		}
		n++
	}
	reportRate(b, n, "parses/s")
}

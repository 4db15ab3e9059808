package sphinx

import (
	"context"
	"testing"
	"time"

	"github.com/parole-voice/parole/stt"
)

// The n-best list of a free-text utterance gives distinct alternatives, none
// equal to the best text, with confidences that fall along the list.
func TestAlternatives(t *testing.T) {
	r := recognizer(t)
	check := func(t *testing.T, cfg stt.Config, name string) stt.Result {
		s, err := r.Stream(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fs := finals(feed(t, s, padded(prompt(t, name), 8000, 500*time.Millisecond), 8000))
		if len(fs) != 1 {
			t.Fatalf("%d finals", len(fs))
		}
		f := fs[0]
		t.Logf("%s: %q (%.2f) alternatives %+v", name, f.Text, f.Confidence, f.Alternatives)
		if len(f.Alternatives) > max(cfg.MaxAlternatives-1, 0) {
			t.Fatalf("%d alternatives, asked for at most %d", len(f.Alternatives), cfg.MaxAlternatives-1)
		}
		seen := map[string]bool{f.Text: true}
		prev := 1.0
		for _, a := range f.Alternatives {
			if a.Text == "" || seen[a.Text] {
				t.Errorf("alternative %q empty or repeated", a.Text)
			}
			seen[a.Text] = true
			if a.Confidence <= 0 || a.Confidence > prev {
				t.Errorf("alternative %q confidence %g out of order (previous %g)", a.Text, a.Confidence, prev)
			}
			prev = a.Confidence
		}
		return f
	}
	t.Run("free", func(t *testing.T) {
		f := check(t, stt.Config{SampleRate: 8000, SingleUtterance: true, MaxAlternatives: 5}, "all-circuits-busy-now")
		if len(f.Alternatives) == 0 {
			t.Fatal("no alternatives from the language model's lattice")
		}
		// the text may differ from the first run's: a pooled decoder's
		// cepstral mean carries over from the stream before
		one := check(t, stt.Config{SampleRate: 8000, SingleUtterance: true}, "all-circuits-busy-now")
		if len(one.Alternatives) != 0 || one.Text == "" {
			t.Fatalf("without MaxAlternatives: %+v", one)
		}
	})
	t.Run("grammar", func(t *testing.T) {
		// pocketsphinx's FSG lattice keeps only the winning phrase.
		f := check(t, stt.Config{SampleRate: 8000, SingleUtterance: true, MaxAlternatives: 4, Grammar: promptGrammar}, "all-circuits-busy-now")
		if f.Rejected || f.Value != "busy" || len(f.Alternatives) != 0 {
			t.Fatalf("best %q value %q rejected %v alternatives %v", f.Text, f.Value, f.Rejected, f.Alternatives)
		}
	})
}

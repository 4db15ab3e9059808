package tts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parole-voice/parole/tts"
)

type named struct {
	name string
	got  *string
}

func (n named) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	*n.got = n.name
	return nil, nil
}

func TestByLanguage(t *testing.T) {
	var got string
	b := tts.ByLanguage{
		Engines: map[string]tts.Synthesizer{"fr-CA": named{"quebec", &got}, "fr": named{"cloud", &got}},
		Default: named{"embedded", &got},
	}
	for lang, want := range map[string]string{"fr-FR": "cloud", "fr-ca": "quebec", "en-US": "embedded"} {
		if _, err := b.Synthesize(context.Background(), tts.Request{Language: lang}); err != nil || got != want {
			t.Errorf("%q: went to %q (%v), want %q", lang, got, err, want)
		}
	}
	b.Default = nil
	if _, err := b.Synthesize(context.Background(), tts.Request{Language: "de"}); !errors.Is(err, tts.ErrUnsupported) {
		t.Errorf("no engine: %v", err)
	}
}

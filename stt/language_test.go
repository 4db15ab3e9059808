package stt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parole-voice/parole/stt"
)

type named struct {
	name string
	got  *string
}

func (n named) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	*n.got = n.name
	return nil, nil
}

func TestByLanguage(t *testing.T) {
	var got string
	b := stt.ByLanguage{
		Engines: map[string]stt.Recognizer{"fr": named{name: "cloud", got: &got}},
		Default: named{name: "embedded", got: &got},
	}
	for lang, want := range map[string]string{"fr-FR": "cloud", "en-US": "embedded", "": "embedded"} {
		if _, err := b.Stream(context.Background(), stt.Config{Language: lang}); err != nil || got != want {
			t.Errorf("%q: went to %q (%v), want %q", lang, got, err, want)
		}
	}
	b.Default = nil
	if _, err := b.Stream(context.Background(), stt.Config{Language: "de"}); !errors.Is(err, stt.ErrUnsupported) {
		t.Errorf("no engine: %v", err)
	}
}

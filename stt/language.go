package stt

import (
	"context"
	"fmt"

	"github.com/parole-voice/parole/internal/langtag"
)

// ByLanguage is a Recognizer that hands each stream to the engine configured
// for its language: the one for the exact tag ("fr-CA"), else for its primary
// language ("fr"), else Default. Tags compare case-insensitively. It lets one
// parole use the embedded engine for English and a cloud engine for French.
type ByLanguage struct {
	// Engines maps BCP 47 tags or primary languages to recognizers.
	Engines map[string]Recognizer
	// Default takes the languages Engines does not name; nil refuses them
	// with ErrUnsupported.
	Default Recognizer
}

// Stream opens a stream on the engine for cfg.Language.
func (b ByLanguage) Stream(ctx context.Context, cfg Config) (Stream, error) {
	r := langtag.Pick(b.Engines, cfg.Language, b.Default)
	if r == nil {
		return nil, fmt.Errorf("%w: no recognizer for language %q", ErrUnsupported, cfg.Language)
	}
	return r.Stream(ctx, cfg)
}

package tts

import (
	"context"
	"fmt"

	"github.com/parole-voice/parole/internal/langtag"
)

// ByLanguage is a Synthesizer that hands each request to the engine
// configured for its language: the one for the exact tag ("fr-CA"), else for
// its primary language ("fr"), else Default. Tags compare case-insensitively.
type ByLanguage struct {
	// Engines maps BCP 47 tags or primary languages to synthesizers.
	Engines map[string]Synthesizer
	// Default takes the languages Engines does not name; nil refuses them
	// with ErrUnsupported.
	Default Synthesizer
}

// Synthesize starts req on the engine for req.Language.
func (b ByLanguage) Synthesize(ctx context.Context, req Request) (Stream, error) {
	s := langtag.Pick(b.Engines, req.Language, b.Default)
	if s == nil {
		return nil, fmt.Errorf("%w: no synthesizer for language %q", ErrUnsupported, req.Language)
	}
	return s.Synthesize(ctx, req)
}

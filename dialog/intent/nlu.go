package intent

import "context"

// NLU is a natural-language understanding back end: it reads an utterance
// and names its intent and entities. [Matcher] and [Rasa] implement it.
type NLU interface {
	// Parse reads text said or typed in lang (a BCP 47 tag, empty when
	// unknown). A Result with an empty Intent means that nothing matched;
	// errors are reserved for failures of the back end or the context.
	Parse(ctx context.Context, text, lang string) (Result, error)
}

// Result is what an [NLU] understood of an utterance.
type Result struct {
	// Text is the utterance as parsed.
	Text string
	// Intent is the best intent, empty when none passed the back end's
	// threshold.
	Intent string
	// Confidence is the score of Intent in [0,1].
	Confidence float64
	// Entities are the values found in Text.
	Entities []Entity
	// Ranking lists the candidate intents, best first.
	Ranking []Scored
}

// Entity is a value found in an utterance.
type Entity struct {
	// Entity is the entity type ("number", or a name from the NLU model).
	Entity string
	// Value is the value: a string as given by the back end, or the JSON
	// text of a non-string value.
	Value string
	// Start and End delimit the entity in Result.Text, in bytes.
	Start, End int
	// Confidence is the extractor's confidence, 0 when it gives none.
	Confidence float64
	// Extractor names the component that found the entity.
	Extractor string
}

// EntityNumber is the entity type [Matcher.Parse] gives the numbers it
// finds; their Value is [Number.Digits].
const EntityNumber = "number"

// Parse implements [NLU]: the best intent of [Matcher.Match], if any, and
// every number in text (see [FindNumbers]) as an [EntityNumber] entity.
func (m *Matcher) Parse(ctx context.Context, text, lang string) (Result, error) {
	ranking, err := m.Match(ctx, text, lang)
	if err != nil {
		return Result{}, err
	}
	r := Result{Text: text, Ranking: ranking}
	if len(ranking) > 0 {
		r.Intent, r.Confidence = ranking[0].Intent, ranking[0].Score
	}
	for _, n := range FindNumbers(text, lang) {
		r.Entities = append(r.Entities, Entity{
			Entity: EntityNumber, Value: n.Digits, Start: n.Start, End: n.End,
			Confidence: 1, Extractor: "parole",
		})
	}
	return r, nil
}

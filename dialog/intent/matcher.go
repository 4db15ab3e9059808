package intent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
)

// ErrBadIntent is returned by [NewMatcher] for an intent set it cannot use
// (no intents, an unnamed or duplicate intent, an intent without examples,
// an example without words).
var ErrBadIntent = errors.New("intent: bad intent definition")

// DefaultThreshold is the score below which [Matcher] reports no match
// unless [WithThreshold] says otherwise.
const DefaultThreshold = 0.5

// Intent is one thing a caller may want, given by example phrases.
type Intent struct {
	// Name identifies the intent in results. Two intents may share a name
	// when their languages differ: a flow's "book" intent can have French
	// and English examples.
	Name string
	// Lang restricts the intent to one language (a BCP 47 tag such as
	// "fr" or "en-GB"); empty means every language.
	Lang string
	// Examples are phrases that express the intent, typed naturally.
	Examples []string
}

// Scored is an intent with its match score in [0,1]: 1 for an utterance
// equal to an example once normalised, less for partial or fuzzy matches.
type Scored struct {
	Intent string
	Score  float64
}

// MatcherOption configures [NewMatcher].
type MatcherOption func(*Matcher)

// WithThreshold sets the score below which an intent is not reported
// (default [DefaultThreshold]).
func WithThreshold(t float64) MatcherOption { return func(m *Matcher) { m.threshold = t } }

// WithStopWords replaces the stop words of lang ("en", "fr", or another
// primary language tag) used when scoring: words that weigh little in a
// match, such as articles, pronouns and fillers ("euh", "um"). Words are
// normalised; nil or empty means no stop words for lang. The built-in
// lists cover English and French.
func WithStopWords(lang string, words []string) MatcherOption {
	return func(m *Matcher) {
		set := map[string]bool{}
		for _, w := range words {
			for _, tok := range Tokens(w) {
				set[tok] = true
			}
		}
		m.stop[primary(lang)] = set
	}
}

// Matcher ranks a fixed set of intents against utterances. It is built once
// with [NewMatcher] and safe for concurrent use; a match allocates nothing
// but its result.
type Matcher struct {
	threshold float64
	intents   []compiledIntent
	exact     map[string][]int32 // normalised example → intents
	vocab     map[string]int32
	words     [][]byte
	masks     []uint32 // letters present in each vocabulary word
	idf       []float64
	byLen     [maxFuzzyLen + 1][]int32 // vocabulary ids by word length
	compounds []compound
	unknown   float64 // weight of a word outside the vocabulary
	stop      map[string]map[string]bool
	pool      sync.Pool
}

type compiledIntent struct {
	name, lang string
	examples   []example
}

type example struct {
	ids   []int32
	w     []float64
	total float64
}

// compound is two adjacent example words written as one ("rendez vous" →
// "rendezvous"), so that a caller who glues them still matches.
type compound struct {
	word []byte
	mask uint32
	a, b int32
}

type scratch struct {
	t       tokens
	sim     []float64
	touched []int32
	joined  []byte
}

// stopFactor scales the weight of stop words.
const stopFactor = 0.15

// NewMatcher compiles intents for matching.
func NewMatcher(intents []Intent, opts ...MatcherOption) (*Matcher, error) {
	if len(intents) == 0 {
		return nil, fmt.Errorf("%w: no intents", ErrBadIntent)
	}
	m := &Matcher{threshold: DefaultThreshold, exact: map[string][]int32{}, vocab: map[string]int32{},
		stop: map[string]map[string]bool{}}
	for lang, set := range stopSets {
		if lang != "" {
			m.stop[lang] = set
		}
	}
	for _, o := range opts {
		o(m)
	}
	// The language-less set is the union of the others.
	all := map[string]bool{}
	for _, set := range m.stop {
		for w := range set {
			all[w] = true
		}
	}
	m.stop[""] = all
	seen := map[string]bool{}
	var t tokens
	df := map[int32]int{}
	type pending struct{ ids []int32 }
	raw := make([][]pending, len(intents))
	for i, in := range intents {
		if in.Name == "" {
			return nil, fmt.Errorf("%w: intent %d has no name", ErrBadIntent, i)
		}
		key := in.Name + "\x00" + primary(in.Lang)
		if seen[key] {
			return nil, fmt.Errorf("%w: intent %q defined twice for language %q", ErrBadIntent, in.Name, in.Lang)
		}
		seen[key] = true
		if len(in.Examples) == 0 {
			return nil, fmt.Errorf("%w: intent %q has no examples", ErrBadIntent, in.Name)
		}
		inIntent := map[int32]bool{}
		for _, ex := range in.Examples {
			t.reset()
			t.add(ex)
			if len(t.toks) == 0 {
				return nil, fmt.Errorf("%w: intent %q: example %q has no words", ErrBadIntent, in.Name, ex)
			}
			key := string(t.buf)
			if !containsInt32(m.exact[key], int32(i)) {
				m.exact[key] = append(m.exact[key], int32(i))
			}
			var ids []int32
			for k := range t.toks {
				id := m.intern(t.word(k))
				if !containsInt32(ids, id) {
					ids = append(ids, id)
				}
				if !inIntent[id] {
					inIntent[id] = true
					df[id]++
				}
				if k > 0 {
					m.addCompound(t.word(k-1), t.word(k))
				}
			}
			raw[i] = append(raw[i], pending{ids})
		}
	}
	n := float64(len(intents))
	m.idf = make([]float64, len(m.words))
	for id := range m.words {
		m.idf[id] = math.Log(1 + n/float64(df[int32(id)]))
	}
	m.unknown = math.Log(1 + n)
	m.intents = make([]compiledIntent, len(intents))
	for i, in := range intents {
		ci := compiledIntent{name: in.Name, lang: primary(in.Lang)}
		for _, p := range raw[i] {
			ex := example{ids: p.ids, w: make([]float64, len(p.ids))}
			for k, id := range p.ids {
				ex.w[k] = m.weight(id, m.words[id], ci.lang)
				ex.total += ex.w[k]
			}
			ci.examples = append(ci.examples, ex)
		}
		m.intents[i] = ci
	}
	m.pool.New = func() any { return &scratch{sim: make([]float64, len(m.words))} }
	return m, nil
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (m *Matcher) intern(w []byte) int32 {
	if id, ok := m.vocab[string(w)]; ok {
		return id
	}
	id := int32(len(m.words))
	m.vocab[string(w)] = id
	m.words = append(m.words, append([]byte(nil), w...))
	m.masks = append(m.masks, letterMask(w))
	if len(w) <= maxFuzzyLen {
		m.byLen[len(w)] = append(m.byLen[len(w)], id)
	}
	return id
}

func (m *Matcher) addCompound(a, b []byte) {
	w := make([]byte, 0, len(a)+len(b))
	w = append(append(w, a...), b...)
	if len(w) > maxFuzzyLen {
		return
	}
	ia, ib := m.vocab[string(a)], m.vocab[string(b)]
	for _, c := range m.compounds {
		if c.a == ia && c.b == ib {
			return
		}
	}
	m.compounds = append(m.compounds, compound{word: w, mask: letterMask(w), a: ia, b: ib})
}

func (m *Matcher) weight(id int32, w []byte, lang string) float64 {
	x := m.unknown
	if id >= 0 {
		x = m.idf[id]
	}
	set, ok := m.stop[lang]
	if !ok {
		set = m.stop[""]
	}
	if set[string(w)] {
		x *= stopFactor
	}
	return x
}

func langOK(intentLang, lang string) bool {
	return intentLang == "" || lang == "" || intentLang == lang
}

// Match ranks the intents against text, best first, leaving out those that
// score below the threshold (so an empty result means no match). Intents of
// another language than lang are skipped; an empty lang matches all. The
// only error is the context's.
func (m *Matcher) Match(ctx context.Context, text, lang string) ([]Scored, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.AppendMatch(nil, text, lang), nil
}

// AppendMatch is [Matcher.Match] appending to dst, so that a caller reusing
// dst matches without allocating.
func (m *Matcher) AppendMatch(dst []Scored, text, lang string) []Scored {
	lang = primary(lang)
	sc := m.pool.Get().(*scratch)
	defer func() {
		if cap(sc.t.buf) <= 1<<16 && cap(sc.t.toks) <= 1<<12 {
			m.pool.Put(sc) // keep no giant buffers around
		}
	}()
	sc.t.reset()
	sc.t.add(text)
	base := len(dst)
	if len(sc.t.toks) == 0 {
		return dst
	}
	if hit, ok := m.exact[string(sc.t.buf)]; ok {
		for _, i := range hit {
			if langOK(m.intents[i].lang, lang) && indexIntent(dst[base:], m.intents[i].name) < 0 {
				dst = append(dst, Scored{Intent: m.intents[i].name, Score: 1})
			}
		}
	}
	qTotal := m.lookup(sc, lang)
	for i := range m.intents {
		in := &m.intents[i]
		if !langOK(in.lang, lang) {
			continue
		}
		best := 0.0
		for e := range in.examples {
			ex := &in.examples[e]
			matched := 0.0
			for k, id := range ex.ids {
				matched += ex.w[k] * sc.sim[id]
			}
			cov := matched / ex.total
			prec := 1.0
			if qTotal > 0 {
				prec = math.Min(1, matched/qTotal)
			}
			if s := 0.8*cov + 0.2*prec; s > best {
				best = s
			}
		}
		best = math.Min(best, 0.99) // 1 is for exact phrases
		if best < m.threshold {
			continue
		}
		// One entry per name: the best of the languages sharing it.
		if k := indexIntent(dst[base:], in.name); k >= 0 {
			dst[base+k].Score = math.Max(dst[base+k].Score, best)
		} else {
			dst = append(dst, Scored{Intent: in.name, Score: best})
		}
	}
	for _, id := range sc.touched {
		sc.sim[id] = 0
	}
	sc.touched = sc.touched[:0]
	// Insertion sort: stable, in place, and the list is short.
	r := dst[base:]
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Score > r[j-1].Score; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
	return dst
}

func indexIntent(s []Scored, name string) int {
	for i, x := range s {
		if x.Intent == name {
			return i
		}
	}
	return -1
}

func (sc *scratch) set(id int32, s float64) {
	if sc.sim[id] == 0 {
		sc.touched = append(sc.touched, id)
	}
	if s > sc.sim[id] {
		sc.sim[id] = s
	}
}

// lookup maps the utterance's words onto the vocabulary, exactly or
// fuzzily, recording in sc.sim the best similarity of each vocabulary word,
// and returns the total weight of the utterance.
func (m *Matcher) lookup(sc *scratch, lang string) float64 {
	t := &sc.t
	total := 0.0
	for k := range t.toks {
		w := t.word(k)
		// The caller split what the example writes as one word.
		if k+1 < len(t.toks) {
			sc.joined = append(append(sc.joined[:0], w...), t.word(k+1)...)
			if id, ok := m.vocab[string(sc.joined)]; ok {
				sc.set(id, 1)
			}
		}
		if id, ok := m.vocab[string(w)]; ok {
			sc.set(id, 1)
			total += m.weight(id, w, lang)
			continue
		}
		bestID, best := int32(-1), 0.0
		edits := maxEdits(len(w))
		mask := letterMask(w)
		if len(w) <= maxFuzzyLen && edits > 0 {
			for l := max(1, len(w)-edits); l <= min(maxFuzzyLen, len(w)+edits); l++ {
				for _, id := range m.byLen[l] {
					if !maybeNear(mask, m.masks[id], edits) {
						continue
					}
					if s := fuzzySim(w, m.words[id]); s > best {
						bestID, best = id, s
					}
				}
			}
		}
		if bestID >= 0 {
			sc.set(bestID, best)
			total += m.weight(bestID, w, lang)
		} else {
			total += m.weight(-1, w, lang)
		}
		for _, c := range m.compounds {
			if d := len(c.word) - len(w); d > edits || d < -edits || !maybeNear(mask, c.mask, edits) {
				continue
			}
			s := 1.0
			if string(c.word) != string(w) {
				s = fuzzySim(w, c.word)
			}
			if s > 0 {
				sc.set(c.a, s)
				sc.set(c.b, s)
			}
		}
	}
	return total
}

// letterMask has bit i set when the word holds byte 'a'+i (bits 26–31 for
// digits and other bytes, folded).
func letterMask(w []byte) uint32 {
	var m uint32
	for _, c := range w {
		switch {
		case c >= 'a' && c <= 'z':
			m |= 1 << (c - 'a')
		default:
			m |= 1 << (26 + c%6)
		}
	}
	return m
}

// maybeNear is a cheap lower bound on the edit distance: one edit changes
// the set of letters of a word by at most two.
func maybeNear(a, b uint32, edits int) bool {
	return bits.OnesCount32(a^b) <= 2*edits
}

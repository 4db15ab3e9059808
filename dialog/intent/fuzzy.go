package intent

// maxFuzzyLen is the longest word compared fuzzily; longer words match only
// exactly (and the distance needs no heap memory).
const maxFuzzyLen = 32

// maxEdits is the number of edits a word of n bytes may carry and still
// match: none up to 3 letters (too many short words are one edit apart),
// one up to 5, two up to 10 and three beyond.
func maxEdits(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 5:
		return 1
	case n <= 10:
		return 2
	default:
		return 3
	}
}

// editDistance returns the optimal-string-alignment Damerau–Levenshtein
// distance between a and b (insertions, deletions, substitutions and
// transpositions of adjacent bytes), or limit+1 when it exceeds limit.
// Words longer than maxFuzzyLen bytes get limit+1 unless equal.
func editDistance(a, b []byte, limit int) int {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > limit {
		return limit + 1
	}
	if len(b) > maxFuzzyLen {
		if string(a) == string(b) {
			return 0
		}
		return limit + 1
	}
	var rows [3][maxFuzzyLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := prev[j-1] + cost
			if v := prev[j] + 1; v < d {
				d = v
			}
			if v := cur[j-1] + 1; v < d {
				d = v
			}
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				if v := prev2[j-2] + 1; v < d {
					d = v
				}
			}
			cur[j] = d
			if d < best {
				best = d
			}
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// fuzzySim returns the similarity in [0,1) of two different words: 0 when
// they are more edits apart than the shorter one's length allows, else
// 0.95·(1 − edits/longer length), so that a fuzzy match never scores as
// much as an exact one.
func fuzzySim(a, b []byte) float64 {
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	limit := maxEdits(n)
	if limit == 0 {
		return 0
	}
	d := editDistance(a, b, limit)
	if d > limit {
		return 0
	}
	m := len(a)
	if len(b) > m {
		m = len(b)
	}
	return 0.95 * (1 - float64(d)/float64(m))
}

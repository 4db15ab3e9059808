// Package langtag picks what is configured for a BCP 47 language tag.
package langtag

import "strings"

// Pick returns m's value for tag ("fr-CA"), else for its primary language
// ("fr"), else def. Keys and tag compare case-insensitively, "_" as "-".
func Pick[T any](m map[string]T, tag string, def T) T {
	if len(m) == 0 || tag == "" {
		return def
	}
	tag = normal(tag)
	for k, v := range m {
		if normal(k) == tag {
			return v
		}
	}
	primary, _, _ := strings.Cut(tag, "-")
	for k, v := range m {
		if normal(k) == primary {
			return v
		}
	}
	return def
}

func normal(tag string) string { return strings.ToLower(strings.ReplaceAll(tag, "_", "-")) }

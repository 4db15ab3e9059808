package langtag

import "testing"

func TestPick(t *testing.T) {
	m := map[string]string{"fr": "fr", "fr_CA": "fr-ca", "EN-gb": "en-gb"}
	for tag, want := range map[string]string{
		"fr-FR": "fr", "fr-ca": "fr-ca", "FR": "fr", "en-GB": "en-gb", "en-US": "def", "": "def", "de": "def",
	} {
		if got := Pick(m, tag, "def"); got != want {
			t.Errorf("Pick(%q) = %q, want %q", tag, got, want)
		}
	}
	if got := Pick[string](nil, "fr", "def"); got != "def" {
		t.Errorf("nil map: %q", got)
	}
}

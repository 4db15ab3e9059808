package intent

import "testing"

func TestYesNo(t *testing.T) {
	cases := []struct {
		text, lang string
		want       Answer
		ok         bool
	}{
		{"yes", "en", Yes, true},
		{"Yes!", "en", Yes, true},
		{"yeah", "en", Yes, true},
		{"yep sure", "en", Yes, true},
		{"of course", "en", Yes, true},
		{"That's right.", "en", Yes, true},
		{"thats right", "en", Yes, true},
		{"that is correct", "en", Yes, true},
		{"absolutely", "en", Yes, true},
		{"ok", "en", Yes, true},
		{"uh yes please", "en", Yes, true},
		{"yes no problem", "en", Yes, true},
		{"well i think so", "en", Yes, true},
		{"no", "en", No, true},
		{"No.", "en", No, true},
		{"nope", "en", No, true},
		{"not really", "en", No, true},
		{"no thanks", "en", No, true},
		{"no thank you", "en", No, true},
		{"that's not correct", "en", No, true},
		{"not right", "en", No, true},
		{"of course not", "en", No, true},
		{"absolutely not", "en", No, true},
		{"i don't think so", "en", No, true},
		{"not sure", "en", Unknown, false},
		{"I'm not sure", "en", Unknown, false},
		{"maybe", "en", Unknown, false},
		{"yes no", "en", Unknown, false},
		{"i don't know", "en", Unknown, false},
		{"what", "en", Unknown, false},
		{"", "en", Unknown, false},
		{"the weather is nice", "en", Unknown, false},
		{"oui", "fr", Yes, true},
		{"Oui !", "fr", Yes, true},
		{"ouais", "fr", Yes, true},
		{"Bien sûr", "fr", Yes, true},
		{"bien sur", "fr", Yes, true},
		{"d'accord", "fr", Yes, true},
		{"d accord", "fr", Yes, true},
		{"exactement", "fr", Yes, true},
		{"tout à fait", "fr", Yes, true},
		{"c'est ça", "fr", Yes, true},
		{"oui c est ca", "fr", Yes, true},
		{"euh oui oui", "fr", Yes, true},
		{"ça marche", "fr", Yes, true},
		{"pas de problème", "fr", Yes, true},
		{"si", "fr", Yes, true},
		{"Si !", "fr", Yes, true},
		{"mais si", "fr", Yes, true},
		{"si vous voulez", "fr", Unknown, false},
		{"non, si ça ne vous dérange pas", "fr", No, true},
		{"non", "fr", No, true},
		{"Non merci.", "fr", No, true},
		{"pas du tout", "fr", No, true},
		{"pas vraiment", "fr", No, true},
		{"pas d'accord", "fr", No, true},
		{"ce n'est pas ça", "fr", No, true},
		{"c'est pas ça", "fr", No, true},
		{"pas exactement", "fr", No, true},
		{"non non", "fr", No, true},
		{"bien sûr que non", "fr", No, true},
		{"je ne pense pas", "fr", No, true},
		{"je ne sais pas", "fr", Unknown, false},
		{"je sais pas", "fr", Unknown, false},
		{"pas sûr", "fr", Unknown, false},
		{"peut-être", "fr", Unknown, false},
		{"oui non", "fr", Unknown, false},
		{"il fait beau", "fr", Unknown, false},
		{"yes", "fr", Unknown, false}, // English word, French table
		{"oui", "en", Unknown, false},
		{"oui", "", Yes, true},
		{"no thanks", "", No, true},
		{"ok", "fr-CA", Yes, true},
	}
	for _, c := range cases {
		got, ok := YesNo(c.text, c.lang)
		if got != c.want || ok != c.ok {
			t.Errorf("YesNo(%q, %q) = %v %v, want %v %v", c.text, c.lang, got, ok, c.want, c.ok)
		}
	}
}

func TestAnswerString(t *testing.T) {
	if Yes.String() != "yes" || No.String() != "no" || Unknown.String() != "unknown" || Answer(9).String() != "unknown" {
		t.Fatal("Answer.String")
	}
}

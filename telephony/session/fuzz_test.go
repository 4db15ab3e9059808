package session

import (
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/tts"
)

// FuzzHeard cuts a prompt at arbitrary play positions, with and without
// word marks (also marks out of range, as a faulty engine could give):
// nothing panics, and for plain text the heard and the cut parts together
// are the whole prompt, word for word.
func FuzzHeard(f *testing.F) {
	f.Add("Welcome to the Parole demo line.", false, 3000, 1600, []byte{0, 8, 11, 3})
	f.Add("<speak>Say <emphasis>hours</emphasis>, or press 1 &amp; 2.</speak>", true, 800, 0, []byte{7, 3, 24, 5})
	f.Add("", false, 0, 0, []byte{})
	f.Add("one", false, 100, 200, []byte{200, 200})
	f.Fuzz(func(t *testing.T, text string, ssml bool, total, pos int, marks []byte) {
		if total < 0 || total > 1<<20 || pos < 0 {
			return
		}
		seg := segment{text: text, spoken: text}
		if ssml {
			seg = segment{ssml: text, spoken: stripSSML(text)}
		}
		p := &player{rate: 8000, frameN: 160, segs: []segment{{text: "before", spoken: "before"}, seg, {text: "after", spoken: "after"}}, i: 1, opened: true}
		p.audio = make([]int16, total)
		p.pos = min(pos, total)
		p.ended = pos%2 == 0
		for i := 0; i+1 < len(marks); i += 2 {
			p.marks = append(p.marks, tts.Mark{Offset: int(marks[i]), Len: int(marks[i+1]) % 16, At: time.Duration(i) * 50 * time.Millisecond})
		}
		heard, cut := p.heard()
		if !strings.HasPrefix(heard, "before") || !strings.HasSuffix(cut, "after") {
			t.Fatalf("heard %q cut %q: the other segments misplaced", heard, cut)
		}
		if ssml {
			return
		}
		all := strings.Fields("before " + text + " after")
		got := strings.Fields(heard + " " + cut)
		if len(p.marks) == 0 && strings.Join(got, " ") != strings.Join(all, " ") {
			t.Fatalf("heard %q + cut %q != %q", heard, cut, all)
		}
		if len(p.marks) > 0 && strings.Join(strings.Fields(strings.Join(got, "")), "") != strings.Join(all, "") {
			// A mark may end inside a word: the characters are all there.
			t.Fatalf("heard %q + cut %q != %q", heard, cut, all)
		}
	})
}

package teams

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/parole-voice/parole/dialog"
)

func TestTruncateUTF16(t *testing.T) {
	family := "👨\u200d👩\u200d👧" // one emoji, three people joined by ZWJ
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello world", 8, "hello w…"},
		{"ab😀cd", 4, "ab…"},                  // 😀 is two units: it does not fit with the ellipsis
		{"ab😀cd", 5, "ab😀…"},                 // it does
		{"ok " + family + " done", 8, "ok…"}, // the ZWJ sequence stays whole
		{"hi 👍🏽 there", 6, "hi…"},            // skin tone stays with its hand
		{"flags 🇫🇷🇩🇪", 13, "flags 🇫🇷…"},      // flags are pairs
		{"e\u0301te\u0301", 2, "…"},          // the combining acute stays with its e: nothing fits
		{"e\u0301te\u0301", 3, "e\u0301…"},   // é fits
	}
	for _, c := range cases {
		got := TruncateUTF16(c.in, c.max)
		if got != c.want {
			t.Errorf("TruncateUTF16(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if UTF16Len(got) > c.max {
			t.Errorf("%q is %d units, over %d", got, UTF16Len(got), c.max)
		}
	}
	if n := UTF16Len("a😀é"); n != 4 || n != len(utf16.Encode([]rune("a😀é"))) {
		t.Errorf("UTF16Len = %d", n)
	}
}

func TestRender(t *testing.T) {
	r := dialog.Reply{Messages: []dialog.Message{
		{Text: "Bonjour 👋 **bienvenue**"},
		{SSML: "<speak>Say <emphasis>yes</emphasis> &amp; go</speak>"},
		{Text: "Pick", Choices: []dialog.Choice{{Title: "1"}, {Title: "2"}, {Title: "3"}, {Title: "4"}, {Title: "5"}, {Title: "6"}, {Title: "7", Payload: "seven"}}},
		{Card: &dialog.Card{Title: "Shop", Subtitle: "Open", ImageURL: "https://example.com/s.png", Buttons: []dialog.Choice{{Title: "Map", URL: "https://example.com/map"}}}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/a.pdf", Name: "terms_v2.pdf", ContentType: "application/pdf"}},
		{Attachment: &dialog.Attachment{URL: "https://example.com/p.png", Name: "p.png", ContentType: "image/png"}},
	}, Transfer: &dialog.Transfer{Target: "sip:agent@example.com"}}
	acts := Render(r, RenderOptions{})
	if len(acts) != 6 {
		t.Fatalf("%d activities", len(acts))
	}
	if acts[0].Text != "Bonjour 👋 **bienvenue**" || acts[0].TextFormat != "markdown" {
		t.Errorf("text %+v", acts[0])
	}
	if acts[1].Text != "Say yes & go" {
		t.Errorf("ssml %q", acts[1].Text)
	}
	if len(acts[2].Attachments) != 2 || acts[2].AttachmentLayout != "list" {
		t.Fatalf("7 choices: %+v", acts[2].Attachments)
	}
	second := acts[2].Attachments[1].Content.(HeroCard)
	if len(second.Buttons) != 1 || second.Buttons[0].Value.(map[string]string)["choice"] != "seven" {
		t.Errorf("second card %+v", second)
	}
	card := acts[3].Attachments[0].Content.(HeroCard)
	if card.Title != "Shop" || card.Images[0].URL != "https://example.com/s.png" || card.Buttons[0].Type != "openUrl" {
		t.Errorf("card %+v", card)
	}
	if acts[4].Text != `[terms\_v2.pdf](https://example.com/a.pdf)` || len(acts[4].Attachments) != 0 {
		t.Errorf("file %+v", acts[4])
	}
	if at := acts[5].Attachments[0]; at.ContentType != "image/png" || at.ContentURL != "https://example.com/p.png" {
		t.Errorf("image %+v", at)
	}
	// A transfer alone says so.
	if a := Render(dialog.Reply{Transfer: &dialog.Transfer{Target: "+33123456789"}}, RenderOptions{Locale: "fr-FR"}); len(a) != 1 || a[0].Text != "Je vous transfère vers +33123456789." {
		t.Errorf("transfer %+v", a)
	}
	// An image the check refuses becomes a link.
	refuse := func(string, string) error { return ErrImage }
	a := Render(dialog.Reply{Messages: []dialog.Message{{Attachment: &dialog.Attachment{URL: "https://example.com/big.png", ContentType: "image/png"}}}}, RenderOptions{CheckImage: refuse})
	if len(a[0].Attachments) != 0 || a[0].Text != "[https://example.com/big.png](https://example.com/big.png)" {
		t.Errorf("refused image %+v", a[0])
	}
	// Long texts are cut in UTF-16 units.
	long := strings.Repeat("😀", 20)
	a = Render(dialog.Say(long), RenderOptions{MaxTextUTF16: 11})
	if a[0].Text != strings.Repeat("😀", 5)+"…" || !utf8.ValidString(a[0].Text) {
		t.Errorf("long %q", a[0].Text)
	}
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func TestCheckImage(t *testing.T) {
	var g bytes.Buffer
	gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 10, 10), []color.Color{color.Black, color.White}), nil)
	noisy := make([]byte, MaxImageBytes+10)
	copy(noisy, pngOf(8, 8))
	files := map[string][]byte{
		"/ok.png":    pngOf(1024, 1024),
		"/wide.png":  pngOf(1025, 10),
		"/big.png":   noisy,
		"/small.gif": g.Bytes(),
		"/text.png":  []byte("not an image"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, c := range []struct {
		path, ctype string
		ok          bool
	}{
		{"/ok.png", "image/png", true},
		{"/small.gif", "image/gif", true},
		{"/small.gif", "", true},
		{"/wide.png", "image/png", false},
		{"/big.png", "image/png", false},
		{"/text.png", "image/png", false},
		{"/ok.png", "image/jpeg", false},
		{"/missing.png", "image/png", false},
	} {
		err := CheckImage(ctx, srv.Client(), srv.URL+c.path, c.ctype)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrImage) {
			t.Errorf("%s %s: %v", c.path, c.ctype, err)
		}
	}
	data := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngOf(16, 16))
	if err := CheckImage(ctx, nil, data, "image/png"); err != nil {
		t.Errorf("data URL: %v", err)
	}
	if err := CheckImage(ctx, nil, "ftp://example.com/x.png", ""); !errors.Is(err, ErrImage) {
		t.Errorf("ftp: %v", err)
	}
}

// TestCleanText checks mention stripping on its own.
func TestCleanText(t *testing.T) {
	bot := &ChannelAccount{ID: testBotID, Name: "Parole"}
	for _, c := range []struct {
		text     string
		entities []Entity
		want     string
		mention  bool
	}{
		{"<at>Parole</at> hours", []Entity{{Type: "mention", Text: "<at>Parole</at>", Mentioned: bot}}, "hours", true},
		{"<at>Parole</at> hours", []Entity{{Type: "mention", Text: "<at>@Parole</at>", Mentioned: bot}}, "hours", true},
		{"hours <at>Parole</at>\n", []Entity{{Type: "mention", Mentioned: bot}}, "hours", true},
		{"ask <at>Jo</at> &amp; me", []Entity{{Type: "mention", Text: "<at>Jo</at>", Mentioned: &ChannelAccount{ID: "29:jo", Name: "Jo"}}}, "ask Jo & me", false},
		{"no mention", nil, "no mention", false},
	} {
		a := &Activity{Text: c.text, Entities: c.entities, Recipient: bot}
		if got := a.cleanText(); got != c.want || a.mentionsBot() != c.mention {
			t.Errorf("%q: %q mention=%v", c.text, got, a.mentionsBot())
		}
	}
}

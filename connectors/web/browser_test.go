package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/testutil/chromiumtest"
	"github.com/parole-voice/parole/web"
)

// browser is a headless Chromium driven by chromedp (chromiumtest), with
// the page's uncaught exceptions and console errors collected.
type browser struct {
	*chromiumtest.Browser
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	b := chromiumtest.New(t, chromiumtest.Options{Width: 800, Height: 900})
	return &browser{Browser: b, ctx: b.Ctx}
}

func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.Run(t, what, steps...)
}

func (b *browser) checkErrors(t *testing.T) {
	t.Helper()
	b.CheckErrors(t)
}

func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return chromiumtest.Eval[T](t, b.Browser, expr)
}

func waitJS(expr string) chromedp.Action[chromedp.Void] { return chromiumtest.WaitJS(expr) }

func waitText(css, text string) chromedp.Action[chromedp.Void] {
	return chromiumtest.WaitText(css, text)
}

// clickButton clicks the enabled button titled title.
func clickButton(title string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.Search(fmt.Sprintf(`//ol[@id="messages"]//button[normalize-space(text())=%q][not(@disabled)]`, title)))
}

func say(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("input"), text),
		chromedp.Click(chromedp.ID("send")),
	)
}

// screenshot saves the page when PAROLE_SCREENSHOTS names a folder.
func screenshot(name string) chromedp.Action[chromedp.Void] {
	dir := os.Getenv("PAROLE_SCREENSHOTS")
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if dir == "" {
			return chromedp.Void{}, nil
		}
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}

// chatServer serves parole's pages and a web connector over the demo flow
// behind a runner on a memory store, and tockkit (when not nil) under
// /tockkit/.
func chatServer(t *testing.T, tockkit http.Handler) (*httptest.Server, store.Store, *Connector) {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(f)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(store.Options{})
	c, err := New(runner.New(e, st), Config{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(c.Path(), c)
	mux.Handle(c.Path()+"/sse", c)
	mux.Handle("/", http.FileServerFS(web.FS()))
	if tockkit != nil {
		mux.Handle("/tockkit/", tockkit)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		st.Close()
	})
	return srv, st, c
}

func TestChatPageInChromium(t *testing.T) {
	b := newBrowser(t)
	srv, st, c := chatServer(t, nil)

	b.run(t, "open the page and get the welcome",
		chromedp.Navigate(srv.URL+"/chat.html"),
		waitText("#messages", "Welcome to the Parole demo line."),
		waitText("#messages", "What would you like?"),
		chromedp.WaitVisible(chromedp.Search(`//button[text()="Opening hours"]`)),
	)
	userID := eval[string](t, b, `localStorage.getItem('parole.chat.userId')`)
	if userID == "" {
		t.Fatal("no userId kept in localStorage")
	}
	b.run(t, "ask for the opening hours",
		say("When are you open?"),
		waitText("#messages", "We are open Monday to Friday, from 9 am to 6 pm."),
		waitText("#messages", "Can I help you with anything else?"),
		screenshot("chat-hours"),
	)
	// The page has its event stream open, so the reply came twice (POST
	// answer and stream, one RESPONSE_ID); it must show once.
	if n := eval[int](t, b, `document.getElementById('messages').innerText.split('We are open Monday').length - 1`); n != 1 {
		t.Fatalf("opening hours shown %d times", n)
	}
	b.run(t, "click a button",
		clickButton("Yes"),
		waitJS(`document.getElementById('messages').innerText.split('What would you like?').length === 3`),
	)
	b.run(t, "switch to French",
		chromedp.SetValue(chromedp.ID("locale"), "fr"),
		chromedp.Poll[chromedp.Void](`document.getElementById('locale').dispatchEvent(new Event('change'))`),
		waitJS(`document.documentElement.lang === 'fr' && document.getElementById('send').textContent === 'Envoyer'`),
	)
	b.run(t, "book an appointment in French",
		say("je voudrais prendre rendez-vous"),
		waitText("#messages", "Quel jour souhaitez-vous venir ?"),
		say("demain"),
		waitText("#messages", "À quel numéro de téléphone pouvons-nous vous joindre ?"),
		say("06 12 34 56 78"),
		waitText("#messages", "et nous vous appellerons au 0612345678. C'est bien ça ?"),
		clickButton("Oui"),
		waitText("#messages", "Votre rendez-vous est enregistré."),
		screenshot("chat-booked"),
	)
	conv, _, err := st.Load(context.Background(), ConversationPrefix+userID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Slots["phone"] != "0612345678" || conv.Slots["confirmed"] != "yes" || conv.Slots["date"] == "" || conv.Locale != "fr" {
		t.Fatalf("conversation after booking: locale %q slots %v", conv.Locale, conv.Slots)
	}

	// A proactive message reaches the open page over the stream.
	if err := c.Push(context.Background(), userID, dialog.Say("Rappel : votre rendez-vous est demain.")); err != nil {
		t.Fatal(err)
	}
	b.run(t, "proactive message", waitText("#messages", "Rappel : votre rendez-vous est demain."))
	// Saying goodbye ends the conversation: the page says so.
	b.run(t, "goodbye",
		say("au revoir"),
		waitText("#messages", "Merci de votre appel. Au revoir !"),
		waitText("#messages", "La conversation est terminée."),
	)

	// A reload shows the history from the store's transcript, without a
	// second welcome, in the language kept in localStorage.
	b.run(t, "reload",
		chromedp.Reload(),
		waitText("#messages", "Votre rendez-vous est enregistré."),
	)
	if n := eval[int](t, b, `document.getElementById('messages').innerText.split('Welcome to the Parole demo line.').length - 1`); n != 1 {
		t.Fatalf("after reload: %d welcomes, want 1", n)
	}
	if lang := eval[string](t, b, `document.documentElement.lang`); lang != "fr" {
		t.Fatalf("after reload: lang %q", lang)
	}
	b.checkErrors(t)
}

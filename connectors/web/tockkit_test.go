package web

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/internal/testutil"
)

// tockKitDir builds (or reuses) the tock-react-kit page of
// testdata/tockkit/build.sh in a cache folder outside the repository:
// $PAROLE_TOCKKIT_DIR, or parole/tockkit under the user cache folder.
func tockKitDir(t *testing.T) string {
	t.Helper()
	testutil.RequireTool(t, "npm", "npm")
	dir := os.Getenv("PAROLE_TOCKKIT_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache folder for the tock-react-kit bundle: %v", err)
		}
		dir = filepath.Join(cache, "parole", "tockkit")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "tockkit", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command("sh", script, dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("build the tock-react-kit page (%s %s): %v\n%s", script, dir, err, out.String())
	}
	return dir
}

// TestTockReactKit checks that tock-react-kit, Tock's reference chat
// front-end from npm, talks to the connector unchanged: it opens its event
// stream (GET …/sse?userid=), posts queries and quick-reply payloads, and
// shows the demo flow's answers once each although they arrive both in the
// POST answer and on the stream.
func TestTockReactKit(t *testing.T) {
	dir := tockKitDir(t)
	b := newBrowser(t)
	srv, _, c := chatServer(t, tockKitPage(dir))

	page := srv.URL + "/tockkit/?endpoint=" + url.QueryEscape(srv.URL+"/io/web")
	b.run(t, "load tock-react-kit",
		chromedp.Navigate(page),
		waitJS(`window.tockKitRendered === true && !!document.querySelector('#chat input:not([disabled])')`),
		chromedp.SendKeys(chromedp.CSS("#chat input"), "When are you open?\r"),
		waitText("#chat", "We are open Monday to Friday, from 9 am to 6 pm."),
		waitText("#chat", "Can I help you with anything else?"),
		screenshot("tockkit-hours"),
	)
	body := eval[string](t, b, `document.getElementById('chat').innerText`)
	for _, want := range []string{"Welcome to the Parole demo line.", "When are you open?", "We are open Monday to Friday"} {
		if n := strings.Count(body, want); n != 1 {
			t.Errorf("%q shown %d times, want once:\n%s", want, n, body)
		}
	}
	// The yes/no quick replies come as tock-react-kit quick replies; a
	// click posts the payload, answered with the menu again.
	b.run(t, "click a quick reply",
		chromedp.Click(chromedp.Search(`//*[@id="chat"]//button[normalize-space(.)="Yes"]`)),
		waitJS(`document.getElementById('chat').innerText.split('What would you like?').length === 3`),
		screenshot("tockkit-menu"),
	)
	c.mu.Lock()
	streams := 0
	for _, u := range c.users {
		if u.usesSSE {
			streams++
		}
	}
	c.mu.Unlock()
	if streams != 1 {
		t.Errorf("%d users opened the event stream, want tock-react-kit's one", streams)
	}
	b.checkErrors(t)
}

// tockKitPage serves the built page at /tockkit/ and its bundle, nothing
// else of the folder.
func tockKitPage(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		switch r.URL.Path {
		case "/tockkit/":
			name = "index.html"
		case "/tockkit/bundle.js":
			name = "bundle.js"
		default:
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
}

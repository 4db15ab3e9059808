// Package chromiumtest drives Debian's headless Chromium with chromedp for
// the tests of parole's pages: it starts the browser, collects the page's
// uncaught exceptions and console errors, and reports them with the page's
// text when a step fails.
package chromiumtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parole-voice/parole/internal/testutil"
)

// Options configure a Browser.
type Options struct {
	// Width and Height of the window; zero means 1024×900.
	Width, Height int
	// Ignore, when set, drops console messages the test expects (the
	// browser's own /favicon.ico request is always ignored).
	Ignore func(m chromedp.ConsoleMessage) bool
	// Flags are more Chromium options.
	Flags []chromedp.ExecAllocatorOption
}

// Browser is a headless Chromium; Ctx drives its one tab.
type Browser struct {
	Ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// New starts Chromium (the test fails under CI when it is not installed and
// is skipped elsewhere) and stops it when the test ends.
func New(t *testing.T, o Options) *Browser {
	t.Helper()
	path := testutil.RequireTool(t, "chromium", "chromium")
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1024, 900
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
	}, o.Flags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") || (o.Ignore != nil && o.Ignore(m)) {
				continue
			}
			if m.IsException() || m.Type == "error" {
				b.mu.Lock()
				b.errors = append(b.errors, string(m.Type)+": "+m.Text+" ("+m.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		<-consoleDone
	})
	return b
}

// Run runs steps within 20 s, failing the test with the page's errors and
// text when one fails.
func (b *Browser) Run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		ectx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		defer cancel()
		text, _ := chromedp.Run(ectx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage errors:\n%s\npage text:\n%s", what, err, strings.Join(b.Errors(), "\n"), text)
	}
}

// Errors returns the page's exceptions and console errors so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// CheckErrors fails the test if the page had exceptions or console errors.
func (b *Browser) CheckErrors(t *testing.T) {
	t.Helper()
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("page errors:\n%s", strings.Join(errs, "\n"))
	}
}

// Eval evaluates a JavaScript expression within 10 s.
func Eval[T any](t *testing.T, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitJS waits (15 s at most) until a JavaScript expression is true.
func WaitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second))
}

// WaitText waits until the element matching css shows text.
func WaitText(css, text string) chromedp.Action[chromedp.Void] {
	sel, _ := json.Marshal(css)
	want, _ := json.Marshal(text)
	return WaitJS(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.innerText.includes(%s); })()`, sel, want))
}

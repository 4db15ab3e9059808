package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fakeSlack is an in-process Slack Web API serving chat.postMessage as
// Slack documents it: Bearer token, JSON body, "ok": false with an error
// code (HTTP 200) for what Slack refuses, the Block Kit limits checked,
// 429 with Retry-After when told to rate limit.
type fakeSlack struct {
	srv   *httptest.Server
	token string

	mu      sync.Mutex
	posts   []PostMessage
	refused []string
	limited int // next requests answered 429
	ts      int
}

func newFakeSlack(t testing.TB, token string) *fakeSlack {
	f := &fakeSlack{token: token}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) url() string { return f.srv.URL + "/api" }

// take returns the accepted messages and refusals so far, and forgets them.
func (f *fakeSlack) take() ([]PostMessage, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, r := f.posts, f.refused
	f.posts, f.refused = nil, nil
	return p, r
}

func (f *fakeSlack) rateLimit(n int) {
	f.mu.Lock()
	f.limited = n
	f.mu.Unlock()
}

func (f *fakeSlack) answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) fail(w http.ResponseWriter, code string) {
	f.mu.Lock()
	f.refused = append(f.refused, code)
	f.mu.Unlock()
	f.answer(w, map[string]any{"ok": false, "error": code})
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.limited > 0 {
		f.limited--
		f.refused = append(f.refused, "ratelimited")
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		f.answer(w, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/api/chat.postMessage" {
		f.fail(w, "unknown_method")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.fail(w, "invalid_auth")
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		f.fail(w, "invalid_form_data")
		return
	}
	if params["charset"] == "" {
		f.fail(w, "missing_charset") // a warning at Slack; refused here to keep the connector exact
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var m PostMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		f.fail(w, "invalid_json")
		return
	}
	if m.Channel == "" {
		f.fail(w, "channel_not_found")
		return
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		f.fail(w, "no_text")
		return
	}
	if err := checkBlocks(m.Blocks); err != nil {
		f.fail(w, "invalid_blocks: "+err.Error())
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, m)
	f.ts++
	ts := fmt.Sprintf("1503435956.%06d", f.ts)
	f.mu.Unlock()
	f.answer(w, map[string]any{"ok": true, "channel": m.Channel, "ts": ts,
		"message": map[string]any{"type": "message", "subtype": "bot_message", "text": m.Text, "ts": ts, "bot_id": "B19LU7CSY"}})
}

// checkBlocks checks the Block Kit reference's limits for the blocks the
// connector sends.
func checkBlocks(blocks []Block) error {
	if len(blocks) > MaxBlocks {
		return fmt.Errorf("%d blocks", len(blocks))
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		switch b.Type {
		case "section":
			if b.Text == nil || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > MaxSectionText {
				return fmt.Errorf("block %d: section text must be 1-3000 characters", i)
			}
			if b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text" {
				return fmt.Errorf("block %d: text type %q", i, b.Text.Type)
			}
			if a := b.Accessory; a != nil && (a.Type != "image" || a.ImageURL == "" || a.AltText == "") {
				return fmt.Errorf("block %d: bad accessory", i)
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > MaxActions {
				return fmt.Errorf("block %d: %d elements", i, len(b.Elements))
			}
			for j, e := range b.Elements {
				if e.Type != "button" || e.Text == nil || e.Text.Type != "plain_text" || e.Text.Text == "" || utf8.RuneCountInString(e.Text.Text) > MaxButtonText {
					return fmt.Errorf("block %d element %d: bad button", i, j)
				}
				if e.ActionID == "" || len(e.ActionID) > 255 || ids[e.ActionID] {
					return fmt.Errorf("block %d element %d: action_id %q missing, long or repeated", i, j, e.ActionID)
				}
				ids[e.ActionID] = true
				if len(e.Value) > MaxButtonValue || len(e.URL) > MaxURL || e.Value == "" && e.URL == "" {
					return fmt.Errorf("block %d element %d: value or url", i, j)
				}
			}
		case "image":
			if b.ImageURL == "" || b.AltText == "" {
				return fmt.Errorf("block %d: image without url or alt_text", i)
			}
		default:
			return fmt.Errorf("block %d: type %q", i, b.Type)
		}
		if strings.Contains(b.BlockID, " ") {
			return fmt.Errorf("block id")
		}
	}
	return nil
}

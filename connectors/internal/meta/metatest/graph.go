// Package metatest is an in-process fake of the parts of Meta's Graph API
// the Messenger and WhatsApp connectors call, for their tests: the
// Messenger Send API (POST /{version}/me/messages?access_token=…) and the
// WhatsApp Cloud API messages endpoint (POST /{version}/{phone-number-id}/
// messages with a Bearer token). It checks each request against the
// documented shapes and limits, answers with the documented responses, and
// records what it received.
//
// It also holds the scaffolding the webhook connectors' tests share,
// Slack's included: [DemoRunner], [Fixture], [Recorder], [EchoBot], [Post]
// and the turn benchmark [BenchTurns].
package metatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Call is one request the fake received.
type Call struct {
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the decoded JSON body.
	Body map[string]any
	// Refused is the reason the fake refused the request ("" if accepted).
	Refused string
}

// Graph is the fake Graph API server.
type Graph struct {
	Server  *httptest.Server
	Version string
	Token   string

	mu       sync.Mutex
	calls    []Call
	failures []failure
	changed  chan struct{}
	n        int
}

type failure struct {
	status     int
	retryAfter string
}

// NewGraph starts a fake accepting token for API version (e.g. "v24.0");
// it stops when the test ends.
func NewGraph(t testing.TB, version, token string) *Graph {
	g := &Graph{Version: version, Token: token, changed: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Server.Close)
	return g
}

// URL is the fake's root, to configure as the connector's Graph URL.
func (g *Graph) URL() string { return g.Server.URL }

// FailNext makes the next n requests fail with status (and a Retry-After
// header when retryAfter is not empty) before it answers normally again.
func (g *Graph) FailNext(n, status int, retryAfter string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < n; i++ {
		g.failures = append(g.failures, failure{status, retryAfter})
	}
}

// Calls returns the requests received so far and forgets them.
func (g *Graph) Calls() []Call {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.calls
	g.calls = nil
	return c
}

// WaitCalls waits until at least n requests arrived (failing t after
// timeout), then returns and forgets them.
func (g *Graph) WaitCalls(t testing.TB, n int, timeout time.Duration) []Call {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		g.mu.Lock()
		if len(g.calls) >= n {
			c := g.calls
			g.calls = nil
			g.mu.Unlock()
			return c
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			g.mu.Lock()
			got := len(g.calls)
			g.mu.Unlock()
			t.Fatalf("fake Graph API: got %d calls, want %d", got, n)
			return nil
		}
	}
}

func (g *Graph) record(c Call) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, c)
	close(g.changed)
	g.changed = make(chan struct{})
}

// graphError answers a Graph API error object.
func graphError(w http.ResponseWriter, status, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEfGh123"}})
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := Call{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	_ = json.Unmarshal(raw, &c.Body)

	g.mu.Lock()
	var fail *failure
	if len(g.failures) > 0 {
		f := g.failures[0]
		g.failures = g.failures[1:]
		fail = &f
	}
	g.n++
	seq := g.n
	g.mu.Unlock()
	if fail != nil {
		c.Refused = fmt.Sprintf("injected %d", fail.status)
		g.record(c)
		if fail.retryAfter != "" {
			w.Header().Set("Retry-After", fail.retryAfter)
		}
		graphError(w, fail.status, 4, "OAuthException", "(#4) Application request limit reached")
		return
	}

	refuse := func(status, code int, typ, msg string) {
		c.Refused = msg
		g.record(c)
		graphError(w, status, code, typ, msg)
	}
	prefix := "/" + g.Version + "/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if r.Method != http.MethodPost || !ok || !strings.HasSuffix(rest, "/messages") || strings.Count(rest, "/") != 1 {
		refuse(http.StatusBadRequest, 100, "GraphMethodException", "Unsupported request: "+r.Method+" "+r.URL.Path)
		return
	}
	if mt := r.Header.Get("Content-Type"); !strings.HasPrefix(mt, "application/json") {
		refuse(http.StatusBadRequest, 100, "OAuthException", "content type "+mt)
		return
	}
	if c.Body == nil {
		refuse(http.StatusBadRequest, 100, "OAuthException", "body is not a JSON object")
		return
	}
	node := strings.TrimSuffix(rest, "/messages")
	if node == "me" {
		if r.URL.Query().Get("access_token") != g.Token {
			refuse(http.StatusBadRequest, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
			return
		}
		if err := checkMessenger(c.Body); err != nil {
			refuse(http.StatusBadRequest, 100, "OAuthException", "(#100) "+err.Error())
			return
		}
		g.record(c)
		psid, _ := get(c.Body, "recipient", "id").(string)
		out := map[string]any{"recipient_id": psid}
		if _, ok := c.Body["message"]; ok {
			out["message_id"] = fmt.Sprintf("m_fake%d", seq)
		}
		writeJSON(w, out)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.Token {
		refuse(http.StatusUnauthorized, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
		return
	}
	if err := checkWhatsApp(c.Body); err != nil {
		refuse(http.StatusBadRequest, 100, "OAuthException", "(#100) "+err.Error())
		return
	}
	g.record(c)
	if c.Body["status"] == "read" {
		writeJSON(w, map[string]any{"success": true})
		return
	}
	to, _ := c.Body["to"].(string)
	writeJSON(w, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]any{"input": to, "wa_id": to}},
		"messages":          []any{map[string]any{"id": fmt.Sprintf("wamid.fake%d", seq)}},
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// get walks nested objects.
func get(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func runes(s string) int { return utf8.RuneCountInString(s) }

// checkMessenger checks a Send API body against the Messenger Platform
// reference: recipient, messaging_type, a message (text up to 2000
// characters or an attachment) or a sender_action, quick replies (up to 13,
// titles up to 20 characters, payloads up to 1000), templates.
func checkMessenger(b map[string]any) error {
	if str(get(b, "recipient", "id")) == "" {
		return fmt.Errorf("param recipient must be non-empty")
	}
	if act, ok := b["sender_action"]; ok {
		switch act {
		case "typing_on", "typing_off", "mark_seen":
		default:
			return fmt.Errorf("param sender_action %v", act)
		}
		if _, ok := b["message"]; ok {
			return fmt.Errorf("sender_action cannot be sent with message")
		}
		return nil
	}
	switch b["messaging_type"] {
	case "RESPONSE", "UPDATE", "MESSAGE_TAG":
	default:
		return fmt.Errorf("param messaging_type %v", b["messaging_type"])
	}
	msg, ok := b["message"].(map[string]any)
	if !ok {
		return fmt.Errorf("param message must be an object")
	}
	text, hasText := msg["text"].(string)
	att, hasAtt := msg["attachment"].(map[string]any)
	if hasText == hasAtt {
		return fmt.Errorf("message must have exactly one of text or attachment")
	}
	if hasText && (text == "" || runes(text) > 2000) {
		return fmt.Errorf("param message[text] must be 1-2000 characters, got %d", runes(text))
	}
	if hasAtt {
		if err := checkAttachment(att); err != nil {
			return err
		}
	}
	if qr, ok := msg["quick_replies"]; ok {
		list, _ := qr.([]any)
		if len(list) == 0 || len(list) > 13 {
			return fmt.Errorf("param message[quick_replies] must have 1-13 items, got %d", len(list))
		}
		for i, q := range list {
			q, _ := q.(map[string]any)
			if q["content_type"] != "text" {
				return fmt.Errorf("quick_replies[%d] content_type %v", i, q["content_type"])
			}
			if t := str(q["title"]); t == "" || runes(t) > 20 {
				return fmt.Errorf("quick_replies[%d] title %q must be 1-20 characters", i, t)
			}
			if p := str(q["payload"]); p == "" || runes(p) > 1000 {
				return fmt.Errorf("quick_replies[%d] payload must be 1-1000 characters", i)
			}
		}
	}
	return nil
}

func checkAttachment(att map[string]any) error {
	p, _ := att["payload"].(map[string]any)
	switch att["type"] {
	case "image", "audio", "video", "file":
		if str(p["url"]) == "" {
			return fmt.Errorf("attachment payload url is required")
		}
		return nil
	case "template":
	default:
		return fmt.Errorf("attachment type %v", att["type"])
	}
	switch p["template_type"] {
	case "button":
		if t := str(p["text"]); t == "" || runes(t) > 640 {
			return fmt.Errorf("button template text must be 1-640 characters")
		}
		return checkButtons(p["buttons"], 1)
	case "generic":
		els, _ := p["elements"].([]any)
		if len(els) == 0 || len(els) > 10 {
			return fmt.Errorf("generic template needs 1-10 elements")
		}
		for _, e := range els {
			e, _ := e.(map[string]any)
			if t := str(e["title"]); t == "" || runes(t) > 80 {
				return fmt.Errorf("generic element title must be 1-80 characters")
			}
			if s := str(e["subtitle"]); runes(s) > 80 {
				return fmt.Errorf("generic element subtitle over 80 characters")
			}
			if b, ok := e["buttons"]; ok {
				if err := checkButtons(b, 1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("template_type %v", p["template_type"])
}

func checkButtons(v any, min int) error {
	list, _ := v.([]any)
	if len(list) < min || len(list) > 3 {
		return fmt.Errorf("template buttons must be %d-3, got %d", min, len(list))
	}
	for i, b := range list {
		b, _ := b.(map[string]any)
		if t := str(b["title"]); t == "" || runes(t) > 20 {
			return fmt.Errorf("button %d title %q must be 1-20 characters", i, t)
		}
		switch b["type"] {
		case "web_url":
			if u, err := url.Parse(str(b["url"])); err != nil || u.Scheme == "" {
				return fmt.Errorf("button %d url", i)
			}
		case "postback":
			if p := str(b["payload"]); p == "" || runes(p) > 1000 {
				return fmt.Errorf("button %d payload must be 1-1000 characters", i)
			}
		default:
			return fmt.Errorf("button %d type %v", i, b["type"])
		}
	}
	return nil
}

// checkWhatsApp checks a Cloud API messages body against the WhatsApp
// reference: messaging_product, a read receipt (with an optional typing
// indicator) or a message to a user: text (body up to 4096 characters),
// interactive reply buttons (1-3, ids up to 256, titles up to 20 and
// unique), lists (up to 10 rows, row titles up to 24, descriptions up to
// 72, button label up to 20), CTA URL buttons, media by link.
func checkWhatsApp(b map[string]any) error {
	if b["messaging_product"] != "whatsapp" {
		return fmt.Errorf("param messaging_product must be whatsapp")
	}
	if b["status"] != nil {
		if b["status"] != "read" || str(b["message_id"]) == "" {
			return fmt.Errorf("status must be read with a message_id")
		}
		if ti, ok := b["typing_indicator"]; ok && str(get(map[string]any{"t": ti}, "t", "type")) != "text" {
			return fmt.Errorf("typing_indicator type must be text")
		}
		return nil
	}
	if str(b["to"]) == "" {
		return fmt.Errorf("param to is required")
	}
	if rt, ok := b["recipient_type"]; ok && rt != "individual" {
		return fmt.Errorf("recipient_type %v", rt)
	}
	typ := str(b["type"])
	switch typ {
	case "text":
		body := str(get(b, "text", "body"))
		if body == "" || runes(body) > 4096 {
			return fmt.Errorf("text body must be 1-4096 characters, got %d", runes(body))
		}
		return nil
	case "image", "audio", "video", "document":
		if str(get(b, typ, "link")) == "" && str(get(b, typ, "id")) == "" {
			return fmt.Errorf("%s needs a link or an id", typ)
		}
		if typ == "audio" && get(b, typ, "caption") != nil {
			return fmt.Errorf("audio cannot have a caption")
		}
		return nil
	case "interactive":
	default:
		return fmt.Errorf("message type %q", typ)
	}
	in, _ := b["interactive"].(map[string]any)
	body := str(get(in, "body", "text"))
	if body == "" || runes(body) > 1024 {
		return fmt.Errorf("interactive body text must be 1-1024 characters, got %d", runes(body))
	}
	switch in["type"] {
	case "button":
		list, _ := get(in, "action", "buttons").([]any)
		if len(list) == 0 || len(list) > 3 {
			return fmt.Errorf("reply buttons must be 1-3, got %d", len(list))
		}
		titles := map[string]bool{}
		for i, x := range list {
			x, _ := x.(map[string]any)
			if x["type"] != "reply" {
				return fmt.Errorf("button %d type %v", i, x["type"])
			}
			id, title := str(get(x, "reply", "id")), str(get(x, "reply", "title"))
			if id == "" || runes(id) > 256 {
				return fmt.Errorf("button %d id must be 1-256 characters", i)
			}
			if title == "" || runes(title) > 20 || titles[title] {
				return fmt.Errorf("button %d title %q must be 1-20 characters and unique", i, title)
			}
			titles[title] = true
		}
		if h, ok := in["header"].(map[string]any); ok {
			switch h["type"] {
			case "text", "image", "video", "document":
			default:
				return fmt.Errorf("header type %v", h["type"])
			}
		}
	case "list":
		if lb := str(get(in, "action", "button")); lb == "" || runes(lb) > 20 {
			return fmt.Errorf("list button label must be 1-20 characters")
		}
		sections, _ := get(in, "action", "sections").([]any)
		if len(sections) == 0 || len(sections) > 10 {
			return fmt.Errorf("list sections must be 1-10")
		}
		rows := 0
		for _, s := range sections {
			s, _ := s.(map[string]any)
			if len(sections) > 1 && str(s["title"]) == "" {
				return fmt.Errorf("section title required with several sections")
			}
			if runes(str(s["title"])) > 24 {
				return fmt.Errorf("section title over 24 characters")
			}
			rs, _ := s["rows"].([]any)
			for _, r := range rs {
				r, _ := r.(map[string]any)
				rows++
				if id := str(r["id"]); id == "" || runes(id) > 200 {
					return fmt.Errorf("row id must be 1-200 characters")
				}
				if t := str(r["title"]); t == "" || runes(t) > 24 {
					return fmt.Errorf("row title %q must be 1-24 characters", t)
				}
				if runes(str(r["description"])) > 72 {
					return fmt.Errorf("row description over 72 characters")
				}
			}
		}
		if rows == 0 || rows > 10 {
			return fmt.Errorf("list rows must be 1-10, got %d", rows)
		}
	case "cta_url":
		if get(in, "action", "name") != "cta_url" {
			return fmt.Errorf("cta_url action name")
		}
		if t := str(get(in, "action", "parameters", "display_text")); t == "" || runes(t) > 20 {
			return fmt.Errorf("cta_url display_text must be 1-20 characters")
		}
		if u, err := url.Parse(str(get(in, "action", "parameters", "url"))); err != nil || u.Scheme == "" {
			return fmt.Errorf("cta_url url")
		}
	default:
		return fmt.Errorf("interactive type %v", in["type"])
	}
	return nil
}

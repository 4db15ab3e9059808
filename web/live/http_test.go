package live

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parole-voice/parole/telephony/session"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuthMatrix(t *testing.T) {
	const tok = "s3cret-token"
	configs := map[string]Config{
		"token":          {Token: tok},
		"basic":          {BasicUser: "ops", BasicPassword: "pa55"},
		"both":           {Token: tok, BasicUser: "ops", BasicPassword: "pa55"},
		"loopback":       {LoopbackOnly: true},
		"loopback+token": {LoopbackOnly: true, Token: tok},
	}
	type req struct {
		name, auth, query, remote, host string
		xff                             bool
	}
	reqs := []req{
		{name: "none"},
		{name: "right bearer", auth: "Bearer " + tok},
		{name: "bearer lower case", auth: "bearer " + tok},
		{name: "wrong bearer", auth: "Bearer nope"},
		{name: "bearer prefix", auth: "Bearer " + tok[:5]},
		{name: "empty bearer", auth: "Bearer"},
		{name: "right query", query: "?token=" + tok},
		{name: "wrong query", query: "?token=x"},
		{name: "right basic", auth: basic("ops", "pa55")},
		{name: "wrong password", auth: basic("ops", "nope")},
		{name: "wrong user", auth: basic("root", "pa55")},
		{name: "malformed basic", auth: "Basic !!!"},
		{name: "token as basic password", auth: basic("ops", tok)},
		{name: "other scheme", auth: "Digest username=ops"},
		{name: "remote right bearer", auth: "Bearer " + tok, remote: "192.0.2.7:40000"},
		{name: "remote none", remote: "192.0.2.7:40000"},
		{name: "forwarded", xff: true},
		{name: "rebound host", host: "evil.example:8080"},
	}
	// want[config][request] is the expected status; absent means 401.
	ok := func(names ...string) map[string]int {
		m := map[string]int{}
		for _, n := range names {
			m[n] = 200
		}
		return m
	}
	want := map[string]map[string]int{
		"token": ok("right bearer", "bearer lower case", "right query", "remote right bearer"),
		"basic": ok("right basic"),
		"both":  ok("right bearer", "bearer lower case", "right query", "right basic", "remote right bearer"),
		"loopback": {"none": 200, "right bearer": 200, "bearer lower case": 200, "wrong bearer": 200, "bearer prefix": 200,
			"empty bearer": 200, "right query": 200, "wrong query": 200, "right basic": 200, "wrong password": 200,
			"wrong user": 200, "malformed basic": 200, "token as basic password": 200, "other scheme": 200,
			"remote right bearer": 403, "remote none": 403, "forwarded": 403, "rebound host": 403},
		"loopback+token": {"right bearer": 200, "bearer lower case": 200, "right query": 200,
			"remote right bearer": 403, "remote none": 403, "forwarded": 403},
	}
	for cname, cfg := range configs {
		h := newHub(t, cfg)
		for _, rq := range reqs {
			for _, path := range []string{"/api/calls"} {
				r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+path+rq.query, nil)
				r.RemoteAddr = "127.0.0.1:51234"
				if rq.remote != "" {
					r.RemoteAddr = rq.remote
				}
				if rq.host != "" {
					r.Host = rq.host
				}
				if rq.auth != "" {
					r.Header.Set("Authorization", rq.auth)
				}
				if rq.xff {
					r.Header.Set("X-Forwarded-For", "198.51.100.1")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				code := want[cname][rq.name]
				if code == 0 {
					code = 401
				}
				if w.Code != code {
					t.Errorf("%s / %s: status %d, want %d (%s)", cname, rq.name, w.Code, code, w.Body)
					continue
				}
				ch := w.Header().Values("WWW-Authenticate")
				switch code {
				case 401:
					joined := strings.Join(ch, " | ")
					if cfg.Token != "" && !strings.Contains(joined, `Bearer realm="parole live calls"`) ||
						cfg.BasicUser != "" && !strings.Contains(joined, `Basic realm="parole live calls", charset="UTF-8"`) {
						t.Errorf("%s / %s: WWW-Authenticate %q", cname, rq.name, ch)
					}
					if strings.Contains(w.Body.String(), tok) || strings.Contains(w.Body.String(), "pa55") {
						t.Errorf("%s / %s: the 401 body leaks a secret: %s", cname, rq.name, w.Body)
					}
				case 200:
					var s Snapshot
					if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
						t.Errorf("%s / %s: %v %v", cname, rq.name, err, w.Header())
					}
				}
			}
		}
	}
}

func TestMethodsAndRoutes(t *testing.T) {
	h := newHub(t, Config{Token: "t", Base: "/ops"})
	if got := strings.Join(h.Routes(), " "); got != "/ops/api/calls /ops/api/calls/events" {
		t.Errorf("routes %s", got)
	}
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/ops/api/calls", 405},
		{"DELETE", "/ops/api/calls/events", 405},
		{"GET", "/api/calls", 404},
		{"GET", "/ops/api/calls/x", 404},
		{"HEAD", "/ops/api/calls", 200},
		{"GET", "/ops/api/calls", 200},
	} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		r.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.code)
		}
		if c.code == 405 && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, w.Header().Get("Allow"))
		}
		if c.method == "HEAD" && w.Body.Len() != 0 {
			t.Errorf("HEAD has a body")
		}
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct{ id, event, data string }

// readEvent reads one event, per the HTML standard's event stream
// format: field lines up to a blank line, comments and retry skipped.
func readEvent(t *testing.T, br *bufio.Reader) sseEvent {
	t.Helper()
	var e sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v (partial %+v)", err, e)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if e.event == "" && e.data == "" {
				continue
			}
			return e
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			e.id = value
		case "event":
			e.event = value
		case "data":
			if e.data != "" {
				t.Fatalf("multi-line data field: %q", line)
			}
			e.data = value
		case "retry", "":
		default:
			t.Fatalf("unknown field in %q", line)
		}
	}
}

func TestEventStream(t *testing.T) {
	h := newHub(t, Config{Token: "tok", PingInterval: 50 * time.Millisecond})
	obs := h.CallObserver(sipInfo)
	obs.Observe(session.Event{Kind: session.CallStarted})
	obs.Observe(session.Event{Kind: session.Final, Text: "before"})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// EventSource cannot set headers: without the token 401, with
	// ?token= the stream.
	resp, err := http.Get(srv.URL + "/api/calls/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("unauthenticated stream: %d %v", resp.StatusCode, resp.Header)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/calls/events?token=tok", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	first := readEvent(t, br)
	var snap Snapshot
	if first.event != "snapshot" || json.Unmarshal([]byte(first.data), &snap) != nil || first.id != "2" || snap.Seq != 2 {
		t.Fatalf("first event %+v, want the snapshot at seq 2", first)
	}
	if len(snap.Conversations) != 1 || snap.Conversations[0].Transcript[0].Text != "before" {
		t.Fatalf("snapshot %+v", snap)
	}

	obs.Observe(session.Event{Kind: session.Interim, Text: "par"})
	obs.Observe(session.Event{Kind: session.Final, Text: "parole\nline two"})
	obs.Observe(session.Event{Kind: session.CallEnded, Reason: "caller hung up"})
	var got []string
	var last Event
	for len(got) < 3 {
		e := readEvent(t, br)
		if e.event == "ping" {
			continue
		}
		if err := json.Unmarshal([]byte(e.data), &last); err != nil {
			t.Fatalf("event %+v: %v", e, err)
		}
		if e.event != string(last.Type) || e.id != jsonNum(last.Seq) {
			t.Errorf("event name %q id %q for %+v", e.event, e.id, last)
		}
		got = append(got, e.id+":"+e.event)
		if last.Type == EventEntry && last.Entry.Text != "parole\nline two" {
			t.Errorf("entry text %q, newlines must survive the framing", last.Entry.Text)
		}
	}
	if strings.Join(got, ",") != "3:interim,4:entry,5:end" {
		t.Errorf("events %v", got)
	}
	// Pings keep the stream alive with the server's time.
	for {
		e := readEvent(t, br)
		if e.event == "ping" {
			var p struct{ Now time.Time }
			if err := json.Unmarshal([]byte(e.data), &p); err != nil || p.Now.IsZero() || e.id != "" {
				t.Errorf("ping %+v", e)
			}
			break
		}
	}
	cancel()
}

func jsonNum(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestEventStreamEndsWithHub(t *testing.T) {
	h, err := New(Config{Token: "tok", MaxSubscribers: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if e := readEvent(t, br); e.event != "snapshot" {
		t.Fatalf("first event %+v", e)
	}
	// One stream is the limit: the second gets 503.
	r2, err := http.DefaultClient.Do(req.Clone(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 503 || r2.Header.Get("Retry-After") == "" {
		t.Errorf("second stream: %d", r2.StatusCode)
	}
	h.Close()
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("stream after Close: %v", err)
	}
}

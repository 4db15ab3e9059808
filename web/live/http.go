package live

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// realm names the protection space in WWW-Authenticate.
const realm = "parole live calls"

// writeTimeout bounds one write to an event stream: a browser that stops
// reading is dropped instead of holding its handler forever.
const writeTimeout = 30 * time.Second

// Routes returns the paths to mount the hub's HTTP handler on.
func (h *Hub) Routes() []string {
	return []string{h.cfg.Base + "/api/calls", h.cfg.Base + "/api/calls/events"}
}

// ServeHTTP answers GET Routes()[0] (the snapshot as JSON) and GET
// Routes()[1] (the event stream), after authentication.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var stream bool
	switch r.URL.Path {
	case h.cfg.Base + "/api/calls":
	case h.cfg.Base + "/api/calls/events":
		stream = true
	default:
		writeError(w, http.StatusNotFound, "no such live view route")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	if err := h.auth.check(r); err != nil {
		if errors.Is(err, ErrForbidden) {
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		h.auth.challenge(w, r)
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if stream {
		h.serveEvents(w, r)
		return
	}
	body, err := json.Marshal(h.Snapshot())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode snapshot")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// serveEvents streams server-sent events: "snapshot" first (and again
// after the subscriber lagged), then one event per hub event named after
// its type with its sequence number as id, and "ping" every
// PingInterval.
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	sub, snap, err := h.Subscribe()
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer sub.Close()
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	buf := make([]byte, 0, 4096)
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	snapshot := func(s Snapshot) bool {
		data, err := json.Marshal(s)
		if err != nil {
			return false
		}
		buf = append(buf[:0], "retry: 3000\nid: "...)
		buf = strconv.AppendUint(buf, s.Seq, 10)
		buf = append(buf, "\nevent: snapshot\ndata: "...)
		buf = append(buf, data...)
		buf = append(buf, "\n\n"...)
		return send(buf)
	}
	if !snapshot(snap) {
		return
	}
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-sub.Lagged():
			h.log.Debug("live: subscriber lagged, resyncing", "remote", r.RemoteAddr)
			if !snapshot(sub.Resync()) {
				return
			}
		case u := <-sub.Updates():
			if u.JSON == nil {
				continue
			}
			buf = append(buf[:0], "id: "...)
			buf = strconv.AppendUint(buf, u.Event.Seq, 10)
			buf = append(buf, "\nevent: "...)
			buf = append(buf, u.Event.Type...)
			buf = append(buf, "\ndata: "...)
			buf = append(buf, u.JSON...)
			buf = append(buf, "\n\n"...)
			if !send(buf) {
				return
			}
		case <-ping.C:
			buf = append(buf[:0], `event: ping`+"\n"+`data: {"now":"`...)
			buf = h.now().UTC().AppendFormat(buf, time.RFC3339Nano)
			buf = append(buf, "\"}\n\n"...)
			if !send(buf) {
				return
			}
		}
	}
}

// authenticator checks a request's credentials in constant time.
type authenticator struct {
	token, basic   [sha256.Size]byte // hashes of the secrets
	hasToken       bool
	hasBasic       bool
	loopbackOnly   bool
	anonymousLocal bool // loopback only and no credentials configured
}

func newAuthenticator(c Config) authenticator {
	a := authenticator{hasToken: c.Token != "", hasBasic: c.BasicUser != "", loopbackOnly: c.LoopbackOnly}
	a.token = sha256.Sum256([]byte(c.Token))
	a.basic = sha256.Sum256([]byte(c.BasicUser + ":" + c.BasicPassword))
	a.anonymousLocal = c.LoopbackOnly && !a.hasToken && !a.hasBasic
	return a
}

// equal compares a presented secret with a configured one's hash in time
// independent of both.
func equal(presented string, want [sha256.Size]byte) bool {
	h := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(h[:], want[:]) == 1
}

// check returns nil when r may read the view, or an error wrapping
// ErrUnauthorized (401) or ErrForbidden (403).
func (a *authenticator) check(r *http.Request) error {
	if a.loopbackOnly {
		if !isLoopbackAddr(r.RemoteAddr) {
			return fmt.Errorf("%w: this server serves loopback clients only", ErrForbidden)
		}
		if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
			return fmt.Errorf("%w: forwarded request on a loopback-only server", ErrForbidden)
		}
		if a.anonymousLocal {
			// Without credentials, only a loopback Host: a web page whose
			// name was rebound to 127.0.0.1 cannot read transcripts.
			if !isLoopbackHost(r.Host) {
				return fmt.Errorf("%w: Host %q is not a loopback name", ErrForbidden, r.Host)
			}
			return nil
		}
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			if !a.hasToken || rest == "" || !equal(rest, a.token) {
				return fmt.Errorf("%w: wrong token", ErrUnauthorized)
			}
			return nil
		case strings.EqualFold(scheme, "Basic"):
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil || !strings.Contains(string(raw), ":") {
				return fmt.Errorf("%w: malformed basic credentials", ErrUnauthorized)
			}
			if !a.hasBasic || !equal(string(raw), a.basic) {
				return fmt.Errorf("%w: wrong user or password", ErrUnauthorized)
			}
			return nil
		default:
			return fmt.Errorf("%w: unsupported authorization scheme", ErrUnauthorized)
		}
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		if !a.hasToken || !equal(tok, a.token) {
			return fmt.Errorf("%w: wrong token", ErrUnauthorized)
		}
		return nil
	}
	return fmt.Errorf("%w: credentials required", ErrUnauthorized)
}

// challenge sets the WWW-Authenticate headers of a 401 (RFC 9110 11.6.1):
// Bearer (RFC 6750) when a token is configured, Basic (RFC 7617) when
// basic credentials are.
func (a *authenticator) challenge(w http.ResponseWriter, r *http.Request) {
	if a.hasToken {
		c := `Bearer realm="` + realm + `"`
		if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer") || r.URL.Query().Has("token") {
			c += `, error="invalid_token"`
		}
		w.Header().Add("WWW-Authenticate", c)
	}
	if a.hasBasic {
		w.Header().Add("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
	}
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host, _, _ = strings.Cut(host, "%")
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

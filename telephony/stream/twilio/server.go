package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/telephony/stream"
)

// ErrConfig is stream.ErrConfig: the errors of [New] wrap it.
var ErrConfig = stream.ErrConfig

// ErrSignature is wrapped by the error of [ValidateSignature] for a request
// whose X-Twilio-Signature does not match.
var ErrSignature = errors.New("twilio: bad X-Twilio-Signature")

// Defaults for the zero values of Config.
const (
	DefaultPath            = "/twilio"
	DefaultMaxCalls        = 100
	DefaultMaxMessageBytes = 64 << 10
	DefaultStartTimeout    = 10 * time.Second
	DefaultMarkEvery       = 10
	// maxFormBytes bounds the voice webhook's form body.
	maxFormBytes = 64 << 10
)

// Config configures a [Server].
type Config struct {
	// Path is where the websocket is served; the TwiML endpoint is
	// Path + "/twiml". Default DefaultPath.
	Path string `yaml:"path"`
	// AuthToken is the Twilio account's auth token; with it every request
	// must carry a valid X-Twilio-Signature (unless ValidateSignature is
	// false).
	AuthToken string `yaml:"auth_token"`
	// ValidateSignature checks X-Twilio-Signature on the websocket upgrade
	// and the TwiML webhook; nil means on when AuthToken is set. Setting it
	// true without AuthToken is a configuration error.
	ValidateSignature *bool `yaml:"validate_signature"`
	// PublicURL is parole's base URL as Twilio reaches it
	// ("https://bot.example.com"): the TwiML points the stream at its wss://
	// form, and signatures are computed on it (behind a proxy the request's
	// own host and scheme differ from what Twilio signed). Empty means the
	// request's Host, with wss/https when the request came over TLS or with
	// X-Forwarded-Proto: https.
	PublicURL string `yaml:"public_url"`
	// MaxCalls is how many streams run at once; further upgrades get 503.
	// Default DefaultMaxCalls.
	MaxCalls int `yaml:"max_calls"`
	// MaxMessageBytes bounds one websocket message; a larger one closes the
	// stream (1009). Default DefaultMaxMessageBytes.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// StartTimeout bounds the wait for the start message after the upgrade.
	// Default DefaultStartTimeout.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// MarkEvery is how many frames are sent between two marks (besides the
	// mark at the end of every run of audio); negative means none. Default
	// DefaultMarkEvery (200 ms).
	MarkEvery int `yaml:"mark_every"`
	// OnCall runs each stream once its start message came. Required.
	OnCall stream.OnCall `yaml:"-"`
	// Logger gets the server's logs; nil discards them.
	Logger *slog.Logger `yaml:"-"`

	unpaced bool // benchmarks
}

// Server serves Twilio bidirectional Media Streams and the TwiML that starts
// them. It is an http.Handler for Config.Path (the websocket, GET) and
// Config.Path + "/twiml" (the voice webhook, POST).
type Server struct {
	cfg      Config
	validate bool
	log      *slog.Logger
	up       websocket.Upgrader

	mu      sync.Mutex
	active  int
	closing bool
	calls   sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// New checks cfg and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.OnCall == nil {
		return nil, fmt.Errorf("%w: twilio: OnCall is required", ErrConfig)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if !strings.HasPrefix(cfg.Path, "/") || strings.HasSuffix(cfg.Path, "/") {
		return nil, fmt.Errorf("%w: twilio: path %q must start and not end with /", ErrConfig, cfg.Path)
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.MarkEvery == 0 {
		cfg.MarkEvery = DefaultMarkEvery
	}
	if cfg.MaxCalls < 0 || cfg.MaxMessageBytes < 1024 || cfg.StartTimeout < 0 {
		return nil, fmt.Errorf("%w: twilio: max_calls %d, max_message_bytes %d (≥ 1024), start_timeout %v",
			ErrConfig, cfg.MaxCalls, cfg.MaxMessageBytes, cfg.StartTimeout)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%w: twilio: public_url %q must be http(s)://host[:port]", ErrConfig, cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	validate := cfg.AuthToken != ""
	if cfg.ValidateSignature != nil {
		validate = *cfg.ValidateSignature
	}
	if validate && cfg.AuthToken == "" {
		return nil, fmt.Errorf("%w: twilio: validate_signature needs auth_token", ErrConfig)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, validate: validate, log: log}
	s.up = websocket.Upgrader{
		ReadBufferSize: 2048, WriteBufferSize: 2048,
		WriteBufferPool: &sync.Pool{},
		// Twilio sends no Origin; the signature is the authentication.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Active returns the number of streams running.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Shutdown refuses new streams (503), cancels the context given to the
// running OnCall handlers, which hang up, and waits for them to return or
// ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("twilio: shutdown: %w", ctx.Err())
	}
}

// ServeHTTP serves the websocket at Config.Path and the TwiML at
// Config.Path + "/twiml".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case s.cfg.Path:
		s.serveStream(w, r)
	case s.cfg.Path + "/twiml":
		s.serveTwiML(w, r)
	default:
		http.NotFound(w, r)
	}
}

// base returns the scheme://host Twilio used, for the http(s) or the ws(s)
// form of the URL.
func (s *Server) base(r *http.Request, ws bool) string {
	var b string
	if s.cfg.PublicURL != "" {
		b = s.cfg.PublicURL
	} else {
		scheme := "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		b = scheme + "://" + r.Host
	}
	if ws {
		if rest, ok := strings.CutPrefix(b, "https://"); ok {
			return "wss://" + rest
		}
		return "ws://" + strings.TrimPrefix(b, "http://")
	}
	return b
}

// StreamURL returns the websocket URL the TwiML endpoint gives Twilio for a
// request r.
func (s *Server) StreamURL(r *http.Request) string { return s.base(r, true) + s.cfg.Path }

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.validate {
		u := s.base(r, true) + r.URL.RequestURI()
		if err := ValidateSignature(s.cfg.AuthToken, r.Header.Get("X-Twilio-Signature"), u, nil); err != nil {
			s.log.Warn("twilio: stream refused", "err", err, "url", u, "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
	}
	s.mu.Lock()
	if s.closing || s.active >= s.cfg.MaxCalls {
		s.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	s.active++
	s.calls.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		s.calls.Done()
	}()
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered 400
	}
	defer conn.Close()
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	start, err := s.handshake(conn)
	if err != nil {
		s.log.Info("twilio: stream refused", "err", err, "remote", r.RemoteAddr)
		code := websocket.CloseProtocolError
		if errors.Is(err, stream.ErrTooLarge) {
			code = websocket.CloseMessageTooBig
		}
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "parole: "+errText(err)), time.Now().Add(time.Second))
		return
	}
	call, err := newCall(conn, start, s.cfg.MarkEvery, s.cfg.MaxMessageBytes, s.cfg.unpaced)
	if err != nil {
		s.log.Error("twilio: call", "err", err)
		return
	}
	s.log.Info("twilio: stream started", "call", call.info.ID, "stream", start.StreamSid, "from", call.info.From)
	s.cfg.OnCall(s.ctx, call)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		s.log.Info("twilio: hangup", "call", call.info.ID, "err", err)
	}
	if call.stopWatch != nil { // OnCall returned: no Recv runs any more
		call.stopWatch()
	}
	s.log.Info("twilio: stream ended", "call", call.info.ID)
}

// errText shortens an error for a close frame (at most 123 bytes).
func errText(err error) string {
	t := err.Error()
	if len(t) > 100 {
		t = t[:100]
	}
	return t
}

// handshake reads the connected (optional) and start messages.
func (s *Server) handshake(conn *websocket.Conn) (StartObject, error) {
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.StartTimeout))
	defer conn.SetReadDeadline(time.Time{})
	var m Message
	for i := 0; ; i++ {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				return StartObject{}, fmt.Errorf("%w: twilio: %w", stream.ErrTooLarge, err)
			}
			return StartObject{}, fmt.Errorf("twilio: waiting for start: %w", err)
		}
		if typ != websocket.TextMessage {
			return StartObject{}, fmt.Errorf("%w: twilio: binary message", stream.ErrProtocol)
		}
		if err := Parse(data, &m); err != nil {
			return StartObject{}, err
		}
		switch {
		case m.Event == EventConnected && i == 0:
		case m.Event == EventStart:
			return m.Start, nil
		default:
			return StartObject{}, fmt.Errorf("%w: twilio: %s message before start", stream.ErrProtocol, m.Event)
		}
	}
}

// twiml is the webhook's answer.
type twiml struct {
	XMLName xml.Name `xml:"Response"`
	Stream  struct {
		URL    string      `xml:"url,attr"`
		Params []parameter `xml:"Parameter"`
	} `xml:"Connect>Stream"`
}

type parameter struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// serveTwiML answers a voice webhook with <Connect><Stream> to the
// websocket, passing the call's From and To as stream parameters.
func (s *Server) serveTwiML(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.validate {
		u := s.base(r, false) + r.URL.RequestURI()
		if err := ValidateSignature(s.cfg.AuthToken, r.Header.Get("X-Twilio-Signature"), u, r.PostForm); err != nil {
			s.log.Warn("twilio: webhook refused", "err", err, "url", u, "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
	}
	var t twiml
	t.Stream.URL = s.StreamURL(r)
	for _, k := range []string{"From", "To"} {
		if v := r.PostForm.Get(k); v != "" {
			t.Stream.Params = append(t.Stream.Params, parameter{Name: k, Value: v})
		}
	}
	out, err := xml.Marshal(t)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}

// Signature computes Twilio's request signature: the base64 HMAC-SHA1, keyed
// with the auth token, of the full URL followed by every POST parameter
// sorted by name, each as name then value (nil for a GET such as the
// websocket upgrade). Repeated values of a parameter are signed once each,
// in sorted order, as Twilio's helper libraries do.
func Signature(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for i, v := range vs {
			if i > 0 && v == vs[i-1] {
				continue // a repeated value is signed once
			}
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidateSignature checks an X-Twilio-Signature header against the URL and
// POST parameters of the request, in constant time. A mismatch or a
// missing header is an error wrapping ErrSignature.
func ValidateSignature(authToken, header, fullURL string, params url.Values) error {
	if header == "" {
		return fmt.Errorf("%w: missing", ErrSignature)
	}
	want := Signature(authToken, fullURL, params)
	if subtle.ConstantTimeCompare([]byte(want), []byte(header)) != 1 {
		return fmt.Errorf("%w: for %s", ErrSignature, fullURL)
	}
	return nil
}

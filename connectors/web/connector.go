package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// Channel is the channel name the connector gives its sessions, and
// ConversationPrefix the prefix of their conversation ids ("web:"+userId).
const (
	Channel            = "web"
	ConversationPrefix = "web:"
)

// Handler runs one event of a conversation and returns the bot's reply:
// *runner.Runner is one, tests pass fakes.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// TranscriptReader reads a conversation's transcript; *runner.Runner and
// every store.Store are one. A [Handler] that is also a TranscriptReader
// serves the history and tells the connector whether a user is new.
type TranscriptReader interface {
	Transcript(ctx context.Context, conversationID string) ([]store.Entry, error)
}

// Config configures a [Connector]. The zero value of each field means its
// default.
type Config struct {
	// Path is where the connector answers: POST Path, GET Path+"/sse".
	// Default "/io/web".
	Path string `yaml:"path"`
	// AllowedOrigins are the origins other than the connector's own that
	// browsers may call it from (CORS), as patterns where "*" stands for
	// any run of characters: "https://*.example.com", "http://localhost:*",
	// or "*" for any origin. Default none: same-origin pages only.
	AllowedOrigins []string `yaml:"cors_origins"`
	// Token, when set, is a static bearer token callers must present.
	Token string `yaml:"token"`
	// JWTSecret, when set, lets callers present an HS256 JWT signed with
	// it instead; its "sub" claim, if any, becomes the user id.
	JWTSecret string `yaml:"jwt_secret"`
	// Rate is how many requests per second one user may make on average,
	// and Burst how many at once. Defaults 2 and 10; a negative Rate turns
	// rate limiting off.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// MaxBodyBytes bounds a request body. Default 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// PingInterval is the keep-alive period of the event stream.
	// Default 10 s, as Tock.
	PingInterval time.Duration `yaml:"ping_interval"`
	// QueueSize bounds the stream messages kept per user for delivery and
	// replay on reconnection. Default 64.
	QueueSize int `yaml:"queue_size"`
	// HistorySize bounds the transcript entries the connector keeps per
	// user when its handler cannot read transcripts. Default 200.
	HistorySize int `yaml:"history_size"`
	// MaxUsers bounds the users the connector tracks at once (rate
	// buckets, stream queues). Default 100000.
	MaxUsers int `yaml:"max_users"`
	// IdleTimeout is how long an idle user's connector state (not the
	// conversation) is kept. Default 24 h.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// DefaultLocale is the locale of requests that give none. Default "en".
	DefaultLocale string `yaml:"default_locale"`
}

// Defaults of [Config].
const (
	DefaultPath         = "/io/web"
	DefaultRate         = 2.0
	DefaultBurst        = 10
	DefaultMaxBodyBytes = 64 << 10
	DefaultPingInterval = 10 * time.Second
	DefaultQueueSize    = 64
	DefaultHistorySize  = 200
	DefaultMaxUsers     = 100000
	DefaultIdleTimeout  = 24 * time.Hour
)

// maxStreamsPerUser bounds the event streams one user may hold open.
const maxStreamsPerUser = 8

// writeTimeout bounds one write to an event stream.
const writeTimeout = 10 * time.Second

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("web: invalid config")

// ErrTooManyUsers is returned when MaxUsers users are active at once.
var ErrTooManyUsers = errors.New("web: too many active users")

// ErrClosed is returned by [Connector.Push] after [Connector.Close].
var ErrClosed = errors.New("web: connector closed")

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Burst == 0 {
		c.Burst = DefaultBurst
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.HistorySize == 0 {
		c.HistorySize = DefaultHistorySize
	}
	if c.MaxUsers == 0 {
		c.MaxUsers = DefaultMaxUsers
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.DefaultLocale == "" {
		c.DefaultLocale = "en"
	}
	return c
}

// Validate reports whether c, with its defaults filled in, is usable. The
// error wraps [ErrConfig].
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	switch {
	case !strings.HasPrefix(c.Path, "/") || len(c.Path) > 1 && strings.HasSuffix(c.Path, "/"):
		return fmt.Errorf("%w: path %q must start with / and not end with one", ErrConfig, c.Path)
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("%w: rate %v", ErrConfig, c.Rate)
	case c.Burst < 0 || c.MaxBodyBytes < 0 || c.PingInterval < 0 || c.QueueSize < 0 ||
		c.HistorySize < 0 || c.MaxUsers < 0 || c.IdleTimeout < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	for _, o := range c.AllowedOrigins {
		if o == "" {
			return fmt.Errorf("%w: empty CORS origin pattern", ErrConfig)
		}
	}
	if _, err := normalizeLocale(c.DefaultLocale); err != nil {
		return fmt.Errorf("%w: default locale: %w", ErrConfig, err)
	}
	return nil
}

// Option configures a [Connector] beyond its [Config].
type Option func(*Connector)

// WithLogger sets the logger of server-side failures (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock of rate limits, token expiry and event times
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithTranscripts sets where the history comes from, overriding the
// handler's own Transcript method; nil makes the connector keep a bounded
// history per user itself.
func WithTranscripts(t TranscriptReader) Option {
	return func(c *Connector) { c.tr = t; c.trSet = true }
}

// Connector is the web chat channel: an http.Handler speaking the wire
// format of Tock's web connector. See the package documentation.
type Connector struct {
	cfg   Config
	h     Handler
	tr    TranscriptReader
	trSet bool
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	users     map[string]*user
	lastSweep time.Time

	done      chan struct{}
	closeOnce sync.Once
}

// user is the connector's state of one user. turn is taken for the whole
// of a turn; the other fields are guarded by Connector.mu.
type user struct {
	turn chan struct{}

	refs     int // requests and streams in progress
	lastSeen time.Time
	started  bool   // the user's conversation has begun
	locale   string // last locale the user sent
	tokens   float64
	refill   time.Time

	history []store.Entry // when the handler keeps no transcript

	usesSSE   bool // the user opened an event stream once
	streams   int
	log       []streamItem // undelivered and recent stream messages
	nextSeq   uint64
	delivered uint64        // highest seq written to a stream
	wake      chan struct{} // closed when log grows
}

type streamItem struct {
	seq  uint64
	data []byte
}

// New returns a connector answering with h. When h also has a
// Transcript method (as *runner.Runner has), the history comes from the
// store's transcripts.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dl, _ := normalizeLocale(cfg.DefaultLocale)
	cfg.DefaultLocale = dl
	c := &Connector{cfg: cfg, h: h, log: slog.Default(), now: time.Now, users: map[string]*user{}, done: make(chan struct{})}
	for _, o := range opts {
		o(c)
	}
	if !c.trSet {
		c.tr, _ = h.(TranscriptReader)
	}
	return c, nil
}

// Path returns the path the connector answers on; its event stream is at
// Path()+"/sse".
func (c *Connector) Path() string { return c.cfg.Path }

// Close ends every event stream and refuses new ones and pushes: call it
// when the HTTP server shuts down (http.Server.RegisterOnShutdown), since
// streams never go idle by themselves. It is safe to call more than once.
func (c *Connector) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

func (c *Connector) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// ServeHTTP answers POST Path (a user's message), GET Path+"/sse" (the
// user's event stream) and the CORS preflights of both.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var stream bool
	switch r.URL.Path {
	case c.cfg.Path:
	case c.cfg.Path + "/sse":
		stream = true
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
		return
	}
	if !c.cors(w, r, stream) {
		return
	}
	switch {
	case stream && r.Method == http.MethodGet:
		c.serveStream(w, r)
	case !stream && r.Method == http.MethodPost:
		c.servePost(w, r)
	default:
		if stream {
			w.Header().Set("Allow", "GET, OPTIONS")
		} else {
			w.Header().Set("Allow", "POST, OPTIONS")
		}
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
	}
}

// cors sets the CORS headers of an allowed origin and answers preflights.
// It returns false when the request has been answered.
func (c *Connector) cors(w http.ResponseWriter, r *http.Request, stream bool) bool {
	methods := "POST, OPTIONS"
	if stream {
		methods = "GET, OPTIONS"
	}
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions
	if origin == "" {
		if preflight {
			w.Header().Set("Allow", methods)
			w.WriteHeader(http.StatusNoContent)
			return false
		}
		return true
	}
	if !c.originAllowed(origin, r.Host) {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "origin "+origin+" is not allowed")
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if preflight {
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Requested-With, Access-Control-Allow-Origin, Last-Event-ID")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// originAllowed reports whether a page of origin may call the connector:
// it is the connector's own host or matches an allowed pattern.
func (c *Connector) originAllowed(origin, host string) bool {
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) {
		return true
	}
	for _, p := range c.cfg.AllowedOrigins {
		if globMatch(p, origin) {
			return true
		}
	}
	return false
}

// globMatch reports whether s matches pattern, where "*" stands for any
// run of characters.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// servePost answers one message of a user.
func (c *Connector) servePost(w http.ResponseWriter, r *http.Request) {
	subject, err := c.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parole"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes), subject)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
		case errors.Is(err, ErrMissingUserID):
			writeError(w, http.StatusBadRequest, "missing_user_id", err.Error())
		default:
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		}
		return
	}
	u, err := c.acquire(req.UserID)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "busy", err.Error())
		return
	}
	defer c.release(u)
	if ok, retry := c.allow(u); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests, retry in "+strconv.Itoa(retry)+" s")
		return
	}
	resp, err := c.turn(r.Context(), u, req)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		c.log.LogAttrs(r.Context(), slog.LevelError, "web connector turn failed",
			slog.String("user", req.UserID), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, "bot_error", "the bot could not answer")
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// decodeRequest decodes a request; a non-empty subject (from a JWT)
// replaces its userId.
func decodeRequest(body io.Reader, subject string) (Request, error) {
	req, err := decodeRaw(body)
	if err != nil {
		return Request{}, err
	}
	if subject != "" {
		req.UserID = subject
	}
	if err := req.check(); err != nil {
		return Request{}, err
	}
	return req, nil
}

// acquire returns the state of user id, creating it, and holds it until
// release.
func (c *Connector) acquire(id string) (*user, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) > c.cfg.IdleTimeout/4 {
		c.sweepLocked(now)
	}
	u := c.users[id]
	if u == nil {
		if len(c.users) >= c.cfg.MaxUsers && !c.evictLocked(now) {
			return nil, ErrTooManyUsers
		}
		u = &user{turn: make(chan struct{}, 1), wake: make(chan struct{}), tokens: float64(c.cfg.Burst), refill: now}
		c.users[id] = u
	}
	u.refs++
	u.lastSeen = now
	return u, nil
}

func (c *Connector) release(u *user) {
	now := c.now()
	c.mu.Lock()
	u.refs--
	u.lastSeen = now
	c.mu.Unlock()
}

// sweepLocked forgets the users idle for longer than IdleTimeout.
func (c *Connector) sweepLocked(now time.Time) {
	c.lastSweep = now
	for id, u := range c.users {
		if u.refs == 0 && now.Sub(u.lastSeen) > c.cfg.IdleTimeout {
			delete(c.users, id)
		}
	}
}

// evictLocked forgets the least recently seen idle user to make room.
func (c *Connector) evictLocked(now time.Time) bool {
	c.sweepLocked(now)
	if len(c.users) < c.cfg.MaxUsers {
		return true
	}
	var oldest string
	var at time.Time
	for id, u := range c.users {
		if u.refs == 0 && (oldest == "" || u.lastSeen.Before(at)) {
			oldest, at = id, u.lastSeen
		}
	}
	if oldest == "" {
		return false
	}
	delete(c.users, oldest)
	return true
}

// allow takes a token from the user's bucket; when empty it says how
// many seconds to wait.
func (c *Connector) allow(u *user) (bool, int) {
	if c.cfg.Rate < 0 {
		return true, 0
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if dt := now.Sub(u.refill).Seconds(); dt > 0 {
		u.tokens = math.Min(float64(c.cfg.Burst), u.tokens+dt*c.cfg.Rate)
	}
	u.refill = now
	if u.tokens < 1 {
		return false, int(math.Ceil((1 - u.tokens) / c.cfg.Rate))
	}
	u.tokens--
	return true, 0
}

// lockTurn takes the user's turn, or gives up with ctx.
func (u *user) lockTurn(ctx context.Context) error {
	select {
	case u.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *user) unlockTurn() { <-u.turn }

// turn runs a request through the handler: a start event first when the
// user is new (or the request has a referral), then the text or choice.
func (c *Connector) turn(ctx context.Context, u *user, req Request) (*Response, error) {
	if err := u.lockTurn(ctx); err != nil {
		return nil, err
	}
	defer u.unlockTurn()
	c.mu.Lock()
	started := u.started
	locale := req.Locale
	if locale == "" {
		locale = u.locale
	}
	if locale == "" {
		locale = c.cfg.DefaultLocale
	}
	u.locale = locale
	c.mu.Unlock()

	sess := runner.Session{ConversationID: ConversationPrefix + req.UserID, Channel: Channel, ChannelUserID: req.UserID, Locale: locale}
	resp := &Response{Responses: []Message{}, Metadata: map[string]string{}}
	first := !started
	if c.tr != nil && (!started || req.ReturnsHistory) {
		entries, err := c.tr.Transcript(ctx, sess.ConversationID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("web: transcript of %s: %w", sess.ConversationID, err)
		}
		first = !started && len(entries) == 0
		if req.ReturnsHistory {
			resp.History = historyItems(entries, locale)
		}
	} else if req.ReturnsHistory {
		c.mu.Lock()
		resp.History = historyItems(u.history, locale)
		c.mu.Unlock()
	}

	var evs [2]dialog.Event
	events := evs[:0]
	now := c.now()
	if first || req.Ref != "" {
		ev := dialog.Event{Type: dialog.EventStart, Time: now}
		if req.Ref != "" {
			ev.Metadata = map[string]string{"ref": req.Ref}
		}
		events = append(events, ev)
	}
	switch {
	case strings.TrimSpace(req.Query) != "":
		events = append(events, dialog.Event{Type: dialog.EventText, Text: req.Query, Confidence: 1, Time: now})
	case req.Payload != "":
		events = append(events, dialog.Event{Type: dialog.EventChoice, Choice: req.Payload, Time: now})
	}
	for _, ev := range events {
		reply, err := c.h.Handle(ctx, sess, ev)
		if err != nil {
			return nil, err
		}
		resp.Responses = appendRender(resp.Responses, resp.Metadata, reply, locale)
		c.mu.Lock()
		u.started = true
		if c.tr == nil {
			u.history = appendBounded(u.history, c.cfg.HistorySize,
				store.EventEntry(Channel, ev), store.ReplyEntry(Channel, reply, c.now()))
		}
		c.mu.Unlock()
	}
	resp.Metadata[MetaResponseID] = rand.Text()
	c.mu.Lock()
	stream := req.StreamedResponse || u.usesSSE
	c.mu.Unlock()
	if stream && len(events) > 0 {
		if err := c.publish(u, &Response{Responses: resp.Responses, Metadata: resp.Metadata}); err != nil {
			return nil, err
		}
	}
	if req.StreamedResponse {
		resp.Responses = []Message{}
	}
	return resp, nil
}

// appendBounded appends entries to h, dropping the oldest beyond max.
func appendBounded(h []store.Entry, max int, entries ...store.Entry) []store.Entry {
	h = append(h, entries...)
	if over := len(h) - max; over > 0 {
		h = append(h[:0], h[over:]...)
	}
	return h
}

// historyItems turns transcript entries into history items: the user's
// texts and picked choices (shown with the title of the button an earlier
// reply offered for it) and the bot's messages.
func historyItems(entries []store.Entry, locale string) []HistoryItem {
	out := []HistoryItem{}
	titles := map[string]string{}
	for _, e := range entries {
		switch {
		case e.Kind == store.KindEvent && e.Event != nil:
			switch e.Event.Type {
			case dialog.EventText:
				out = append(out, HistoryItem{Author: AuthorUser, Message: Message{Text: e.Event.Text}})
			case dialog.EventChoice:
				title := titles[e.Event.Choice]
				if title == "" {
					title = e.Event.Choice
				}
				out = append(out, HistoryItem{Author: AuthorUser, Message: Message{Text: title}})
			}
		case e.Kind == store.KindReply && e.Reply != nil:
			msgs, _ := Render(*e.Reply, locale)
			for _, m := range msgs {
				out = append(out, HistoryItem{Author: AuthorBot, Message: m})
			}
			for _, m := range e.Reply.Messages {
				for _, ch := range m.Choices {
					titles[ch.Value()] = ch.Title
				}
				if m.Card != nil {
					for _, ch := range m.Card.Buttons {
						titles[ch.Value()] = ch.Title
					}
				}
			}
		}
	}
	return out
}

// Push sends a reply the user did not ask for (a reminder, an agent's
// answer) to the user's event stream: delivered at once to open streams,
// or kept (up to QueueSize messages) until the user connects. The reply
// is not added to the store's transcript (the runner owns it); it is
// added to the connector's own history when the connector keeps one.
func (c *Connector) Push(ctx context.Context, userID string, r dialog.Reply) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("web: push: %w", err)
	}
	if c.closed() {
		return ErrClosed
	}
	u, err := c.acquire(userID)
	if err != nil {
		return err
	}
	defer c.release(u)
	if err := u.lockTurn(ctx); err != nil {
		return err
	}
	defer u.unlockTurn()
	c.mu.Lock()
	locale := u.locale
	if locale == "" {
		locale = c.cfg.DefaultLocale
	}
	if c.tr == nil {
		u.history = appendBounded(u.history, c.cfg.HistorySize, store.ReplyEntry(Channel, r, c.now()))
	}
	c.mu.Unlock()
	resp := &Response{Metadata: map[string]string{}}
	resp.Responses = appendRender([]Message{}, resp.Metadata, r, locale)
	resp.Metadata[MetaResponseID] = rand.Text()
	return c.publish(u, resp)
}

// publish adds a response to the user's stream queue and wakes the
// user's streams.
func (c *Connector) publish(u *user, resp *Response) error {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, resp); err != nil {
		return fmt.Errorf("web: encode response: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u.nextSeq++
	u.log = append(u.log, streamItem{seq: u.nextSeq, data: buf.Bytes()})
	if over := len(u.log) - c.cfg.QueueSize; over > 0 {
		u.log = append(u.log[:0], u.log[over:]...)
	}
	close(u.wake)
	u.wake = make(chan struct{})
	return nil
}

// serveStream streams a user's messages as server-sent events, as Tock
// does: "event: message" frames whose data is a [Response], and "event:
// ping" keep-alives.
func (c *Connector) serveStream(w http.ResponseWriter, r *http.Request) {
	subject, err := c.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parole"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	id := subject
	if id == "" {
		q := r.URL.Query()
		if id = q.Get("userId"); id == "" {
			id = q.Get("userid") // tock-react-kit spells it so
		}
	}
	if err := checkUserID(id); err != nil {
		code := "invalid_request"
		if errors.Is(err, ErrMissingUserID) {
			code = "missing_user_id"
		}
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	if c.closed() {
		writeError(w, http.StatusServiceUnavailable, "closed", "the server is shutting down")
		return
	}
	u, err := c.acquire(id)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "busy", err.Error())
		return
	}
	defer c.release(u)
	c.mu.Lock()
	if u.streams >= maxStreamsPerUser {
		c.mu.Unlock()
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusTooManyRequests, "too_many_streams", "too many open streams for this user")
		return
	}
	u.streams++
	u.usesSSE = true
	cursor := u.delivered + 1
	if last, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && last < u.nextSeq && last+1 < cursor {
		cursor = last + 1
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		u.streams--
		c.mu.Unlock()
	}()

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream;charset=UTF-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 0, 4096)
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	ping := []byte("event: ping\ndata: 1\n\n")
	if !send(ping) {
		return
	}
	ticker := time.NewTicker(c.cfg.PingInterval)
	defer ticker.Stop()
	for {
		c.mu.Lock()
		var item streamItem
		found := false
		for _, it := range u.log {
			if it.seq >= cursor {
				item, found = it, true
				break
			}
		}
		wake := u.wake
		c.mu.Unlock()
		if found {
			buf = append(buf[:0], "id: "...)
			buf = strconv.AppendUint(buf, item.seq, 10)
			buf = append(buf, "\nevent: message\ndata: "...)
			buf = append(buf, item.data...)
			buf = append(buf, "\n\n"...)
			if !send(buf) {
				return
			}
			cursor = item.seq + 1
			c.mu.Lock()
			if item.seq > u.delivered {
				u.delivered = item.seq
			}
			c.mu.Unlock()
			continue
		}
		select {
		case <-wake:
		case <-ticker.C:
			if !send(ping) {
				return
			}
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		}
	}
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, v); err != nil {
		buf.Reset()
		buf.WriteString(`{"error":"cannot encode the answer","code":"internal"}`)
		status = http.StatusInternalServerError
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

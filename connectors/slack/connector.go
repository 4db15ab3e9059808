package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
	"github.com/parole-voice/parole/connectors/internal/turns"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
)

// Channel is the channel name of the connector's sessions, and
// ConversationPrefix the prefix of their conversation ids
// ("slack:"+team+":"+channel+":"+user).
const (
	Channel            = "slack"
	ConversationPrefix = "slack:"
)

// Defaults of [Config].
const (
	DefaultPath             = "/io/slack"
	DefaultAPIURL           = "https://slack.com/api"
	DefaultMaxBodyBytes     = 512 << 10
	DefaultMaxPending       = 1000
	DefaultMaxConversations = 100000
)

// Handler runs one event of a conversation and returns the bot's reply:
// *runner.Runner is one.
type Handler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// Config configures a [Connector]; zero fields take their defaults.
type Config struct {
	// Path is the connector's base path: the Events API request URL is
	// Path+"/events", the interactivity request URL Path+"/interactions"
	// (each route takes both kinds of request). Default "/io/slack".
	Path string `yaml:"path"`
	// SigningSecret is the app's signing secret (Basic Information), which
	// signs every request. Required unless InsecureSkipVerify.
	SigningSecret string `yaml:"signing_secret"`
	// BotToken is the bot user OAuth token (xoxb-…) with the chat:write
	// scope. Required.
	BotToken string `yaml:"bot_token"`
	// BotUserID is the bot's user id, to strip its mention from
	// app_mention text and to ignore its own messages; by default taken
	// from each event's authorizations.
	BotUserID string `yaml:"bot_user_id"`
	// APIURL is the Web API root; default https://slack.com/api.
	APIURL string `yaml:"api_url"`
	// InsecureSkipVerify accepts requests without checking their signature
	// (local tests only; logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// Tolerance bounds the age of a request's timestamp. Default 5 min.
	Tolerance time.Duration `yaml:"tolerance"`
	// ReplyInThread answers a channel mention in a thread under it;
	// replies to a message already in a thread always stay in the thread.
	ReplyInThread bool `yaml:"reply_in_thread"`
	// MaxBodyBytes bounds a request body. Default 512 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxPending bounds the turns waiting to run; beyond it requests get
	// 503 and Slack retries them. Default 1000.
	MaxPending int `yaml:"max_pending"`
	// MaxConversations bounds the conversations and event ids remembered
	// in memory. Default 100000.
	MaxConversations int `yaml:"max_conversations"`
	// DefaultLocale is the locale of the sessions (events carry none);
	// empty keeps the conversation's.
	DefaultLocale string `yaml:"default_locale"`
}

// ErrConfig is wrapped by the errors of [New] for a bad [Config].
var ErrConfig = errors.New("slack: invalid config")

// ErrAPI is wrapped by the errors of a Web API call Slack answered with
// "ok": false; the error code follows.
var ErrAPI = errors.New("slack: api error")

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxConversations == 0 {
		c.MaxConversations = DefaultMaxConversations
	}
	return c
}

// Validate reports whether c, with its defaults, is usable. The error
// wraps [ErrConfig].
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	switch {
	case !strings.HasPrefix(c.Path, "/") || strings.HasSuffix(c.Path, "/") || strings.ContainsAny(c.Path, " {}"):
		return fmt.Errorf("%w: path %q must start with /, not end with one, and hold no spaces or braces", ErrConfig, c.Path)
	case c.SigningSecret == "" && !c.InsecureSkipVerify:
		return fmt.Errorf("%w: signing_secret is required (or insecure_skip_verify)", ErrConfig)
	case c.BotToken == "":
		return fmt.Errorf("%w: bot_token is required", ErrConfig)
	case !strings.HasPrefix(c.APIURL, "https://") && !strings.HasPrefix(c.APIURL, "http://"):
		return fmt.Errorf("%w: api_url %q is not an http(s) URL", ErrConfig, c.APIURL)
	case c.Tolerance < 0 || c.MaxBodyBytes < 0 || c.MaxPending < 0 || c.MaxConversations < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	return nil
}

// Option configures a [Connector] beyond its [Config].
type Option func(*Connector)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithHTTPClient sets the client of the Web API calls (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.client = hc } }

// WithClock sets the clock that checks request timestamps (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithRetryWait replaces the waits between the retries of Web API calls
// (tests record them instead of sleeping).
func WithRetryWait(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Connector) { c.sleep = sleep }
}

// Connector is the Slack channel: the Events API and interactivity request
// URLs of a Slack app, answered with chat.postMessage. See the package
// documentation.
type Connector struct {
	cfg    Config
	h      Handler
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error

	sender *httpx.Sender
	turns  *turns.Queue
}

// New returns a connector passing Slack events to h.
func New(h Handler, cfg Config, opts ...Option) (*Connector, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, h: h, log: slog.Default(), client: http.DefaultClient, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	c.sender = &httpx.Sender{Client: c.client, Sleep: c.sleep}
	c.turns = turns.NewQueue(h, cfg.MaxPending, cfg.MaxConversations, c.now)
	if cfg.InsecureSkipVerify {
		c.log.Warn("slack: insecure_skip_verify is on: request signatures are not checked")
	}
	return c, nil
}

// Routes lists the mux patterns to mount the connector on: the Events API
// request URL and the interactivity request URL.
func (c *Connector) Routes() []string {
	return []string{"POST " + c.cfg.Path + "/events", "POST " + c.cfg.Path + "/interactions"}
}

// Close stops taking events and waits for the running turns until ctx is
// done, then cancels them.
func (c *Connector) Close(ctx context.Context) error { return c.turns.Close(ctx) }

// Wait blocks until the turns started so far are done (tests, benchmarks).
func (c *Connector) Wait() { c.turns.Wait() }

// ServeHTTP answers Events API and interactive requests: 401 for a bad
// signature or a stale timestamp, 413, 415 and 400 for a bad body, 503
// when too many turns wait, the challenge for url_verification, and 200
// at once for events and clicks — the dialog runs after the answer, as
// Slack wants an answer within 3 seconds.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.cfg.Path+"/events" && r.URL.Path != c.cfg.Path+"/interactions" {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " is not allowed here"})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		httpx.WriteError(w, fmt.Errorf("%w: want application/json or application/x-www-form-urlencoded, got %q", httpx.ErrContentType, r.Header.Get("Content-Type")))
		return
	}
	body, err := httpx.ReadBody(w, r, c.cfg.MaxBodyBytes, "")
	if err != nil {
		c.refuse(w, err)
		return
	}
	if !c.cfg.InsecureSkipVerify {
		if err := Verify(c.cfg.SigningSecret, r.Header, body, c.now(), c.cfg.Tolerance); err != nil {
			c.refuse(w, err)
			return
		}
	}
	if mt == "application/json" {
		c.serveEvent(w, r, body)
		return
	}
	c.serveInteraction(w, body)
}

func (c *Connector) refuse(w http.ResponseWriter, err error) {
	c.log.Warn("slack: request refused", "err", err)
	httpx.WriteError(w, err)
}

func (c *Connector) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	env, err := ParseEnvelope(body)
	if err != nil {
		c.refuse(w, err)
		return
	}
	switch env.Type {
	case TypeURLVerification:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(env.Challenge))
		return
	case TypeEventCallback:
	default:
		// app_rate_limited and what else Slack may add: acknowledged.
		c.log.Info("slack: envelope ignored", "type", env.Type)
		w.WriteHeader(http.StatusOK)
		return
	}
	if c.turns.Dedup.Seen(env.EventID) {
		c.log.Debug("slack: repeated event dropped", "event_id", env.EventID, "retry", r.Header.Get(RetryNumHeader))
		w.WriteHeader(http.StatusOK)
		return
	}
	t, ok := c.fromEvent(env)
	if !ok {
		w.WriteHeader(http.StatusOK)
		return
	}
	if !c.submit(w, t, env.EventID) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (c *Connector) serveInteraction(w http.ResponseWriter, body []byte) {
	in, err := ParseInteraction(body)
	if err != nil {
		c.refuse(w, err)
		return
	}
	if in.Type != TypeBlockActions {
		c.log.Info("slack: interaction ignored", "type", in.Type)
		w.WriteHeader(http.StatusOK)
		return
	}
	for _, a := range in.Actions {
		if a.Type != "button" || !strings.HasPrefix(a.ActionID, ChoiceActionPrefix) || a.Value == "" {
			continue // link buttons, other apps' elements
		}
		t := turn{
			sess:    c.session(in.Team.ID, in.ChannelID(), in.User.ID),
			channel: in.ChannelID(),
			ev:      dialog.Event{Type: dialog.EventChoice, Choice: a.Value, Time: tsTime(a.ActionTS, c.now())},
		}
		if in.Message != nil {
			t.thread = in.Message.ThreadTS
		}
		t.ev.Metadata = map[string]string{"slack.team_id": in.Team.ID, "slack.channel": t.channel, "slack.action_id": a.ActionID}
		id := "action:" + in.TriggerID + ":" + a.ActionID + ":" + a.ActionTS
		// A repeated click (same trigger, action and time) is dropped.
		if _, err := c.turns.Submit(t.sess.ConversationID, id, c.job(t)); err != nil {
			c.busy(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// turn is one dialog turn to run after the request is answered.
type turn struct {
	sess    runner.Session
	channel string
	thread  string // thread_ts to reply in, "" for the channel
	ev      dialog.Event
}

// submit queues t, whose event id was taken already; when the pool is
// full it answers 503 (Slack retries) and forgets id so the retry is taken.
func (c *Connector) submit(w http.ResponseWriter, t turn, id string) bool {
	if err := c.turns.Pool.Submit(t.sess.ConversationID, c.job(t)); err != nil {
		c.turns.Dedup.Forget(id)
		c.busy(w, err)
		return false
	}
	return true
}

// job runs t in the pool.
func (c *Connector) job(t turn) turns.Job { return func(ctx context.Context) { c.run(ctx, t) } }

// busy logs why a turn could not be queued and answers 503.
func (c *Connector) busy(w http.ResponseWriter, err error) {
	c.log.Error("slack: cannot queue a turn", "err", err)
	httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "busy, retry later"})
}

func (c *Connector) session(team, channel, user string) runner.Session {
	return runner.Session{ConversationID: ConversationPrefix + team + ":" + channel + ":" + user, Channel: Channel,
		ChannelUserID: user, Locale: c.cfg.DefaultLocale}
}

// fromEvent maps an event_callback to a turn: direct messages (channel
// type im) and app mentions from users; ok is false for the rest (bot
// messages, edits and other subtypes, channel messages without a mention,
// other event types).
func (c *Connector) fromEvent(env *Envelope) (t turn, ok bool) {
	e := env.Event
	bot := c.cfg.BotUserID
	if bot == "" {
		bot = env.BotUserID()
	}
	if e.BotID != "" || e.Subtype != "" || e.User == "" || e.User == bot || e.Channel == "" {
		return t, false
	}
	var text string
	switch {
	case e.Type == "message" && e.ChannelType == "im":
		text = e.Text
		t.thread = e.ThreadTS
	case e.Type == "app_mention":
		text = stripMention(e.Text, bot)
		t.thread = e.ThreadTS
		if t.thread == "" && c.cfg.ReplyInThread {
			t.thread = e.TS
		}
	default:
		return t, false
	}
	team := env.TeamID
	if team == "" {
		team = e.Team
	}
	t.sess = c.session(team, e.Channel, e.User)
	t.channel = e.Channel
	if strings.TrimSpace(text) == "" {
		// A bare mention: greet.
		t.ev = dialog.Event{Type: dialog.EventStart}
	} else {
		t.ev = dialog.Text(text)
	}
	t.ev.Time = tsTime(e.TS, c.now())
	t.ev.Metadata = map[string]string{"slack.team_id": team, "slack.channel": e.Channel, "slack.ts": e.TS,
		"slack.event_id": env.EventID, "slack.channel_type": e.ChannelType}
	return t, true
}

var mentionRE = regexp.MustCompile(`<@([A-Z0-9]+)(\|[^>]*)?>`)

// stripMention removes the bot's mentions ("<@U0LAN0Z89>" or
// "<@U0LAN0Z89|name>") from text; when the bot is unknown, the leading
// mention.
func stripMention(text, bot string) string {
	if bot == "" {
		if loc := mentionRE.FindStringIndex(strings.TrimSpace(text)); loc != nil && loc[0] == 0 {
			return strings.TrimSpace(strings.TrimSpace(text)[loc[1]:])
		}
		return strings.TrimSpace(text)
	}
	out := mentionRE.ReplaceAllStringFunc(text, func(m string) string {
		if mentionRE.FindStringSubmatch(m)[1] == bot {
			return ""
		}
		return m
	})
	return strings.Join(strings.Fields(out), " ")
}

// tsTime reads a Slack timestamp ("1355517523.000005") as a time.
func tsTime(ts string, def time.Time) time.Time {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 {
		return def
	}
	var ns int64
	if len(frac) > 0 && len(frac) <= 9 {
		if f, err := strconv.ParseInt(frac, 10, 64); err == nil {
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			ns = f
		}
	}
	return time.Unix(s, ns).UTC()
}

// run runs a turn: the start event first when the conversation is new,
// then the event, each reply posted in the channel (or thread).
func (c *Connector) run(ctx context.Context, t turn) {
	log := c.log.With("conversation", t.sess.ConversationID)
	events := []dialog.Event{t.ev}
	begun := c.turns.Starts.Begun(ctx, t.sess.ConversationID)
	if t.ev.Type != dialog.EventStart && !begun {
		events = []dialog.Event{{Type: dialog.EventStart, Time: t.ev.Time, Metadata: t.ev.Metadata}, t.ev}
	}
	for i, e := range events {
		reply, err := c.h.Handle(ctx, t.sess, e)
		if err != nil {
			log.Error("slack: dialog failed", "event", e.Type, "err", err)
			if i == 0 && !begun {
				c.turns.Starts.Reset(t.sess.ConversationID)
			}
			return
		}
		if err := c.Send(ctx, t.channel, t.thread, reply); err != nil {
			log.Error("slack: sending the reply failed", "err", err)
			return
		}
	}
}

// Send renders reply and posts its messages in channel (a channel, DM or
// user id), in the thread threadTS when not empty, with chat.postMessage.
// It stops at the first failure; errors of Slack's "ok": false answers
// wrap [ErrAPI].
func (c *Connector) Send(ctx context.Context, channel, threadTS string, reply dialog.Reply) error {
	for _, m := range Render(reply) {
		m.Channel, m.ThreadTS = channel, threadTS
		if _, err := c.call(ctx, "chat.postMessage", m); err != nil {
			return err
		}
	}
	return nil
}

// call posts in as JSON to the Web API method with the bot token,
// retrying per httpx.Sender (Slack's rate limits answer 429 with
// Retry-After), and checks the answer's "ok".
func (c *Connector) call(ctx context.Context, method string, in any) (*APIResponse, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("slack: %s: %w", method, err)
	}
	url := strings.TrimSuffix(c.cfg.APIURL, "/") + "/" + method
	resp, err := c.sender.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+c.cfg.BotToken)
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("slack: %s: %w", method, err)
	}
	var out APIResponse
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("slack: %s: decoding the answer: %w", method, err)
	}
	if !out.OK {
		return &out, fmt.Errorf("%w: %s: %s", ErrAPI, method, out.Error)
	}
	if out.Warning != "" {
		c.log.Debug("slack: api warning", "method", method, "warning", out.Warning)
	}
	return &out, nil
}

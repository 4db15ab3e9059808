package live

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults used for the zero value of the matching Config field.
const (
	DefaultMaxTranscript    = 200
	DefaultKeepEnded        = 2 * time.Minute
	DefaultIdleTimeout      = 30 * time.Minute
	DefaultMaxConversations = 10000
	DefaultSubscriberBuffer = 256
	DefaultMaxSubscribers   = 64
	DefaultPingInterval     = 15 * time.Second
)

// Errors callers branch on.
var (
	// ErrConfig wraps the errors of an invalid [Config].
	ErrConfig = errors.New("live: invalid configuration")
	// ErrUnauthorized wraps the reasons a request is refused with 401.
	ErrUnauthorized = errors.New("live: unauthorized")
	// ErrForbidden: a loopback-only server got a request from another
	// address (403).
	ErrForbidden = errors.New("live: forbidden")
)

// Config configures a [Hub] and its HTTP API. The zero value of each
// numeric field means its default.
type Config struct {
	// Base is the path prefix of the API: GET Base+"/api/calls" and
	// Base+"/api/calls/events". Default "" (the API at /api/calls).
	Base string `yaml:"base"`
	// Token is a bearer token the API requires (Authorization: Bearer, or
	// ?token= on GET for browsers' EventSource).
	Token string `yaml:"token"`
	// BasicUser and BasicPassword are HTTP basic credentials the API
	// accepts, instead of or besides Token.
	BasicUser     string `yaml:"basic_user"`
	BasicPassword string `yaml:"basic_password"`
	// LoopbackOnly says the server listens on loopback addresses only:
	// without Token or basic credentials the API then needs no
	// authentication, and it refuses requests from non-loopback addresses
	// (403) whatever the credentials. Without it, Token or basic
	// credentials are required.
	LoopbackOnly bool `yaml:"loopback_only"`
	// MaxTranscript bounds the transcript entries kept per conversation;
	// older ones are dropped. Default 200.
	MaxTranscript int `yaml:"max_transcript"`
	// KeepEnded is how long an ended conversation stays in the view.
	// Default 2 min.
	KeepEnded time.Duration `yaml:"keep_ended"`
	// IdleTimeout ends a text conversation without events for that long
	// (text channels seldom say a chat is over). Voice calls end with
	// their call. Default 30 min.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConversations bounds the conversations tracked at once; beyond it
	// the oldest ended one is forgotten, and a new conversation is not
	// shown when none has ended (the channel still works). Default 10000.
	MaxConversations int `yaml:"max_conversations"`
	// SubscriberBuffer bounds the events queued for one subscriber (an
	// open page) before it is marked lagging. Default 256.
	SubscriberBuffer int `yaml:"subscriber_buffer"`
	// MaxSubscribers bounds the open event streams; more get 503.
	// Default 64.
	MaxSubscribers int `yaml:"max_subscribers"`
	// PingInterval is the keep-alive period of the event stream.
	// Default 15 s.
	PingInterval time.Duration `yaml:"ping_interval"`
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Base != "" && (!strings.HasPrefix(c.Base, "/") || strings.HasSuffix(c.Base, "/")) {
		return c, fmt.Errorf("%w: base %q must start with / and not end with one", ErrConfig, c.Base)
	}
	if (c.BasicUser == "") != (c.BasicPassword == "") {
		return c, fmt.Errorf("%w: basic_user and basic_password go together", ErrConfig)
	}
	if strings.Contains(c.BasicUser, ":") {
		return c, fmt.Errorf("%w: basic_user may not contain ':' (RFC 7617)", ErrConfig)
	}
	if !c.LoopbackOnly && c.Token == "" && c.BasicUser == "" {
		return c, fmt.Errorf("%w: transcripts are personal data: set token or basic_user/basic_password, or loopback_only when the server listens on loopback only", ErrConfig)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max_transcript", int64(c.MaxTranscript)}, {"keep_ended", int64(c.KeepEnded)},
		{"idle_timeout", int64(c.IdleTimeout)}, {"max_conversations", int64(c.MaxConversations)},
		{"subscriber_buffer", int64(c.SubscriberBuffer)}, {"max_subscribers", int64(c.MaxSubscribers)},
		{"ping_interval", int64(c.PingInterval)},
	} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: %s is negative", ErrConfig, f.name)
		}
	}
	def(&c.MaxTranscript, DefaultMaxTranscript)
	def(&c.KeepEnded, DefaultKeepEnded)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.MaxConversations, DefaultMaxConversations)
	def(&c.SubscriberBuffer, DefaultSubscriberBuffer)
	def(&c.MaxSubscribers, DefaultMaxSubscribers)
	def(&c.PingInterval, DefaultPingInterval)
	return c, nil
}

func def[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by the errors of [New] for a configuration it
	// cannot use.
	ErrConfig = errors.New("webrtc: invalid configuration")
	// ErrOffer is wrapped by the errors for an SDP offer the server cannot
	// answer (malformed, no audio, no codec in common): WHIP answers 400,
	// the websocket an {"type":"error"} message.
	ErrOffer = errors.New("webrtc: unusable offer")
	// ErrFrame is wrapped by the error of [Call.Send] for a frame the leg
	// cannot play (another rate than [Rate], more than 20 ms).
	ErrFrame = errors.New("webrtc: frame not playable on this leg")
	// ErrBusy is returned when Config.MaxCalls calls already run.
	ErrBusy = errors.New("webrtc: too many calls")
)

// Rate is the sample rate of the frames every [Call] delivers and takes.
const Rate = 16000

// Defaults for the zero fields of [Config].
const (
	DefaultPath         = "/webrtc/ws"
	DefaultWHIPPath     = "/webrtc/whip"
	DefaultMediaTimeout = 10 * time.Second
	DefaultMaxCalls     = 100
	DefaultICETimeout   = 10 * time.Second
	// DefaultMaxBody bounds a WHIP offer and a websocket message.
	DefaultMaxBody = 64 << 10
)

// Codec names accepted in Config.Codecs (case does not matter).
const (
	CodecOpus = "opus"
	CodecG722 = "G722"
	CodecPCMU = "PCMU"
)

// DefaultCodecs is the codec preference when Config.Codecs is empty.
var DefaultCodecs = []string{CodecOpus, CodecG722, CodecPCMU}

// ICEServer is a STUN or TURN server given to both peers.
type ICEServer struct {
	// URLs are stun:, turn: or turns: URLs.
	URLs []string `yaml:"urls" json:"urls"`
	// Username and Credential authenticate to a TURN server.
	Username   string `yaml:"username" json:"username,omitempty"`
	Credential string `yaml:"credential" json:"credential,omitempty"`
}

// Config configures a [Server]. Zero fields take the Default values.
type Config struct {
	// Path is the websocket signalling path (default DefaultPath).
	Path string `yaml:"path"`
	// WHIPPath is the WHIP endpoint; resources live under it (default
	// DefaultWHIPPath).
	WHIPPath string `yaml:"whip_path"`
	// ICEServers are the STUN/TURN servers; none means host candidates
	// only (loopback and LAN).
	ICEServers []ICEServer `yaml:"ice_servers"`
	// PortMin and PortMax bound the UDP ports ICE uses; both zero means any.
	PortMin uint16 `yaml:"port_min"`
	PortMax uint16 `yaml:"port_max"`
	// MediaTimeout ends a call when no RTP came from the page for that
	// long, and bounds the wait for ICE and DTLS to connect (default
	// DefaultMediaTimeout).
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// ICETimeout is how long ICE may go without connectivity checks
	// answered before the call fails ("ICE failed"); after half of it the
	// connection counts as disconnected (default DefaultICETimeout).
	ICETimeout time.Duration `yaml:"ice_timeout"`
	// Codecs is the preference order among "opus", "G722" and "PCMU"
	// (default DefaultCodecs).
	Codecs []string `yaml:"codecs"`
	// MaxCalls bounds the calls running at once (default DefaultMaxCalls).
	MaxCalls int `yaml:"max_calls"`
	// AllowedOrigins lists the Origin values a websocket may come from;
	// empty means the server's own host only (same-origin pages).
	AllowedOrigins []string `yaml:"allowed_origins"`
	// OnCall runs each connected call in its own goroutine; when it
	// returns the call is hung up. ctx is done when the server shuts down.
	// Required.
	OnCall func(ctx context.Context, call *Call) `yaml:"-"`
	// Logger logs calls; nil discards.
	Logger *slog.Logger `yaml:"-"`
}

// validate checks c and fills its defaults.
func (c *Config) validate() error {
	if c.OnCall == nil {
		return fmt.Errorf("%w: OnCall is required", ErrConfig)
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.WHIPPath == "" {
		c.WHIPPath = DefaultWHIPPath
	}
	c.WHIPPath = strings.TrimSuffix(c.WHIPPath, "/")
	if !strings.HasPrefix(c.Path, "/") || !strings.HasPrefix(c.WHIPPath, "/") {
		return fmt.Errorf("%w: paths %q and %q must start with /", ErrConfig, c.Path, c.WHIPPath)
	}
	if c.Path == c.WHIPPath || strings.HasPrefix(c.Path, c.WHIPPath+"/") {
		return fmt.Errorf("%w: websocket path %q inside the WHIP path %q", ErrConfig, c.Path, c.WHIPPath)
	}
	if (c.PortMin == 0) != (c.PortMax == 0) || c.PortMin > c.PortMax {
		return fmt.Errorf("%w: port range %d-%d", ErrConfig, c.PortMin, c.PortMax)
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = DefaultMediaTimeout
	}
	if c.MediaTimeout < 0 {
		return fmt.Errorf("%w: media timeout %v", ErrConfig, c.MediaTimeout)
	}
	if c.ICETimeout == 0 {
		c.ICETimeout = DefaultICETimeout
	}
	if c.ICETimeout < 0 {
		return fmt.Errorf("%w: ICE timeout %v", ErrConfig, c.ICETimeout)
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = DefaultMaxCalls
	}
	if c.MaxCalls < 0 {
		return fmt.Errorf("%w: max calls %d", ErrConfig, c.MaxCalls)
	}
	if len(c.Codecs) == 0 {
		c.Codecs = DefaultCodecs
	}
	seen := map[string]bool{}
	norm := make([]string, 0, len(c.Codecs))
	for _, name := range c.Codecs {
		k, ok := codecByName(name)
		if !ok {
			return fmt.Errorf("%w: codec %q (want opus, G722 or PCMU)", ErrConfig, name)
		}
		if seen[k.name] {
			return fmt.Errorf("%w: codec %q listed twice", ErrConfig, name)
		}
		seen[k.name] = true
		norm = append(norm, k.name)
	}
	c.Codecs = norm
	for i, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("%w: ICE server %d has no URL", ErrConfig, i)
		}
		for _, u := range s.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns":
			case "turn", "turns":
				if s.Username == "" || s.Credential == "" {
					return fmt.Errorf("%w: TURN server %q needs a username and a credential", ErrConfig, u)
				}
			default:
				return fmt.Errorf("%w: ICE server URL %q (want stun:, stuns:, turn: or turns:)", ErrConfig, u)
			}
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

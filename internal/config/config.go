// Package config loads and validates the configuration of `parole serve`:
// one YAML file, ${VAR} references to environment variables for secrets,
// and command-line flags for the common overrides.
//
// Every error names the offending key and, when it comes from a file, its
// line, so an operator can fix a configuration without reading code.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/internal/yamlx"
)

// Example is a complete, commented configuration with every key set to its
// default value. `parole config example` prints it.
//
//go:embed example.yaml
var Example string

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// Config is the whole configuration of `parole serve`.
type Config struct {
	Server     ServerConfig     `yaml:"server"`
	Log        LogConfig        `yaml:"log"`
	Dialog     DialogConfig     `yaml:"dialog"`
	Connectors ConnectorsConfig `yaml:"connectors"`
	SIP        SIPConfig        `yaml:"sip"`
}

// SIPConfig configures the SIP phone channel: calls answered by the voice
// session (embedded pocketsphinx and espeak-ng) running the call flow.
type SIPConfig struct {
	// Enabled answers SIP calls.
	Enabled bool `yaml:"enabled"`
	// Listen is the UDP address SIP listens on, IP:port.
	Listen string `yaml:"listen"`
	// MediaIP is the address RTP uses and the SDP advertises; required
	// when Listen's host is 0.0.0.0 or ::.
	MediaIP string `yaml:"media_ip"`
	// RTPPortMin and RTPPortMax bound the RTP ports.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// MaxCalls is how many calls run at once; more get 486 Busy Here.
	MaxCalls int `yaml:"max_calls"`
	// Language of the calls, a BCP 47 tag.
	Language string `yaml:"language"`
}

// ConnectorsConfig configures the channels that arrive as HTTP requests.
type ConnectorsConfig struct {
	Web WebConfig `yaml:"web"`
}

// WebConfig configures the Tock-compatible web chat channel and its page.
type WebConfig struct {
	// Enabled serves the channel (and the chat page's endpoint).
	Enabled bool `yaml:"enabled"`
	// The connector's own settings: path, CORS, authentication, limits.
	web.Config `yaml:",inline"`
}

// ServerConfig configures the HTTP listener that serves the pages, the
// connectors, /metrics and /healthz.
type ServerConfig struct {
	// HTTP is the listen address, host:port.
	HTTP string `yaml:"http"`
	// PublicURL is the address callers and platforms reach parole at, used in
	// printed links and callbacks. Empty means derived from HTTP.
	PublicURL string `yaml:"public_url"`
	// ShutdownTimeout bounds how long a graceful shutdown waits for open
	// requests and calls.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes limits the size of any request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// LogConfig configures log/slog output.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// DialogConfig chooses the call flow and the conversation store.
type DialogConfig struct {
	// Flow is the path of a YAML call flow; empty runs the embedded demo flow.
	Flow string `yaml:"flow"`
	// Store is memory, embedded (a bbolt file that survives restarts) or redis.
	Store string `yaml:"store"`
	// StorePath is the bbolt file of the embedded store.
	StorePath string `yaml:"store_path"`
	// RedisURL is the redis:// URL of the redis store; use ${PAROLE_REDIS_URL}
	// to keep the password out of the file.
	RedisURL string `yaml:"redis_url"`
	// RasaURL, when set, is a Rasa server whose /model/parse the flow asks
	// before its built-in intent matcher.
	RasaURL string `yaml:"rasa_url"`
	// RasaToken is the Rasa server's auth token; use ${PAROLE_RASA_TOKEN}.
	RasaToken string `yaml:"rasa_token"`
	// RasaTimeout bounds one Rasa call; past it the built-in matcher
	// decides.
	RasaTimeout time.Duration `yaml:"rasa_timeout"`
}

// Default returns the configuration parole runs with when nothing is given.
func Default() Config {
	return Config{
		Server: ServerConfig{HTTP: ":8080", ShutdownTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20},
		Log:    LogConfig{Level: "info", Format: "text"},
		Dialog: DialogConfig{Store: "embedded", StorePath: "parole.db", RasaTimeout: 2 * time.Second},
		SIP:    SIPConfig{Enabled: true, Listen: "127.0.0.1:5060", RTPPortMin: 10000, RTPPortMax: 20000, MaxCalls: 100, Language: "en-US"},
		Connectors: ConnectorsConfig{Web: WebConfig{Enabled: true, Config: web.Config{
			Path: web.DefaultPath, AllowedOrigins: []string{}, Rate: web.DefaultRate, Burst: web.DefaultBurst,
			MaxBodyBytes: web.DefaultMaxBodyBytes, PingInterval: web.DefaultPingInterval,
			QueueSize: web.DefaultQueueSize, HistorySize: web.DefaultHistorySize,
			MaxUsers: web.DefaultMaxUsers, IdleTimeout: web.DefaultIdleTimeout, DefaultLocale: "en",
		}}},
	}
}

// Error is one problem found in a configuration.
type Error struct {
	File string // file name, empty when the value came from a flag or default
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key, e.g. "server.http"
	Msg  string
}

func (e *Error) Error() string {
	return (&yamlx.Error{File: e.File, Line: e.Line, Key: e.Key, Msg: e.Msg}).Error()
}

// Unwrap makes every Error match [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }

// Load reads the YAML configuration at path on top of [Default]. An empty
// path returns the defaults.
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes YAML configuration data named name on top of [Default],
// expanding ${VAR} references with lookupEnv, and validates the result. All
// problems are returned together, joined with [errors.Join], each an *[Error].
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := Default()
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, cfg.Validate()
		}
		return Config{}, &Error{File: name, Line: yamlx.ErrorLine(err), Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	lines := map[string]int{}
	var errs []error
	expandEnv(&root, "", lines, lookupEnv, func(key string, line int, msg string) {
		errs = append(errs, &Error{File: name, Line: line, Key: key, Msg: msg})
	})
	yamlx.CheckKnown(&root, reflect.TypeOf(cfg), "", func(key string, line int) {
		errs = append(errs, &Error{File: name, Line: line, Key: key, Msg: "unknown key"})
	})
	if err := root.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return Config{}, &Error{File: name, Msg: err.Error()}
		}
		for _, e := range yamlx.TypeErrors(name, err, lines) {
			var ye *yamlx.Error
			if errors.As(e, &ye) {
				errs = append(errs, &Error{File: ye.File, Line: ye.Line, Key: ye.Key, Msg: ye.Msg})
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, withLines(err, name, lines)...)
	}
	return cfg, errors.Join(errs...)
}

// Validate checks the values of c and returns every problem, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Server.HTTP); err != nil {
		bad("server.http", "want host:port, got %q", c.Server.HTTP)
	}
	if c.Server.ShutdownTimeout < 0 {
		bad("server.shutdown_timeout", "must not be negative")
	}
	if c.Server.MaxBodyBytes <= 0 {
		bad("server.max_body_bytes", "must be positive")
	}
	if _, err := c.Log.SlogLevel(); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "want text or json, got %q", c.Log.Format)
	}
	switch c.Dialog.Store {
	case "memory":
	case "embedded":
		if c.Dialog.StorePath == "" {
			bad("dialog.store_path", "required by store: embedded")
		}
	case "redis":
		if c.Dialog.RedisURL == "" {
			bad("dialog.redis_url", "required by store: redis")
		}
	default:
		bad("dialog.store", "want memory, embedded or redis, got %q", c.Dialog.Store)
	}
	if u := c.Dialog.RasaURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("dialog.rasa_url", "want an http or https URL, got %q", u)
		}
	}
	if c.Dialog.RasaTimeout <= 0 {
		bad("dialog.rasa_timeout", "must be positive")
	}
	if c.SIP.Enabled {
		host, _, err := net.SplitHostPort(c.SIP.Listen)
		ip := net.ParseIP(host)
		switch {
		case err != nil || ip == nil:
			bad("sip.listen", "want IP:port, got %q", c.SIP.Listen)
		case ip.IsUnspecified() && net.ParseIP(c.SIP.MediaIP) == nil:
			bad("sip.media_ip", "required (an IP address) when sip.listen is %s", c.SIP.Listen)
		}
		if c.SIP.MediaIP != "" && net.ParseIP(c.SIP.MediaIP) == nil {
			bad("sip.media_ip", "want an IP address, got %q", c.SIP.MediaIP)
		}
		if r := c.SIP; r.RTPPortMin < 0 || r.RTPPortMax > 65535 || r.RTPPortMin > r.RTPPortMax || (r.RTPPortMax > 0 && r.RTPPortMax-r.RTPPortMin < 2) {
			bad("sip.rtp_port_min", "want 0 <= rtp_port_min < rtp_port_max <= 65535 with room for a port pair, got %d..%d", r.RTPPortMin, r.RTPPortMax)
		}
		if c.SIP.MaxCalls <= 0 {
			bad("sip.max_calls", "must be positive")
		}
	}
	if c.Connectors.Web.Enabled {
		if err := c.Connectors.Web.Validate(); err != nil {
			bad("connectors.web", "%s", strings.TrimPrefix(err.Error(), "web: invalid config: "))
		}
	}
	return errors.Join(errs...)
}

// SlogLevel returns the slog level named by Level.
func (l LogConfig) SlogLevel() (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.Level)); err != nil {
		return 0, fmt.Errorf("want debug, info, warn or error, got %q", l.Level)
	}
	return lvl, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in scalar values, records the line of every key
// and reports references to unset variables.
func expandEnv(n *yaml.Node, key string, lines map[string]int, lookup func(string) (string, bool), report func(key string, line int, msg string)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			expandEnv(c, key, lines, lookup, report)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if key != "" {
				k = key + "." + k
			}
			lines[k] = n.Content[i].Line
			expandEnv(n.Content[i+1], k, lines, lookup, report)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := lookup(name)
			if !ok {
				report(key, n.Line, fmt.Sprintf("environment variable %s is not set", name))
			}
			return v
		})
	}
}

// withLines adds file and line to the *Error values of a joined validation
// error.
func withLines(err error, name string, lines map[string]int) []error {
	var out []error
	for _, e := range unjoin(err) {
		var ce *Error
		if errors.As(e, &ce) {
			ce.File = name
			ce.Line = lines[ce.Key]
		}
		out = append(out, e)
	}
	return out
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

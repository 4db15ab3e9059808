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
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parole-voice/parole/connectors/alexa"
	"github.com/parole-voice/parole/connectors/allomedia"
	"github.com/parole-voice/parole/connectors/applebusiness"
	"github.com/parole-voice/parole/connectors/googleassistant"
	"github.com/parole-voice/parole/connectors/googlechat"
	"github.com/parole-voice/parole/connectors/mattermost"
	"github.com/parole-voice/parole/connectors/messenger"
	"github.com/parole-voice/parole/connectors/rocketchat"
	"github.com/parole-voice/parole/connectors/slack"
	"github.com/parole-voice/parole/connectors/teams"
	"github.com/parole-voice/parole/connectors/twitter"
	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/connectors/whatsapp"
	"github.com/parole-voice/parole/internal/yamlx"
	sttallomedia "github.com/parole-voice/parole/stt/allomedia"
	sttfallback "github.com/parole-voice/parole/stt/fallback"
	sttgoogle "github.com/parole-voice/parole/stt/google"
	sttnuance "github.com/parole-voice/parole/stt/nuance"
	"github.com/parole-voice/parole/telephony/sip"
	"github.com/parole-voice/parole/telephony/stream/audiofork"
	"github.com/parole-voice/parole/telephony/stream/audiosocket"
	"github.com/parole-voice/parole/telephony/stream/twilio"
	"github.com/parole-voice/parole/telephony/webrtc"
	ttsfallback "github.com/parole-voice/parole/tts/fallback"
	ttsgoogle "github.com/parole-voice/parole/tts/google"
	ttsnuance "github.com/parole-voice/parole/tts/nuance"
	"github.com/parole-voice/parole/tts/voxygen"
	"github.com/parole-voice/parole/web/live"
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
	WebRTC     WebRTCConfig     `yaml:"webrtc"`
	Bridges    BridgesConfig    `yaml:"bridges"`
	Voice      VoiceConfig      `yaml:"voice"`
	Live       LiveConfig       `yaml:"live"`
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
	// Language of the calls, a BCP 47 tag; empty means voice.language.
	Language string `yaml:"language"`
	// TCPListen and TLSListen add SIP over TCP and TLS (with TLSCertFile
	// and TLSKeyFile); empty means none.
	TCPListen   string `yaml:"tcp_listen"`
	TLSListen   string `yaml:"tls_listen"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// Codecs in order of preference: PCMU, PCMA, G722, opus.
	Codecs []string `yaml:"codecs"`
	// Routes maps a called user (the Request-URI or To user) to the name of
	// the flow that answers (dialog.flows); others go to DefaultRoute, or
	// the main flow when empty.
	Routes       map[string]string `yaml:"routes"`
	DefaultRoute string            `yaml:"default_route"`
	// MediaTimeout hangs up a call that sent no RTP for that long.
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// Ring, when positive, sends 180 Ringing and answers after that long
	// (a CANCEL meanwhile gets 487); zero answers at once.
	Ring time.Duration `yaml:"ring"`
	// RTCPInterval is the period of RTCP sender/receiver reports.
	RTCPInterval time.Duration `yaml:"rtcp_interval"`
	// Register, when its registrar is set, registers parole with a
	// registrar or SIP trunk (digest authentication, refreshed).
	Register sip.RegisterConfig `yaml:"register"`
}

// ConnectorsConfig configures the channels that arrive as HTTP requests.
type ConnectorsConfig struct {
	Web           WebConfig           `yaml:"web"`
	Teams         TeamsConfig         `yaml:"teams"`
	Alexa         AlexaConfig         `yaml:"alexa"`
	AlloMedia     AlloMediaConfig     `yaml:"allomedia"`
	Google        GoogleConfig        `yaml:"google"`
	Slack         SlackConfig         `yaml:"slack"`
	Messenger     MessengerConfig     `yaml:"messenger"`
	WhatsApp      WhatsAppConfig      `yaml:"whatsapp"`
	GoogleChat    GoogleChatConfig    `yaml:"googlechat"`
	Mattermost    MattermostConfig    `yaml:"mattermost"`
	RocketChat    RocketChatConfig    `yaml:"rocketchat"`
	Twitter       TwitterConfig       `yaml:"twitter"`
	AppleBusiness AppleBusinessConfig `yaml:"applebusiness"`
}

// WebConfig configures the Tock-compatible web chat channel and its page.
type WebConfig struct {
	// Enabled serves the channel (and the chat page's endpoint).
	Enabled bool `yaml:"enabled"`
	// The connector's own settings: path, CORS, authentication, limits.
	web.Config `yaml:",inline"`
}

// TeamsConfig configures the Microsoft Teams channel (Bot Framework).
type TeamsConfig struct {
	// Enabled mounts the channel on the HTTP server.
	Enabled      bool `yaml:"enabled"`
	teams.Config `yaml:",inline"`
	// CallSummaryTo are Teams users (from.id, known from an earlier
	// conversation with the bot) who get a summary of every ended call.
	CallSummaryTo []string `yaml:"call_summary_to"`
}

// AlexaConfig configures the Alexa custom-skill endpoint.
type AlexaConfig struct {
	// Enabled mounts the endpoint.
	Enabled      bool `yaml:"enabled"`
	alexa.Config `yaml:",inline"`
}

// GoogleConfig configures the Google Assistant (Actions on Google v2 and
// Actions Builder) and Dialogflow ES fulfillment webhooks.
type GoogleConfig struct {
	// Enabled mounts the webhooks that have credentials.
	Enabled                bool `yaml:"enabled"`
	googleassistant.Config `yaml:",inline"`
}

// SlackConfig configures the Slack channel (Events API, interactivity).
type SlackConfig struct {
	// Enabled mounts the endpoints.
	Enabled      bool `yaml:"enabled"`
	slack.Config `yaml:",inline"`
}

// MessengerConfig configures the Facebook Messenger channel.
type MessengerConfig struct {
	// Enabled mounts the webhook.
	Enabled          bool `yaml:"enabled"`
	messenger.Config `yaml:",inline"`
}

// WhatsAppConfig configures the WhatsApp Cloud API channel.
type WhatsAppConfig struct {
	// Enabled mounts the webhook.
	Enabled         bool `yaml:"enabled"`
	whatsapp.Config `yaml:",inline"`
}

// GoogleChatConfig configures the Google Chat channel.
type GoogleChatConfig struct {
	// Enabled mounts the endpoint.
	Enabled           bool `yaml:"enabled"`
	googlechat.Config `yaml:",inline"`
}

// MattermostConfig configures the Mattermost channel.
type MattermostConfig struct {
	// Enabled mounts the endpoint.
	Enabled           bool `yaml:"enabled"`
	mattermost.Config `yaml:",inline"`
}

// RocketChatConfig configures the Rocket.Chat channel.
type RocketChatConfig struct {
	// Enabled mounts the endpoint.
	Enabled           bool `yaml:"enabled"`
	rocketchat.Config `yaml:",inline"`
}

// TwitterConfig configures the Twitter/X direct messages channel.
type TwitterConfig struct {
	// Enabled mounts the endpoint.
	Enabled        bool `yaml:"enabled"`
	twitter.Config `yaml:",inline"`
}

// AppleBusinessConfig configures the Apple Messages for Business (through a messaging service provider) channel.
type AppleBusinessConfig struct {
	// Enabled mounts the endpoint.
	Enabled              bool `yaml:"enabled"`
	applebusiness.Config `yaml:",inline"`
}

// AlloMediaConfig configures the Allo-Media voice platform endpoint.
type AlloMediaConfig struct {
	// Enabled mounts the endpoint.
	Enabled          bool `yaml:"enabled"`
	allomedia.Config `yaml:",inline"`
}

// WebRTCConfig configures browser calls (the softphone page /phone.html).
type WebRTCConfig struct {
	// Enabled mounts the signalling websocket and the WHIP endpoint.
	Enabled       bool `yaml:"enabled"`
	webrtc.Config `yaml:",inline"`
}

// BridgesConfig configures the SIP-bridge websockets and sockets: call legs
// that a telephony platform opens to stream a call's audio to parole.
type BridgesConfig struct {
	Twilio      TwilioConfig      `yaml:"twilio"`
	AudioSocket AudioSocketConfig `yaml:"audiosocket"`
	AudioFork   AudioForkConfig   `yaml:"audiofork"`
}

// TwilioConfig configures Twilio Media Streams.
type TwilioConfig struct {
	// Enabled mounts the stream websocket and the TwiML webhook.
	Enabled       bool `yaml:"enabled"`
	twilio.Config `yaml:",inline"`
}

// AudioSocketConfig configures the Asterisk AudioSocket listener.
type AudioSocketConfig struct {
	// Enabled starts the TCP listener.
	Enabled            bool `yaml:"enabled"`
	audiosocket.Config `yaml:",inline"`
}

// AudioForkConfig configures the FreeSWITCH mod_audio_fork / jambonz listen
// websocket.
type AudioForkConfig struct {
	// Enabled mounts the websocket.
	Enabled          bool `yaml:"enabled"`
	audiofork.Config `yaml:",inline"`
}

// LiveConfig configures the live call view (/calls.html) and its API.
type LiveConfig struct {
	// Enabled serves the view. Transcripts are personal data: the API needs
	// the token or basic credentials unless parole listens on loopback only;
	// with neither, parole serve makes a token and prints it.
	Enabled     bool `yaml:"enabled"`
	live.Config `yaml:",inline"`
}

// VoiceConfig configures the voice session of every call leg: its language
// and its speech engines.
type VoiceConfig struct {
	// Language of the calls, a BCP 47 tag; a flow step may switch it.
	Language string    `yaml:"language"`
	STT      STTConfig `yaml:"stt"`
	TTS      TTSConfig `yaml:"tts"`
}

// STT engine names.
const (
	EngineSphinx = "sphinx"
	EngineNuance = "nuance"
	EngineGoogle = "google"
	// EngineAlloMedia is the uh!live voicebot recognizer.
	EngineAlloMedia = "allomedia"
	// EngineVoxygen is the Voxygen-style HTTP synthesizer.
	EngineVoxygen = "voxygen"
	EngineEspeak  = "espeak"
)

// STTConfig chooses and configures the speech recognizers.
type STTConfig struct {
	// Engine recognizes the languages Languages does not name: sphinx
	// (embedded, US English), google or nuance.
	Engine string `yaml:"engine"`
	// Languages maps a language ("fr" or "fr-CA") to another engine.
	Languages map[string]string `yaml:"languages"`
	// Flows maps a flow of dialog.flows to the engine its calls use.
	Flows map[string]string `yaml:"flows"`
	// Fallback takes over from a failing engine, mid-utterance too (the
	// audio since the last result is replayed to it); empty means none.
	Fallback string `yaml:"fallback"`
	// Breaker skips an engine that failed repeatedly for a cool-down.
	Breaker sttfallback.Config `yaml:"breaker"`
	// AlloMedia configures the uh!live voicebot websocket engine.
	AlloMedia sttallomedia.Config `yaml:"allomedia"`
	// Google configures Google Cloud Speech-to-Text.
	Google sttgoogle.Config `yaml:"google"`
	// Nuance configures the Nuance Mix ASRaaS engine.
	Nuance sttnuance.Config `yaml:"nuance"`
}

// TTSConfig chooses and configures the speech synthesizers and the prompt
// cache in front of them.
type TTSConfig struct {
	// Engine speaks the languages Languages does not name: espeak
	// (embedded), google or nuance.
	Engine string `yaml:"engine"`
	// Languages maps a language ("fr" or "fr-CA") to another engine.
	Languages map[string]string `yaml:"languages"`
	// CacheBytes bounds the prompt cache in memory (per engine).
	CacheBytes int64 `yaml:"cache_bytes"`
	// CacheDir, when set, keeps synthesized prompts on disk too.
	CacheDir string `yaml:"cache_dir"`
	// Flows maps a flow of dialog.flows to the engine its calls use.
	Flows map[string]string `yaml:"flows"`
	// Fallback says the rest of a prompt when an engine fails; empty means
	// none.
	Fallback string `yaml:"fallback"`
	// Breaker skips an engine that failed repeatedly for a cool-down.
	Breaker ttsfallback.Config `yaml:"breaker"`
	// Voxygen configures the Voxygen HTTP engine.
	Voxygen voxygen.Config `yaml:"voxygen"`
	// Google configures Google Cloud Text-to-Speech.
	Google ttsgoogle.Config `yaml:"google"`
	// Nuance configures the Nuance Mix TTSaaS engine.
	Nuance ttsnuance.Config `yaml:"nuance"`
}

// STTEngines and TTSEngines are the engine names each section accepts.
var (
	STTEngines = []string{EngineSphinx, EngineGoogle, EngineNuance, EngineAlloMedia}
	TTSEngines = []string{EngineEspeak, EngineGoogle, EngineNuance, EngineVoxygen}
)

// Used returns the engines the section names, Engine first, each once.
func (c STTConfig) Used() []string { return used(c.Engine, c.Languages, c.Flows, c.Fallback) }

// Used returns the engines the section names, Engine first, each once.
func (c TTSConfig) Used() []string { return used(c.Engine, c.Languages, c.Flows, c.Fallback) }

func used(engine string, languages, flows map[string]string, fallback string) []string {
	out := []string{engine}
	for _, m := range []map[string]string{languages, flows} {
		for _, e := range m {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	if fallback != "" && !slices.Contains(out, fallback) {
		out = append(out, fallback)
	}
	return out
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
	// Flows are more call flows by name (name → YAML file), chosen for SIP
	// calls by sip.routes.
	Flows map[string]string `yaml:"flows"`
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
		Dialog: DialogConfig{Flows: map[string]string{}, Store: "embedded", StorePath: "parole.db", RasaTimeout: 2 * time.Second},
		SIP: SIPConfig{Enabled: true, Listen: "127.0.0.1:5060", RTPPortMin: 10000, RTPPortMax: 20000, MaxCalls: 100,
			Codecs: []string{"PCMU", "PCMA", "G722", "opus"}, Routes: map[string]string{}, MediaTimeout: 30 * time.Second,
			RTCPInterval: sip.DefaultRTCPInterval},
		WebRTC: WebRTCConfig{Enabled: true, Config: webrtc.Config{Path: webrtc.DefaultPath, WHIPPath: webrtc.DefaultWHIPPath,
			ICEServers: []webrtc.ICEServer{}, MediaTimeout: webrtc.DefaultMediaTimeout, ICETimeout: webrtc.DefaultICETimeout,
			Codecs: slices.Clone(webrtc.DefaultCodecs), MaxCalls: webrtc.DefaultMaxCalls, AllowedOrigins: []string{}}},
		Bridges: BridgesConfig{
			Twilio: TwilioConfig{Config: twilio.Config{Path: twilio.DefaultPath, MaxCalls: twilio.DefaultMaxCalls,
				MaxMessageBytes: twilio.DefaultMaxMessageBytes, StartTimeout: twilio.DefaultStartTimeout, MarkEvery: twilio.DefaultMarkEvery}},
			AudioSocket: AudioSocketConfig{Config: audiosocket.Config{Listen: audiosocket.DefaultListen, MaxCalls: audiosocket.DefaultMaxCalls,
				MaxAudioBytes: audiosocket.DefaultMaxAudioBytes, UUIDTimeout: audiosocket.DefaultUUIDTimeout}},
			AudioFork: AudioForkConfig{Config: audiofork.Config{Path: audiofork.DefaultPath, Mode: audiofork.ModeStreaming, SampleRate: 8000,
				ChunkFrames: audiofork.DefaultChunkFrames, MaxCalls: audiofork.DefaultMaxCalls,
				MaxMessageBytes: audiofork.DefaultMaxMessageBytes, StartTimeout: audiofork.DefaultStartTimeout}},
		},
		Live: LiveConfig{Enabled: true, Config: live.Config{MaxTranscript: live.DefaultMaxTranscript, KeepEnded: live.DefaultKeepEnded,
			IdleTimeout: live.DefaultIdleTimeout, MaxConversations: live.DefaultMaxConversations, SubscriberBuffer: live.DefaultSubscriberBuffer,
			MaxSubscribers: live.DefaultMaxSubscribers, PingInterval: live.DefaultPingInterval}},
		Voice: VoiceConfig{Language: "en-US",
			STT: STTConfig{Engine: EngineSphinx, Languages: map[string]string{}, Flows: map[string]string{}, Fallback: EngineSphinx,
				Breaker: sttfallback.Config{FailureThreshold: 3, CoolDown: 30 * time.Second, MaxReplay: 15 * time.Second}},
			TTS: TTSConfig{Engine: EngineEspeak, Languages: map[string]string{}, Flows: map[string]string{}, CacheBytes: 64 << 20, Fallback: EngineEspeak,
				Breaker: ttsfallback.Config{FailureThreshold: 3, CoolDown: 30 * time.Second},
				Voxygen: voxygen.Config{Voices: map[string]string{}},
				Google:  ttsgoogle.Config{Voices: map[string]string{}}},
		},
		Connectors: ConnectorsConfig{Web: WebConfig{Enabled: true, Config: web.Config{
			Path: web.DefaultPath, AllowedOrigins: []string{}, Rate: web.DefaultRate, Burst: web.DefaultBurst,
			MaxBodyBytes: web.DefaultMaxBodyBytes, PingInterval: web.DefaultPingInterval,
			QueueSize: web.DefaultQueueSize, HistorySize: web.DefaultHistorySize,
			MaxUsers: web.DefaultMaxUsers, IdleTimeout: web.DefaultIdleTimeout, DefaultLocale: "en",
		}},
			Teams:         TeamsConfig{Config: teams.Config{Path: teams.DefaultPath}, CallSummaryTo: []string{}},
			Alexa:         AlexaConfig{Config: alexa.Config{Path: alexa.DefaultPath}},
			AlloMedia:     AlloMediaConfig{Config: allomedia.Config{Path: allomedia.DefaultPath}},
			Slack:         SlackConfig{Config: slack.Config{Path: slack.DefaultPath}},
			Messenger:     MessengerConfig{Config: messenger.Config{Path: messenger.DefaultPath}},
			WhatsApp:      WhatsAppConfig{Config: whatsapp.Config{Path: whatsapp.DefaultPath}},
			GoogleChat:    GoogleChatConfig{Config: googlechat.Config{Path: googlechat.DefaultPath}},
			Mattermost:    MattermostConfig{Config: mattermost.Config{Path: mattermost.DefaultPath}},
			RocketChat:    RocketChatConfig{Config: rocketchat.Config{Path: rocketchat.DefaultPath}},
			Twitter:       TwitterConfig{Config: twitter.Config{Path: twitter.DefaultPath}},
			AppleBusiness: AppleBusinessConfig{Config: applebusiness.Config{Path: applebusiness.DefaultPath}},
			Google: GoogleConfig{Config: googleassistant.Config{AssistantPath: googleassistant.DefaultAssistantPath,
				ActionsPath: googleassistant.DefaultActionsPath, DialogflowPath: googleassistant.DefaultDialogflowPath,
				DialogflowHeaders: map[string]string{}}},
		},
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
		for user, route := range c.SIP.Routes {
			if _, ok := c.Dialog.Flows[route]; !ok {
				bad("sip.routes", "%s: no flow named %q in dialog.flows", user, route)
			}
		}
		if r := c.SIP.DefaultRoute; r != "" {
			if _, ok := c.Dialog.Flows[r]; !ok {
				bad("sip.default_route", "no flow named %q in dialog.flows", r)
			}
		}
		if c.SIP.TLSListen != "" && (c.SIP.TLSCertFile == "" || c.SIP.TLSKeyFile == "") {
			bad("sip.tls_cert_file", "tls_cert_file and tls_key_file are required with tls_listen")
		}
	}
	for _, p := range []struct {
		on         bool
		key, value string
	}{
		{c.WebRTC.Enabled, "webrtc.path", c.WebRTC.Path},
		{c.WebRTC.Enabled, "webrtc.whip_path", c.WebRTC.WHIPPath},
		{c.Bridges.Twilio.Enabled, "bridges.twilio.path", c.Bridges.Twilio.Path},
		{c.Bridges.AudioFork.Enabled, "bridges.audiofork.path", c.Bridges.AudioFork.Path},
		{c.Connectors.Teams.Enabled, "connectors.teams.path", c.Connectors.Teams.Path},
		{c.Connectors.Alexa.Enabled, "connectors.alexa.path", c.Connectors.Alexa.Path},
		{c.Connectors.AlloMedia.Enabled, "connectors.allomedia.path", c.Connectors.AlloMedia.Path},
		{c.Connectors.Slack.Enabled, "connectors.slack.path", c.Connectors.Slack.Path},
		{c.Connectors.Messenger.Enabled, "connectors.messenger.path", c.Connectors.Messenger.Path},
		{c.Connectors.WhatsApp.Enabled, "connectors.whatsapp.path", c.Connectors.WhatsApp.Path},
		{c.Connectors.GoogleChat.Enabled, "connectors.googlechat.path", c.Connectors.GoogleChat.Path},
		{c.Connectors.Mattermost.Enabled, "connectors.mattermost.path", c.Connectors.Mattermost.Path},
		{c.Connectors.RocketChat.Enabled, "connectors.rocketchat.path", c.Connectors.RocketChat.Path},
		{c.Connectors.Twitter.Enabled, "connectors.twitter.path", c.Connectors.Twitter.Path},
		{c.Connectors.AppleBusiness.Enabled, "connectors.applebusiness.path", c.Connectors.AppleBusiness.Path},
	} {
		if p.on && !strings.HasPrefix(p.value, "/") {
			bad(p.key, "want a path starting with /, got %q", p.value)
		}
	}
	if c.Bridges.AudioSocket.Enabled {
		if _, _, err := net.SplitHostPort(c.Bridges.AudioSocket.Listen); err != nil {
			bad("bridges.audiosocket.listen", "want host:port, got %q", c.Bridges.AudioSocket.Listen)
		}
	}
	if c.Connectors.Teams.Enabled && (c.Connectors.Teams.AppID == "" || c.Connectors.Teams.AppPassword == "") {
		bad("connectors.teams.app_id", "app_id and app_password are required (from the Azure bot registration)")
	}
	if a := c.Connectors.Alexa; a.Enabled && a.SkillID == "" && !a.InsecureSkipVerify {
		bad("connectors.alexa.skill_id", "required: requests are checked against the skill's application id")
	}
	if a := c.Connectors.AlloMedia; a.Enabled && (a.Username == "" || a.Password == "") && !a.InsecureSkipVerify {
		bad("connectors.allomedia.username", "username and password are required (HTTP basic auth)")
	}
	if g := c.Connectors.Google; g.Enabled && g.ProjectID == "" && g.DialogflowUsername == "" && len(g.DialogflowHeaders) == 0 && !g.InsecureSkipVerify {
		bad("connectors.google.project_id", "project_id (Actions) or Dialogflow credentials (dialogflow_username/password or dialogflow_headers) are required")
	}
	if c.Voice.Language == "" {
		bad("voice.language", "required, e.g. en-US")
	}
	for _, e := range []struct {
		key, engine string
		known       []string
	}{{"voice.stt.engine", c.Voice.STT.Engine, STTEngines}, {"voice.tts.engine", c.Voice.TTS.Engine, TTSEngines}} {
		if !slices.Contains(e.known, e.engine) {
			bad(e.key, "want one of %s, got %q", strings.Join(e.known, ", "), e.engine)
		}
	}
	if f := c.Voice.STT.Fallback; f != "" && !slices.Contains(STTEngines, f) {
		bad("voice.stt.fallback", "want one of %s or empty, got %q", strings.Join(STTEngines, ", "), f)
	}
	if f := c.Voice.TTS.Fallback; f != "" && !slices.Contains(TTSEngines, f) {
		bad("voice.tts.fallback", "want one of %s or empty, got %q", strings.Join(TTSEngines, ", "), f)
	}
	for _, f := range []struct {
		key   string
		flows map[string]string
		known []string
	}{{"voice.stt.flows", c.Voice.STT.Flows, STTEngines}, {"voice.tts.flows", c.Voice.TTS.Flows, TTSEngines}} {
		for flow, e := range f.flows {
			if _, ok := c.Dialog.Flows[flow]; !ok {
				bad(f.key, "%s: no flow named %q in dialog.flows", flow, flow)
			}
			if !slices.Contains(f.known, e) {
				bad(f.key, "%s: want one of %s, got %q", flow, strings.Join(f.known, ", "), e)
			}
		}
	}
	for lang, e := range c.Voice.STT.Languages {
		if !slices.Contains(STTEngines, e) {
			bad("voice.stt.languages", "%s: want one of %s, got %q", lang, strings.Join(STTEngines, ", "), e)
		}
	}
	for lang, e := range c.Voice.TTS.Languages {
		if !slices.Contains(TTSEngines, e) {
			bad("voice.tts.languages", "%s: want one of %s, got %q", lang, strings.Join(TTSEngines, ", "), e)
		}
	}
	if c.Voice.TTS.CacheBytes < 0 {
		bad("voice.tts.cache_bytes", "must not be negative")
	}
	if c.Connectors.Web.Enabled {
		if err := c.Connectors.Web.Validate(); err != nil {
			bad("connectors.web", "%s", strings.TrimPrefix(err.Error(), "web: invalid config: "))
		}
	}
	return errors.Join(errs...)
}

// VoiceLegs reports whether any call leg is enabled, so the speech engines
// must be loaded.
func (c Config) VoiceLegs() bool {
	return c.SIP.Enabled || c.WebRTC.Enabled || c.Bridges.Twilio.Enabled || c.Bridges.AudioSocket.Enabled || c.Bridges.AudioFork.Enabled
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

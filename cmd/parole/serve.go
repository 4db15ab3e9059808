package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	webchat "github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/internal/config"
	"github.com/parole-voice/parole/telephony/sip"
	"github.com/parole-voice/parole/telephony/stream/audiofork"
	"github.com/parole-voice/parole/telephony/stream/audiosocket"
	"github.com/parole-voice/parole/telephony/stream/twilio"
	"github.com/parole-voice/parole/telephony/webrtc"
	"github.com/parole-voice/parole/web"
	"github.com/parole-voice/parole/web/live"
)

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (parole config example prints one)")
	httpAddr := fs.String("http", "", "HTTP listen address, overrides server.http")
	flowPath := fs.String("flow", "", "YAML call flow, overrides dialog.flow")
	logLevel := fs.String("log-level", "", "debug, info, warn or error; overrides log.level")
	storeKind := fs.String("store", "", "memory, embedded or redis; overrides dialog.store")
	sipAddr := fs.String("sip", "", "UDP address for SIP calls, overrides sip.listen; \"off\" answers no calls")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.Server.HTTP = *httpAddr
	}
	if *flowPath != "" {
		cfg.Dialog.Flow = *flowPath
	}
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
	}
	if *storeKind != "" {
		cfg.Dialog.Store = *storeKind
	}
	switch *sipAddr {
	case "":
	case "off":
		cfg.SIP.Enabled = false
	default:
		cfg.SIP.Enabled, cfg.SIP.Listen = true, *sipAddr
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	bot, err := loadFlow(cfg.Dialog.Flow, logger, nluOf(cfg.Dialog))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.Dialog)
	if err != nil {
		return err
	}
	defer st.Close()
	runOpts := []runner.Option{runner.WithLogger(logger)}
	if cfg.Connectors.Web.Enabled && cfg.Connectors.Web.JWTSecret != "" {
		// The web chat's users are proven by a JWT whose subject is the
		// parole user: a conversation started on another channel by the
		// same linked user (Alexa, Allo-Media) continues there.
		runOpts = append(runOpts, runner.WithUsers(runner.TrustedChannels("web")))
	}
	run := runner.New(bot, st, runOpts...)
	flows := map[string]*runner.Runner{}
	for name, path := range cfg.Dialog.Flows {
		b, err := loadFlow(path, logger, nluOf(cfg.Dialog))
		if err != nil {
			return fmt.Errorf("dialog.flows.%s: %w", name, err)
		}
		flows[name] = runner.New(b, st, runOpts...)
	}
	ln, err := net.Listen("tcp", cfg.Server.HTTP)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.HTTP, err)
	}
	liveToken := ""
	if cfg.Live.Enabled {
		cfg.Live.LoopbackOnly = cfg.Live.LoopbackOnly || isLoopback(ln.Addr())
		if !cfg.Live.LoopbackOnly && cfg.Live.Token == "" && cfg.Live.BasicUser == "" {
			cfg.Live.Token = rand.Text()
			liveToken = cfg.Live.Token
		}
	}
	srv, err := newServer(cfg, logger, run)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var legs []func(ctx context.Context) error // call legs served beside HTTP
	var notes []string
	if cfg.VoiceLegs() {
		v, err := newVoice(ctx, cfg.Voice, run, srv.reg, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer v.Close()
		v.flows = flows
		v.summaries = srv.summaries
		srv.voice = v
		if srv.hub != nil {
			v.observe = srv.hub.CallObserver
		}
		if cfg.SIP.Enabled {
			phone, err := newPhone(cfg.SIP, v, logger)
			if err != nil {
				ln.Close()
				return err
			}
			legs = append(legs, phone.Serve)
			notes = append(notes, fmt.Sprintf("call the %s flow at sip:parole@%s (UDP)", bot.Flow().Name, phone.Addr()))
		}
		if cfg.WebRTC.Enabled {
			wc := cfg.WebRTC.Config
			wc.Logger = logger
			wc.OnCall = func(ctx context.Context, call *webrtc.Call) {
				v.runCall(ctx, call, "webrtc", "", call.Observer())
			}
			browser, err := webrtc.New(wc)
			if err != nil {
				ln.Close()
				return fmt.Errorf("webrtc: %w", err)
			}
			srv.mux.Handle("GET "+wc.Path, browser)
			srv.mux.Handle("DELETE "+wc.WHIPPath+"/", browser)
			srv.mux.Handle("PATCH "+wc.WHIPPath+"/", browser)
			srv.mux.Handle("POST "+wc.WHIPPath, browser)
			srv.drain = append(srv.drain, browser.Shutdown)
			srv.notes = append(srv.notes, note{"call the bot from a browser", "/phone.html"})
		}
		if err := srv.mountBridges(ctx, cfg.Bridges, v); err != nil {
			ln.Close()
			return err
		}
		if c := cfg.Bridges.AudioSocket; c.Enabled {
			c.OnCall, c.Logger = v.onCall("audiosocket", ""), logger
			as, err := audiosocket.Listen(c.Config)
			if err != nil {
				ln.Close()
				return fmt.Errorf("audiosocket: %w", err)
			}
			legs = append(legs, as.Serve)
			notes = append(notes, fmt.Sprintf("Asterisk AudioSocket on %s", as.Addr()))
		}
	}
	base := "http://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "parole %s listening on %s\n", version, base)
	if cfg.Connectors.Web.Enabled {
		fmt.Fprintf(stdout, "chat with the %s flow at %s/chat.html\n", bot.Flow().Name, base)
	}
	if srv.hub != nil {
		if liveToken != "" {
			fmt.Fprintf(stdout, "watch live calls at %s/calls.html (token %s)\n", base, liveToken)
		} else {
			fmt.Fprintf(stdout, "watch live calls at %s/calls.html\n", base)
		}
	}
	for _, n := range srv.notes {
		fmt.Fprintf(stdout, "%s at %s%s\n", n.what, base, n.path)
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	legDone := make(chan error, len(legs))
	for _, serve := range legs {
		go func() { legDone <- serve(ctx) }()
	}
	httpErr := srv.serve(ctx, ln)
	cancel() // the HTTP side stopped: end the calls too
	errs := []error{httpErr}
	for range legs {
		errs = append(errs, <-legDone)
	}
	return errors.Join(errs...)
}

// newPhone starts the SIP channel: each call runs the voice session.
func newPhone(c config.SIPConfig, v *voice, logger *slog.Logger) (*sip.Server, error) {
	sc := sip.Config{
		Addr: c.Listen, MediaIP: c.MediaIP, RTPPortMin: c.RTPPortMin, RTPPortMax: c.RTPPortMax, MaxCalls: c.MaxCalls,
		TCPAddr: c.TCPListen, TLSAddr: c.TLSListen, TLSCertFile: c.TLSCertFile, TLSKeyFile: c.TLSKeyFile,
		Codecs: c.Codecs, Routes: c.Routes, DefaultRoute: c.DefaultRoute, MediaTimeout: c.MediaTimeout,
		Ring: c.Ring, RTCPInterval: c.RTCPInterval,
		Logger: logger, OnCall: v.onCall("sip", c.Language),
	}
	if len(c.Routes) > 0 && c.DefaultRoute == "" {
		sc.DefaultRoute = mainRoute // unrouted calls: the main flow
	}
	if c.Register.Registrar != "" {
		reg := c.Register
		sc.Register = &reg
	}
	srv, err := sip.Listen(sc)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	return srv, nil
}

// mainRoute is the route of SIP calls for the main flow (dialog.flow).
const mainRoute = "main"

// mountBridges mounts the websocket call legs on the HTTP server.
func (s *server) mountBridges(ctx context.Context, c config.BridgesConfig, v *voice) error {
	if c.Twilio.Enabled {
		tc := c.Twilio.Config
		tc.OnCall, tc.Logger = v.onCall("twilio", ""), s.log
		tw, err := twilio.New(tc)
		if err != nil {
			return fmt.Errorf("twilio: %w", err)
		}
		s.mux.Handle("GET "+tc.Path, tw)
		s.mux.Handle("POST "+tc.Path+"/twiml", tw)
		s.http.RegisterOnShutdown(func() { tw.Shutdown(ctx) })
		s.notes = append(s.notes, note{"Twilio voice webhook (TwiML)", tc.Path + "/twiml"})
	}
	if c.AudioFork.Enabled {
		ac := c.AudioFork.Config
		ac.OnCall, ac.Logger = v.onCall("audiofork", ""), s.log
		af, err := audiofork.New(ac)
		if err != nil {
			return fmt.Errorf("audiofork: %w", err)
		}
		s.mux.Handle("GET "+ac.Path, af)
		s.http.RegisterOnShutdown(func() { af.Shutdown(ctx) })
		s.notes = append(s.notes, note{"mod_audio_fork / jambonz listen websocket", ac.Path})
	}
	return nil
}

func newLogger(c config.LogConfig, w io.Writer) (*slog.Logger, error) {
	lvl, err := c.SlogLevel()
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}

// server is the HTTP side of parole serve: pages, health and metrics.
type server struct {
	mux   *http.ServeMux
	voice *voice
	notes []note
	drain []func(context.Context) error // run after the HTTP server stopped
	hub   *live.Hub
	// summaries sends call summaries to Teams users, when configured.
	summaries *callSummaries
	dialog    dialogHandler
	reg       *prometheus.Registry
	cfg       config.Config
	log       *slog.Logger
	started   time.Time
	http      *http.Server
}

func newServer(cfg config.Config, logger *slog.Logger, run *runner.Runner) (*server, error) {
	s := &server{cfg: cfg, log: logger, started: time.Now()}
	reg := prometheus.NewRegistry()
	s.reg = reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parole_build_info", Help: "Build information of the running parole."}, []string{"version"})
	info.WithLabelValues(version).Set(1)
	reg.MustRegister(info)

	mux := http.NewServeMux()
	s.mux = mux
	mux.HandleFunc("GET /healthz", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("GET /", http.FileServerFS(web.FS()))
	s.http = &http.Server{
		Handler:           http.MaxBytesHandler(mux, cfg.Server.MaxBodyBytes),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: the chat's event streams stay open.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.dialog = run
	if cfg.Live.Enabled {
		hub, err := live.New(cfg.Live.Config, live.WithLogger(logger))
		if err != nil {
			return nil, fmt.Errorf("live call view: %w", err)
		}
		s.hub = hub
		for _, pattern := range hub.Routes() {
			s.mount(pattern, hub)
		}
		// Text channels report their turns to the live view; the runner's
		// transcripts stay reachable for the web chat's history.
		s.dialog = observedRunner{Runner: run, live: hub.Wrap(run)}
	}
	if cfg.Connectors.Web.Enabled {
		chat, err := webchat.New(s.dialog, cfg.Connectors.Web.Config, webchat.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		// Methods named so the patterns sit beside "GET /" in the mux.
		for _, pattern := range []string{"POST %s", "OPTIONS %s", "GET %s/sse", "OPTIONS %s/sse"} {
			mux.Handle(fmt.Sprintf(pattern, chat.Path()), chat)
		}
		s.http.RegisterOnShutdown(func() { chat.Close() })
	}
	if err := s.mountConnectors(cfg.Connectors, s.dialog); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the live view.
func (s *server) Close() error {
	if s.hub != nil {
		return s.hub.Close()
	}
	return nil
}

// dialogHandler runs one event of a conversation: what every text channel
// calls (*runner.Runner, or the runner observed by the live view).
type dialogHandler interface {
	Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error)
}

// observedRunner is the runner with its turns reported to the live view.
type observedRunner struct {
	*runner.Runner
	live live.Dialog
}

// Handle runs the event through the live view's wrapper of the runner.
func (o observedRunner) Handle(ctx context.Context, s runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return o.live.Handle(ctx, s, ev)
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// note is an endpoint parole serve prints at start.
type note struct{ what, path string }

func (s *server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"status":  "ok",
		"version": version,
		"uptime":  time.Since(s.started).Round(time.Second).String(),
	})
}

// serve runs until ctx is done, then shuts down gracefully within the
// configured timeout.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	s.log.Info("serving", "http", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	for _, drain := range s.drain {
		if err := drain(sctx); err != nil {
			s.log.Warn("channel did not finish its acknowledged turns", "error", err)
		}
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

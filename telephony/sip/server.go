package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parole-voice/parole/telephony"
)

// ErrConfig is wrapped by the errors of [Listen] for a configuration it
// cannot use.
var ErrConfig = errors.New("sip: invalid configuration")

// DefaultMaxCalls is the call limit when Config.MaxCalls is zero.
const DefaultMaxCalls = 100

// DefaultRTCPInterval is the RTCP report interval when
// Config.RTCPInterval is zero (RFC 3550 §6.2's recommended minimum).
const DefaultRTCPInterval = 5 * time.Second

// Config configures a [Server].
type Config struct {
	// Addr is the UDP address SIP listens on, "host:port"; the host must be
	// an IP address. Port 0 picks a free port ([Server.Addr] tells which).
	Addr string `yaml:"addr"`
	// MediaIP is the address RTP binds to and the SDP answer advertises;
	// empty means the host of Addr, which must then not be unspecified.
	MediaIP string `yaml:"media_ip"`
	// RTPPortMin and RTPPortMax bound the RTP ports (even ports for RTP,
	// the odd port above for RTCP); both zero means any free port pair.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// TCPAddr, when set, also answers SIP over TCP on this "host:port".
	TCPAddr string `yaml:"tcp_addr"`
	// TLSAddr, when set, also answers SIP over TLS on this "host:port",
	// with the certificate of TLSCertFile and TLSKeyFile (PEM) or of
	// TLSConfig.
	TLSAddr     string      `yaml:"tls_addr"`
	TLSCertFile string      `yaml:"tls_cert_file"`
	TLSKeyFile  string      `yaml:"tls_key_file"`
	TLSConfig   *tls.Config `yaml:"-"`
	// MaxCalls is how many calls run at once; more INVITEs get 486 Busy
	// Here. Zero means DefaultMaxCalls.
	MaxCalls int `yaml:"max_calls"`
	// Codecs lists the codecs parole accepts, best first: "PCMU", "PCMA",
	// "G722", "opus" (G.711 also as "G711U"/"G711A"). The offered codec
	// that comes first here wins, whatever the caller's order. Empty
	// means PCMU and PCMA in the caller's order. G.722 and Opus calls
	// exchange 16 kHz frames (Info().Rate 16000); Opus is sent at 20 ms
	// on its 48 kHz RTP clock.
	Codecs []string `yaml:"codecs"`
	// Routes maps a called user — the user part of the Request-URI, else
	// of the To header, e.g. "+33123456789" or "support" — to a route
	// name (typically a flow id) that [Call.Route] returns, so that one
	// server answers for several call flows.
	Routes map[string]string `yaml:"routes"`
	// DefaultRoute is the route of a call whose called user is not in
	// Routes. Empty with Routes set: such calls get 404 Not Found.
	DefaultRoute string `yaml:"default_route"`
	// Ring, when positive, sends 180 Ringing and answers after that long;
	// a CANCEL meanwhile ends the attempt (487) without running OnCall.
	// Zero answers at once.
	Ring time.Duration `yaml:"ring"`
	// MediaTimeout ends a call (BYE, and Recv returns an error wrapping
	// [ErrMediaTimeout] and telephony.ErrHangup) when neither RTP nor RTCP
	// came from the caller for that long; a caller on hold that sends no
	// media is not timed out. Zero means no timeout.
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// RTCPInterval is the mean interval of the RTCP sender/receiver
	// reports (randomized over 0.5-1.5 times it, RFC 3550 §6.3.1). Zero
	// means DefaultRTCPInterval; negative sends no reports.
	RTCPInterval time.Duration `yaml:"rtcp_interval"`
	// Register, when set, registers the server with a registrar or trunk.
	Register *RegisterConfig `yaml:"register"`
	// OnCall runs each answered call, in its own goroutine. When it
	// returns the server hangs up (BYE) if the caller has not. ctx is done
	// when the server shuts down. The call is a *[Call]. Required.
	OnCall func(ctx context.Context, call telephony.Call) `yaml:"-"`
	// Logger receives the server's and sipgo's logs; nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Server answers SIP calls over UDP. Create it with [Listen], run it with
// [Server.Serve].
type Server struct {
	cfg     Config
	log     *slog.Logger
	conn    net.PacketConn
	mediaIP net.IP
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	dialogs *sipgo.DialogServerCache
	contact sip.ContactHeader
	// The TCP and TLS listeners and their dialogs (nil when off).
	tcpL, tlsL       net.Listener
	tcpDlgs, tlsDlgs *sipgo.DialogServerCache
	tcpCt, tlsCt     sip.ContactHeader
	// uacDialogs holds the outbound calls' dialogs.
	uacDialogs *sipgo.DialogClientCache
	reg        *registrar // nil without Config.Register

	mu      sync.Mutex
	active  int
	closing bool
	calls   sync.WaitGroup
	live    map[string]*Call // by dialog ID
	ctx     context.Context
	cancel  context.CancelFunc

	drained  chan struct{} // closed once Shutdown has ended every call
	drainOne sync.Once
}

// Listen binds the SIP socket of cfg.Addr and returns the server, ready to
// [Server.Serve].
func Listen(cfg Config) (*Server, error) {
	if cfg.OnCall == nil {
		return nil, fmt.Errorf("%w: OnCall is required", ErrConfig)
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.MaxCalls < 0 {
		return nil, fmt.Errorf("%w: MaxCalls %d", ErrConfig, cfg.MaxCalls)
	}
	if cfg.RTPPortMin < 0 || cfg.RTPPortMax > 65535 || cfg.RTPPortMin >= cfg.RTPPortMax && cfg.RTPPortMax != 0 ||
		(cfg.RTPPortMin == 0) != (cfg.RTPPortMax == 0) {
		return nil, fmt.Errorf("%w: RTP port range %d-%d (want a range with an even-odd port pair)", ErrConfig, cfg.RTPPortMin, cfg.RTPPortMax)
	}
	codecs := make([]string, 0, len(cfg.Codecs))
	for _, c := range cfg.Codecs {
		name, ok := canonicalCodec(c)
		if !ok {
			return nil, fmt.Errorf("%w: codec %q (want PCMU, PCMA, G722 or opus)", ErrConfig, c)
		}
		codecs = append(codecs, name)
	}
	cfg.Codecs = codecs
	for user, route := range cfg.Routes {
		if user == "" || route == "" {
			return nil, fmt.Errorf("%w: route %q → %q: empty user or route", ErrConfig, user, route)
		}
	}
	if cfg.Ring < 0 {
		return nil, fmt.Errorf("%w: Ring %v", ErrConfig, cfg.Ring)
	}
	if cfg.MediaTimeout < 0 {
		return nil, fmt.Errorf("%w: MediaTimeout %v", ErrConfig, cfg.MediaTimeout)
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = DefaultRTCPInterval
	} else if cfg.RTCPInterval < 0 {
		cfg.RTCPInterval = 0
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: Addr: %w", ErrConfig, err)
	}
	mediaHost := cfg.MediaIP
	if mediaHost == "" {
		mediaHost = host
	}
	mediaIP := net.ParseIP(mediaHost)
	if mediaIP == nil || mediaIP.IsUnspecified() {
		return nil, fmt.Errorf("%w: media IP %q (set MediaIP to the address callers reach)", ErrConfig, mediaHost)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	conn, err := net.ListenPacket("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sip: listen: %w", err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	sigHost := host
	if addr.IP.IsUnspecified() {
		sigHost = mediaIP.String()
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("parole"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log),
		sipgo.WithClientAddr(net.JoinHostPort(sigHost, strconv.Itoa(addr.Port))))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "parole", Host: sigHost, Port: addr.Port}}
	s := &Server{
		cfg: cfg, log: log, conn: conn, mediaIP: mediaIP, ua: ua, srv: srv,
		dialogs: sipgo.NewDialogServerCache(client, contact), contact: contact,
		uacDialogs: sipgo.NewDialogClientCache(client, contact),
		live:       map[string]*Call{}, drained: make(chan struct{}),
	}
	if err := s.listenStream(client, sigHost); err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	if cfg.Register != nil {
		if s.reg, err = newRegistrar(*cfg.Register); err != nil {
			s.closeStream()
			ua.Close()
			conn.Close()
			return nil, err
		}
		s.reg.client, s.reg.contact = client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: cfg.Register.User, Host: sigHost, Port: addr.Port}}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv.OnInvite(s.onInvite)
	srv.OnInfo(s.onInfo)
	srv.OnNotify(s.onNotify)
	srv.OnRequest(sip.UPDATE, s.onUpdate)
	srv.OnAck(s.onAck)
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := s.dialogsFor(req).ReadBye(req, tx); err == nil {
			return
		}
		if err := s.uacDialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	return s, nil
}

// listenStream binds the TCP and TLS listeners the configuration asks for.
func (s *Server) listenStream(client *sipgo.Client, sigHost string) error {
	contact := func(l net.Listener, transport string) sip.ContactHeader {
		u := sip.Uri{Scheme: "sip", User: "parole", Host: sigHost, Port: l.Addr().(*net.TCPAddr).Port,
			UriParams: sip.NewParams()}
		u.UriParams.Add("transport", transport)
		return sip.ContactHeader{Address: u}
	}
	if s.cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", s.cfg.TCPAddr)
		if err != nil {
			return fmt.Errorf("sip: listen tcp: %w", err)
		}
		s.tcpL, s.tcpCt = l, contact(l, "tcp")
		s.tcpDlgs = sipgo.NewDialogServerCache(client, s.tcpCt)
	}
	if s.cfg.TLSAddr == "" {
		return nil
	}
	conf := s.cfg.TLSConfig
	if conf == nil {
		if s.cfg.TLSCertFile == "" || s.cfg.TLSKeyFile == "" {
			s.closeStream()
			return fmt.Errorf("%w: TLSAddr needs TLSCertFile and TLSKeyFile, or TLSConfig", ErrConfig)
		}
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			s.closeStream()
			return fmt.Errorf("%w: TLS certificate: %w", ErrConfig, err)
		}
		conf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := tls.Listen("tcp", s.cfg.TLSAddr, conf)
	if err != nil {
		s.closeStream()
		return fmt.Errorf("sip: listen tls: %w", err)
	}
	s.tlsL, s.tlsCt = l, contact(l, "tls")
	s.tlsDlgs = sipgo.NewDialogServerCache(client, s.tlsCt)
	return nil
}

func (s *Server) closeStream() {
	if s.tcpL != nil {
		s.tcpL.Close()
	}
	if s.tlsL != nil {
		s.tlsL.Close()
	}
}

// dialogsFor returns the dialog cache of req's transport.
func (s *Server) dialogsFor(req *sip.Request) *sipgo.DialogServerCache {
	switch strings.ToUpper(req.Transport()) {
	case "TCP":
		if s.tcpDlgs != nil {
			return s.tcpDlgs
		}
	case "TLS":
		if s.tlsDlgs != nil {
			return s.tlsDlgs
		}
	}
	return s.dialogs
}

// contactFor returns the Contact of req's transport.
func (s *Server) contactFor(req *sip.Request) *sip.ContactHeader {
	switch strings.ToUpper(req.Transport()) {
	case "TCP":
		if s.tcpL != nil {
			return &s.tcpCt
		}
	case "TLS":
		if s.tlsL != nil {
			return &s.tlsCt
		}
	}
	return &s.contact
}

// TCPAddr returns the SIP-over-TCP listener's address, or nil.
func (s *Server) TCPAddr() net.Addr {
	if s.tcpL == nil {
		return nil
	}
	return s.tcpL.Addr()
}

// TLSAddr returns the SIP-over-TLS listener's address, or nil.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsL == nil {
		return nil
	}
	return s.tlsL.Addr()
}

// Addr returns the address the SIP socket is bound to.
func (s *Server) Addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// Serve answers calls until ctx is done or [Server.Shutdown] has drained
// the calls. When ctx is done it shuts down at once: new INVITEs get 503,
// the context given to the running OnCall handlers is cancelled and every
// call the caller has not ended gets a BYE. It then closes the socket and
// returns nil.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.ServeUDP(s.conn) }()
	var streams sync.WaitGroup
	for _, l := range []struct {
		l     net.Listener
		serve func(net.Listener) error
	}{{s.tcpL, s.srv.ServeTCP}, {s.tlsL, s.srv.ServeTLS}} {
		if l.l != nil {
			streams.Add(1)
			go func() { defer streams.Done(); _ = l.serve(l.l) }()
		}
	}
	regDone := make(chan struct{})
	rctx, stopReg := context.WithCancel(context.Background())
	if s.reg != nil {
		go func() { defer close(regDone); s.reg.run(rctx) }()
	} else {
		close(regDone)
	}
	var err error
	stopped := false
	select {
	case <-ctx.Done():
		now, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.Shutdown(now)
	case <-s.drained:
	case err = <-errc:
		stopped = true
		now, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.Shutdown(now)
	}
	stopReg() // unregisters
	<-regDone
	s.closeStream()
	s.ua.Close()
	s.conn.Close()
	streams.Wait()
	if !stopped {
		<-errc
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("sip: serve: %w", err)
	}
	return nil
}

// Shutdown drains the server: new INVITEs get 503 Service Unavailable
// while the calls in progress go on until they end. When ctx is done
// first, it cancels the context of the OnCall handlers and hangs up (BYE)
// the calls still up, waits for their handlers and returns ctx's error.
// Serve returns once Shutdown is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true // no calls.Add after this
	s.mu.Unlock()
	all := make(chan struct{})
	go func() { s.calls.Wait(); close(all) }()
	var err error
	select {
	case <-all:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		calls := make([]*Call, 0, len(s.live))
		for _, c := range s.live {
			calls = append(calls, c)
		}
		s.mu.Unlock()
		var wg sync.WaitGroup
		for _, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = c.Hangup(bctx)
			}()
		}
		wg.Wait()
		s.cancel() // after the BYEs, so that handlers see ErrHangup first
		<-all
	}
	s.cancel()
	s.drainOne.Do(func() { close(s.drained) })
	return err
}

// Calls returns the number of calls in progress (being set up or up).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// route returns the route for the called user of req.
func (s *Server) route(req *sip.Request) (string, bool) {
	if len(s.cfg.Routes) == 0 {
		return s.cfg.DefaultRoute, true
	}
	if r, ok := s.cfg.Routes[req.Recipient.User]; ok && req.Recipient.User != "" {
		return r, true
	}
	if to := req.To(); to != nil {
		if r, ok := s.cfg.Routes[to.Address.User]; ok && to.Address.User != "" {
			return r, true
		}
	}
	return s.cfg.DefaultRoute, s.cfg.DefaultRoute != ""
}

// lookup returns the live call of an in-dialog request.
func (s *Server) lookup(req *sip.Request) *Call {
	uas, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	uac, _ := sip.DialogIDFromRequestUAC(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.live[uas]; c != nil {
		return c
	}
	return s.live[uac]
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	route, ok := s.route(req)
	if !ok {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	if s.active >= s.cfg.MaxCalls {
		s.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBusyHere, "Busy Here", nil))
		return
	}
	s.active++
	s.calls.Add(1)
	s.mu.Unlock()
	var once sync.Once
	release := func() { // frees the call slot, before a refusal too
		once.Do(func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		})
	}
	defer s.calls.Done()
	defer release()

	dlg, err := s.dialogsFor(req).ReadInvite(req, tx)
	if err != nil {
		s.log.Warn("sip: bad INVITE", "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	defer dlg.Close()
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)

	m, err := NegotiateCodecs(req.Body(), s.cfg.Codecs)
	if err != nil {
		s.log.Info("sip: offer refused", "call", req.CallID().Value(), "err", err)
		release()
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	conn, rtcpConn, err := s.listenRTP(m.RTCPMux)
	if err != nil {
		s.log.Error("sip: no RTP port", "err", err)
		release()
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	closeMedia := func() {
		conn.Close()
		if rtcpConn != nil {
			rtcpConn.Close()
		}
	}
	sessID := uint64(time.Now().Unix())
	answer, err := Answer(m, conn.LocalAddr().(*net.UDPAddr), sessID)
	if err != nil {
		release()
		closeMedia()
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	info := telephony.Info{ID: req.CallID().Value(), Channel: "sip", Rate: m.Codec.SampleRate()}
	if h := req.From(); h != nil {
		info.From = h.Address.String()
	}
	if h := req.To(); h != nil {
		info.To = h.Address.String()
	}
	if s.cfg.Ring > 0 { // ring: a CANCEL now gets 200 and the INVITE 487 (sipgo's transaction layer)
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		t := time.NewTimer(s.cfg.Ring)
		select {
		case <-t.C:
		case <-tx.Done():
			t.Stop()
			s.log.Info("sip: call cancelled while ringing", "call", info.ID)
			release()
			closeMedia()
			return
		case <-s.ctx.Done():
			t.Stop()
			release()
			closeMedia()
			_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
			return
		}
	}
	call, err := newCall(callParams{
		info: info, route: route, media: m, conn: conn, rtcpConn: rtcpConn,
		byeDone: dlg.Context().Done(), bye: dlg.Bye,
		timeout: s.cfg.MediaTimeout, rtcpInterval: s.cfg.RTCPInterval,
	})
	if err != nil {
		release()
		closeMedia()
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	call.sdpID, call.sdpVersion, call.lastAnswer = sessID, sessID, answer
	call.srv, call.do = s, dlg.Do
	if h := req.Contact(); h != nil {
		call.peer = h.Address
	} else if h := req.From(); h != nil {
		call.peer = h.Address
	}
	s.mu.Lock()
	s.live[dlg.ID] = call
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.live, dlg.ID)
		s.mu.Unlock()
	}()
	// RespondSDP returns once the ACK came (or failed: CANCEL, no ACK).
	if err := dlg.RespondSDP(answer); err != nil {
		s.log.Info("sip: call not established", "call", info.ID, "err", err)
		_ = call.Hangup(s.ctx)
		return
	}
	s.log.Info("sip: call answered", "call", info.ID, "from", info.From, "route", route, "codec", m.Codec.Name)
	s.cfg.OnCall(s.ctx, call)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		s.log.Info("sip: hangup", "call", info.ID, "err", err)
	}
}

// listenRTP binds an RTP socket on the media IP, in the port range, and
// unless mux the RTCP socket on the odd port above it.
func (s *Server) listenRTP(mux bool) (rtpConn, rtcpConn *net.UDPConn, err error) {
	pair := func(port int) (*net.UDPConn, *net.UDPConn, error) {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: s.mediaIP, Port: port})
		if err != nil {
			return nil, nil, err
		}
		if mux {
			return c, nil, nil
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 {
			c.Close()
			return nil, nil, fmt.Errorf("odd RTP port %d", p)
		}
		r, err := net.ListenUDP("udp", &net.UDPAddr{IP: s.mediaIP, Port: p + 1})
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		return c, r, nil
	}
	if s.cfg.RTPPortMin == 0 {
		var last error
		for range 64 { // the kernel's ephemeral port is odd half of the time
			c, r, err := pair(0)
			if err == nil {
				return c, r, nil
			}
			last = err
		}
		return nil, nil, fmt.Errorf("sip: no free RTP port pair: %w", last)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lo := s.cfg.RTPPortMin + s.cfg.RTPPortMin%2
	n := (s.cfg.RTPPortMax-1-lo)/2 + 1
	if n <= 0 {
		return nil, nil, fmt.Errorf("%w: no even-odd port pair in %d-%d", ErrConfig, s.cfg.RTPPortMin, s.cfg.RTPPortMax)
	}
	start := rand.IntN(n)
	var last error
	for i := range n {
		c, r, err := pair(lo + 2*((start+i)%n))
		if err == nil {
			return c, r, nil
		}
		last = err
	}
	return nil, nil, fmt.Errorf("sip: all RTP ports busy: %w", last)
}

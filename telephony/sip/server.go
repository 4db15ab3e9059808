package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
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

// Config configures a [Server].
type Config struct {
	// Addr is the UDP address SIP listens on, "host:port"; the host must be
	// an IP address. Port 0 picks a free port ([Server.Addr] tells which).
	Addr string
	// MediaIP is the address RTP binds to and the SDP answer advertises;
	// empty means the host of Addr, which must then not be unspecified.
	MediaIP string
	// RTPPortMin and RTPPortMax bound the RTP ports (even ports are used);
	// both zero means any free port.
	RTPPortMin, RTPPortMax int
	// MaxCalls is how many calls run at once; more INVITEs get 486 Busy
	// Here. Zero means DefaultMaxCalls.
	MaxCalls int
	// OnCall runs each answered call, in its own goroutine. When it
	// returns the server hangs up (BYE) if the caller has not. ctx is done
	// when the server shuts down. Required.
	OnCall func(ctx context.Context, call telephony.Call)
	// Logger receives the server's and sipgo's logs; nil discards them.
	Logger *slog.Logger
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

	mu      sync.Mutex
	active  int
	closing bool
	calls   sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
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
	if cfg.RTPPortMin < 0 || cfg.RTPPortMax > 65535 || cfg.RTPPortMin > cfg.RTPPortMax ||
		(cfg.RTPPortMin == 0) != (cfg.RTPPortMax == 0) {
		return nil, fmt.Errorf("%w: RTP port range %d-%d", ErrConfig, cfg.RTPPortMin, cfg.RTPPortMax)
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
		dialogs: sipgo.NewDialogServerCache(client, contact),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv.OnInvite(s.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = s.dialogs.ReadAck(req, tx) // an ACK of nothing we know is dropped
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := s.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	return s, nil
}

// Addr returns the address the SIP socket is bound to.
func (s *Server) Addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// Serve answers calls until ctx is done, then refuses new INVITEs with
// 503, cancels the context given to the running OnCall handlers, waits for
// them to return (the server sends BYE for each call the caller has not
// ended) and closes the socket. It returns nil after a shutdown by ctx.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.ServeUDP(s.conn) }()
	var err error
	stopped := false
	select {
	case <-ctx.Done():
	case err = <-errc:
		stopped = true
	}
	s.mu.Lock()
	s.closing = true // no calls.Add after this
	s.mu.Unlock()
	s.cancel()
	s.calls.Wait()
	s.ua.Close()
	s.conn.Close()
	if !stopped {
		<-errc
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("sip: serve: %w", err)
	}
	return nil
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
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

	dlg, err := s.dialogs.ReadInvite(req, tx)
	if err != nil {
		s.log.Warn("sip: bad INVITE", "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	defer dlg.Close()
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)

	m, err := Negotiate(req.Body())
	if err != nil {
		s.log.Info("sip: offer refused", "call", req.CallID().Value(), "err", err)
		release()
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	conn, err := s.listenRTP()
	if err != nil {
		s.log.Error("sip: no RTP port", "err", err)
		release()
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	answer, err := Answer(m, conn.LocalAddr().(*net.UDPAddr), uint64(time.Now().Unix()))
	if err != nil {
		release()
		conn.Close()
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	info := telephony.Info{ID: req.CallID().Value(), Channel: "sip", Rate: rate}
	if h := req.From(); h != nil {
		info.From = h.Address.String()
	}
	if h := req.To(); h != nil {
		info.To = h.Address.String()
	}
	call, err := newCall(info, m, conn, dlg.Context().Done(), dlg.Bye)
	if err != nil {
		release()
		conn.Close()
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	// RespondSDP returns once the ACK came (or failed: CANCEL, no ACK).
	if err := dlg.RespondSDP(answer); err != nil {
		s.log.Info("sip: call not established", "call", info.ID, "err", err)
		_ = call.Hangup(s.ctx)
		return
	}
	s.log.Info("sip: call answered", "call", info.ID, "from", info.From, "codec", m.Codec.Name)
	s.cfg.OnCall(s.ctx, call)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		s.log.Info("sip: hangup", "call", info.ID, "err", err)
	}
}

// listenRTP binds an RTP socket on the media IP, in the port range.
func (s *Server) listenRTP() (*net.UDPConn, error) {
	if s.cfg.RTPPortMin == 0 {
		return net.ListenUDP("udp", &net.UDPAddr{IP: s.mediaIP})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lo := s.cfg.RTPPortMin + s.cfg.RTPPortMin%2
	n := (s.cfg.RTPPortMax-lo)/2 + 1
	if n <= 0 {
		return nil, fmt.Errorf("%w: no even port in %d-%d", ErrConfig, s.cfg.RTPPortMin, s.cfg.RTPPortMax)
	}
	start := rand.IntN(n)
	var last error
	for i := range n {
		port := lo + 2*((start+i)%n)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: s.mediaIP, Port: port})
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("sip: all RTP ports busy: %w", last)
}

package webrtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	pion "github.com/pion/webrtc/v4"

	"github.com/parole-voice/parole/telephony"
)

// offerWait bounds the wait for the page's offer after the websocket opened.
const offerWait = 30 * time.Second

// Server answers browser calls. It is an http.Handler for Config.Path (the
// websocket) and Config.WHIPPath (WHIP); mount it on both. Create it with
// [New]; [Server.Shutdown] ends the calls.
type Server struct {
	cfg        Config
	log        *slog.Logger
	iceServers []pion.ICEServer
	upgrader   websocket.Upgrader

	ctx    context.Context // given to OnCall; cancelled by Shutdown
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	active  int
	whip    map[string]*Call // WHIP calls by resource id
	calls   sync.WaitGroup
}

// New validates cfg and returns the server. Errors wrap [ErrConfig].
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, whip: map[string]*Call{}}
	for _, is := range cfg.ICEServers {
		s.iceServers = append(s.iceServers, pion.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	s.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, CheckOrigin: s.checkOrigin}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Config returns the validated configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// checkOrigin accepts same-host pages, the configured origins, and
// clients that send no Origin (not browsers).
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if slices.Contains(s.cfg.AllowedOrigins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// ActiveCalls returns the number of calls being set up or running.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// admit reserves a call slot; release frees it.
func (s *Server) admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return fmt.Errorf("webrtc: shutting down: %w", telephony.ErrHangup)
	}
	if s.active >= s.cfg.MaxCalls {
		return ErrBusy
	}
	s.active++
	s.calls.Add(1)
	return nil
}

func (s *Server) release() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	s.calls.Done()
}

// Shutdown refuses new calls, cancels the context of the running OnCall
// handlers, waits for them (each call is hung up) or for ctx.
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
		return fmt.Errorf("webrtc: shutdown: %w", ctx.Err())
	}
}

// ServeHTTP serves the websocket at Config.Path and WHIP at Config.WHIPPath.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == s.cfg.Path:
		s.serveWS(w, r)
	case p == s.cfg.WHIPPath:
		s.serveWHIP(w, r)
	case strings.HasPrefix(p, s.cfg.WHIPPath+"/"):
		s.serveWHIPResource(w, r, strings.TrimPrefix(p, s.cfg.WHIPPath+"/"))
	default:
		http.NotFound(w, r)
	}
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func callInfo(id string, r *http.Request) telephony.Info {
	from := r.RemoteAddr
	if host, _, err := net.SplitHostPort(from); err == nil {
		from = host
	}
	return telephony.Info{ID: id, Channel: "webrtc", From: "webrtc:" + from, To: r.Host, Rate: Rate}
}

// run waits for the call to connect, runs OnCall and hangs up.
func (s *Server) run(c *Call) {
	t := time.NewTimer(s.cfg.MediaTimeout)
	defer t.Stop()
	select {
	case <-c.connected:
		c.log.Info("webrtc: call connected", "from", c.info.From)
		c.start()
		s.cfg.OnCall(s.ctx, c)
	case <-c.done:
	case <-t.C:
		c.end("connection timeout")
	case <-s.ctx.Done():
		c.end("server shutdown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		c.log.Debug("webrtc: hangup", "err", err)
	}
}

// serveWS runs one call over a signalling websocket.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "webrtc: websocket upgrade expected", http.StatusBadRequest)
		return
	}
	if err := s.admit(); err != nil {
		status := http.StatusServiceUnavailable
		http.Error(w, err.Error(), status)
		return
	}
	defer s.release()
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	defer conn.Close()
	conn.SetReadLimit(DefaultMaxBody)
	id := newID()
	log := s.log.With("call", id)
	writeJSON := func(m message) error {
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return conn.WriteJSON(m)
	}
	if err := writeJSON(message{Type: msgConfig, ICEServers: s.cfg.ICEServers, CallID: id}); err != nil {
		return
	}
	// Wait for the offer; candidates may come first.
	_ = conn.SetReadDeadline(time.Now().Add(offerWait))
	var early []pion.ICECandidateInit
	var offer string
	for offer == "" {
		m, err := readMessage(conn)
		if err != nil {
			if !errors.Is(err, errClosed) {
				log.Info("webrtc: bad signalling message", "err", err)
				_ = writeJSON(message{Type: msgError, Error: err.Error()})
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseUnsupportedData, "bad message"), time.Now().Add(time.Second))
			}
			return
		}
		switch m.Type {
		case msgOffer:
			if m.SDP == "" {
				_ = writeJSON(message{Type: msgError, Error: "offer without sdp"})
				return
			}
			offer = m.SDP
		case msgCandidate:
			if m.Candidate != nil && len(early) < 64 {
				early = append(early, *m.Candidate)
			}
		case msgHangup:
			return
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	out := newOutbox(256)
	call, answer, err := s.newCall(r.Context(), callInfo(id, r), offer, out)
	if err != nil {
		log.Info("webrtc: offer refused", "err", err)
		_ = writeJSON(message{Type: msgError, Error: err.Error()})
		return
	}
	if err := writeJSON(message{Type: msgAnswer, SDP: answer, CallID: id, Codec: call.Codec()}); err != nil {
		out.close()
		_ = call.Hangup(context.Background())
		return
	}
	for _, c := range early {
		if err := call.pc.AddICECandidate(c); err != nil {
			log.Debug("webrtc: candidate", "err", err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // writer: the outbox to the socket, then a close frame
		defer wg.Done()
		for b := range out.ch {
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				call.end("page gone")
				for range out.ch { // drain until closed
				}
				return
			}
		}
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "call ended"), time.Now().Add(time.Second))
	}()
	go func() { // reader: candidates, keys, hangup, until the socket closes
		defer wg.Done()
		for {
			m, err := readMessage(conn)
			if err != nil {
				if errors.Is(err, errClosed) {
					call.end("caller hung up")
				} else {
					log.Info("webrtc: bad signalling message", "err", err)
					call.end("bad signalling")
				}
				return
			}
			switch m.Type {
			case msgCandidate:
				if m.Candidate != nil {
					if err := call.pc.AddICECandidate(*m.Candidate); err != nil {
						log.Debug("webrtc: candidate", "err", err)
					}
				}
			case msgDTMF:
				call.queueDigits(m.Digits)
			case msgHangup:
				call.end("caller hung up")
			}
		}
	}()
	s.run(call)
	out.close()
	// Give the writer a moment to flush the hangup, then unblock the reader.
	flushed := make(chan struct{})
	go func() { wg.Wait(); close(flushed) }()
	t := time.NewTimer(2 * time.Second)
	select {
	case <-flushed:
	case <-t.C:
		conn.Close()
		<-flushed
	}
	t.Stop()
}

// errClosed wraps the read errors of a socket the peer closed.
var errClosed = errors.New("webrtc: websocket closed")

// readMessage reads and decodes one signalling message.
func readMessage(conn *websocket.Conn) (message, error) {
	typ, b, err := conn.ReadMessage()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return message{}, fmt.Errorf("message over %d bytes: %w", DefaultMaxBody, err)
		}
		return message{}, fmt.Errorf("%w: %w", errClosed, err)
	}
	if typ != websocket.TextMessage {
		return message{}, errors.New("binary message")
	}
	return parseMessage(b)
}

// parseMessage decodes one message the page sends: an offer, a candidate,
// keys or a hangup. Anything else is an error.
func parseMessage(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("json: %w", err)
	}
	switch m.Type {
	case msgOffer, msgCandidate, msgHangup, msgDTMF:
	default:
		return message{}, fmt.Errorf("unknown message type %q", m.Type)
	}
	return m, nil
}

// serveWHIP answers a WHIP POST: an SDP offer in, 201 with the answer out.
func (s *Server) serveWHIP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		w.Header().Set("Allow", "OPTIONS, POST")
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "OPTIONS, POST")
		http.Error(w, "webrtc: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		http.Error(w, "webrtc: Content-Type must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "webrtc: offer too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "webrtc: reading offer", http.StatusBadRequest)
		return
	}
	if err := s.admit(); err != nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	id := newID()
	call, answer, err := s.newCall(r.Context(), callInfo(id, r), string(body), nil)
	if err != nil {
		s.release()
		status := http.StatusInternalServerError
		if errors.Is(err, ErrOffer) {
			status = http.StatusBadRequest
		}
		http.Error(w, err.Error(), status)
		return
	}
	s.mu.Lock()
	s.whip[id] = call
	s.mu.Unlock()
	go func() {
		defer s.release()
		s.run(call)
		s.mu.Lock()
		delete(s.whip, id)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", s.cfg.WHIPPath+"/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// serveWHIPResource ends a WHIP call on DELETE.
func (s *Server) serveWHIPResource(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	call := s.whip[id]
	s.mu.Unlock()
	if call == nil {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		call.end("caller hung up")
		w.WriteHeader(http.StatusOK)
	case http.MethodPatch: // no trickle ICE: the answer holds every candidate
		w.Header().Set("Allow", "DELETE")
		http.Error(w, "webrtc: trickle ICE not supported", http.StatusMethodNotAllowed)
	default:
		w.Header().Set("Allow", "DELETE")
		http.Error(w, "webrtc: method not allowed", http.StatusMethodNotAllowed)
	}
}

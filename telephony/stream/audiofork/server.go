package audiofork

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
)

// Reply modes: how the bot's audio goes back.
const (
	// ModeStreaming sends binary L16 frames back, 20 ms each, paced (jambonz
	// listen with bidirectionalAudio {enabled, streaming: true, sampleRate}
	// equal to the call's rate).
	ModeStreaming = "streaming"
	// ModePlayAudio sends playAudio JSON text frames of base64 raw L16,
	// ChunkFrames frames each (mod_audio_fork, and jambonz without
	// streaming, play each as a file).
	ModePlayAudio = "play_audio"
)

// Defaults for the zero values of Config.
const (
	DefaultPath            = "/audiofork"
	DefaultMaxCalls        = 100
	DefaultMaxMessageBytes = 64 << 10
	DefaultStartTimeout    = 10 * time.Second
	DefaultChunkFrames     = 25
)

const writeTimeout = 5 * time.Second

// Subprotocols are the websocket subprotocols offered: jambonz's and
// mod_audio_fork's default.
var Subprotocols = []string{"audio.jambonz.org", "audio.drachtio.org"}

// Config configures a [Server].
type Config struct {
	// Path is where the websocket is served. Default DefaultPath.
	Path string `yaml:"path"`
	// Mode is ModeStreaming (default) or ModePlayAudio.
	Mode string `yaml:"mode"`
	// SampleRate is the rate assumed when the metadata has no sampleRate
	// (mod_audio_fork's is set on its command line): 8000 (default) or
	// 16000.
	SampleRate int `yaml:"sample_rate"`
	// ChunkFrames is how many 20 ms frames a playAudio carries
	// (ModePlayAudio). Default DefaultChunkFrames (500 ms).
	ChunkFrames int `yaml:"chunk_frames"`
	// Username and Password, when set, are required as HTTP basic
	// authentication on the upgrade (jambonz's wsAuth).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// MaxCalls is how many streams run at once; more get 503. Default
	// DefaultMaxCalls.
	MaxCalls int `yaml:"max_calls"`
	// MaxMessageBytes bounds one websocket message; a larger one closes
	// the stream (1009). Default DefaultMaxMessageBytes.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// StartTimeout bounds the wait for the metadata frame. Default
	// DefaultStartTimeout.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// OnCall runs each stream once its metadata came. Required.
	OnCall stream.OnCall `yaml:"-"`
	// Logger gets the server's logs; nil discards them.
	Logger *slog.Logger `yaml:"-"`

	unpaced bool
}

// Server serves mod_audio_fork / jambonz listen websockets; it is an
// http.Handler for Config.Path.
type Server struct {
	cfg Config
	log *slog.Logger
	up  websocket.Upgrader

	mu      sync.Mutex
	active  int
	closing bool
	calls   sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// New checks cfg and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.OnCall == nil {
		return nil, fmt.Errorf("%w: audiofork: OnCall is required", stream.ErrConfig)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeStreaming
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.ChunkFrames == 0 {
		cfg.ChunkFrames = DefaultChunkFrames
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	switch {
	case !strings.HasPrefix(cfg.Path, "/"):
		return nil, fmt.Errorf("%w: audiofork: path %q", stream.ErrConfig, cfg.Path)
	case cfg.Mode != ModeStreaming && cfg.Mode != ModePlayAudio:
		return nil, fmt.Errorf("%w: audiofork: mode %q (streaming or play_audio)", stream.ErrConfig, cfg.Mode)
	case cfg.SampleRate != 8000 && cfg.SampleRate != 16000:
		return nil, fmt.Errorf("%w: audiofork: sample_rate %d", stream.ErrConfig, cfg.SampleRate)
	case cfg.ChunkFrames < 1 || cfg.MaxCalls < 0 || cfg.MaxMessageBytes < 1024 || cfg.StartTimeout < 0:
		return nil, fmt.Errorf("%w: audiofork: chunk_frames %d, max_calls %d, max_message_bytes %d, start_timeout %v",
			stream.ErrConfig, cfg.ChunkFrames, cfg.MaxCalls, cfg.MaxMessageBytes, cfg.StartTimeout)
	case (cfg.Username == "") != (cfg.Password == ""):
		return nil, fmt.Errorf("%w: audiofork: username and password go together", stream.ErrConfig)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log}
	s.up = websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
		Subprotocols: Subprotocols,
		CheckOrigin:  func(*http.Request) bool { return true },
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Active returns the number of streams running.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Shutdown refuses new streams, cancels the running OnCall handlers' context
// and waits for them or ctx.
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
		return fmt.Errorf("audiofork: shutdown: %w", ctx.Err())
	}
}

// ServeHTTP upgrades to the websocket and runs the call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.cfg.Path {
		http.NotFound(w, r)
		return
	}
	if s.cfg.Username != "" {
		u, p, ok := r.BasicAuth()
		if !ok || !equal(u, s.cfg.Username) || !equal(p, s.cfg.Password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="parole"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	s.mu.Lock()
	if s.closing || s.active >= s.cfg.MaxCalls {
		s.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	s.active++
	s.calls.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		s.calls.Done()
	}()
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	md, err := s.metadata(conn)
	if err != nil {
		s.log.Info("audiofork: stream refused", "err", err, "remote", r.RemoteAddr)
		code := websocket.CloseProtocolError
		if errors.Is(err, stream.ErrTooLarge) {
			code = websocket.CloseMessageTooBig
		}
		msg := err.Error()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, msg[:min(len(msg), 100)]), time.Now().Add(time.Second))
		return
	}
	if md.SampleRate == 0 {
		md.SampleRate = s.cfg.SampleRate
	}
	c, err := newCall(conn, md, s.cfg)
	if err != nil {
		s.log.Error("audiofork: call", "err", err)
		return
	}
	s.log.Info("audiofork: stream started", "call", c.info.ID, "rate", md.SampleRate, "from", md.From)
	s.cfg.OnCall(s.ctx, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		s.log.Info("audiofork: hangup", "call", c.info.ID, "err", err)
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
}

func equal(a, b string) bool { return len(a) == len(b) && a == b }

func (s *Server) metadata(conn *websocket.Conn) (Metadata, error) {
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.StartTimeout))
	defer conn.SetReadDeadline(time.Time{})
	typ, data, err := conn.ReadMessage()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return Metadata{}, fmt.Errorf("%w: audiofork: %w", stream.ErrTooLarge, err)
		}
		return Metadata{}, fmt.Errorf("audiofork: waiting for metadata: %w", err)
	}
	if typ != websocket.TextMessage {
		return Metadata{}, fmt.Errorf("%w: audiofork: audio before the metadata text frame", stream.ErrProtocol)
	}
	return ParseMetadata(data)
}

// Call is one forked stream, a [telephony.Call] at the metadata's rate.
// Recv reads the websocket: binary L16 frames cut into 20 ms frames, DTMF
// text frames as keys; the websocket closing is telephony.ErrHangup; an odd
// binary length, bad JSON or an unknown text frame closes the stream (1002)
// and is an error wrapping stream.ErrProtocol. In ModeStreaming Send paces
// binary L16 frames out; in ModePlayAudio it gathers ChunkFrames frames into
// a playAudio message (sent at the end of each run of audio too). Clear
// drops what is queued and sends killAudio. Hangup sends disconnect and
// closes the websocket.
type Call struct {
	info     telephony.Info
	meta     Metadata
	conn     *websocket.Conn
	mode     string
	chunk    int
	peerGone atomic.Bool

	done      chan struct{}
	once      sync.Once
	hangupErr error

	// Recv goroutine only.
	asm         *stream.Assembler
	frame       media.Frame
	watchedDone <-chan struct{}
	stopWatch   func() bool
	rbuf        []byte

	out     *stream.Out
	wmu     sync.Mutex
	wbuf    []byte
	pending []byte // ModePlayAudio: L16 not yet sent
	nframes int
}

func newCall(conn *websocket.Conn, md Metadata, cfg Config) (*Call, error) {
	rate := md.SampleRate
	id := md.CallID
	if id == "" {
		id = conn.RemoteAddr().String()
	}
	c := &Call{
		info: telephony.Info{ID: id, Channel: "audiofork", From: md.From, To: md.To, Rate: rate},
		meta: md, conn: conn, mode: cfg.Mode, chunk: cfg.ChunkFrames,
		done:  make(chan struct{}),
		asm:   stream.NewAssembler(rate, int(cfg.MaxMessageBytes)),
		frame: media.Frame{Samples: make([]int16, media.SamplesPerFrame(rate)), Rate: rate},
		wbuf:  make([]byte, 0, 2*media.SamplesPerFrame(rate)),
	}
	oc := stream.OutConfig{Rate: rate, Write: c.writeFrame, Unpaced: cfg.unpaced}
	if c.mode == ModePlayAudio {
		oc.Drained = c.flush
	}
	var err error
	if c.out, err = stream.NewOut(oc); err != nil {
		return nil, err
	}
	return c, nil
}

// Info describes the call: ID is the metadata's callSid (or uuid), From and
// To its from and to, Channel "audiofork", Rate its sampleRate.
func (c *Call) Info() telephony.Info { return c.info }

// Metadata returns the stream's first text frame, decoded.
func (c *Call) Metadata() Metadata { return c.meta }

// Stats returns the outbound queue's counters.
func (c *Call) Stats() stream.OutStats { return c.out.Stats() }

func (c *Call) ended() error {
	select {
	case <-c.done:
		return fmt.Errorf("audiofork: call %s hung up: %w", c.info.ID, telephony.ErrHangup)
	default:
	}
	if c.peerGone.Load() {
		return fmt.Errorf("audiofork: stream of call %s closed: %w", c.info.ID, telephony.ErrHangup)
	}
	return nil
}

func (c *Call) watch(ctx context.Context) {
	d := ctx.Done()
	if d == c.watchedDone {
		return
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.watchedDone, c.stopWatch = d, nil
	if d != nil {
		c.stopWatch = context.AfterFunc(ctx, func() { _ = c.conn.SetReadDeadline(time.Unix(1, 0)) })
	}
}

// Recv returns the caller's next 20 ms of audio or key.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	for {
		if err := c.ended(); err != nil {
			return telephony.Input{}, err
		}
		if c.asm.Next(&c.frame) {
			return telephony.Input{Frame: &c.frame}, nil
		}
		c.watch(ctx)
		typ, r, err := c.conn.NextReader()
		if err == nil {
			c.rbuf, err = readAll(c.rbuf[:0], r)
		}
		if err != nil {
			return telephony.Input{}, c.readFailed(ctx, err)
		}
		if typ == websocket.TextMessage {
			k, err := ParseControl(c.rbuf)
			if err != nil {
				return telephony.Input{}, c.protocolError(err)
			}
			if k != 0 {
				return telephony.Input{Digit: k}, nil
			}
			continue
		}
		if len(c.rbuf)%2 != 0 {
			return telephony.Input{}, c.protocolError(fmt.Errorf("%w: audiofork: binary frame of %d bytes (L16 is 2 bytes a sample)", stream.ErrProtocol, len(c.rbuf)))
		}
		pcm, err := c.asm.Extend(len(c.rbuf) / 2)
		if err != nil {
			return telephony.Input{}, c.protocolError(err)
		}
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(c.rbuf[2*i:]))
		}
	}
}

// readAll reads r into dst's storage.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func (c *Call) readFailed(ctx context.Context, err error) error {
	if e := c.ended(); e != nil {
		return e
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		return c.protocolError(fmt.Errorf("%w: audiofork: %w", stream.ErrTooLarge, err))
	}
	c.peerGone.Store(true)
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("audiofork: websocket of call %s closed (%w): %w", c.info.ID, err, telephony.ErrHangup)
	}
	return fmt.Errorf("audiofork: reading call %s: %w", c.info.ID, err)
}

func (c *Call) protocolError(err error) error {
	code := websocket.CloseProtocolError
	if errors.Is(err, stream.ErrTooLarge) {
		code = websocket.CloseMessageTooBig
	}
	c.wmu.Lock()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "parole: protocol error"), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.peerGone.Store(true)
	return fmt.Errorf("audiofork: call %s: %w", c.info.ID, err)
}

// Send plays one frame (20 ms or less at the call's rate); it returns once
// the leg's queue has room for the next one.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if err := c.ended(); err != nil {
		return err
	}
	if err := c.out.Send(ctx, f); err != nil {
		if e := c.ended(); e != nil {
			return e
		}
		return fmt.Errorf("audiofork: call %s: %w", c.info.ID, err)
	}
	return nil
}

func (c *Call) writeFrame(f *media.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.mode == ModePlayAudio {
		for _, v := range f.Samples {
			c.pending = binary.LittleEndian.AppendUint16(c.pending, uint16(v))
		}
		c.nframes++
		if c.nframes >= c.chunk {
			return c.flushLocked()
		}
		return nil
	}
	c.wbuf = c.wbuf[:0]
	for _, v := range f.Samples {
		c.wbuf = binary.LittleEndian.AppendUint16(c.wbuf, uint16(v))
	}
	return c.write(websocket.BinaryMessage, c.wbuf)
}

func (c *Call) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

// flushLocked sends the pending audio as one playAudio; c.wmu is held.
func (c *Call) flushLocked() error {
	if len(c.pending) == 0 {
		return nil
	}
	c.wbuf = append(c.wbuf[:0], `{"type":"playAudio","data":{"audioContentType":"raw","sampleRate":`...)
	c.wbuf = strconv.AppendInt(c.wbuf, int64(c.info.Rate), 10)
	c.wbuf = append(c.wbuf, `,"audioContent":"`...)
	c.wbuf = base64.StdEncoding.AppendEncode(c.wbuf, c.pending)
	c.wbuf = append(c.wbuf, `"}}`...)
	c.pending, c.nframes = c.pending[:0], 0
	return c.write(websocket.TextMessage, c.wbuf)
}

// write sends one message; c.wmu is held.
func (c *Call) write(typ int, b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.conn.WriteMessage(typ, b)
}

// Clear drops the queued audio (and, in ModePlayAudio, the chunk being
// gathered) and sends killAudio, which stops what the peer is playing.
func (c *Call) Clear(ctx context.Context) error {
	if err := c.ended(); err != nil {
		return err
	}
	c.out.Clear()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pending, c.nframes = c.pending[:0], 0
	if err := c.write(websocket.TextMessage, []byte(`{"type":"killAudio"}`)); err != nil {
		return fmt.Errorf("audiofork: sending killAudio: %w", err)
	}
	return nil
}

// SendDTMF plays the keys in band: 100 ms dual tones with 100 ms gaps.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	return stream.DTMFTones(ctx, c.info.Rate, digits, c.Send)
}

// Transfer returns an error wrapping telephony.ErrUnsupported.
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	return fmt.Errorf("audiofork: transfer to %s: %w", target, telephony.ErrUnsupported)
}

// Hangup sends disconnect (jambonz ends the listen verb; mod_audio_fork
// raises its disconnect event), closes the websocket and stops the leg.
// It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.once.Do(func() {
		close(c.done)
		if !c.peerGone.Load() {
			c.wmu.Lock()
			if err := c.write(websocket.TextMessage, []byte(`{"type":"disconnect"}`)); err != nil {
				c.hangupErr = fmt.Errorf("audiofork: sending disconnect: %w", err)
			}
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "parole: hangup"), time.Now().Add(time.Second))
			c.wmu.Unlock()
		}
		if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) && c.hangupErr == nil {
			c.hangupErr = err
		}
		c.out.Close(telephony.ErrHangup)
	})
	return c.hangupErr
}

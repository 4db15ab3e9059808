package audiosocket

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
)

// Defaults for the zero values of Config.
const (
	DefaultListen        = "127.0.0.1:9092"
	DefaultMaxCalls      = 100
	DefaultMaxAudioBytes = 8000 // 0.5 s of slin at 8 kHz
	DefaultUUIDTimeout   = 5 * time.Second
)

const (
	rate         = media.Rate8k
	frameSamples = rate / 50
	writeTimeout = 5 * time.Second
)

// Config configures a [Server].
type Config struct {
	// Listen is the TCP address Asterisk connects to ("host:port"; port 0
	// picks one, [Server.Addr] tells which). Default DefaultListen.
	Listen string `yaml:"listen"`
	// MaxCalls is how many connections run at once; more are closed at
	// once (after an error frame). Default DefaultMaxCalls.
	MaxCalls int `yaml:"max_calls"`
	// MaxAudioBytes bounds the payload of one audio frame; a larger one is
	// a protocol error. Default DefaultMaxAudioBytes.
	MaxAudioBytes int `yaml:"max_audio_bytes"`
	// UUIDTimeout bounds the wait for the UUID frame after the connection.
	// Default DefaultUUIDTimeout.
	UUIDTimeout time.Duration `yaml:"uuid_timeout"`
	// OnCall runs each call once its UUID came. Required.
	OnCall stream.OnCall `yaml:"-"`
	// Logger gets the server's logs; nil discards them.
	Logger *slog.Logger `yaml:"-"`

	unpaced bool // benchmarks
}

// Server accepts AudioSocket connections, one call each.
type Server struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener

	mu      sync.Mutex
	active  int
	closing bool
	calls   sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// Listen checks cfg and binds its TCP address.
func Listen(cfg Config) (*Server, error) {
	if cfg.OnCall == nil {
		return nil, fmt.Errorf("%w: audiosocket: OnCall is required", stream.ErrConfig)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.MaxAudioBytes == 0 {
		cfg.MaxAudioBytes = DefaultMaxAudioBytes
	}
	if cfg.UUIDTimeout == 0 {
		cfg.UUIDTimeout = DefaultUUIDTimeout
	}
	if cfg.MaxCalls < 0 || cfg.MaxAudioBytes < 2*frameSamples || cfg.MaxAudioBytes > 65535 || cfg.UUIDTimeout < 0 {
		return nil, fmt.Errorf("%w: audiosocket: max_calls %d, max_audio_bytes %d (320-65535), uuid_timeout %v",
			stream.ErrConfig, cfg.MaxCalls, cfg.MaxAudioBytes, cfg.UUIDTimeout)
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("%w: audiosocket: listen %q: %w", stream.ErrConfig, cfg.Listen, err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("audiosocket: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log, ln: ln}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Active returns the number of connections being served.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Serve accepts connections until ctx is done, then stops accepting,
// cancels the context of the running OnCall handlers (each call is hung up:
// a hangup frame, then the socket closed) and waits for them. It returns
// nil after a shutdown by ctx.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	var err error
	for {
		conn, aerr := s.ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil && !errors.Is(aerr, net.ErrClosed) {
				err = fmt.Errorf("audiosocket: accept: %w", aerr)
			}
			break
		}
		s.mu.Lock()
		if s.closing || s.active >= s.cfg.MaxCalls {
			s.mu.Unlock()
			s.log.Warn("audiosocket: connection refused: busy", "remote", conn.RemoteAddr())
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte{byte(KindError), 0, 1, ErrorFrame})
			conn.Close()
			continue
		}
		s.active++
		s.calls.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	s.calls.Wait()
	s.ln.Close()
	return err
}

func (s *Server) serveConn(conn net.Conn) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		s.calls.Done()
	}()
	br := bufio.NewReaderSize(conn, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.UUIDTimeout))
	f, _, err := ReadFrame(br, make([]byte, 16), s.cfg.MaxAudioBytes)
	if err == nil && f.Kind != KindUUID {
		err = fmt.Errorf("%w: audiosocket: first frame %#02x, want the UUID", stream.ErrProtocol, byte(f.Kind))
	}
	if err != nil {
		s.log.Info("audiosocket: connection refused", "remote", conn.RemoteAddr(), "err", err)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	c, err := newCall(conn, br, FormatUUID(f.Payload), s.cfg.MaxAudioBytes, s.cfg.unpaced)
	if err != nil {
		s.log.Error("audiosocket: call", "err", err)
		return
	}
	s.log.Info("audiosocket: call", "uuid", c.info.ID, "remote", conn.RemoteAddr())
	s.cfg.OnCall(s.ctx, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		s.log.Info("audiosocket: hangup", "uuid", c.info.ID, "err", err)
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
}

// Call is one AudioSocket connection, a [telephony.Call]. Recv reads the
// socket: audio frames cut into 20 ms frames of 8 kHz, DTMF frames as
// keys; a hangup frame, an error frame or the socket closing is
// telephony.ErrHangup; a malformed frame closes the connection and is an
// error wrapping stream.ErrProtocol. Send paces 20 ms slin frames out
// through a two-frame queue; Clear drops that queue (Asterisk buffers
// nothing more). Hangup sends a hangup frame and closes the socket.
type Call struct {
	info     telephony.Info
	conn     net.Conn
	br       *bufio.Reader
	maxAudio int

	done      chan struct{}
	once      sync.Once
	hangupErr error
	peerGone  atomic.Bool

	// Recv goroutine only.
	rbuf        []byte
	asm         *stream.Assembler
	frame       media.Frame
	watchedDone <-chan struct{}
	stopWatch   func() bool

	out  *stream.Out
	wmu  sync.Mutex
	wbuf []byte
}

func newCall(conn net.Conn, br *bufio.Reader, id string, maxAudio int, unpaced bool) (*Call, error) {
	c := &Call{
		info: telephony.Info{ID: id, Channel: "audiosocket", Rate: rate},
		conn: conn, br: br, maxAudio: maxAudio,
		done:  make(chan struct{}),
		rbuf:  make([]byte, 0, 2*frameSamples),
		asm:   stream.NewAssembler(rate, maxAudio),
		frame: media.Frame{Samples: make([]int16, frameSamples), Rate: rate},
		wbuf:  make([]byte, 0, HeaderSize+2*frameSamples),
	}
	var err error
	c.out, err = stream.NewOut(stream.OutConfig{Rate: rate, Write: c.writeFrame, Unpaced: unpaced})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Info describes the call: ID is the UUID Asterisk sent (AudioSocket
// carries no caller or called number), Channel "audiosocket", Rate 8000.
func (c *Call) Info() telephony.Info { return c.info }

// Stats returns the outbound queue's counters.
func (c *Call) Stats() stream.OutStats { return c.out.Stats() }

func (c *Call) ended() error {
	select {
	case <-c.done:
		return fmt.Errorf("audiosocket: call %s hung up: %w", c.info.ID, telephony.ErrHangup)
	default:
	}
	if c.peerGone.Load() {
		return fmt.Errorf("audiosocket: call %s ended by Asterisk: %w", c.info.ID, telephony.ErrHangup)
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

// Recv returns the caller's next 20 ms of audio or key. Cancelling ctx while
// it waits ends the call's input.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	for {
		if err := c.ended(); err != nil {
			return telephony.Input{}, err
		}
		if c.asm.Next(&c.frame) {
			return telephony.Input{Frame: &c.frame}, nil
		}
		c.watch(ctx)
		var f Frame
		var err error
		f, c.rbuf, err = ReadFrame(c.br, c.rbuf, c.maxAudio)
		if err != nil {
			return telephony.Input{}, c.readFailed(ctx, err)
		}
		switch f.Kind {
		case KindSlin:
			pcm, err := c.asm.Extend(len(f.Payload) / 2)
			if err != nil {
				return telephony.Input{}, c.protocolError(err)
			}
			for i := range pcm {
				pcm[i] = int16(uint16(f.Payload[2*i]) | uint16(f.Payload[2*i+1])<<8)
			}
		case KindDTMF:
			return telephony.Input{Digit: rune(f.Payload[0])}, nil
		case KindHangup:
			c.peerGone.Store(true)
			return telephony.Input{}, c.ended()
		case KindError:
			c.peerGone.Store(true)
			code := -1
			if len(f.Payload) > 0 {
				code = int(f.Payload[0])
			}
			return telephony.Input{}, fmt.Errorf("audiosocket: call %s: Asterisk error code %d: %w", c.info.ID, code, telephony.ErrHangup)
		case KindUUID:
			return telephony.Input{}, c.protocolError(fmt.Errorf("%w: audiosocket: a second UUID frame", stream.ErrProtocol))
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
	if errors.Is(err, stream.ErrProtocol) {
		return c.protocolError(err)
	}
	c.peerGone.Store(true)
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("audiosocket: call %s: connection closed: %w", c.info.ID, telephony.ErrHangup)
	}
	return fmt.Errorf("audiosocket: call %s: %w: %w", c.info.ID, err, telephony.ErrHangup)
}

// protocolError sends an error frame and closes the connection.
func (c *Call) protocolError(err error) error {
	c.peerGone.Store(true)
	c.wmu.Lock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.conn.Write([]byte{byte(KindError), 0, 1, ErrorFrame})
	c.wmu.Unlock()
	c.conn.Close()
	return fmt.Errorf("audiosocket: call %s: %w", c.info.ID, err)
}

// Send plays one frame (1 to 160 samples at 8000 Hz); it returns once the
// leg's queue has room for the next one.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if err := c.ended(); err != nil {
		return err
	}
	if err := c.out.Send(ctx, f); err != nil {
		if e := c.ended(); e != nil {
			return e
		}
		return fmt.Errorf("audiosocket: call %s: %w", c.info.ID, err)
	}
	return nil
}

func (c *Call) writeFrame(f *media.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = AppendSlin(c.wbuf[:0], f.Samples)
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.conn.Write(c.wbuf)
	return err
}

// Clear drops the queued audio (barge-in).
func (c *Call) Clear(ctx context.Context) error {
	if err := c.ended(); err != nil {
		return err
	}
	c.out.Clear()
	return nil
}

// SendDTMF plays the keys in band (AudioSocket carries DTMF only from
// Asterisk): 100 ms dual tones with 100 ms gaps.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	return stream.DTMFTones(ctx, rate, digits, c.Send)
}

// Transfer returns an error wrapping telephony.ErrUnsupported: the dialplan
// decides what follows AudioSocket().
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	return fmt.Errorf("audiosocket: transfer to %s: %w", target, telephony.ErrUnsupported)
}

// Hangup sends a hangup frame (unless Asterisk already ended the call) and
// closes the connection. It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.once.Do(func() {
		close(c.done)
		if !c.peerGone.Load() {
			c.wmu.Lock()
			_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.conn.Write([]byte{byte(KindHangup), 0, 0}); err != nil {
				c.hangupErr = fmt.Errorf("audiosocket: sending hangup: %w", err)
			}
			c.wmu.Unlock()
		}
		if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) && c.hangupErr == nil {
			c.hangupErr = err
		}
		c.out.Close(telephony.ErrHangup)
	})
	return c.hangupErr
}

package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/stream"
)

const (
	rate         = media.Rate8k
	frameSamples = rate / 50
	writeTimeout = 5 * time.Second
	// markPrefix starts the names of the marks the leg sends:
	// "parole-<generation>-<milliseconds played>".
	markPrefix = "parole-"
)

// Call is one bidirectional Media Stream, a [telephony.Call]. Recv reads the
// websocket: it returns the caller's μ-law audio decoded and cut into 20 ms
// frames, as Twilio sends it (every 20 ms), and the keys of dtmf messages;
// a stop message or the websocket closing is telephony.ErrHangup, a message
// the protocol does not allow (bad JSON or base64, an unknown event, a second
// start) closes the stream and is an error wrapping stream.ErrProtocol.
// Send paces the bot's frames out as media messages on a 20 ms schedule
// through a two-frame queue; a mark follows every MarkEvery frames and the
// end of each run of audio, and Twilio echoing it tells what the caller
// heard ([Call.Played]). Clear drops the queue and sends clear, which
// empties Twilio's own buffer.
type Call struct {
	info      telephony.Info
	start     StartObject
	sid       string // the stream SID as a JSON string
	conn      *websocket.Conn
	markEvery int

	done      chan struct{}
	once      sync.Once
	hangupErr error
	peerGone  atomic.Bool // stop received or websocket closed

	// Recv goroutine only.
	msg         Message
	rbuf        bytes.Buffer
	payload     []byte
	asm         *stream.Assembler
	frame       media.Frame
	watchedDone <-chan struct{}
	stopWatch   func() bool

	out *stream.Out

	wmu   sync.Mutex // websocket writes
	wbuf  []byte
	ulaw  []byte
	gen   atomic.Int64 // incremented by Clear; marks name their generation
	sent  int64        // ms of audio written
	since int          // frames written since the last mark

	played   atomic.Int64 // ms, from the last echoed mark of the current generation
	received atomic.Int64 // media messages received
}

func newCall(conn *websocket.Conn, start StartObject, markEvery int, maxMessage int64, unpaced bool) (*Call, error) {
	sid, err := json.Marshal(start.StreamSid)
	if err != nil {
		return nil, err
	}
	id := start.CallSid
	if id == "" {
		id = start.StreamSid
	}
	c := &Call{
		info: telephony.Info{
			ID: id, Channel: "twilio", Rate: rate,
			From: start.CustomParameters["From"], To: start.CustomParameters["To"],
		},
		start: start, sid: string(sid), conn: conn, markEvery: markEvery,
		done:  make(chan struct{}),
		asm:   stream.NewAssembler(rate, int(maxMessage)),
		frame: media.Frame{Samples: make([]int16, frameSamples), Rate: rate},
		wbuf:  make([]byte, 0, 512), ulaw: make([]byte, 0, frameSamples),
	}
	c.out, err = stream.NewOut(stream.OutConfig{Rate: rate, Write: c.writeFrame, Drained: c.writeMark, Unpaced: unpaced})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Info describes the call: ID is the CallSid, Channel "twilio", From and To
// the "From" and "To" custom parameters (the TwiML endpoint sets them from
// the voice webhook), Rate 8000.
func (c *Call) Info() telephony.Info { return c.info }

// Start returns the stream's start message: StreamSid, AccountSid, CallSid,
// tracks and custom parameters.
func (c *Call) Start() StartObject { return c.start }

// Played returns how much of the bot's audio Twilio reported played, from
// the marks it echoed. Marks Twilio flushes on a clear are not counted, nor
// those in flight when Clear was called, so after a barge-in this is a lower
// bound.
func (c *Call) Played() time.Duration {
	return time.Duration(c.played.Load()) * time.Millisecond
}

// Stats returns the outbound queue's counters (frames written, cleared,
// late).
func (c *Call) Stats() stream.OutStats { return c.out.Stats() }

func (c *Call) ended() error {
	select {
	case <-c.done:
		return fmt.Errorf("twilio: call %s hung up: %w", c.info.ID, telephony.ErrHangup)
	default:
	}
	if c.peerGone.Load() {
		return fmt.Errorf("twilio: stream of call %s stopped: %w", c.info.ID, telephony.ErrHangup)
	}
	return nil
}

// watch makes ctx's end interrupt a blocked read; a new AfterFunc is
// registered only when ctx changes.
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

// read reads the next websocket message into c.rbuf.
func (c *Call) read() error {
	typ, r, err := c.conn.NextReader()
	if err != nil {
		return err
	}
	c.rbuf.Reset()
	if _, err := c.rbuf.ReadFrom(r); err != nil {
		return err
	}
	if typ != websocket.TextMessage {
		return fmt.Errorf("%w: twilio: binary message", stream.ErrProtocol)
	}
	return nil
}

// Recv returns the caller's next 20 ms of audio or key. Cancelling ctx while
// it waits ends the stream's input: the call is over.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	for {
		if err := c.ended(); err != nil {
			return telephony.Input{}, err
		}
		if c.asm.Next(&c.frame) {
			c.frame.Time = time.Time{}
			return telephony.Input{Frame: &c.frame}, nil
		}
		c.watch(ctx)
		err := c.read()
		if err == nil {
			err = Parse(c.rbuf.Bytes(), &c.msg)
		}
		if err != nil {
			return telephony.Input{}, c.readFailed(ctx, err)
		}
		m := &c.msg
		switch m.Event {
		case EventMedia:
			if m.Media.Track != "" && m.Media.Track != "inbound" {
				continue // only the caller's track is heard
			}
			c.received.Add(1)
			if c.payload, err = DecodePayload(c.payload, m.Media.Payload); err != nil {
				return telephony.Input{}, c.protocolError(err)
			}
			pcm, err := c.asm.Extend(len(c.payload))
			if err != nil {
				return telephony.Input{}, c.protocolError(err)
			}
			g711.DecodeUlaw(pcm[:0], c.payload)
		case EventDTMF:
			return telephony.Input{Digit: rune(m.DTMF.Digit[0])}, nil
		case EventMark:
			c.onMark(m.Mark.Name)
		case EventStop:
			c.peerGone.Store(true)
			return telephony.Input{}, c.ended()
		default: // connected or start again
			return telephony.Input{}, c.protocolError(fmt.Errorf("%w: twilio: %s message during the stream", stream.ErrProtocol, m.Event))
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
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		c.peerGone.Store(true)
		return fmt.Errorf("twilio: websocket of call %s closed (%w): %w", c.info.ID, err, telephony.ErrHangup)
	case errors.Is(err, websocket.ErrReadLimit):
		return c.protocolError(fmt.Errorf("%w: twilio: %w", stream.ErrTooLarge, err))
	case errors.Is(err, stream.ErrProtocol):
		return c.protocolError(err)
	}
	c.peerGone.Store(true)
	return fmt.Errorf("twilio: reading call %s: %w", c.info.ID, err)
}

// protocolError closes the websocket with a close frame saying why.
func (c *Call) protocolError(err error) error {
	code := websocket.CloseProtocolError
	if errors.Is(err, stream.ErrTooLarge) {
		code = websocket.CloseMessageTooBig
	}
	c.closeWith(code, "parole: protocol error")
	c.peerGone.Store(true)
	return fmt.Errorf("twilio: call %s: %w", c.info.ID, err)
}

// onMark takes an echoed mark of the leg's own naming.
func (c *Call) onMark(name string) {
	rest, ok := strings.CutPrefix(name, markPrefix)
	if !ok {
		return
	}
	g, ms, ok := strings.Cut(rest, "-")
	if !ok {
		return
	}
	gen, err1 := strconv.ParseInt(g, 10, 64)
	pos, err2 := strconv.ParseInt(ms, 10, 64)
	if err1 != nil || err2 != nil || gen != c.gen.Load() {
		return
	}
	if pos > c.played.Load() {
		c.played.Store(pos)
	}
}

// Send plays one frame (1 to 160 samples at 8000 Hz) to the caller; it
// returns once the leg's queue has room for the next one.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if err := c.ended(); err != nil {
		return err
	}
	if err := c.out.Send(ctx, f); err != nil {
		if e := c.ended(); e != nil {
			return e
		}
		return fmt.Errorf("twilio: call %s: %w", c.info.ID, err)
	}
	return nil
}

// writeFrame is the Out's writer: one media message, and a mark every
// markEvery frames.
func (c *Call) writeFrame(f *media.Frame) error {
	c.ulaw = g711.EncodeUlaw(c.ulaw[:0], f.Samples)
	c.sent += int64(f.Duration() / time.Millisecond)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendMedia(c.wbuf[:0], c.sid, c.ulaw)
	if err := c.write(c.wbuf); err != nil {
		return err
	}
	c.since++
	if c.markEvery > 0 && c.since >= c.markEvery {
		return c.markLocked()
	}
	return nil
}

// writeMark sends a mark at the end of a run of audio.
func (c *Call) writeMark() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.since == 0 {
		return nil
	}
	return c.markLocked()
}

func (c *Call) markLocked() error {
	c.since = 0
	c.wbuf = appendMark(c.wbuf[:0], c.sid, c.gen.Load(), c.sent)
	return c.write(c.wbuf)
}

// write sends one text message; c.wmu is held.
func (c *Call) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

// Clear drops the queued audio and sends clear, so that Twilio drops the
// audio it buffers too (barge-in).
func (c *Call) Clear(ctx context.Context) error {
	if err := c.ended(); err != nil {
		return err
	}
	c.out.Clear()
	c.gen.Add(1)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.since = 0
	c.wbuf = appendClear(c.wbuf[:0], c.sid)
	if err := c.write(c.wbuf); err != nil {
		return fmt.Errorf("twilio: sending clear: %w", err)
	}
	return nil
}

// SendDTMF plays the keys in band (Media Streams carry no DTMF towards the
// caller): 100 ms dual tones with 100 ms gaps, through the paced queue.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	return stream.DTMFTones(ctx, rate, digits, c.Send)
}

// Transfer returns an error wrapping telephony.ErrUnsupported: a Media
// Stream cannot redirect its call (the REST API can).
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	return fmt.Errorf("twilio: transfer to %s: %w", target, telephony.ErrUnsupported)
}

func (c *Call) closeWith(code int, text string) {
	c.wmu.Lock()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
}

// Hangup ends the stream: it closes the websocket (with a normal closure
// unless the peer already left), which ends the <Connect> verb; with no TwiML
// after it Twilio hangs up the call. It is safe to call more than once.
func (c *Call) Hangup(ctx context.Context) error {
	c.once.Do(func() {
		close(c.done)
		if !c.peerGone.Load() {
			c.closeWith(websocket.CloseNormalClosure, "parole: hangup")
		}
		if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) { // unblocks Recv and the writer
			c.hangupErr = err
		}
		c.out.Close(telephony.ErrHangup)
	})
	if c.hangupErr != nil {
		return fmt.Errorf("twilio: hangup: %w", c.hangupErr)
	}
	return nil
}

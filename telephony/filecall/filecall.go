// Package filecall is a [telephony.Call] leg over in-memory audio or WAV
// files: the synthetic call of the voice session's tests and of
// `parole call`.
//
// The caller's side is scripted: optional leading silence, the input samples
// (resampled to the leg's rate), then silence for Config.Tail before the
// caller hangs up, plus DTMF keys at given times. Recv delivers it as 20 ms
// frames as fast as it is asked for: the leg runs on its own timeline, not
// on the wall clock.
//
// The bot's side is placed on the same timeline in lockstep: the frame sent
// while input up to time t has been delivered is played at slot t, and Send
// of the frame for slot t waits until the input of slot t has been
// delivered, so a file call plays out exactly as a live call would, only
// faster, and barge-in timing is measured in frames without wall-clock
// sleeps. A Send that comes late (the bot was thinking) is placed at the
// current slot, leaving silence behind it, as on a live line.
//
// Clear, SendDTMF, Transfer and Hangup are recorded with their place on the
// timeline ([Call.Actions]); the bot's audio can be read back ([Call.Output])
// or written as a mono WAV file ([Call.WriteWAV]).
package filecall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/telephony"
)

// DefaultTail is the silence delivered after the input before the caller
// hangs up, when Config.Tail is zero.
const DefaultTail = 10 * time.Second

// ErrConfig is wrapped by the errors of [New] for a configuration it cannot
// use.
var ErrConfig = errors.New("filecall: invalid configuration")

// Key is a DTMF key the caller presses at a given time of the call.
type Key struct {
	// At is the time from the start of the call.
	At time.Duration
	// Digit is one of "0123456789*#ABCD".
	Digit rune
}

// Config describes a file call.
type Config struct {
	// Rate is the leg's sample rate in Hz; zero means 8000.
	Rate int
	// Input is the caller's audio at InputRate (resampled to Rate).
	Input []int16
	// InputRate is the sample rate of Input; zero means Rate.
	InputRate int
	// Lead is silence before Input starts.
	Lead time.Duration
	// AfterPrompt, when positive, holds Input (and Lead) back until the
	// bot has played some audio and then sent nothing for AfterPrompt: a
	// caller who waits for the greeting to end before speaking.
	AfterPrompt time.Duration
	// Tail is the silence after Input before the caller hangs up; zero means
	// DefaultTail, negative means the caller never hangs up (the call lasts
	// until Hangup or MaxDuration).
	Tail time.Duration
	// MaxDuration ends the call (Recv returns ErrHangup) after this much
	// audio whatever happens; zero means 10 minutes.
	MaxDuration time.Duration
	// Keys are the DTMF keys pressed, delivered by Recv as their time comes.
	Keys []Key
	// ID, From and To fill Info; ID defaults to "file".
	ID, From, To string
}

// ActionKind names what the bot did to the call besides sending audio.
type ActionKind string

// Action kinds recorded by the leg.
const (
	ActionClear    ActionKind = "clear"
	ActionDTMF     ActionKind = "dtmf"
	ActionTransfer ActionKind = "transfer"
	ActionHangup   ActionKind = "hangup"
)

// Action is one call control the bot used, with its place on the timeline.
type Action struct {
	Kind ActionKind
	// At is the input time delivered when the action was taken.
	At time.Duration
	// Target is the transfer target, Digits the DTMF keys sent.
	Target, Digits string
	// Bridge is the transfer's bridge flag.
	Bridge bool
}

// Call is a file call leg. It implements [telephony.Call]; Recv is called by
// one goroutine, the other methods by any.
type Call struct {
	info   telephony.Info
	frameN int
	input  []int16 // caller audio at rate, lead included
	total  int     // frames of input and tail after the input starts; <0 never
	max    int     // hard bound in frames
	wait   int     // AfterPrompt in frames, 0 for none
	keys   []Key

	frame media.Frame // returned by Recv

	mu       sync.Mutex
	in       int           // frames delivered
	keyIdx   int           // next key to deliver
	progress chan struct{} // closed and replaced when in grows or the call ends, if waited on
	waiters  int           // Sends waiting on progress
	out      []int16       // the bot's audio on the timeline
	nextOut  int           // next slot Send plays at
	actions  []Action
	hungUp   bool
	callerUp bool // caller hung up (input over)
	sent     int  // frames sent
	lastSent int  // slot of the last frame sent
	start    int  // frame the input starts at; -1 while waiting for the prompt
}

// New returns a file call for cfg.
func New(cfg Config) (*Call, error) {
	rate := cfg.Rate
	if rate == 0 {
		rate = media.Rate8k
	}
	if rate < 1000 || rate%50 != 0 {
		return nil, fmt.Errorf("%w: rate %d Hz (want a multiple of 50)", ErrConfig, rate)
	}
	inRate := cfg.InputRate
	if inRate == 0 {
		inRate = rate
	}
	input := cfg.Input
	if inRate != rate && len(input) > 0 {
		r, err := resample.New(inRate, rate, resample.Medium)
		if err != nil {
			return nil, fmt.Errorf("%w: input rate: %w", ErrConfig, err)
		}
		out := r.Process(make([]int16, 0, resample.OutputLen(inRate, rate, len(input))+r.Delay()), input)
		out = r.Flush(out)
		input = out[r.Delay():]
	}
	if cfg.Lead < 0 {
		return nil, fmt.Errorf("%w: negative lead %v", ErrConfig, cfg.Lead)
	}
	lead := int(cfg.Lead * time.Duration(rate) / time.Second)
	all := make([]int16, lead+len(input))
	copy(all[lead:], input)
	c := &Call{
		info:     telephony.Info{ID: cfg.ID, Channel: "file", From: cfg.From, To: cfg.To, Rate: rate},
		frameN:   media.SamplesPerFrame(rate),
		input:    all,
		progress: make(chan struct{}),
	}
	if c.info.ID == "" {
		c.info.ID = "file"
	}
	maxD := cfg.MaxDuration
	if maxD <= 0 {
		maxD = 10 * time.Minute
	}
	c.max = int(maxD / media.FrameDuration)
	tail := cfg.Tail
	if tail == 0 {
		tail = DefaultTail
	}
	inFrames := (len(all) + c.frameN - 1) / c.frameN
	if tail < 0 {
		c.total = -1
	} else {
		c.total = inFrames + int((tail+media.FrameDuration-1)/media.FrameDuration)
	}
	if cfg.AfterPrompt > 0 {
		c.wait = int((cfg.AfterPrompt + media.FrameDuration - 1) / media.FrameDuration)
		c.start = -1
	}
	for _, k := range cfg.Keys {
		if !isKey(k.Digit) {
			return nil, fmt.Errorf("%w: DTMF key %q", ErrConfig, k.Digit)
		}
		if k.At < 0 {
			return nil, fmt.Errorf("%w: DTMF key at %v", ErrConfig, k.At)
		}
	}
	c.keys = append([]Key(nil), cfg.Keys...)
	sort.SliceStable(c.keys, func(i, j int) bool { return c.keys[i].At < c.keys[j].At })
	c.frame.Samples = make([]int16, c.frameN)
	c.frame.Rate = rate
	return c, nil
}

// Open returns a file call whose caller says the WAV file at path (any rate
// and format media/wav reads), with cfg for the rest (cfg.Input and
// cfg.InputRate are replaced).
func Open(path string, cfg Config) (*Call, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("filecall: %w", err)
	}
	defer f.Close()
	samples, rate, err := wav.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("filecall: %s: %w", path, err)
	}
	cfg.Input, cfg.InputRate = samples, rate
	return New(cfg)
}

func isKey(r rune) bool {
	return r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D'
}

// Info describes the call; Channel is "file".
func (c *Call) Info() telephony.Info { return c.info }

// Lockstep reports true: the leg's time is its own, not the wall clock's.
// The voice session then plays one frame per frame received and counts the
// engines' time as none.
func (c *Call) Lockstep() bool { return true }

// Recv returns the next 20 ms of the caller's audio, or a DTMF key whose
// time has come (before the frame that holds it). After the tail, or once
// Hangup was called, it returns an error wrapping telephony.ErrHangup.
// The frame stays valid until the next Recv.
func (c *Call) Recv(ctx context.Context) (telephony.Input, error) {
	if err := ctx.Err(); err != nil {
		return telephony.Input{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hungUp {
		return telephony.Input{}, fmt.Errorf("filecall: recv: %w", telephony.ErrHangup)
	}
	now := time.Duration(c.in) * media.FrameDuration
	if c.keyIdx < len(c.keys) && c.keys[c.keyIdx].At <= now {
		k := c.keys[c.keyIdx]
		c.keyIdx++
		return telephony.Input{Digit: k.Digit}, nil
	}
	if c.start < 0 && c.sent > 0 && c.in-c.lastSent > c.wait {
		c.start = c.in
	}
	if c.start >= 0 && c.total >= 0 && c.in-c.start >= c.total || c.in >= c.max {
		c.callerUp = true
		c.signal()
		return telephony.Input{}, fmt.Errorf("filecall: caller hung up at %v: %w", now, telephony.ErrHangup)
	}
	n := 0
	if c.start >= 0 {
		if start := (c.in - c.start) * c.frameN; start < len(c.input) {
			n = copy(c.frame.Samples, c.input[start:])
		}
	}
	clear(c.frame.Samples[n:])
	c.frame.Time = time.Time{}
	c.in++
	c.signal()
	return telephony.Input{Frame: &c.frame}, nil
}

// signal wakes the Sends waiting for input; c.mu is held. Without
// waiters it allocates nothing.
func (c *Call) signal() {
	if c.waiters == 0 {
		return
	}
	close(c.progress)
	c.progress = make(chan struct{})
	c.waiters = 0
}

// Send plays f at the next slot of the timeline: right after the previous
// frame sent, or at the current input time if that is later. It waits until
// the input of that slot has been delivered. f must hold at most 20 ms at
// the leg's rate.
func (c *Call) Send(ctx context.Context, f *media.Frame) error {
	if f == nil || len(f.Samples) > c.frameN {
		return fmt.Errorf("filecall: send: frame nil or longer than 20 ms")
	}
	if f.Rate != c.info.Rate {
		return fmt.Errorf("filecall: send: frame at %d Hz on a %d Hz call", f.Rate, c.info.Rate)
	}
	c.mu.Lock()
	slot := max(c.nextOut, c.in-1, 0)
	c.nextOut = slot + 1
	for c.in <= slot && !c.hungUp && !c.callerUp {
		ch := c.progress
		c.waiters++
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			c.mu.Lock()
			if c.nextOut == slot+1 {
				c.nextOut = slot
			}
			c.mu.Unlock()
			return ctx.Err()
		case <-ch:
		}
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if c.hungUp || c.callerUp {
		return fmt.Errorf("filecall: send: %w", telephony.ErrHangup)
	}
	end := (slot + 1) * c.frameN
	if len(c.out) < end {
		c.out = append(c.out, make([]int16, end-len(c.out))...)
	}
	copy(c.out[slot*c.frameN:end], f.Samples)
	c.sent++
	c.lastSent = slot
	return nil
}

func (c *Call) record(a Action) {
	c.mu.Lock()
	a.At = time.Duration(c.in) * media.FrameDuration
	c.actions = append(c.actions, a)
	c.mu.Unlock()
}

// Clear records the barge-in; a file leg buffers nothing to drop.
func (c *Call) Clear(ctx context.Context) error {
	c.record(Action{Kind: ActionClear})
	return nil
}

// SendDTMF records the keys.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	for _, r := range digits {
		if !isKey(r) {
			return fmt.Errorf("filecall: send DTMF %q: not a key", r)
		}
	}
	c.record(Action{Kind: ActionDTMF, Digits: digits})
	return nil
}

// Transfer records the transfer; the call then ends as if the caller left
// for the target (Recv returns ErrHangup).
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	if target == "" {
		return fmt.Errorf("filecall: transfer without a target")
	}
	c.record(Action{Kind: ActionTransfer, Target: target, Bridge: bridge})
	c.mu.Lock()
	c.hungUp = true
	c.signal()
	c.mu.Unlock()
	return nil
}

// Hangup ends the call; only the first call is recorded.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	done := c.hungUp
	c.mu.Unlock()
	if done {
		return nil
	}
	c.record(Action{Kind: ActionHangup})
	c.mu.Lock()
	c.hungUp = true
	c.signal()
	c.mu.Unlock()
	return nil
}

// Actions returns the call controls used so far, in order.
func (c *Call) Actions() []Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Action(nil), c.actions...)
}

// Output returns a copy of the bot's audio on the call's timeline: sample
// i was played at i/Rate seconds from the start of the call.
func (c *Call) Output() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.out...)
}

// InputStart returns when the caller's input (Lead included) started, and
// false while it waits for the prompt (Config.AfterPrompt).
func (c *Call) InputStart() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.start) * media.FrameDuration, c.start >= 0
}

// Elapsed returns how much input has been delivered.
func (c *Call) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.in) * media.FrameDuration
}

// FramesSent returns how many frames Send played.
func (c *Call) FramesSent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

// WriteWAV writes the bot's audio as a mono 16-bit PCM WAV file at the
// leg's rate, padded with silence to the length of the call so far.
func (c *Call) WriteWAV(w io.Writer) error {
	c.mu.Lock()
	out := append([]int16(nil), c.out...)
	if n := c.in * c.frameN; len(out) < n {
		out = append(out, make([]int16, n-len(out))...)
	}
	c.mu.Unlock()
	if err := wav.Encode(w, wav.PCM, c.info.Rate, out); err != nil {
		return fmt.Errorf("filecall: write WAV: %w", err)
	}
	return nil
}

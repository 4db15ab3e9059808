package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/media/vad"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/telephony"
)

type state int

const (
	stIdle      state = iota
	stPlaying         // a prompt plays
	stPaused          // speech over a prompt: playout stopped, not yet a barge-in
	stListening       // waiting for the caller's input
	stClosing         // the caller stopped: waiting for the final result
	stRecording       // the Record action
	stEnded
)

// action is what follows a prompt.
type action int

const (
	actGather action = iota
	actHangup
	actTransfer
	actRecord
	actEvent // send s.pending to the dialog (after the fallback)
)

type sttMsg struct {
	r   stt.Result
	err error
}

type recording struct {
	f     *os.File
	w     *wav.Writer
	path  string
	start time.Duration
	heard bool
}

type session struct {
	cfg      Config
	call     telephony.Call
	rate     int
	frameN   int
	rs       runner.Session
	log      *slog.Logger
	lockstep bool

	det      *vad.Detector
	vadRS    *resample.Resampler
	vadFrame media.Frame
	dtmfDet  *dtmf.Detector
	tones    []dtmf.Tone
	audio    time.Duration // call time: audio received
	outFrame *media.Frame
	playBuf  []int16

	state   state
	turn    int
	act     action
	gather  *dialog.Gather
	record  *dialog.Record
	target  string
	bridge  bool
	pending dialog.Event
	pl      *player

	// pre-roll: the caller's last frames while no stream is open, a ring
	pre     []media.Frame
	preAt   []time.Duration // call time at the start of each frame
	preNext int             // next slot to fill
	preLen  int             // frames held

	st       stt.Stream
	stRes    chan sttMsg
	stQuit   chan struct{}
	stDone   chan struct{}
	stClosed bool // CloseSend called
	stEOF    bool // the stream delivered its last result
	words    bool // words recognized since the prompt started

	heard       bool // speech since listening began
	uttStart    time.Duration
	turnStart   time.Duration
	digits      []byte
	lastDigit   time.Duration
	closeWait   time.Time // when CloseSend was called
	speechStart time.Duration
	lastSpeech  time.Duration
	heardMeta   string
	bargedIn    bool
	rec         *recording

	failures   int
	failReason string

	tr         *Trace
	trEndpoint time.Time
	summary    Summary

	ended     bool
	endReason string
	endSent   bool
}

// Run runs one voice session over call until the call ends (either side
// hangs up, or the call is transferred) or ctx is done. It returns nil when
// the call ended normally, ctx's error when it was cancelled, and an error
// for a Config it cannot use or a call leg that failed.
func Run(ctx context.Context, call telephony.Call, cfg Config) error {
	s, err := newSession(call, cfg)
	if err != nil {
		return err
	}
	return s.run(ctx)
}

func newSession(call telephony.Call, cfg Config) (*session, error) {
	if call == nil || cfg.Dialog == nil || cfg.Recognizer == nil || cfg.Synthesizer == nil {
		return nil, fmt.Errorf("%w: call, Dialog, Recognizer and Synthesizer are required", ErrConfig)
	}
	setDefault(&cfg.Language, DefaultLanguage)
	setDefault(&cfg.NoInput, DefaultNoInput)
	setDefault(&cfg.EndSilence, DefaultEndSilence)
	setDefault(&cfg.MaxUtterance, DefaultMaxUtterance)
	setDefault(&cfg.MinBargeIn, DefaultMinBargeIn)
	setDefault(&cfg.InterDigit, DefaultInterDigit)
	setDefault(&cfg.MaxFailures, DefaultMaxFailures)
	setDefault(&cfg.Fallback, DefaultFallback)
	setDefault(&cfg.ResultTimeout, DefaultResultTimeout)
	setDefault(&cfg.MaxRecord, DefaultMaxRecord)
	setDefault(&cfg.RecordSilence, DefaultRecordSilence)
	setDefault(&cfg.PreRoll, DefaultPreRoll)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	info := call.Info()
	if info.Rate < 1000 || info.Rate%50 != 0 {
		return nil, fmt.Errorf("%w: call rate %d Hz", ErrConfig, info.Rate)
	}
	s := &session{
		cfg: cfg, call: call, rate: info.Rate, frameN: media.SamplesPerFrame(info.Rate),
		log:      cfg.Logger.With("call", info.ID, "channel", info.Channel),
		outFrame: media.NewFrame(info.Rate),
		lockstep: cfg.Lockstep,
	}
	if l, ok := call.(interface{ Lockstep() bool }); ok && l.Lockstep() {
		s.lockstep = true
	}
	user := cfg.ChannelUserID
	if user == "" {
		user = info.From
	}
	s.rs = runner.Session{ConversationID: info.ID, Channel: info.Channel, ChannelUserID: user, Locale: cfg.Language, Voice: true}
	if s.rs.ConversationID == "" || s.rs.Channel == "" {
		return nil, fmt.Errorf("%w: the call has no id or channel", ErrConfig)
	}
	vc := cfg.VAD
	vc.Rate = info.Rate
	if info.Rate != media.Rate8k && info.Rate != media.Rate16k {
		rs, err := resample.New(info.Rate, media.Rate16k, resample.Medium)
		if err != nil {
			return nil, fmt.Errorf("%w: VAD resampler: %w", ErrConfig, err)
		}
		s.vadRS = rs
		vc.Rate = media.Rate16k
	}
	det, err := vad.New(vc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.det = det
	if n := int(cfg.PreRoll / (20 * time.Millisecond)); n > 0 {
		s.pre, s.preAt = make([]media.Frame, n), make([]time.Duration, n)
		for i := range s.pre {
			s.pre[i] = *media.NewFrame(info.Rate)
		}
	}
	if cfg.InbandDTMF {
		d, err := dtmf.NewDetector(dtmf.DetectorConfig{Rate: info.Rate})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.dtmfDet = d
	}
	return s, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func (s *session) run(ctx context.Context) error {
	defer s.cleanup()
	s.emit(Event{Kind: CallStarted})
	s.count("call")
	s.toDialog(ctx, dialog.Event{Type: dialog.EventStart}, "start")
	var err error
	for !s.ended {
		in, rerr := s.call.Recv(ctx)
		if rerr != nil {
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
				s.end(err.Error())
			case errors.Is(rerr, telephony.ErrHangup):
				s.end("caller hung up")
			default:
				s.emit(Event{Kind: Error, Engine: "call", Err: rerr})
				s.count("error_call")
				s.end("call failed")
				err = fmt.Errorf("session: %w", rerr)
			}
			break
		}
		if in.Digit != 0 {
			s.onDigit(ctx, in.Digit)
		}
		if in.Frame != nil && !s.ended {
			s.onFrame(ctx, in.Frame)
		}
		if !s.ended {
			s.poll(ctx)
		}
		if s.lockstep && in.Frame != nil && s.state == stPlaying && !s.ended {
			s.playStep(ctx)
		}
	}
	s.stopPlayer()
	s.closeSTT()
	if ctx.Err() == nil && !s.endSent {
		s.endSent = true
		if _, derr := s.cfg.Dialog.Handle(ctx, s.rs, dialog.Event{Type: dialog.EventEnd}); derr != nil {
			s.log.Warn("session: dialog end", "err", derr)
		}
	}
	sum := s.summary
	s.emit(Event{Kind: CallEnded, Reason: s.endReason, Summary: &sum})
	s.log.Debug("session: call ended", "reason", s.endReason, "turns", s.turn)
	return err
}

func (s *session) end(reason string) {
	if s.ended {
		return
	}
	if s.failReason != "" {
		reason = s.failReason
	}
	s.ended, s.endReason, s.state = true, reason, stEnded
}

func (s *session) cleanup() {
	s.stopPlayer()
	s.closeSTT()
	s.closeRecording()
}

func (s *session) emit(e Event) {
	if s.cfg.Observer == nil {
		return
	}
	e.At, e.Turn = s.audio, s.turn
	s.cfg.Observer.Observe(e)
}

func (s *session) count(what string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Count(what)
	}
}

// ---- dialog ----

// beginTrace starts the latency trace of the turn the caller just ended.
func (s *session) beginTrace(input string) {
	if s.tr == nil {
		s.tr = &Trace{Input: input}
		s.trEndpoint = time.Now()
	}
}

// toDialog sends ev to the dialog and plays its reply.
func (s *session) toDialog(ctx context.Context, ev dialog.Event, input string) {
	s.closeSTT()
	s.stopPlayer()
	s.state = stIdle
	if s.bargedIn {
		if ev.Metadata == nil {
			ev.Metadata = map[string]string{}
		}
		ev.Metadata["barge_in"] = "true"
		ev.Metadata["heard"] = s.heardMeta
		s.bargedIn, s.heardMeta = false, ""
	}
	s.beginTrace(input)
	s.tr.Turn = s.turn
	t0 := time.Now()
	reply, err := s.cfg.Dialog.Handle(ctx, s.rs, ev)
	s.tr.Dialog = time.Since(t0)
	s.turn++
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.fail(ctx, "dialog", err)
		return
	}
	s.emit(Event{Kind: Reply, Text: reply.Text(), Reply: &reply})
	s.startReply(ctx, reply)
}

func (s *session) startReply(ctx context.Context, reply dialog.Reply) {
	segs := segments(reply.Messages, s.cfg.AudioDir)
	s.gather, s.record = nil, nil
	switch {
	case reply.Hangup:
		s.act = actHangup
	case reply.Transfer != nil:
		s.act, s.target, s.bridge = actTransfer, reply.Transfer.Target, reply.Transfer.Bridge
	case reply.Record != nil:
		s.act, s.record = actRecord, reply.Record
		if reply.Record.Beep {
			segs = append(segs, segment{samples: tone(s.rate, 1000, 250*time.Millisecond, 8000)})
		}
	default:
		s.act = actGather
		s.gather = reply.Gather
		if s.gather == nil {
			s.gather = &dialog.Gather{Speech: true, BargeIn: true}
		}
	}
	s.play(ctx, segs)
}

// play starts the prompt segs; its action follows.
func (s *session) play(ctx context.Context, segs []segment) {
	s.stopPlayer()
	s.words = false
	if len(segs) == 0 {
		s.promptDone(ctx)
		return
	}
	if s.bargeable() && s.gather.Speech && s.st == nil {
		if err := s.openSTT(ctx); err != nil {
			s.fail(ctx, "stt", err)
			return
		}
	}
	s.pl = newPlayer(ctx, s, segs)
	s.state = stPlaying
	if !s.lockstep {
		s.startPlayout(ctx)
	}
}

// bargeable reports whether the caller may interrupt the current prompt.
func (s *session) bargeable() bool {
	return s.act == actGather && s.gather != nil && s.gather.BargeIn
}

// ---- playout ----

// startPlayout runs the player in its own goroutine (free-running legs).
func (s *session) startPlayout(ctx context.Context) {
	p := s.pl
	gctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	p.stop, p.done, p.err, p.finished = stop, done, nil, false
	f := s.outFrame
	call := s.call
	go func() {
		defer close(done)
		for gctx.Err() == nil {
			n, err := p.fill(f)
			if err != nil {
				p.err = err
				return
			}
			if n == 0 {
				p.finished = true
				return
			}
			if gctx.Err() != nil {
				return
			}
			if err := call.Send(gctx, f); err != nil {
				if gctx.Err() == nil {
					p.err = err
				}
				return
			}
			p.commit(n)
		}
	}()
}

// playStep plays one frame of the prompt (lockstep).
func (s *session) playStep(ctx context.Context) {
	n, err := s.pl.fill(s.outFrame)
	if err != nil {
		s.playFailed(ctx, err)
		return
	}
	if n == 0 {
		s.promptDone(ctx)
		return
	}
	if err := s.call.Send(ctx, s.outFrame); err != nil {
		if !errors.Is(err, telephony.ErrHangup) && ctx.Err() == nil {
			s.playFailed(ctx, err)
		}
		return
	}
	s.pl.commit(n)
	s.checkTrace(false)
}

func (s *session) playFailed(ctx context.Context, err error) {
	var se *errSegment
	switch {
	case errors.As(err, &se):
		s.fail(ctx, "tts", err)
	case errors.Is(err, telephony.ErrHangup) || ctx.Err() != nil:
		// Recv reports the end of the call.
	default:
		s.emit(Event{Kind: Error, Engine: "call", Err: err})
		s.count("error_call")
		s.promptDone(ctx)
	}
}

// stopPlayer drops the prompt, waiting for the playout goroutine.
func (s *session) stopPlayer() {
	p := s.pl
	if p == nil {
		return
	}
	p.cancel()
	if p.stop != nil {
		p.stop()
	}
	if p.done != nil {
		<-p.done
	}
	p.closeStream()
	s.playBuf = p.audio[:0]
	s.pl = nil
}

// reportFileErr reports an audio file of the prompt that could not be
// played (after the playout goroutine stopped).
func (s *session) reportFileErr() {
	if s.pl != nil && s.pl.fileErr != nil {
		s.emit(Event{Kind: Error, Engine: "audio", Err: s.pl.fileErr})
		s.count("error_audio")
		s.log.Warn("session: audio message not played", "err", s.pl.fileErr)
		s.pl.fileErr = nil
	}
}

// joinPlayer waits for the playout goroutine to stop (pause, barge-in).
func (s *session) joinPlayer() {
	if p := s.pl; p != nil && p.done != nil {
		if p.stop != nil {
			p.stop()
		}
		<-p.done
	}
}

// promptDone runs the action that follows a finished prompt.
func (s *session) promptDone(ctx context.Context) {
	if s.pl != nil && s.pl.failed != nil {
		s.log.Warn("session: fallback message could not be synthesized; played a tone", "err", s.pl.failed)
	}
	s.reportFileErr()
	s.checkTrace(true)
	s.stopPlayer()
	switch s.act {
	case actHangup:
		if err := s.call.Hangup(ctx); err != nil {
			s.emit(Event{Kind: Error, Engine: "call", Err: err})
		}
		s.end("bot hung up")
	case actTransfer:
		if err := s.call.Transfer(ctx, s.target, s.bridge); err != nil {
			s.emit(Event{Kind: Error, Engine: "call", Err: err})
			s.count("error_call")
			s.call.Hangup(ctx)
			s.end("transfer failed")
			return
		}
		s.end("transferred")
	case actRecord:
		s.startRecording(ctx)
	case actEvent:
		s.toDialog(ctx, s.pending, "error")
	default:
		s.listen(ctx)
	}
}

// checkTrace completes the pending trace once the first frame of the
// answer is played (or, with force, once the prompt is over).
func (s *session) checkTrace(force bool) {
	t := s.tr
	if t == nil {
		return
	}
	end := time.Now()
	if p := s.pl; p != nil {
		ff := p.firstFrame.Load()
		if ff == 0 && !force {
			return
		}
		if ff != 0 {
			end = time.Unix(0, ff)
		}
		if !p.synthStart.IsZero() && !p.firstAudio.IsZero() {
			t.TTS = p.firstAudio.Sub(p.synthStart)
			if ff != 0 {
				t.Playout = end.Sub(p.firstAudio)
			}
		}
	} else if !force {
		return
	}
	t.Total = end.Sub(s.trEndpoint)
	t.Overhead = max(0, t.Total-t.STT-t.Dialog-t.TTS)
	s.tr = nil
	s.summary.Add(*t)
	if m := s.cfg.Metrics; m != nil {
		for i, d := range t.stages() {
			m.ObserveStage(StageNames[i], d)
		}
		m.Count("turn")
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("session: turn latency", "turn", t.Turn, "input", t.Input, "endpointing", t.Endpointing,
			"stt", t.STT, "dialog", t.Dialog, "tts", t.TTS, "playout", t.Playout, "total", t.Total, "overhead", t.Overhead)
	}
	s.emit(Event{Kind: Latency, Trace: t})
}

// ---- listening ----

func (s *session) endSilence() time.Duration {
	if s.gather != nil && s.gather.EndSilence > 0 {
		return s.gather.EndSilence
	}
	return s.cfg.EndSilence
}

func (s *session) openSTT(ctx context.Context) error {
	g := s.gather
	lang := g.Language
	if lang == "" {
		lang = s.cfg.Language
	}
	c := stt.Config{Language: lang, SampleRate: s.rate, Hints: g.Hints, InterimResults: true,
		EndSilence: s.endSilence(), MaxAlternatives: 3}
	if g.Grammar != nil {
		c.Grammar = &stt.Grammar{Rules: make([]stt.Rule, len(g.Grammar.Rules))}
		for i, r := range g.Grammar.Rules {
			c.Grammar.Rules[i] = stt.Rule{Phrase: r.Phrase, Value: r.Value}
		}
	}
	t0 := time.Now()
	st, err := s.cfg.Recognizer.Stream(ctx, c)
	if s.tr != nil {
		s.tr.STT += time.Since(t0) // the recognizer's time, not the session's
	}
	if err != nil {
		return err
	}
	res, quit, done := make(chan sttMsg, 16), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := st.Recv()
			select {
			case res <- sttMsg{r, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	s.st, s.stRes, s.stQuit, s.stDone, s.stClosed, s.stEOF = st, res, quit, done, false, false
	return s.writePreRoll()
}

// keepPreRoll keeps a copy of frame f (which started at call time at) in
// the pre-roll ring.
func (s *session) keepPreRoll(f *media.Frame, at time.Duration) {
	if len(s.pre) == 0 || len(f.Samples) != len(s.pre[s.preNext].Samples) {
		return
	}
	s.pre[s.preNext].CopyFrom(f)
	s.preAt[s.preNext] = at
	s.preNext = (s.preNext + 1) % len(s.pre)
	s.preLen = min(s.preLen+1, len(s.pre))
}

// writePreRoll gives the stream just opened the speech the caller began
// before it opened: the kept frames from the voice detector's start of
// speech on (the detector's start already includes its look-back). The
// ring is emptied either way.
func (s *session) writePreRoll() error {
	n := s.preLen
	s.preLen = 0
	if n == 0 || !s.det.Speaking() {
		return nil
	}
	from := s.det.Start().Offset
	first := (s.preNext - n + len(s.pre)) % len(s.pre)
	for i := range n {
		j := (first + i) % len(s.pre)
		if s.preAt[j]+s.pre[j].Duration() <= from {
			continue
		}
		if err := s.st.Write(&s.pre[j]); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) closeSTT() {
	if s.st == nil {
		return
	}
	close(s.stQuit)
	s.st.Close()
	<-s.stDone
	s.st, s.stRes = nil, nil
}

// listen starts waiting for the caller's input after a prompt.
func (s *session) listen(ctx context.Context) {
	if s.gather == nil {
		s.gather = &dialog.Gather{Speech: true, BargeIn: true}
	}
	if s.gather.Speech && s.st == nil {
		if err := s.openSTT(ctx); err != nil {
			s.fail(ctx, "stt", err)
			return
		}
	}
	s.state = stListening
	s.heard = s.det.Speaking() || s.words
	if s.heard {
		s.uttStart = s.det.Start().Offset
	}
	s.turnStart = s.audio
	s.digits = s.digits[:0]
	s.emit(Event{Kind: Listening})
}

func (s *session) vadProcess(f *media.Frame) vad.Event {
	vf := f
	if s.vadRS != nil {
		if err := s.vadRS.ProcessFrame(&s.vadFrame, f); err != nil {
			return vad.None
		}
		vf = &s.vadFrame
	}
	ev, err := s.det.Process(vf)
	if err != nil {
		return vad.None
	}
	if s.det.SpeechFrame() {
		s.lastSpeech = s.audio + f.Duration()
	}
	return ev
}

func (s *session) onFrame(ctx context.Context, f *media.Frame) {
	ev := s.vadProcess(f)
	s.audio += f.Duration()
	if s.dtmfDet != nil {
		s.tones = s.tones[:0]
		if t, err := s.dtmfDet.WriteFrame(s.tones, f); err == nil {
			s.tones = t
			for _, tn := range s.tones {
				if k, ok := tn.Event.Digit(); ok {
					s.onDigit(ctx, rune(k))
				}
			}
		}
	}
	if s.st != nil && !s.stClosed && !s.stEOF {
		if err := s.st.Write(f); err != nil {
			s.fail(ctx, "stt", err)
			return
		}
	} else {
		s.keepPreRoll(f, s.audio-f.Duration())
	}
	switch s.state {
	case stPlaying:
		if ev == vad.SpeechStart && s.bargeable() && s.gather.Speech {
			s.pause(ctx)
		}
	case stPaused:
		switch {
		case s.words || s.lastSpeech-s.speechStart >= s.cfg.MinBargeIn:
			s.confirmBargeIn(ctx)
		case !s.det.Speaking():
			s.resume(ctx)
		}
	case stListening:
		s.listenTick(ctx, ev)
	case stRecording:
		s.recordTick(ctx, f, ev)
	}
}

func (s *session) listenTick(ctx context.Context, ev vad.Event) {
	g := s.gather
	if len(s.digits) > 0 {
		d := s.cfg.InterDigit
		if g.DTMF != nil && g.DTMF.InterDigitTimeout > 0 {
			d = g.DTMF.InterDigitTimeout
		}
		if s.audio-s.lastDigit >= d {
			s.finishDigits(ctx)
		}
		return
	}
	if ev == vad.SpeechStart && !s.heard {
		s.heard = true
		s.uttStart = s.det.Start().Offset
	}
	if g.Speech && s.heard {
		maxUtt := s.cfg.MaxUtterance
		if g.MaxDuration > 0 {
			maxUtt = g.MaxDuration
		}
		switch {
		case !s.det.Speaking() && s.audio-s.det.End().Offset >= s.endSilence():
			s.endpoint(ctx, s.audio-s.det.End().Offset)
		case s.audio-s.uttStart >= maxUtt:
			s.endpoint(ctx, 0)
		}
		return
	}
	noInput := s.cfg.NoInput
	if g.NoInputTimeout > 0 {
		noInput = g.NoInputTimeout
	}
	if s.audio-s.turnStart >= noInput {
		s.emit(Event{Kind: NoInput})
		s.count("no_input")
		s.beginTrace("no_input")
		s.toDialog(ctx, dialog.Event{Type: dialog.EventNoInput}, "no_input")
	}
}

// endpoint: the caller stopped speaking; ask the recognizer for its final
// result.
func (s *session) endpoint(ctx context.Context, endpointing time.Duration) {
	s.beginTrace("speech")
	s.tr.Endpointing = endpointing
	if s.st == nil || s.stEOF {
		s.noMatch(ctx)
		return
	}
	s.state = stClosing
	s.closeWait = time.Now()
	if err := s.st.CloseSend(); err != nil {
		s.fail(ctx, "stt", err)
		return
	}
	s.stClosed = true
	if !s.lockstep {
		return
	}
	// Lockstep: the recognizer's time takes no call time.
	timer := time.NewTimer(s.cfg.ResultTimeout)
	defer timer.Stop()
	for s.state == stClosing {
		select {
		case m := <-s.stRes:
			s.onResult(ctx, m)
		case <-timer.C:
			s.fail(ctx, "stt", fmt.Errorf("no final result %v after the end of speech", s.cfg.ResultTimeout))
		case <-ctx.Done():
			return
		}
	}
}

func (s *session) poll(ctx context.Context) {
	if p := s.pl; p != nil && !s.lockstep && s.state == stPlaying && p.done != nil {
		select {
		case <-p.done:
			if p.err != nil {
				s.playFailed(ctx, p.err)
			} else if p.finished {
				s.promptDone(ctx)
			}
		default:
		}
	}
	if s.pl != nil {
		s.checkTrace(false)
	}
	for s.st != nil && !s.ended {
		select {
		case m := <-s.stRes:
			s.onResult(ctx, m)
			continue
		default:
		}
		break
	}
	if s.state == stClosing && time.Since(s.closeWait) > s.cfg.ResultTimeout {
		s.fail(ctx, "stt", fmt.Errorf("no final result %v after the end of speech", s.cfg.ResultTimeout))
	}
}

func (s *session) onResult(ctx context.Context, m sttMsg) {
	if m.err != nil {
		s.stEOF = true
		switch {
		case errors.Is(m.err, io.EOF):
			if s.state == stClosing {
				s.emit(Event{Kind: Final, Rejected: true})
				s.noMatch(ctx)
			}
		case ctx.Err() != nil:
		default:
			s.fail(ctx, "stt", m.err)
		}
		return
	}
	r := m.r
	text := strings.TrimSpace(r.Text)
	if !r.Final {
		if text == "" {
			return
		}
		s.emit(Event{Kind: Interim, Text: text, Confidence: r.Confidence})
		s.words = true
		switch s.state {
		case stPlaying:
			if s.bargeable() {
				s.pause(ctx)
				s.confirmBargeIn(ctx)
			}
		case stPaused:
			s.confirmBargeIn(ctx)
		}
		return
	}
	usable := text != "" && !r.Rejected
	switch s.state {
	case stPlaying:
		if !usable || !s.bargeable() {
			return
		}
		s.words = true
		s.pause(ctx)
		s.confirmBargeIn(ctx)
	case stPaused:
		if !usable {
			return
		}
		s.words = true
		s.confirmBargeIn(ctx)
	case stListening:
		if !usable && !s.heard || len(s.digits) > 0 {
			return // noise before the caller spoke, or keys being typed
		}
	case stClosing:
	default:
		return
	}
	s.emit(Event{Kind: Final, Text: text, Confidence: r.Confidence, Rejected: r.Rejected})
	if s.tr == nil {
		s.beginTrace("speech")
		if !s.det.Speaking() {
			s.tr.Endpointing = s.audio - s.det.End().Offset
		}
	} else if s.state == stClosing {
		s.tr.STT += time.Since(s.closeWait)
	}
	if !usable {
		s.noMatch(ctx)
		return
	}
	ev := dialog.Event{Type: dialog.EventText, Text: text, Confidence: min(1, max(0, r.Confidence))}
	for _, a := range r.Alternatives {
		ev.Alternatives = append(ev.Alternatives, dialog.Alternative{Text: a.Text, Confidence: min(1, max(0, a.Confidence))})
	}
	if r.Value != "" {
		ev.Metadata = map[string]string{"grammar_value": r.Value}
	}
	s.failures = 0
	s.toDialog(ctx, ev, "speech")
}

func (s *session) noMatch(ctx context.Context) {
	s.emit(Event{Kind: NoMatch})
	s.count("no_match")
	s.beginTrace("no_match")
	s.toDialog(ctx, dialog.Event{Type: dialog.EventNoMatch}, "no_match")
}

// ---- barge-in ----

// pause stops playout at once: speech (or a key) over the prompt.
func (s *session) pause(ctx context.Context) {
	s.state = stPaused
	s.speechStart = s.audio
	if s.det.Speaking() {
		s.speechStart = s.det.Start().Offset
	}
	if p := s.pl; p != nil && p.stop != nil {
		p.stop()
	}
	if err := s.call.Clear(ctx); err != nil {
		s.log.Warn("session: clear", "err", err)
	}
}

// confirmBargeIn drops the paused prompt and listens to the caller.
func (s *session) confirmBargeIn(ctx context.Context) {
	if s.pl != nil {
		s.pl.cancel() // unblocks a playout goroutine waiting for audio
		s.joinPlayer()
		s.reportFileErr()
		heard, cut := s.pl.heard()
		s.heardMeta, s.bargedIn = heard, true
		s.emit(Event{Kind: BargeIn, Heard: heard, Cut: cut})
		s.count("barge_in")
		s.log.Debug("session: barge-in", "heard", heard, "cut", cut)
		s.stopPlayer()
	}
	s.listen(ctx)
}

// resume restarts a prompt a false interruption paused.
func (s *session) resume(ctx context.Context) {
	s.emit(Event{Kind: FalseBargeIn})
	s.count("false_barge_in")
	s.joinPlayer()
	s.state = stPlaying
	if !s.lockstep {
		s.startPlayout(ctx)
	}
}

// ---- DTMF ----

func (s *session) onDigit(ctx context.Context, d rune) {
	g := s.gather
	if g == nil || g.DTMF == nil {
		return
	}
	switch s.state {
	case stPlaying, stPaused:
		if !g.BargeIn {
			return
		}
		if s.state == stPlaying {
			s.pause(ctx)
		}
		s.confirmBargeIn(ctx)
		if s.state != stListening {
			return
		}
	case stListening:
	default:
		return
	}
	o := g.DTMF
	key := string(d)
	if o.MaxDigits == 0 && o.MinDigits == 0 && o.Terminator == "" {
		s.beginTrace("dtmf")
		s.emit(Event{Kind: Digits, Text: key})
		if len(o.Options) > 0 {
			if _, ok := o.Options[key]; !ok {
				s.noMatch(ctx)
				return
			}
		}
		s.failures = 0
		s.toDialog(ctx, dialog.Event{Type: dialog.EventDTMF, Digits: key}, "dtmf")
		return
	}
	if key == o.Terminator {
		s.finishDigits(ctx)
		return
	}
	s.digits = append(s.digits, byte(d))
	s.lastDigit = s.audio
	if o.MaxDigits > 0 && len(s.digits) >= o.MaxDigits {
		s.finishDigits(ctx)
	}
}

func (s *session) finishDigits(ctx context.Context) {
	digits := string(s.digits)
	s.digits = s.digits[:0]
	s.beginTrace("dtmf")
	s.emit(Event{Kind: Digits, Text: digits})
	if len(digits) == 0 || len(digits) < s.gather.DTMF.MinDigits {
		s.noMatch(ctx)
		return
	}
	s.failures = 0
	s.toDialog(ctx, dialog.Event{Type: dialog.EventDTMF, Digits: digits}, "dtmf")
}

// ---- failures ----

// fail reports an engine failure, says the fallback and goes on: a
// no-match for the dialog (or listening again after a dialog failure), or
// a hang-up after MaxFailures in a row.
func (s *session) fail(ctx context.Context, engine string, err error) {
	if ctx.Err() != nil || s.ended {
		return
	}
	werr := fmt.Errorf("%w: %s: %w", ErrEngine, engine, err)
	s.emit(Event{Kind: Error, Engine: engine, Err: werr})
	s.count("error_" + engine)
	s.log.Error("session: engine failure", "engine", engine, "err", err)
	s.failures++
	prev := s.act
	s.stopPlayer()
	s.closeSTT()
	s.closeRecording()
	s.state = stIdle
	segs := []segment{{text: s.cfg.Fallback, spoken: s.cfg.Fallback, toneOnFail: true}}
	s.gather, s.record = nil, nil
	switch {
	case s.failures >= s.cfg.MaxFailures:
		s.act = actHangup
		s.failReason = "too many failures"
	case engine == "dialog":
		s.act = actGather
		s.gather = &dialog.Gather{Speech: true}
	case engine == "tts" && (prev == actHangup || prev == actTransfer):
		s.act = prev
	default:
		s.act = actEvent
		s.pending = dialog.Event{Type: dialog.EventNoMatch}
	}
	s.play(ctx, segs)
}

// ---- recording ----

func (s *session) startRecording(ctx context.Context) {
	if s.cfg.RecordDir == "" {
		s.fail(ctx, "record", ErrRecordUnavailable)
		return
	}
	name := fmt.Sprintf("%s-%d.wav", safeName(s.rs.ConversationID), s.turn)
	path, err := filepath.Abs(filepath.Join(s.cfg.RecordDir, name))
	if err != nil {
		s.fail(ctx, "record", err)
		return
	}
	f, err := os.Create(path)
	if err != nil {
		s.fail(ctx, "record", err)
		return
	}
	w, err := wav.NewWriter(f, wav.PCM, s.rate)
	if err != nil {
		f.Close()
		s.fail(ctx, "record", err)
		return
	}
	s.rec = &recording{f: f, w: w, path: path, start: s.audio, heard: s.det.Speaking()}
	s.state = stRecording
}

func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func (s *session) recordTick(ctx context.Context, f *media.Frame, ev vad.Event) {
	r := s.rec
	if err := r.w.WriteFrame(f); err != nil {
		s.fail(ctx, "record", err)
		return
	}
	if ev == vad.SpeechStart {
		r.heard = true
	}
	maxD, silence := s.cfg.MaxRecord, s.cfg.RecordSilence
	if s.record != nil && s.record.MaxDuration > 0 {
		maxD = s.record.MaxDuration
	}
	if s.record != nil && s.record.EndSilence > 0 {
		silence = s.record.EndSilence
	}
	quiet := r.heard && !s.det.Speaking() && s.audio-max(s.det.End().Offset, r.start) >= silence
	if !r.heard && s.audio-r.start >= s.cfg.NoInput {
		// Nothing said: no recording, a no-input.
		s.closeRecording()
		os.Remove(r.path)
		s.emit(Event{Kind: NoInput})
		s.count("no_input")
		s.beginTrace("no_input")
		s.toDialog(ctx, dialog.Event{Type: dialog.EventNoInput}, "no_input")
		return
	}
	if s.audio-r.start < maxD && !quiet {
		return
	}
	path := r.path
	n := r.w.Written()
	if err := s.closeRecording(); err != nil {
		s.fail(ctx, "record", err)
		return
	}
	url := "file://" + path
	s.emit(Event{Kind: Recorded, Text: url})
	s.beginTrace("record")
	ev2 := dialog.Event{Type: dialog.EventAttachment, Attachment: &dialog.Attachment{URL: url, Name: filepath.Base(path), ContentType: "audio/wav"},
		Metadata: map[string]string{"duration_ms": strconv.FormatInt(n*1000/int64(s.rate), 10)}}
	s.toDialog(ctx, ev2, "record")
}

func (s *session) closeRecording() error {
	r := s.rec
	if r == nil {
		return nil
	}
	s.rec = nil
	err := r.w.Close()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

package allomedia

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/stt"
)

// grammarAlias is the DEFINE-GRAMMAR content_id of a stream's keyword
// grammar, used in RECOGNIZE as "session:parole".
const grammarAlias = "parole"

// plan is what a stream asks the server to recognize.
type plan struct {
	define string            // builtin URI to alias as session:parole ("" for none)
	uris   []string          // RECOGNIZE body, one URI a line
	values map[string]string // normalised phrase → rule value
}

func makePlan(c stt.Config, def string) plan {
	var p plan
	var hintURIs []string
	for _, h := range c.Hints {
		h = strings.TrimSpace(h)
		if strings.HasPrefix(h, "builtin:") || strings.HasPrefix(h, "session:") {
			hintURIs = append(hintURIs, h)
		}
	}
	if c.Grammar != nil && len(c.Grammar.Rules) > 0 {
		p.values = make(map[string]string, len(c.Grammar.Rules))
		phrases := make([]string, 0, len(c.Grammar.Rules))
		for _, r := range c.Grammar.Rules {
			k := normalize(r.Phrase)
			if k == "" {
				continue
			}
			if _, dup := p.values[k]; !dup {
				phrases = append(phrases, r.Phrase)
			}
			p.values[k] = r.Value
		}
		if len(phrases) > 0 {
			p.define = KeywordsGrammar(phrases)
			p.uris = append(p.uris, "session:"+grammarAlias)
		}
	}
	p.uris = append(p.uris, hintURIs...)
	if len(p.uris) == 0 {
		p.uris = []string{def}
	}
	return p
}

// grammatical reports whether the stream uses a grammar whose
// interpretation is the result's value (anything but the default
// free-speech grammar).
func (p plan) grammatical(def string) bool { return len(p.uris) > 1 || p.uris[0] != def }

type stream struct {
	r    *Recognizer
	cfg  stt.Config
	plan plan
	conn *websocket.Conn

	mu          sync.Mutex // guards the fields below and writes on conn
	reqID       int
	channel     string
	buf         []byte
	rs          *resample.Resampler
	rsFrame     media.Frame
	firstAudio  time.Time
	sendClosed  bool
	closed      bool
	over        bool // the recognition ended (term is set)
	term        error
	closeSentAt time.Time
	heard       bool // START-OF-INPUT in the current recognition

	results chan stt.Result
	quit    chan struct{} // closed by Close
	wg      sync.WaitGroup
	stopCtx func() bool
}

// Stream opens a websocket session, sets its parameters, defines the
// grammar and starts a recognition. It returns once the server answered
// RECOGNITION-IN-PROGRESS.
func (r *Recognizer) Stream(ctx context.Context, c stt.Config) (stt.Stream, error) {
	if c.SampleRate <= 0 {
		return nil, fmt.Errorf("%w: sample rate %d", stt.ErrUnsupported, c.SampleRate)
	}
	s := &stream{r: r, cfg: c, plan: makePlan(c, r.cfg.Grammar),
		results: make(chan stt.Result, 8), quit: make(chan struct{})}
	if c.SampleRate != media.Rate8k {
		rs, err := resample.New(c.SampleRate, media.Rate8k, resample.Medium)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", stt.ErrUnsupported, err)
		}
		s.rs = rs
	}
	conn, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	if err := s.setUp(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetReadDeadline(time.Time{})
	s.stopCtx = context.AfterFunc(ctx, func() { s.abort(fmt.Errorf("allomedia: %w", ctx.Err())) })
	s.wg.Add(1)
	go s.read()
	return s, nil
}

// command sends one command frame; the caller holds s.mu (or owns the
// stream alone during set-up).
func (s *stream) command(name string, headers map[string]any, body string) error {
	s.reqID++
	if headers == nil {
		headers = map[string]any{}
	}
	b, err := json.Marshal(Command{Command: name, RequestID: s.reqID, ChannelID: s.channel, Headers: headers, Body: body})
	if err != nil {
		return fmt.Errorf("allomedia: %s: %w", name, err)
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.r.cfg.OpenTimeout))
	if err := s.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("%w: sending %s: %w", ErrUnavailable, name, err)
	}
	return nil
}

// expect reads events until the one named want, during set-up.
func (s *stream) expect(ctx context.Context, want string) (Event, error) {
	s.conn.SetReadDeadline(time.Now().Add(s.r.cfg.OpenTimeout))
	for {
		ev, err := s.next()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return ev, fmt.Errorf("%w: waiting for %s", ErrTimeout, want)
			}
			if ctx.Err() != nil {
				return ev, fmt.Errorf("allomedia: %w", ctx.Err())
			}
			return ev, err
		}
		switch {
		case ev.Event == want:
			return ev, nil
		case isFailure(ev.Event):
			return ev, refused(ev, want)
		case ev.Event == EvClosed:
			return ev, fmt.Errorf("%w: server closed the session waiting for %s", ErrProtocol, want)
		default:
			return ev, fmt.Errorf("%w: got %s waiting for %s", ErrProtocol, ev.Event, want)
		}
	}
}

func refused(ev Event, cmd string) error {
	err := fmt.Errorf("%w: %s: %s %s: %s", ErrRefused, cmd, ev.Event, ev.CompletionCause, ev.CompletionReason)
	if ev.CompletionCause == CauseLanguageUnsupported {
		err = fmt.Errorf("%w (%w)", err, stt.ErrUnsupported)
	}
	return err
}

// next reads one event frame.
func (s *stream) next() (Event, error) {
	mt, data, err := s.conn.ReadMessage()
	if err != nil {
		if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) {
			return Event{}, fmt.Errorf("%w: connection closed by the server: %w", ErrProtocol, err)
		}
		return Event{}, fmt.Errorf("%w: reading: %w", ErrUnavailable, err)
	}
	if mt != websocket.TextMessage {
		return Event{}, fmt.Errorf("%w: unexpected binary frame from the server", ErrProtocol)
	}
	ev, err := ParseEvent(data)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return ev, nil
}

func (s *stream) setUp(ctx context.Context) error {
	rc := s.r.cfg
	s.reqID++
	open, _ := json.Marshal(Command{Command: CmdOpen, RequestID: s.reqID,
		Headers: map[string]any{"custom_id": rc.CustomID, "audio_codec": string(rc.Codec)}})
	s.conn.SetWriteDeadline(time.Now().Add(rc.OpenTimeout))
	if err := s.conn.WriteMessage(websocket.TextMessage, open); err != nil {
		return fmt.Errorf("%w: sending OPEN: %w", ErrUnavailable, err)
	}
	ev, err := s.expect(ctx, EvOpened)
	if err != nil {
		return err
	}
	if ev.ChannelID == "" {
		return fmt.Errorf("%w: OPENED without channel_id", ErrProtocol)
	}
	s.channel = ev.ChannelID

	lang := s.cfg.Language
	if lang == "" {
		lang = rc.Language
	}
	end := s.cfg.EndSilence
	if end <= 0 {
		end = DefaultSpeechComplete
	}
	params := map[string]any{
		"speech_language":         speechLanguage(lang),
		"speech_complete_timeout": millis(end),
		"recognition_timeout":     millis(rc.RecognitionTimeout),
	}
	if rc.NoInputTimeout > 0 {
		params["no_input_timeout"] = millis(rc.NoInputTimeout)
	}
	if rc.SpeechIncompleteTimeout > 0 {
		params["speech_incomplete_timeout"] = millis(rc.SpeechIncompleteTimeout)
	}
	if rc.SpeechNomatchTimeout > 0 {
		params["speech_nomatch_timeout"] = millis(rc.SpeechNomatchTimeout)
	}
	if rc.ConfidenceThreshold > 0 {
		params["confidence_threshold"] = rc.ConfidenceThreshold
	}
	if err := s.command(CmdSetParams, params, ""); err != nil {
		return err
	}
	if _, err := s.expect(ctx, EvParamsSet); err != nil {
		return err
	}
	if s.plan.define != "" {
		if err := s.command(CmdDefineGrammar, map[string]any{"content_id": grammarAlias, "content_type": "text/uri-list"},
			"builtin:"+s.plan.define); err != nil {
			return err
		}
		if _, err := s.expect(ctx, EvGrammarDefined); err != nil {
			return err
		}
	}
	if err := s.recognize(); err != nil {
		return err
	}
	_, err = s.expect(ctx, EvRecognitionInProgress)
	return err
}

func (s *stream) recognize() error {
	rc := s.r.cfg
	mode := "normal"
	if rc.Hotword {
		mode = "hotword"
	}
	h := map[string]any{"recognition_mode": mode, "content_type": "text/uri-list", "start_input_timers": rc.StartInputTimers}
	if rc.Hotword && rc.HotwordMaxDuration > 0 {
		h["hotword_max_duration"] = millis(rc.HotwordMaxDuration)
	}
	return s.command(CmdRecognize, h, strings.Join(s.plan.uris, "\n"))
}

// Write encodes f (resampled to 8 kHz when needed) with the session's
// codec and sends it as one binary frame. After the recognition ended
// normally, frames are dropped without error.
func (s *stream) Write(f *media.Frame) error {
	if f == nil || f.Rate != s.cfg.SampleRate {
		return fmt.Errorf("%w: want %d Hz frames", ErrFrame, s.cfg.SampleRate)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed, s.sendClosed:
		return stt.ErrClosed
	case s.over && s.term == io.EOF:
		return nil
	case s.over:
		return s.term
	}
	samples := f.Samples
	if s.rs != nil {
		if err := s.rs.ProcessFrame(&s.rsFrame, f); err != nil {
			return fmt.Errorf("%w: %w", ErrFrame, err)
		}
		samples = s.rsFrame.Samples
	}
	if s.firstAudio.IsZero() {
		s.firstAudio = time.Now()
	}
	return s.sendAudio(samples)
}

// sendAudio encodes and sends samples at 8 kHz; s.mu is held.
func (s *stream) sendAudio(samples []int16) error {
	switch s.r.cfg.Codec {
	case G711U:
		s.buf = g711.EncodeUlaw(s.buf[:0], samples)
	case G711A:
		s.buf = g711.EncodeAlaw(s.buf[:0], samples)
	default:
		s.buf = s.buf[:0]
		for _, v := range samples {
			s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
		}
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.r.cfg.OpenTimeout))
	if err := s.conn.WriteMessage(websocket.BinaryMessage, s.buf); err != nil {
		err = fmt.Errorf("%w: sending audio: %w", ErrUnavailable, err)
		s.finishLocked(err)
		return err
	}
	return nil
}

// CloseSend ends the audio. uh!live has no end-of-audio command: its
// endpointer needs to hear the silence after the speech, so the stream
// sends the end-of-speech silence (stt.Config.EndSilence) at once and then
// one 20 ms silent frame every 20 ms until RECOGNITION-COMPLETE, for at
// most Config.FinalTimeout (then the stream ends with ErrTimeout).
func (s *stream) CloseSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return stt.ErrClosed
	case s.sendClosed || s.over:
		s.sendClosed = true
		return nil
	}
	s.sendClosed = true
	end := s.cfg.EndSilence
	if end <= 0 {
		end = DefaultSpeechComplete
	}
	silence := make([]int16, media.Rate8k/50)
	for d := time.Duration(0); d < end; d += 20 * time.Millisecond {
		if err := s.sendAudio(silence); err != nil {
			return nil // the stream ended with the error; Recv reports it
		}
	}
	wait := s.r.cfg.FinalTimeout
	if !s.heard && !s.r.cfg.Hotword {
		wait = min(wait, end+500*time.Millisecond)
	}
	s.wg.Add(1)
	go s.pump(silence, wait)
	return nil
}

// pump sends silence in real time after CloseSend until the recognition
// is over. When no speech was heard it waits first; then the recognition
// is stopped and the stream ends without a result. When speech was heard
// it waits FinalTimeout in all, then gives up with ErrTimeout.
func (s *stream) pump(silence []int16, wait time.Duration) {
	defer s.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	waited := wait
	for {
		select {
		case <-s.quit:
			return
		case <-deadline.C:
			s.mu.Lock()
			if !s.over && s.heard && waited < s.r.cfg.FinalTimeout {
				deadline.Reset(s.r.cfg.FinalTimeout - waited)
				waited = s.r.cfg.FinalTimeout
				s.mu.Unlock()
				continue
			}
			if !s.over {
				s.command(CmdStop, nil, "")
				if s.heard {
					s.finishLocked(fmt.Errorf("%w: no RECOGNITION-COMPLETE %v after the end of audio", ErrTimeout, s.r.cfg.FinalTimeout))
				} else {
					s.finishLocked(io.EOF) // nothing was said
				}
			}
			s.mu.Unlock()
			return
		case <-tick.C:
			s.mu.Lock()
			if s.over || s.closed {
				s.mu.Unlock()
				return
			}
			s.sendAudio(silence)
			s.mu.Unlock()
		}
	}
}

// Recv returns the next final result; io.EOF after the last.
func (s *stream) Recv() (stt.Result, error) {
	r, ok := <-s.results
	if ok {
		return r, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return stt.Result{}, s.term
}

// finishLocked ends the recognition with err (io.EOF for a normal end);
// s.mu is held. The first call wins.
func (s *stream) finishLocked(err error) {
	if s.over {
		return
	}
	s.over, s.term = true, err
	close(s.results)
}

// deliver hands a result to Recv; it gives up when the stream is closed.
func (s *stream) deliver(r stt.Result) bool {
	select {
	case s.results <- r:
		return true
	case <-s.quit:
		return false
	}
}

// abort ends the stream with err and closes the connection (context
// cancelled).
func (s *stream) abort(err error) {
	s.mu.Lock()
	s.finishLocked(err)
	s.mu.Unlock()
	s.conn.Close()
}

// read is the event loop: results, restarts, the end.
func (s *stream) read() {
	defer s.wg.Done()
	for {
		ev, err := s.next()
		if err != nil {
			s.mu.Lock()
			if s.closed {
				err = stt.ErrClosed
			} else if s.over && s.term == io.EOF && !s.closeSentAt.IsZero() {
				err = io.EOF // closed after our CLOSE
			}
			s.finishLocked(err)
			s.mu.Unlock()
			s.conn.Close()
			return
		}
		switch ev.Event {
		case EvStartOfInput:
			s.mu.Lock()
			s.heard = true
			s.mu.Unlock()
		case EvInputTimersStarted, EvRecognitionInProgress, EvStopped:
			continue
		case EvRecognitionComplete:
			if !s.complete(ev) {
				return
			}
		case EvClosed:
			s.mu.Lock()
			if s.over {
				s.mu.Unlock()
				s.conn.Close()
				return
			}
			s.finishLocked(fmt.Errorf("%w: server closed the session", ErrProtocol))
			s.mu.Unlock()
			s.conn.Close()
			return
		default:
			s.mu.Lock()
			if isFailure(ev.Event) {
				s.finishLocked(refused(ev, "recognition"))
			} else {
				s.finishLocked(fmt.Errorf("%w: unexpected %s", ErrProtocol, ev.Event))
			}
			s.mu.Unlock()
			s.conn.Close()
			return
		}
	}
}

// complete handles RECOGNITION-COMPLETE; false when the loop must stop.
func (s *stream) complete(ev Event) bool {
	res, ok, err := s.result(ev)
	if err != nil {
		s.mu.Lock()
		s.finishLocked(err)
		s.mu.Unlock()
		s.conn.Close()
		return false
	}
	if ok && !s.deliver(res) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over {
		return true
	}
	if ok && !s.cfg.SingleUtterance && !s.sendClosed && !s.closed {
		// Continuous recognition: listen for the next utterance.
		s.heard = false
		if err := s.recognize(); err != nil {
			s.finishLocked(err)
			return true
		}
		return true
	}
	// The recognition is over: no result (no input), one utterance asked,
	// or the audio ended. Close the session politely; the loop reads on
	// until CLOSED.
	s.finishLocked(io.EOF)
	s.closeSentAt = time.Now()
	s.command(CmdClose, nil, "")
	s.conn.SetReadDeadline(time.Now().Add(s.r.cfg.OpenTimeout))
	return true
}

// result maps RECOGNITION-COMPLETE to a final result; ok is false when
// there is none (no input).
func (s *stream) result(ev Event) (stt.Result, bool, error) {
	var rejected bool
	switch ev.CompletionCause {
	case CauseSuccess, CausePartialMatch, CausePartialMatchMaxtime:
	case CauseNoMatch, CauseNoMatchMaxtime, CauseHotwordMaxtime:
		rejected = true
	case CauseTooMuchSpeechTimeout:
		rejected = ev.Body == nil || ev.Body.NLU == nil
	case CauseNoInputTimeout:
		return stt.Result{}, false, nil
	case CauseLanguageUnsupported:
		return stt.Result{}, false, fmt.Errorf("%w: %s: %s (%w)", ErrRecognition, ev.CompletionCause, ev.CompletionReason, stt.ErrUnsupported)
	case CauseError, CauseGramLoadFailure, CauseGramDefinitionFailure:
		return stt.Result{}, false, fmt.Errorf("%w: %s: %s", ErrRecognition, ev.CompletionCause, ev.CompletionReason)
	default:
		return stt.Result{}, false, fmt.Errorf("%w: RECOGNITION-COMPLETE with completion cause %q", ErrProtocol, ev.CompletionCause)
	}
	r := stt.Result{Final: true, Rejected: rejected}
	b := ev.Body
	if b == nil {
		r.Rejected = true
		return r, true, nil
	}
	grammatical := s.plan.grammatical(s.r.cfg.Grammar)
	if b.ASR != nil {
		r.Text = strings.TrimSpace(b.ASR.Transcript)
		r.Confidence = clamp01(b.ASR.Confidence)
		s.mu.Lock()
		first := s.firstAudio
		s.mu.Unlock()
		if !first.IsZero() && b.ASR.Start > 0 && b.ASR.End >= b.ASR.Start {
			r.Start = max(0, time.UnixMilli(b.ASR.Start).Sub(first))
			r.End = max(r.Start, time.UnixMilli(b.ASR.End).Sub(first))
		}
	}
	if grammatical {
		if b.NLU == nil {
			r.Rejected = true
		} else if !r.Rejected {
			v := b.NLU.ValueString()
			if s.plan.values != nil && strings.HasSuffix(b.GrammarURI, "session:"+grammarAlias) {
				if rv, ok := s.plan.values[normalize(v)]; ok {
					v = rv
				}
			}
			r.Value = v
			r.Confidence = clamp01(b.NLU.Confidence)
		}
	}
	n := s.cfg.MaxAlternatives - 1
	for _, a := range b.Alternatives {
		if len(r.Alternatives) >= n {
			break
		}
		if a.ASR != nil && strings.TrimSpace(a.ASR.Transcript) != "" {
			r.Alternatives = append(r.Alternatives, stt.Alternative{Text: strings.TrimSpace(a.ASR.Transcript), Confidence: clamp01(a.ASR.Confidence)})
		}
	}
	return r, true, nil
}

func clamp01(v float64) float64 { return min(1, max(0, v)) }

// Close ends the session at once: CLOSE and a websocket close frame are
// sent (best effort) and the connection closed.
func (s *stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.closeSentAt.IsZero() {
		s.conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		s.command(CmdClose, nil, "")
		s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(200*time.Millisecond))
	}
	s.finishLocked(stt.ErrClosed)
	s.mu.Unlock()
	close(s.quit)
	s.conn.Close()
	s.stopCtx()
	s.wg.Wait()
	return nil
}

// normalize folds case and spaces for matching a keyword to its rule.
func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

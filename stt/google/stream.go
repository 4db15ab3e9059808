package google

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/speech/apiv1/speechpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/stt"
)

// UlawWriter is implemented by streams that take G.711 μ-law bytes as they
// came off the wire, without a decode to PCM and a re-encode: call legs
// with a PCMU payload can check for it.
type UlawWriter interface {
	// WriteUlaw sends μ-law codes (8 kHz, one byte a sample). The slice may
	// be reused as soon as WriteUlaw returns.
	WriteUlaw(code []byte) error
}

// gen is one StreamingRecognize call of a stream.
type gen struct {
	id     int
	cl     speechpb.Speech_StreamingRecognizeClient
	cancel context.CancelFunc
	opened time.Time
	sent   int64 // bytes sent on this call, replay included
	base   int64 // stream offset (bytes) of the call's first audio byte
	half   bool  // CloseSend done
}

type genErr struct {
	id  int
	err error
}

// stream is one recognition session: a run goroutine sends the audio and
// rotates or re-opens calls, one receiver goroutine per call turns
// responses into results.
type stream struct {
	r      *Recognizer
	cfg    stt.Config
	ctx    context.Context
	cancel context.CancelFunc

	mulaw       bool
	bps         int64 // bytes per second of audio sent
	align       int64 // bytes per sample
	chunk       int   // bytes per request
	rotateBytes int64
	maxReplay   int
	maxBacklog  int
	gram        *grammar
	recCfg      *speechpb.StreamingRecognitionConfig

	wake    chan struct{}
	errs    chan genErr
	notify  chan struct{}
	runDone chan struct{}
	wg      sync.WaitGroup

	scratch []byte // run goroutine: the request being sent

	mu         sync.Mutex
	pending    []byte // written; pending[pendingOff:] is not sent yet
	pendingOff int
	sendClosed bool // CloseSend was called
	ended      bool // no more audio is sent (single utterance over, failure)
	closed     bool // Close was called
	out        []stt.Result
	outErr     error // io.EOF or the failure, once the stream ended
	cur        *gen
	hist       []byte // audio sent since the last final result
	histStart  int64  // stream offset of hist[0]
	lost       bool   // MaxReplay dropped audio not yet covered by a final
	lastFinal  time.Duration
}

// Stream opens a streaming recognition. The call to the service is made by
// the stream's goroutine; its errors come out of Recv (and later Writes).
func (r *Recognizer) Stream(ctx context.Context, c stt.Config) (stt.Stream, error) {
	if c.SampleRate < 8000 || c.SampleRate > 48000 {
		return nil, fmt.Errorf("%w: sample rate %d Hz (Google takes 8000…48000)", stt.ErrUnsupported, c.SampleRate)
	}
	mulaw := r.cfg.Encoding == "mulaw" || (r.cfg.Encoding == "" && c.SampleRate == media.Rate8k)
	if mulaw && c.SampleRate != media.Rate8k {
		return nil, fmt.Errorf("%w: μ-law at %d Hz", stt.ErrUnsupported, c.SampleRate)
	}
	rc, err := r.recognitionConfig(c, mulaw)
	if err != nil {
		return nil, err
	}
	s := &stream{
		r: r, cfg: c, mulaw: mulaw,
		recCfg:  rc,
		gram:    compileGrammar(c.Grammar),
		wake:    make(chan struct{}, 1),
		errs:    make(chan genErr, 4),
		notify:  make(chan struct{}, 1),
		runDone: make(chan struct{}),
	}
	s.align = 2
	if mulaw {
		s.align = 1
	}
	s.bps = int64(c.SampleRate) * s.align
	s.chunk = int(s.bytes(r.cfg.ChunkDuration))
	s.rotateBytes = s.bytes(r.cfg.RotateAfter)
	s.maxReplay = int(s.bytes(r.cfg.MaxReplay))
	s.maxBacklog = int(s.bytes(r.cfg.MaxBacklog))
	s.scratch = make([]byte, 0, s.chunk)
	s.pending = make([]byte, 0, 2*s.chunk)
	s.ctx, s.cancel = context.WithCancel(ctx)
	go s.run()
	return s, nil
}

// recognitionConfig is the first request's StreamingRecognitionConfig.
func (r *Recognizer) recognitionConfig(c stt.Config, mulaw bool) (*speechpb.StreamingRecognitionConfig, error) {
	lang := c.Language
	if lang == "" {
		lang = "en-US"
	}
	model := r.cfg.Model
	if model == "" {
		model = "latest_long"
		if c.SampleRate == media.Rate8k {
			model = "phone_call"
		}
	}
	enc := speechpb.RecognitionConfig_LINEAR16
	if mulaw {
		enc = speechpb.RecognitionConfig_MULAW
	}
	alts := max(c.MaxAlternatives, 1)
	if alts > 30 {
		return nil, fmt.Errorf("%w: %d alternatives (Google gives at most 30)", stt.ErrUnsupported, alts)
	}
	var contexts []*speechpb.SpeechContext
	var count, total int
	add := func(phrases []string, boost float32) error {
		var ps []string
		for _, p := range phrases {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if n := len([]rune(p)); n > maxPhraseChars {
				return fmt.Errorf("%w: phrase of %d characters (Google takes %d): %.30q…", stt.ErrUnsupported, n, maxPhraseChars, p)
			}
			count++
			total += len([]rune(p))
			ps = append(ps, p)
		}
		if count > maxPhrases || total > maxPhraseTotal {
			return fmt.Errorf("%w: %d phrases, %d characters (Google takes %d, %d)", stt.ErrUnsupported, count, total, maxPhrases, maxPhraseTotal)
		}
		if len(ps) > 0 {
			contexts = append(contexts, &speechpb.SpeechContext{Phrases: ps, Boost: boost})
		}
		return nil
	}
	if err := add(c.Hints, r.cfg.HintBoost); err != nil {
		return nil, err
	}
	if c.Grammar != nil {
		ps := make([]string, 0, len(c.Grammar.Rules))
		for _, rule := range c.Grammar.Rules {
			ps = append(ps, rule.Phrase)
		}
		if err := add(ps, r.cfg.GrammarBoost); err != nil {
			return nil, err
		}
	}
	return &speechpb.StreamingRecognitionConfig{
		Config: &speechpb.RecognitionConfig{
			Encoding:                   enc,
			SampleRateHertz:            int32(c.SampleRate),
			AudioChannelCount:          1,
			LanguageCode:               lang,
			MaxAlternatives:            int32(alts),
			SpeechContexts:             contexts,
			EnableWordTimeOffsets:      true,
			EnableWordConfidence:       true,
			EnableAutomaticPunctuation: r.cfg.Punctuation,
			Model:                      model,
			UseEnhanced:                r.cfg.UseEnhanced,
		},
		SingleUtterance:           c.SingleUtterance,
		InterimResults:            c.InterimResults,
		EnableVoiceActivityEvents: true,
	}, nil
}

// bytes is the size of d of audio, whole samples; negative durations
// count as zero and absurd ones are capped (a day) against overflow.
func (s *stream) bytes(d time.Duration) int64 {
	d = min(max(d, 0), 24*time.Hour)
	n := int64(d/time.Microsecond) * s.bps / int64(time.Second/time.Microsecond)
	return n - n%s.align
}

// dur is the duration of n bytes of audio.
func (s *stream) dur(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / s.bps)
}

func (s *stream) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Write queues one frame for sending. It does not wait for the network.
func (s *stream) Write(f *media.Frame) error {
	if f == nil || f.Rate != s.cfg.SampleRate {
		return fmt.Errorf("%w: want %d Hz frames", ErrFrame, s.cfg.SampleRate)
	}
	s.mu.Lock()
	if err := s.writable(len(f.Samples)); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.mulaw {
		s.pending = g711.EncodeUlaw(s.pending, f.Samples)
	} else {
		for _, v := range f.Samples {
			s.pending = append(s.pending, byte(v), byte(uint16(v)>>8))
		}
	}
	s.mu.Unlock()
	s.signal(s.wake)
	return nil
}

// WriteUlaw queues μ-law bytes as they are: streams sending μ-law (8 kHz,
// Config.Encoding "mulaw" or empty) skip the decode and re-encode.
// Streams sending LINEAR16 decode them.
func (s *stream) WriteUlaw(code []byte) error {
	if s.cfg.SampleRate != media.Rate8k {
		return fmt.Errorf("%w: μ-law audio on a %d Hz stream", ErrFrame, s.cfg.SampleRate)
	}
	s.mu.Lock()
	if err := s.writable(len(code)); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.mulaw {
		s.pending = append(s.pending, code...)
	} else {
		for _, c := range code {
			v := g711.DecodeUlawSample(c)
			s.pending = append(s.pending, byte(v), byte(uint16(v)>>8))
		}
	}
	s.mu.Unlock()
	s.signal(s.wake)
	return nil
}

// writable says why audio cannot be queued, with s.mu held.
func (s *stream) writable(samples int) error {
	switch {
	case s.closed:
		return stt.ErrClosed
	case s.outErr != nil && s.outErr != io.EOF:
		return s.outErr
	case s.sendClosed:
		return stt.ErrClosed
	case s.ended || s.outErr != nil:
		return stt.ErrClosed
	case len(s.pending)-s.pendingOff+samples*int(s.align) > s.maxBacklog:
		return fmt.Errorf("%w: %v unsent", ErrBacklog, s.dur(int64(len(s.pending)-s.pendingOff)))
	}
	return nil
}

// CloseSend ends the audio: what is queued is sent, then the call is
// half-closed and the service's last results are delivered.
func (s *stream) CloseSend() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return stt.ErrClosed
	}
	s.sendClosed = true
	s.mu.Unlock()
	s.signal(s.wake)
	return nil
}

// Recv returns the next result, io.EOF after the last.
func (s *stream) Recv() (stt.Result, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return stt.Result{}, stt.ErrClosed
		}
		if len(s.out) > 0 {
			r := s.out[0]
			s.out[0] = stt.Result{}
			s.out = s.out[1:]
			s.mu.Unlock()
			return r, nil
		}
		if s.outErr != nil {
			err := s.outErr
			s.mu.Unlock()
			return stt.Result{}, err
		}
		s.mu.Unlock()
		<-s.notify
	}
}

// Close stops the stream at once and waits for its goroutines.
func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.runDone
	s.signal(s.notify)
	return nil
}

// finish ends the stream with err (io.EOF for a normal end).
func (s *stream) finish(err error) {
	s.mu.Lock()
	if s.outErr == nil {
		s.outErr = err
	}
	s.ended = true
	s.mu.Unlock()
	// Wake every Recv waiting: notify is re-signalled by each waiter.
	s.broadcast()
}

// broadcast wakes Recv. Only one goroutine calls Recv, so one token is
// enough; the channel keeps it when nobody waits.
func (s *stream) broadcast() { s.signal(s.notify) }

// fail ends the stream with err, or with the cancellation that caused it.
func (s *stream) fail(err error) {
	if s.ctx.Err() != nil {
		s.finishCtx()
		return
	}
	s.finish(err)
}

// finishCtx ends the stream cancelled by Close or by its context.
func (s *stream) finishCtx() {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.finish(stt.ErrClosed)
	} else {
		s.finish(fmt.Errorf("google stt: %w", context.Cause(s.ctx)))
	}
}

// run owns the gRPC calls: opening, sending, rotating, retrying.
func (s *stream) run() {
	defer close(s.runDone)
	defer s.wg.Wait()
	defer s.cancel()
	log := s.r.cfg.Logger
	retries := 0
	rot := time.NewTimer(s.r.cfg.RotateAfter)
	defer rot.Stop()
	var deadline <-chan time.Time
	for {
		err := s.open()
		if err == nil {
			break
		}
		if status.Code(err) != codes.Unavailable || retries >= s.r.cfg.MaxRetries {
			s.fail(err)
			return
		}
		if !s.backoff(&retries, err) {
			s.finishCtx()
			return
		}
	}
	for {
		select {
		case <-s.ctx.Done():
			s.finishCtx()
			return
		case <-s.wake:
		case <-rot.C:
			if !s.cur.half {
				log.Debug("google stt: rotating stream", "after", time.Since(s.cur.opened))
				if err := s.open(); err != nil {
					s.fail(err)
					return
				}
			}
		case <-deadline:
			s.finish(fmt.Errorf("%w: no end of results %v after the end of audio", ErrDeadline, s.r.cfg.FinalTimeout))
			return
		case ge := <-s.errs:
			if ge.id != s.cur.id {
				continue // a call already replaced
			}
			if s.ctx.Err() != nil {
				s.finishCtx() // the call failed because the stream was cancelled
				return
			}
			if ge.err == io.EOF {
				s.mu.Lock()
				ended := s.ended
				s.mu.Unlock()
				if s.cur.half || ended {
					s.finish(io.EOF)
					return
				}
				// The service ended the call early: go on in a new one,
				// within the retry budget.
				if retries >= s.r.cfg.MaxRetries {
					s.fail(fmt.Errorf("%w: the service keeps ending the stream early", ErrUnavailable))
					return
				}
				if !s.backoff(&retries, io.ErrUnexpectedEOF) {
					continue
				}
				if err := s.open(); err != nil {
					s.fail(err)
					return
				}
				continue
			}
			s.mu.Lock()
			lost := s.lost
			s.mu.Unlock()
			// OutOfRange is the service's end of a stream past its
			// duration limit: go on in a new call like after Unavailable.
			if c := status.Code(ge.err); (c != codes.Unavailable && c != codes.OutOfRange) || retries >= s.r.cfg.MaxRetries || lost {
				s.fail(mapErr(ge.err))
				return
			}
			if !s.backoff(&retries, ge.err) {
				continue // ctx is done: handled at the top of the loop
			}
			if err := s.open(); err != nil {
				s.fail(err)
				return
			}
		}
		if !rot.Stop() {
			select {
			case <-rot.C:
			default:
			}
		}
		if err := s.pump(); err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		done := (s.sendClosed || s.ended) && (len(s.pending) == s.pendingOff || s.ended)
		s.mu.Unlock()
		if done && !s.cur.half {
			s.cur.half = true
			_ = s.cur.cl.CloseSend() // its error, if any, comes out of Recv
			deadline = time.After(s.r.cfg.FinalTimeout)
		}
		if !s.cur.half {
			rot.Reset(max(s.r.cfg.RotateAfter-time.Since(s.cur.opened), 0))
		}
	}
}

// backoff waits before retry number *retries+1; false when ctx ended first.
func (s *stream) backoff(retries *int, cause error) bool {
	wait := s.r.cfg.RetryBackoff << *retries
	*retries++
	s.r.cfg.Logger.Warn("google stt: stream broken, reopening", "attempt", *retries, "in", wait, "err", cause)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// pump sends the queued audio in whole chunks (and the rest once audio
// ended), rotating the call when it reaches RotateAfter of audio.
func (s *stream) pump() error {
	log := s.r.cfg.Logger
	for {
		if s.cur.half {
			return nil
		}
		s.mu.Lock()
		n := len(s.pending) - s.pendingOff
		if s.ended || n == 0 || (n < s.chunk && !s.sendClosed) {
			s.mu.Unlock()
			return nil
		}
		take := min(n, s.chunk)
		s.scratch = append(s.scratch[:0], s.pending[s.pendingOff:s.pendingOff+take]...)
		s.pendingOff += take
		switch {
		case s.pendingOff == len(s.pending):
			s.pending, s.pendingOff = s.pending[:0], 0
		case s.pendingOff > cap(s.pending)/2:
			// Compact now and then, not at every chunk.
			s.pending = s.pending[:copy(s.pending, s.pending[s.pendingOff:])]
			s.pendingOff = 0
		}
		s.mu.Unlock()

		if s.cur.sent+int64(take) > s.rotateBytes {
			log.Debug("google stt: rotating stream", "audio", s.dur(s.cur.sent))
			if err := s.open(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		s.hist = append(s.hist, s.scratch...)
		if over := len(s.hist) - s.maxReplay; over > 0 {
			over += int(s.align) - 1
			over -= over % int(s.align)
			s.hist = s.hist[:copy(s.hist, s.hist[over:])]
			s.histStart += int64(over)
			if !s.lost {
				log.Warn("google stt: no final result within max_replay, older audio will not be replayed", "max_replay", s.r.cfg.MaxReplay)
			}
			s.lost = true
		}
		s.mu.Unlock()
		s.send(s.cur, s.scratch)
	}
}

// send sends one audio request. A failed send ends the call, whose error
// comes out of its Recv, so it is not reported here.
func (s *stream) send(g *gen, audio []byte) {
	if err := g.cl.Send(&speechpb.StreamingRecognizeRequest{
		StreamingRequest: &speechpb.StreamingRecognizeRequest_AudioContent{AudioContent: audio},
	}); err == nil {
		g.sent += int64(len(audio))
	}
}

// open replaces the current call (if any) by a new one, which gets the
// configuration and then the audio kept since the last final result.
func (s *stream) open() error {
	if s.cur != nil {
		s.cur.cancel()
	}
	gctx, gcancel := context.WithCancel(s.ctx)
	cl, err := s.r.client.StreamingRecognize(gctx)
	if err != nil {
		gcancel()
		return mapErr(err)
	}
	id := 1
	if s.cur != nil {
		id = s.cur.id + 1
	}
	g := &gen{id: id, cl: cl, cancel: gcancel, opened: time.Now()}
	if err := cl.Send(&speechpb.StreamingRecognizeRequest{
		StreamingRequest: &speechpb.StreamingRecognizeRequest_StreamingConfig{StreamingConfig: s.recCfg},
	}); err != nil && err != io.EOF {
		gcancel()
		return mapErr(err)
	}
	s.mu.Lock()
	s.cur = g // from here on, responses of older calls are ignored
	g.base = s.histStart
	hist := s.hist
	s.mu.Unlock()
	// hist is only changed by this goroutine and by g's receiver, which
	// has not started yet.
	for off := 0; off < len(hist); off += s.chunk {
		s.send(g, hist[off:min(off+s.chunk, len(hist))])
	}
	s.wg.Add(1)
	go s.receive(g)
	return nil
}

// receive turns the responses of call g into results.
func (s *stream) receive(g *gen) {
	defer s.wg.Done()
	for {
		resp, err := g.cl.Recv()
		if err == nil {
			err = s.handle(g, resp)
		}
		if err != nil {
			select {
			case s.errs <- genErr{g.id, err}:
			case <-s.ctx.Done():
			}
			return
		}
	}
}

// handle applies one response of call g.
func (s *stream) handle(g *gen, resp *speechpb.StreamingRecognizeResponse) error {
	if e := resp.GetError(); e != nil && codes.Code(e.GetCode()) != codes.OK {
		return status.ErrorProto(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != g || s.outErr != nil {
		return nil
	}
	before := len(s.out)
	var interim []string
	var interimEnd time.Duration
	for _, res := range resp.GetResults() {
		alts := res.GetAlternatives()
		if len(alts) == 0 {
			continue
		}
		end := s.dur(g.base) + res.GetResultEndTime().AsDuration()
		if !res.GetIsFinal() {
			if t := strings.TrimSpace(alts[0].GetTranscript()); t != "" {
				interim = append(interim, t)
			}
			interimEnd = max(interimEnd, end)
			continue
		}
		s.out = append(s.out, s.final(g, res, end))
		// The audio up to this result's end will never be needed again.
		off := g.base + s.bytes(res.GetResultEndTime().AsDuration())
		if k := off - s.histStart; k > 0 {
			k = min(k, int64(len(s.hist)))
			s.hist = s.hist[:copy(s.hist, s.hist[k:])]
			s.histStart += k
			s.lost = false
		}
		s.lastFinal = max(s.lastFinal, end)
		if s.cfg.SingleUtterance {
			s.ended = true
			s.signal(s.wake)
		}
	}
	if len(interim) > 0 && s.cfg.InterimResults {
		s.out = append(s.out, stt.Result{Text: strings.Join(interim, " "), Start: s.lastFinal, End: interimEnd})
	}
	if resp.GetSpeechEventType() == speechpb.StreamingRecognizeResponse_END_OF_SINGLE_UTTERANCE {
		// The service takes no more audio; its final result follows.
		s.ended = true
		s.signal(s.wake)
	}
	if len(s.out) > before {
		s.broadcast()
	}
	return nil
}

// final converts a final result; end is its end in the stream's audio.
func (s *stream) final(g *gen, res *speechpb.StreamingRecognitionResult, end time.Duration) stt.Result {
	alts := res.GetAlternatives()
	best := alts[0]
	r := stt.Result{
		Text:       strings.TrimSpace(best.GetTranscript()),
		Final:      true,
		Confidence: float64(best.GetConfidence()),
		Start:      s.lastFinal,
		End:        end,
	}
	base := s.dur(g.base)
	for _, w := range best.GetWords() {
		r.Words = append(r.Words, stt.Word{
			Text:       w.GetWord(),
			Start:      base + w.GetStartTime().AsDuration(),
			End:        base + w.GetEndTime().AsDuration(),
			Confidence: float64(w.GetConfidence()),
		})
	}
	if len(r.Words) > 0 {
		r.Start = r.Words[0].Start
	}
	for _, a := range alts[1:] {
		r.Alternatives = append(r.Alternatives, stt.Alternative{Text: strings.TrimSpace(a.GetTranscript()), Confidence: float64(a.GetConfidence())})
	}
	if s.gram == nil {
		return r
	}
	if v, ok := s.gram.match(r.Text); ok {
		r.Value = v
		return r
	}
	// An alternative inside the grammar wins over a top hypothesis outside.
	for i, a := range r.Alternatives {
		if v, ok := s.gram.match(a.Text); ok {
			r.Alternatives[i] = stt.Alternative{Text: r.Text, Confidence: r.Confidence}
			r.Text, r.Confidence, r.Value = a.Text, a.Confidence, v
			r.Words = nil
			return r
		}
	}
	r.Rejected = true
	return r
}

var _ UlawWriter = (*stream)(nil)

package nuance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/internal/nuancepb/mix"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
	"github.com/parole-voice/parole/stt"
)

// queueFrames bounds the audio queued for the service (10 s of 20 ms
// frames); Write blocks beyond it.
const queueFrames = 500

// StatusError is a 4xx or 5xx status message that ended a recognition.
// It matches ErrStatus with errors.Is.
type StatusError struct {
	Code    uint32
	Message string
	Details string
}

func (e *StatusError) Error() string {
	s := "nuance: recognition status " + strconv.FormatUint(uint64(e.Code), 10) + " " + e.Message
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

type stream struct {
	r    *Recognizer
	cfg  stt.Config
	init *asrpb.RecognitionRequest

	ctx    context.Context
	cancel context.CancelFunc

	audio chan []byte // encoded frames, closed by CloseSend
	free  chan []byte // spare buffers
	sent  bool        // CloseSend called (writer goroutine only)

	results   chan stt.Result
	done      chan struct{}
	err       error // set before done is closed
	delivered atomic.Bool
	closeOnce sync.Once
}

func (r *Recognizer) start(ctx context.Context, cfg stt.Config, init *asrpb.RecognitionRequest) *stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &stream{
		r: r, cfg: cfg, init: init, ctx: ctx, cancel: cancel,
		audio:   make(chan []byte, queueFrames),
		free:    make(chan []byte, queueFrames+2),
		results: make(chan stt.Result, 16),
		done:    make(chan struct{}),
	}
	go s.run()
	return s
}

// Write encodes f and queues it for the service.
func (s *stream) Write(f *media.Frame) error {
	if s.sent {
		return stt.ErrClosed
	}
	select {
	case <-s.done:
		if s.err != nil {
			return s.err
		}
		return stt.ErrClosed
	default:
	}
	if f.Rate != s.cfg.SampleRate {
		return fmt.Errorf("%w: frame at %d Hz on a %d Hz stream", stt.ErrUnsupported, f.Rate, s.cfg.SampleRate)
	}
	var buf []byte
	select {
	case buf = <-s.free:
	default:
		buf = make([]byte, 0, 2*len(f.Samples))
	}
	switch s.r.cfg.Encoding {
	case ULaw:
		buf = g711.EncodeUlaw(buf[:0], f.Samples)
	case ALaw:
		buf = g711.EncodeAlaw(buf[:0], f.Samples)
	default:
		buf = buf[:0]
		for _, v := range f.Samples {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
		}
	}
	select {
	case s.audio <- buf:
		return nil
	case <-s.done:
		if s.err != nil {
			return s.err
		}
		return stt.ErrClosed
	}
}

// CloseSend ends the audio: the service finishes and sends its final
// results.
func (s *stream) CloseSend() error {
	if s.sent {
		return nil
	}
	s.sent = true
	close(s.audio)
	return nil
}

// Recv returns the next result, io.EOF after the last one.
func (s *stream) Recv() (stt.Result, error) {
	if res, ok := <-s.results; ok {
		return res, nil
	}
	<-s.done
	if s.err != nil {
		return stt.Result{}, s.err
	}
	return stt.Result{}, io.EOF
}

// Close stops the recognition and waits for its goroutines.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}

// run makes the attempts: a failure before any result was delivered, while
// all the audio sent is still kept for replay, is retried with backoff.
func (s *stream) run() {
	defer close(s.done)
	defer close(s.results)
	st := &replay{limit: int(s.r.cfg.Replay.Seconds() * float64(s.cfg.SampleRate) * s.bytesPerSample()), keep: true}
	for attempt := 1; ; attempt++ {
		err := s.attempt(st)
		if err == nil {
			return
		}
		if s.ctx.Err() != nil {
			s.err = stt.ErrClosed
			return
		}
		retry := mix.Retryable(err) || errors.Is(err, ErrOpenTimeout)
		if !retry || attempt > s.r.cfg.MaxRetries || !st.keep || s.delivered.Load() {
			s.err = err
			return
		}
		d := mix.Backoff(s.r.cfg.RetryBackoff, attempt)
		s.r.log.Warn("nuance: recognition failed, retrying", "err", err, "attempt", attempt, "backoff", d, "replay_bytes", len(st.buf))
		if !mix.Sleep(s.ctx, d) {
			s.err = stt.ErrClosed
			return
		}
	}
}

func (s *stream) bytesPerSample() float64 {
	if s.r.cfg.Encoding == PCM {
		return 2
	}
	return 1
}

// replay keeps the audio sent so far, to resend it on a retry.
type replay struct {
	buf   []byte
	limit int
	keep  bool
}

func (p *replay) add(b []byte) {
	if !p.keep {
		return
	}
	if len(p.buf)+len(b) > p.limit {
		p.keep, p.buf = false, nil
		return
	}
	p.buf = append(p.buf, b...)
}

type incoming struct {
	resp *asrpb.RecognitionResponse
	err  error
}

// attempt runs one Recognize RPC. It returns nil when the service ended
// the recognition normally (status 200 or 204).
func (s *stream) attempt(rp *replay) error {
	ctx, cancel := context.WithCancel(s.ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	rpc, err := s.r.client.Recognize(ctx)
	if err != nil {
		return mix.MapError("recognize", err)
	}
	in := make(chan incoming, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			resp, err := rpc.Recv()
			select {
			case in <- incoming{resp, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	if err := rpc.Send(s.init); err != nil && !errors.Is(err, io.EOF) {
		return mix.MapError("recognize", err)
	} // on io.EOF the RPC failed: Recv says why

	open := time.NewTimer(s.r.cfg.OpenTimeout)
	defer open.Stop()
	var audio chan []byte // nil until 100 Continue
	req := &asrpb.RecognitionRequest{}
	chunk := &asrpb.RecognitionRequest_Audio{}
	req.RequestUnion = chunk
	send := func(b []byte) error {
		chunk.Audio = b
		err := rpc.Send(req)
		if err != nil && !errors.Is(err, io.EOF) {
			return mix.MapError("recognize", err)
		}
		return nil
	}
	for {
		select {
		case m := <-in:
			if errors.Is(m.err, io.EOF) {
				return nil
			}
			if m.err != nil {
				return mix.MapError("recognize", m.err)
			}
			switch x := m.resp.ResponseUnion.(type) {
			case *asrpb.RecognitionResponse_Status:
				code := x.Status.GetCode()
				switch {
				case code == 100:
					if audio == nil {
						open.Stop()
						for off := 0; off < len(rp.buf); off += 3200 {
							if err := send(rp.buf[off:min(off+3200, len(rp.buf))]); err != nil {
								return err
							}
						}
						audio = s.audio
					}
				case code == 200 || code == 204:
					return nil
				case code >= 300:
					return &StatusError{Code: code, Message: x.Status.GetMessage(), Details: x.Status.GetDetails()}
				}
			case *asrpb.RecognitionResponse_StartOfSpeech:
				s.r.log.Debug("nuance: start of speech", "ms", x.StartOfSpeech.GetFirstAudioToStartOfSpeechMs())
			case *asrpb.RecognitionResponse_Result:
				res := s.toResult(x.Result)
				select {
				case s.results <- res:
					s.delivered.Store(true)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		case b, ok := <-audio:
			if !ok {
				audio = nil
				if err := rpc.CloseSend(); err != nil {
					return mix.MapError("recognize", err)
				}
				continue
			}
			err := send(b)
			rp.add(b)
			select {
			case s.free <- b:
			default:
			}
			if err != nil {
				return err
			}
		case <-open.C:
			if audio == nil {
				return fmt.Errorf("%w within %v", ErrOpenTimeout, s.r.cfg.OpenTimeout)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func ms(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }

// toResult maps a service result to an stt.Result.
func (s *stream) toResult(r *asrpb.Result) stt.Result {
	out := stt.Result{
		Final: r.GetResultType() == asrpb.EnumResultType_FINAL,
		Start: ms(r.GetAbsStartMs()),
		End:   ms(r.GetAbsEndMs()),
	}
	hyps := r.GetHypotheses()
	if len(hyps) == 0 {
		out.Rejected = out.Final
		return out
	}
	h := hyps[0]
	out.Text = text(h)
	out.Confidence = confidence(h)
	out.Rejected = h.GetRejected()
	for _, w := range h.GetWords() {
		out.Words = append(out.Words, stt.Word{
			Text: w.GetText(), Start: ms(w.GetStartMs()), End: ms(w.GetEndMs()),
			Confidence: float64(w.GetConfidence()),
		})
	}
	for _, a := range hyps[1:min(len(hyps), max(1, s.cfg.MaxAlternatives))] {
		out.Alternatives = append(out.Alternatives, stt.Alternative{Text: text(a), Confidence: confidence(a)})
	}
	if g := s.cfg.Grammar; g != nil {
		i, ok := matchRule(g, h)
		if ok {
			out.Value = g.Rules[i].Value
		} else if out.Final {
			out.Rejected = true
		}
	}
	return out
}

func text(h *asrpb.Hypothesis) string {
	if t := h.GetFormattedText(); t != "" {
		return t
	}
	return h.GetMinimallyFormattedText()
}

func confidence(h *asrpb.Hypothesis) float64 {
	if h.OptionalHypothesisConfidence != nil {
		return float64(h.GetConfidence())
	}
	return float64(h.GetAverageConfidence())
}

// matchRule finds the grammar rule of a hypothesis: from the rule its
// words came from, else from its text.
func matchRule(g *stt.Grammar, h *asrpb.Hypothesis) (int, bool) {
	for _, w := range h.GetWords() {
		if i, ok := ruleIndex(w.GetGrammarRule(), len(g.Rules)); ok {
			return i, true
		}
	}
	t := normalize(text(h))
	if t == "" {
		return 0, false
	}
	for i, r := range g.Rules {
		if normalize(r.Phrase) == t {
			return i, true
		}
	}
	return 0, false
}

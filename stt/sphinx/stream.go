package sphinx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/stt"
)

// ErrFrameRate: a frame's sample rate is not the stream's
// stt.Config.SampleRate.
var ErrFrameRate = errors.New("sphinx: frame sample rate differs from the stream's")

type mode int

const (
	modeLM mode = iota
	modeGrammar
)

// maxGarbageShare is the largest share of an utterance's frames the
// out-of-grammar loop may take in an accepted result.
const maxGarbageShare = 0.3

// interimEvery is how often (in 20 ms frames) the partial hypothesis is
// read while speech goes on.
const interimEvery = 5

// Stream starts recognizing. It takes a decoder from the pool (loading the
// model when the pool is empty, or waiting when Config.MaxDecoders are in
// use) and selects the search the configuration asks for: the grammar with
// its out-of-grammar path, or else the full language model. Hints without a
// grammar do not change the search: pocketsphinx's keyword spotting
// (ps_set_kws) detected no keyword at all in our espeak-ng and Asterisk
// tests with this model, so free text with the language model is the better
// answer. The language must be English ("en", "en-US", … or empty).
func (r *Recognizer) Stream(ctx context.Context, cfg stt.Config) (stt.Stream, error) {
	return r.stream(ctx, cfg)
}

func (r *Recognizer) stream(ctx context.Context, cfg stt.Config) (*Stream, error) {
	if l := strings.ToLower(cfg.Language); l != "" && l != "en" && !strings.HasPrefix(l, "en-") && !strings.HasPrefix(l, "en_") {
		return nil, fmt.Errorf("%w: language %q (sphinx has an English model only)", stt.ErrUnsupported, cfg.Language)
	}
	key, err := r.key(cfg.SampleRate, cfg.EndSilence)
	if err != nil {
		return nil, err
	}
	s := &Stream{r: r, cfg: cfg, key: key, decRate: key.rate}
	s.cond = sync.NewCond(&s.qmu)
	var setup func(d *decoder) error
	switch {
	case cfg.Grammar != nil:
		c, _, err := compileGrammar(cfg.Grammar, r.HasWord, r.cfg.GarbageWeight)
		if err != nil {
			return nil, err
		}
		s.mode, s.grammar = modeGrammar, c
		setup = func(d *decoder) error { return d.setJSGF(c.name, c.jsgf) }
	default:
		setup = (*decoder).setLM
	}
	if cfg.SampleRate != key.rate {
		rs, err := resample.New(cfg.SampleRate, key.rate, resample.Medium)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", stt.ErrUnsupported, err)
		}
		s.rs = rs
		s.buf = make([]int16, 0, 2*resample.OutputLen(cfg.SampleRate, key.rate, media.SamplesPerFrame(cfg.SampleRate)))
	}
	d, err := r.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(setup(d), d.startStream(), d.startUtt()); err != nil {
		r.release(key, d)
		return nil, err
	}
	s.dec = d
	s.beginUtterance()
	if ctx.Done() != nil {
		// Under s.mu: with ctx already done the abort runs at once, in
		// another goroutine, and reads s.stop.
		s.mu.Lock()
		s.stop = context.AfterFunc(ctx, func() { s.abort(ctx.Err()) })
		s.mu.Unlock()
	}
	return s, nil
}

// Stream is one recognition session of a [Recognizer]; it implements
// stt.Stream. Write and CloseSend run the decoder in the caller's
// goroutine; Recv waits for the results they produce. The stream starts no
// goroutine.
type Stream struct {
	r       *Recognizer
	cfg     stt.Config
	key     poolKey
	decRate int
	mode    mode
	grammar *compiled
	stop    func() bool

	mu       sync.Mutex // audio side: decoder and its state
	dec      *decoder
	rs       *resample.Resampler
	buf      []int16
	fed      int64 // samples given to the decoder
	uttOff   int64 // offset in fed samples of dec.utt[0]
	uttFull  bool  // the utterance outgrew maxSecondPass: no second pass
	cmn0     cmnState
	cmn0OK   bool          // cmn0 holds the CMN state at the utterance's start
	tOff     time.Duration // added to the decoder's frame times (second passes)
	frames   int           // frames written
	speaking bool
	ended    bool   // CloseSend, single utterance done, or aborted
	lastHyp  []byte // last interim text sent

	qmu   sync.Mutex // results side
	cond  *sync.Cond
	queue []stt.Result
	err   error // io.EOF, stt.ErrClosed or the context's error, once the queue drains
}

var _ stt.Stream = (*Stream)(nil)

// Write feeds one frame at stt.Config.SampleRate. An empty frame is
// ignored; a frame of another rate gets ErrFrameRate; frames after
// CloseSend, after the final result of a single-utterance stream, or after
// Close get stt.ErrClosed. Write allocates nothing in steady state (results
// aside).
func (s *Stream) Write(f *media.Frame) error {
	if f == nil {
		return fmt.Errorf("sphinx: nil frame")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.dec == nil {
		return fmt.Errorf("sphinx: write: %w", stt.ErrClosed)
	}
	if len(f.Samples) == 0 {
		return nil
	}
	if f.Rate != s.cfg.SampleRate {
		return fmt.Errorf("%w: frame at %d Hz, stream at %d Hz", ErrFrameRate, f.Rate, s.cfg.SampleRate)
	}
	in := f.Samples
	if s.rs != nil {
		s.buf = s.rs.Process(s.buf[:0], in)
		in = s.buf
	}
	if err := s.feed(in); err != nil {
		return s.fail(err)
	}
	s.frames++
	speech := s.dec.inSpeech()
	if !speech && !s.speaking {
		s.trimUtterance()
	}
	switch {
	case speech && !s.speaking:
		s.speaking = true
	case speech && s.cfg.InterimResults && s.frames%interimEvery == 0:
		s.interim()
	case !speech && s.speaking:
		return s.endUtterance(true)
	}
	return nil
}

// preRoll is the audio kept before the decoder's voice detector triggers,
// for a second pass over the utterance: more than the detector's own
// look-back (-vad_prespeech, 0.2 s, and -vad_startspeech, 0.1 s).
const preRoll = time.Second

// maxSecondPass bounds the utterance audio kept for a second pass; a longer
// utterance keeps its first result.
const maxSecondPass = 20 * time.Second

// feed runs the decoder on samples at its rate and keeps them for a second
// pass.
func (s *Stream) feed(in []int16) error {
	if err := s.dec.process(in); err != nil {
		return err
	}
	s.fed += int64(len(in))
	if !s.uttFull {
		if len(s.dec.utt)+len(in) > int(maxSecondPass.Seconds()*float64(s.decRate)) {
			s.uttFull = true
			return nil
		}
		s.dec.utt = append(s.dec.utt, in...)
	}
	return nil
}

// trimUtterance drops the kept audio older than preRoll while no speech
// is heard (copying once a second of it has piled up).
func (s *Stream) trimUtterance() {
	keep := int(preRoll.Seconds() * float64(s.decRate))
	if s.uttFull || len(s.dec.utt) < 2*keep {
		return
	}
	drop := len(s.dec.utt) - keep
	n := copy(s.dec.utt, s.dec.utt[drop:])
	s.dec.utt = s.dec.utt[:n]
	s.uttOff += int64(drop)
}

// beginUtterance notes the start of a decoder utterance: its audio is kept
// from here, and the cepstral mean it starts with.
func (s *Stream) beginUtterance() {
	s.dec.utt = s.dec.utt[:0]
	s.uttOff, s.uttFull = s.fed, false
	s.cmn0, s.cmn0OK = s.dec.cmn()
}

// cmnShift is how far the utterance just ended moved the live cepstral
// mean (0 when unknown).
func (s *Stream) cmnShift() (cmnState, float64) {
	st, ok := s.dec.cmn()
	if !ok || !s.cmn0OK {
		return st, 0
	}
	d := 0.0
	for i := range st.mean {
		x := float64(st.mean[i] - s.cmn0.mean[i])
		d += x * x
	}
	return st, math.Sqrt(d)
}

// secondPass decodes the utterance just ended again, with the cepstral
// mean it left (pocketsphinx updates the live mean only at the end of an
// utterance, so an utterance is decoded with the mean of the audio heard
// before it, or with -cmninit on a fresh decoder). after is the CMN state
// the first pass left; it is restored, so the utterance counts once in
// the mean. The decoder's frame count goes on (the kept audio is fed
// again after the stream's), so word times are shifted back by tOff.
func (s *Stream) secondPass(after *cmnState) (stt.Result, bool, error) {
	d := s.dec
	if err := d.startUtt(); err != nil {
		return stt.Result{}, false, err
	}
	s.tOff += s.time(s.uttOff) - s.time(s.fed)
	if err := errors.Join(d.process(d.utt), d.endUtt()); err != nil {
		return stt.Result{}, false, err
	}
	res, ok := s.result()
	d.setCMN(after)
	return res, ok, nil
}

// interim sends the partial hypothesis when it changed.
func (s *Stream) interim() {
	h := s.dec.hypBytes()
	if len(h) == 0 || bytes.Equal(h, s.lastHyp) {
		return
	}
	if s.mode == modeGrammar && bytes.Contains(h, []byte(garbagePrefix)) {
		return
	}
	s.lastHyp = append(s.lastHyp[:0], h...)
	s.push(stt.Result{Text: string(h), End: s.time(s.fed)})
}

func (s *Stream) time(samples int64) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(s.decRate)
}

// endUtterance ends the utterance in progress, queues its final result and,
// when restart, starts the next one.
func (s *Stream) endUtterance(restart bool) error {
	s.speaking = false
	s.lastHyp = s.lastHyp[:0]
	if err := s.dec.endUtt(); err != nil {
		return s.fail(err)
	}
	res, ok := s.result()
	if after, shift := s.cmnShift(); s.r.cfg.CMNShift > 0 && shift > s.r.cfg.CMNShift && !s.uttFull && len(s.dec.utt) > 0 {
		// the utterance was decoded with a mean far from its own (a
		// fresh decoder's -cmninit, or another line's): decode it again
		res2, ok2, err := s.secondPass(&after)
		if err != nil {
			return s.fail(err)
		}
		if ok2 {
			res, ok = res2, true
		}
	}
	if !ok {
		// the voice detector heard speech but the search kept no path
		// (nothing in the grammar fits): a no-match, not silence
		res = stt.Result{Final: true, Rejected: true}
	}
	s.push(res)
	if s.cfg.SingleUtterance {
		s.finish(io.EOF)
		return nil
	}
	if restart {
		if err := s.dec.startUtt(); err != nil {
			return s.fail(err)
		}
		s.beginUtterance()
	}
	return nil
}

// result reads the final hypothesis of the utterance just ended.
func (s *Stream) result() (stt.Result, bool) {
	hyp := string(s.dec.hypBytes())
	segs := s.dec.words()
	var res stt.Result
	res.Final = true
	garbageFrames, wordFrames := 0, 0
	first := true
	innerFill, pendingFill := 0, 0
	for _, w := range segs {
		text := baseWord(w.text)
		if isFiller(text) {
			if !first {
				pendingFill += w.ef - w.sf + 1
			}
			continue
		}
		innerFill += pendingFill
		pendingFill = 0
		if strings.HasPrefix(text, garbagePrefix) {
			garbageFrames += w.ef - w.sf + 1
			continue
		}
		wordFrames += w.ef - w.sf + 1
		start := s.tOff + time.Duration(w.sf)*10*time.Millisecond
		end := s.tOff + time.Duration(w.ef+1)*10*time.Millisecond
		if first {
			res.Start = start
			first = false
		}
		res.End = end
		res.Words = append(res.Words, stt.Word{Text: text, Start: start, End: end, Confidence: w.prob})
	}
	if len(segs) == 0 && hyp == "" {
		return res, false // no speech reached the decoder
	}
	texts := make([]string, len(res.Words))
	for i, w := range res.Words {
		texts[i] = w.Text
	}
	res.Text = strings.Join(texts, " ")
	// sphinxbase's JSGF compiler joins the phone loop and the phrases
	// through null transitions, so garbage may come before or after a
	// phrase (a hesitation, a noise): accepted while it is short.
	// Fillers (silence, noise) inside the phrase count with the garbage:
	// speech forced onto a phrase it does not match shows as words
	// stretched apart by long "noise".
	bad := garbageFrames + innerFill
	garbage := bad > 0 && float64(bad) > maxGarbageShare*float64(bad+wordFrames)
	if res.Text == "" && garbageFrames == 0 {
		res.Text = hyp
	}
	res.Confidence = s.dec.posterior()
	switch s.mode {
	case modeGrammar:
		v, ok := s.grammar.values[res.Text]
		switch {
		case garbage || !ok:
			res.Rejected = true
		case s.r.cfg.MinConfidence > 0 && res.Confidence < s.r.cfg.MinConfidence:
			res.Rejected = true
			res.Value = v
		default:
			res.Value = v
		}
	default:
		res.Rejected = res.Text == ""
	}
	// In grammar mode the FSG lattice holds only the winning phrase (with
	// garbage and timing variants, hundreds deep): no alternatives there.
	if s.cfg.MaxAlternatives > 1 && !res.Rejected && s.mode != modeGrammar {
		res.Alternatives = s.alternatives(res.Text, s.cfg.MaxAlternatives-1)
	}
	return res, true
}

// nbestDepth is how many n-best paths are read for each alternative asked
// for: most paths differ from the ones before only in fillers or timing.
const nbestDepth = 8

// acousticScale is pocketsphinx's default -ascale: path scores are divided by
// it before they are compared, as ps_get_prob does for the posterior.
const acousticScale = 20

// alternatives returns up to max other hypotheses of the utterance, best
// first, as the words they say (fillers dropped, garbage paths left out). Their confidence is the
// share of each path in the n-best list after acoustic scaling, counted with
// the best path.
func (s *Stream) alternatives(best string, max int) []stt.Alternative {
	hyps := s.dec.nbest(max * nbestDepth)
	if len(hyps) == 0 {
		return nil
	}
	type alt struct {
		text   string
		weight float64
	}
	seen := map[string]bool{best: true}
	var alts []alt
	total := 0.0
	top := hyps[0].score
	for _, h := range hyps {
		w := math.Exp((h.score - top) / acousticScale)
		total += w
		var words []string
		garbage := false
		for _, f := range strings.Fields(h.text) {
			t := baseWord(f)
			if isFiller(t) {
				continue
			}
			if strings.HasPrefix(t, garbagePrefix) {
				garbage = true
				continue
			}
			words = append(words, t)
		}
		text := strings.Join(words, " ")
		if text == "" || seen[text] || len(alts) >= max {
			continue
		}
		if garbage {
			continue
		}
		seen[text] = true
		alts = append(alts, alt{text, w})
	}
	// the A* search does not always yield paths in score order
	sort.SliceStable(alts, func(i, j int) bool { return alts[i].weight > alts[j].weight })
	out := make([]stt.Alternative, len(alts))
	for i, a := range alts {
		out[i] = stt.Alternative{Text: a.text, Confidence: a.weight / total}
	}
	return out
}

// CloseSend ends the audio: the utterance in progress gets its final
// result, then Recv returns io.EOF.
func (s *Stream) CloseSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dec == nil {
		return fmt.Errorf("sphinx: close send: %w", stt.ErrClosed)
	}
	if s.ended {
		return nil
	}
	if s.rs != nil {
		// the resampler's tail: the last Delay() samples of speech
		s.buf = s.rs.Flush(s.buf[:0])
		if err := s.feed(s.buf); err != nil {
			return s.fail(err)
		}
	}
	if s.speaking || s.dec.inSpeech() {
		if err := s.endUtterance(false); err != nil {
			return err
		}
	}
	s.finish(io.EOF)
	return nil
}

// fail ends the stream with err (the audio side's lock held).
func (s *Stream) fail(err error) error {
	s.finish(err)
	return err
}

// finish ends the audio side with cause for Recv once the queue drains,
// and returns the decoder to the pool. Callers hold s.mu.
func (s *Stream) finish(cause error) {
	s.ended = true
	if s.dec != nil {
		s.r.release(s.key, s.dec)
		s.dec = nil
	}
	if s.stop != nil {
		s.stop()
	}
	s.qmu.Lock()
	if s.err == nil {
		s.err = cause
	}
	s.qmu.Unlock()
	s.cond.Broadcast()
}

func (s *Stream) abort(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.qmu.Lock()
	s.queue = nil
	if s.err == nil || s.err == io.EOF {
		s.err = cause
	}
	s.qmu.Unlock()
	s.finish(cause)
}

func (s *Stream) push(r stt.Result) {
	s.qmu.Lock()
	s.queue = append(s.queue, r)
	s.qmu.Unlock()
	s.cond.Broadcast()
}

// Recv returns the next result: interim hypotheses (Final false) when
// asked for, and one final result per utterance. After the last result it
// returns io.EOF; after Close, stt.ErrClosed; when the stream's context
// ends, the context's error.
func (s *Stream) Recv() (stt.Result, error) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	for {
		if len(s.queue) > 0 {
			r := s.queue[0]
			s.queue[0] = stt.Result{}
			s.queue = s.queue[1:]
			return r, nil
		}
		if s.err != nil {
			return stt.Result{}, s.err
		}
		s.cond.Wait()
	}
}

// Close ends the stream at once and returns its decoder to the pool.
// Results not yet received are dropped. It is safe to call more than once.
func (s *Stream) Close() error {
	s.abort(fmt.Errorf("sphinx: recv: %w", stt.ErrClosed))
	return nil
}

package voxygen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/mp3"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

// Synthesize sends the first sentence of req at once and returns when the
// service's answer has begun (its headers are in): a refused token, an
// unreachable service or a refused request fail here. The audio is decoded
// as Recv asks for it; the next sentence is requested as soon as the
// previous answer began, one ahead.
func (s *Synthesizer) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if req.SampleRate <= 0 {
		return nil, fmt.Errorf("%w: sample rate %d", tts.ErrUnsupported, req.SampleRate)
	}
	if s.cfg.Coding == MP3 {
		switch req.SampleRate {
		case 8000, 16000, 24000, 48000:
		default:
			return nil, fmt.Errorf("%w: sample rate %d (MP3 is decoded to 8, 16, 24 or 48 kHz)", tts.ErrUnsupported, req.SampleRate)
		}
	} else if req.SampleRate < resample.MinRate || req.SampleRate > 48000 {
		return nil, fmt.Errorf("%w: sample rate %d", tts.ErrUnsupported, req.SampleRate)
	}
	lang := req.Language
	if lang == "" {
		lang = s.cfg.Language
	}
	voice := s.voice(req, lang)
	if voice == "" {
		return nil, fmt.Errorf("%w: no voice for language %q", tts.ErrUnsupported, lang)
	}
	var segs []Segment
	switch {
	case strings.TrimSpace(req.SSML) != "":
		segs = []Segment{{Offset: 0, Text: req.SSML}} // mark-up is sent whole
	case s.cfg.NoSplit:
		segs = splitText(req.Text, s.cfg.MaxChars, false)
	default:
		segs = SplitSentences(req.Text, s.cfg.MaxChars)
	}
	ctx, cancel := context.WithCancel(ctx)
	st := &stream{s: s, ctx: ctx, cancel: cancel, segs: segs, rate: req.SampleRate,
		voice: voice, lang: lang, speed: req.Rate, textLen: len(req.Text)}
	if req.SSML != "" {
		st.textLen = len(req.SSML)
	}
	if len(segs) == 0 {
		return st, nil
	}
	sctx, scancel := context.WithTimeout(ctx, s.cfg.SegmentTime)
	resp, err := s.fetch(sctx, st.form(0))
	if err != nil {
		scancel()
		cancel()
		return nil, err
	}
	st.body = &body{r: resp.Body, max: s.cfg.MaxAudioBytes}
	st.segCancel = scancel
	st.prefetch(1)
	return st, nil
}

type fetched struct {
	data []byte
	err  error
}

type stream struct {
	s      *Synthesizer
	ctx    context.Context
	cancel context.CancelFunc
	segs   []Segment
	rate   int
	voice  string
	lang   string
	speed  float64

	textLen   int
	idx       int          // segment being decoded
	body      *body        // its audio, while streamed from the first answer
	segCancel func()       // ends the first request
	dec       decoder      // nil between segments
	next      chan fetched // the prefetched segment idx+1
	wg        sync.WaitGroup
	err       error
	mu        sync.Mutex
	resume    int
	closed    bool
}

func (st *stream) form(i int) map[string][]string {
	return st.s.form(st.segs[i].Text, st.voice, st.lang, st.s.frequency(st.rate), st.speed)
}

// prefetch requests segment i in the background and reads its audio.
func (st *stream) prefetch(i int) {
	if i >= len(st.segs) {
		st.next = nil
		return
	}
	ch := make(chan fetched, 1)
	st.next = ch
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		ctx, cancel := context.WithTimeout(st.ctx, st.s.cfg.SegmentTime)
		defer cancel()
		resp, err := st.s.fetch(ctx, st.form(i))
		if err != nil {
			ch <- fetched{err: err}
			return
		}
		b := &body{r: resp.Body, max: st.s.cfg.MaxAudioBytes}
		data, err := io.ReadAll(b)
		resp.Body.Close()
		if err == nil {
			err = b.err
		}
		if err != nil && !errors.Is(err, ErrTooLarge) {
			if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("%w: segment took more than %v", ErrTimeout, st.s.cfg.SegmentTime)
			} else {
				err = fmt.Errorf("%w: reading the audio: %w", ErrUnavailable, err)
			}
		}
		ch <- fetched{data: data, err: err}
	}()
}

// Recv returns the next 20 ms of audio.
func (st *stream) Recv() (tts.Chunk, error) {
	for {
		if st.err == nil && st.ctx.Err() != nil {
			st.err = fmt.Errorf("voxygen: stream ended: %w", st.ctx.Err())
			st.endSegment()
			if st.dec != nil {
				st.dec.close()
			}
		}
		if st.err != nil {
			return tts.Chunk{}, st.err
		}
		if st.dec == nil {
			if err := st.open(); err != nil {
				if err != io.EOF {
					st.err = err
				} else {
					st.err = io.EOF
					st.setResume(st.textLen)
				}
				continue
			}
		}
		samples, err := st.dec.next()
		if err == io.EOF {
			st.dec = nil
			st.endSegment()
			st.idx++
			if st.idx < len(st.segs) {
				st.setResume(st.segs[st.idx].Offset)
			}
			continue
		}
		if err != nil {
			st.err = err
			st.endSegment()
			continue
		}
		return tts.Chunk{Samples: samples, Rate: st.rate}, nil
	}
}

// open starts decoding segment st.idx: the first from the open answer,
// the others from their prefetched audio (and then asks for the next).
func (st *stream) open() error {
	if st.idx >= len(st.segs) {
		return io.EOF
	}
	var src io.Reader
	var b *body
	if st.body != nil {
		b, st.body = st.body, nil
		src = b
	} else {
		ch := st.next
		if ch == nil {
			return io.EOF
		}
		var f fetched
		select {
		case f = <-ch:
		case <-st.ctx.Done():
			return fmt.Errorf("voxygen: %w", st.ctx.Err())
		}
		st.prefetch(st.idx + 1)
		if f.err != nil {
			return f.err
		}
		src = bytes.NewReader(f.data)
	}
	dec, err := st.newDecoder(src, b)
	if err != nil {
		return err
	}
	st.dec = dec
	return nil
}

func (st *stream) endSegment() {
	if st.segCancel != nil {
		st.segCancel()
		st.segCancel = nil
	}
}

func (st *stream) setResume(off int) {
	st.mu.Lock()
	st.resume = off
	st.mu.Unlock()
}

// ResumeOffset is the byte offset in the request's text (its SSML when
// set) from which the text has not been entirely delivered: the start of
// the sentence being played, or the text's length once the stream ended.
// A fallback synthesizer resumes from there.
func (st *stream) ResumeOffset() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.resume
}

// Close stops the requests in flight and frees the stream.
func (st *stream) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.mu.Unlock()
	// Cancelling the context aborts the answer being read and the one
	// prefetched; Recv then reports the stream closed.
	st.cancel()
	st.wg.Wait()
	return nil
}

// body bounds and watches a response body: a transport error is kept, so
// that a decoder taking a cut stream for its end is caught.
type body struct {
	r   io.ReadCloser
	n   int64
	max int64
	err error
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		b.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.max)
		return n, b.err
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// decoder yields the audio of one answer in 20 ms pieces at the call's
// rate.
type decoder interface {
	next() ([]int16, error)
	close()
}

func (st *stream) newDecoder(r io.Reader, b *body) (decoder, error) {
	wrapErr := func(what string, err error) error {
		if b != nil && b.err != nil {
			if errors.Is(b.err, ErrTooLarge) {
				return b.err
			}
			return fmt.Errorf("%w: audio cut off: %w", ErrUnavailable, b.err)
		}
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		return fmt.Errorf("%w: %s: %w", ErrAudio, what, err)
	}
	closer := func() {
		if b != nil {
			b.r.Close()
		}
	}
	if st.s.cfg.Coding == MP3 {
		d, err := mp3.NewDecoder(r, st.rate)
		if err != nil {
			closer()
			return nil, wrapErr("mp3", err)
		}
		return &mp3Dec{d: d, b: b, wrap: wrapErr, closer: closer}, nil
	}
	rd, err := wav.NewReader(r)
	if err != nil {
		closer()
		return nil, wrapErr("wav", err)
	}
	w := &wavDec{rd: rd, b: b, wrap: wrapErr, closer: closer}
	if rd.SampleRate() != st.rate {
		rs, err := resample.New(rd.SampleRate(), st.rate, resample.Medium)
		if err != nil {
			closer()
			return nil, fmt.Errorf("%w: wav at %d Hz: %w", ErrAudio, rd.SampleRate(), err)
		}
		w.rs, w.skip = rs, rs.Delay()
	}
	return w, nil
}

type mp3Dec struct {
	d      *mp3.Decoder
	f      media.Frame
	b      *body
	wrap   func(string, error) error
	closer func()
}

func (m *mp3Dec) next() ([]int16, error) {
	for {
		err := m.d.ReadFrame(&m.f)
		if err == io.EOF {
			m.closer()
			if m.b != nil && m.b.err != nil {
				return nil, m.wrap("mp3", m.b.err)
			}
			return nil, io.EOF
		}
		if err != nil {
			m.closer()
			return nil, m.wrap("mp3", err)
		}
		if len(m.f.Samples) > 0 {
			return append([]int16(nil), m.f.Samples...), nil
		}
	}
}

func (m *mp3Dec) close() { m.closer() }

type wavDec struct {
	rd     *wav.Reader
	rs     *resample.Resampler
	skip   int // resampler delay still to drop
	f, out media.Frame
	tail   bool
	b      *body
	wrap   func(string, error) error
	closer func()
}

func (w *wavDec) next() ([]int16, error) {
	for {
		if w.tail {
			return nil, io.EOF
		}
		err := w.rd.ReadFrame(&w.f)
		if err == io.EOF {
			w.closer()
			if w.b != nil && w.b.err != nil {
				return nil, w.wrap("wav", w.b.err)
			}
			w.tail = true
			if w.rs == nil {
				return nil, io.EOF
			}
			t := w.rs.Flush(nil)
			if w.skip < len(t) {
				return t[w.skip:], nil
			}
			return nil, io.EOF
		}
		if err != nil {
			w.closer()
			return nil, w.wrap("wav", err)
		}
		s := w.f.Samples
		if w.rs != nil {
			w.out.Samples = w.rs.Process(w.out.Samples[:0], s)
			s = w.out.Samples
			if w.skip > 0 {
				d := min(w.skip, len(s))
				s, w.skip = s[d:], w.skip-d
			}
		}
		if len(s) > 0 {
			return append([]int16(nil), s...), nil
		}
	}
}

func (w *wavDec) close() { w.closer() }

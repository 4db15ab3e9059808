package cache

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/tts"
)

// Stream yields a cached or recorded utterance as 20 ms frames. It
// implements tts.Stream. A Stream is used by one goroutine at a time.
type Stream struct {
	ctx   context.Context
	e     *entry  // a complete utterance, or
	f     *flight // a recording in progress
	cache *Cache

	pos, mark int     // samples and marks delivered
	block     []int16 // caller-owned samples not handed out yet
	markBlock []tts.Mark
	markCopy  bool
	closed    bool

	stopAfter   func() bool // unregisters the ctx hook of a flight stream
	releaseOnce sync.Once
	abandoned   bool
}

func newStream(ctx context.Context, e *entry, f *flight) *Stream {
	return &Stream{ctx: ctx, e: e, f: f}
}

// Rate returns the stream's sample rate (0 until a recording in progress
// has its first audio).
func (s *Stream) Rate() int {
	if s.e != nil {
		return s.e.rate
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	return s.f.rate
}

// release gives the stream's reference to its flight back once.
func (s *Stream) release() {
	s.releaseOnce.Do(func() {
		if s.f != nil && s.cache != nil {
			s.abandoned = s.cache.release(s.f)
		}
	})
}

// next returns the next frame and its marks as views of the shared
// recording, which callers must copy and not modify.
func (s *Stream) next() ([]int16, []tts.Mark, int, error) {
	if s.closed {
		return nil, nil, 0, ErrClosed
	}
	if err := s.ctx.Err(); err != nil {
		s.release()
		return nil, nil, 0, err
	}
	if s.e != nil {
		return s.take(s.e.samples, s.e.marks, s.e.rate, true)
	}
	f := s.f
	for {
		f.mu.Lock()
		n := media.SamplesPerFrame(f.rate)
		if f.done && f.err == nil || f.rate > 0 && len(f.samples)-s.pos >= n {
			fr, m, rate, err := s.take(f.samples, f.marks, f.rate, f.done)
			f.mu.Unlock()
			return fr, m, rate, err
		}
		if f.done { // failed: the audio recorded so far, then the error
			if f.rate > 0 && len(f.samples) > s.pos {
				fr, m, rate, _ := s.take(f.samples, f.marks, f.rate, true)
				f.mu.Unlock()
				return fr, m, rate, nil
			}
			err := f.err
			f.mu.Unlock()
			return nil, nil, 0, err
		}
		wait := f.changed
		f.mu.Unlock()
		select {
		case <-wait:
		case <-s.ctx.Done():
			s.release()
			return nil, nil, 0, s.ctx.Err()
		}
	}
}

// take returns the frame at s.pos of samples and the marks up to its end
// (all of them with the last frame of a complete utterance).
func (s *Stream) take(samples []int16, marks []tts.Mark, rate int, complete bool) ([]int16, []tts.Mark, int, error) {
	if s.pos >= len(samples) {
		if complete && s.mark < len(marks) { // marks past the audio
			m := marks[s.mark:]
			s.mark = len(marks)
			return nil, m, rate, nil
		}
		return nil, nil, 0, io.EOF
	}
	end := min(s.pos+media.SamplesPerFrame(rate), len(samples))
	fr := samples[s.pos:end]
	s.pos = end
	lim := time.Duration(end) * time.Second / time.Duration(rate)
	j := s.mark
	for j < len(marks) && (marks[j].At < lim || complete && end == len(samples)) {
		j++
	}
	m := marks[s.mark:j:j]
	s.mark = j
	if len(m) == 0 {
		m = nil
	}
	return fr, m, rate, nil
}

// Recv returns the next 20 ms frame as a chunk whose samples belong to the
// caller (see the package documentation for the allocation), io.EOF after
// the last, the context's error once it is cancelled, ErrClosed after Close,
// or the engine's error.
func (s *Stream) Recv() (tts.Chunk, error) {
	fr, marks, rate, err := s.next()
	if err != nil {
		return tts.Chunk{}, err
	}
	if len(s.block) < len(fr) {
		size := len(fr)
		if s.e != nil {
			size = max(size, len(s.e.samples)-s.pos+len(fr))
		} else {
			size = max(size, rate) // one second at a time
		}
		s.block = make([]int16, size)
	}
	out := s.block[:len(fr):len(fr)]
	copy(out, fr)
	s.block = s.block[len(fr):]
	if len(marks) > 0 {
		if s.e != nil { // copy all the marks left once
			if !s.markCopy {
				s.markCopy = true
				s.markBlock = append([]tts.Mark(nil), s.e.marks[s.mark-len(marks):]...)
			}
			m := s.markBlock[:len(marks):len(marks)]
			s.markBlock = s.markBlock[len(marks):]
			marks = m
		} else {
			marks = append([]tts.Mark(nil), marks...)
		}
	}
	return tts.Chunk{Samples: out, Rate: rate, Marks: marks}, nil
}

// RecvFrame copies the next 20 ms frame into f (reusing its storage; the
// last frame of the utterance is short) and returns the marks of the
// frame. It allocates nothing once f is large enough. The marks are shared
// with the cache: read them, do not modify them. Errors are Recv's.
func (s *Stream) RecvFrame(f *media.Frame) ([]tts.Mark, error) {
	fr, marks, rate, err := s.next()
	if err != nil {
		return nil, err
	}
	if cap(f.Samples) < len(fr) {
		f.Samples = make([]int16, len(fr), media.SamplesPerFrame(rate))
	}
	f.Samples = f.Samples[:len(fr)]
	copy(f.Samples, fr)
	f.Rate = rate
	f.Time = time.Time{}
	return marks, nil
}

// Close ends the stream. When it was the last reader of a synthesis in
// progress, the synthesis is stopped, not cached, and Close waits until the
// engine's stream is closed. It is safe to call more than once.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.f == nil {
		return nil
	}
	if s.stopAfter != nil {
		s.stopAfter()
	}
	s.release()
	if s.abandoned {
		<-s.f.finished
	}
	return nil
}

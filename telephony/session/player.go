package session

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/mp3"
	"github.com/parole-voice/parole/media/resample"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/tts"
)

// segment is one piece of a prompt: text or SSML to synthesize, a file to
// play, or samples (a tone).
type segment struct {
	text, ssml string
	file       string
	samples    []int16
	// spoken is what the segment says, for transcripts and the cut text.
	spoken string
	// toneOnFail plays a tone instead when synthesis fails (the fallback).
	toneOnFail bool
}

// segments turns a reply's messages into prompt segments. Audio with an
// http(s) URL is not fetched: its Text is said instead.
func segments(msgs []dialog.Message, audioDir string) []segment {
	var out []segment
	for _, m := range msgs {
		switch {
		case m.SSML != "":
			out = append(out, segment{ssml: m.SSML, spoken: stripSSML(m.SSML)})
		case m.Text != "":
			out = append(out, segment{text: m.Text, spoken: m.Text})
		}
		if a := m.Audio; a != nil {
			u := a.URL
			switch {
			case strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://"):
				if a.Text != "" {
					out = append(out, segment{text: a.Text, spoken: a.Text})
				}
			default:
				p := strings.TrimPrefix(u, "file://")
				if !filepath.IsAbs(p) && audioDir != "" {
					p = filepath.Join(audioDir, p)
				}
				out = append(out, segment{file: p, spoken: a.Text})
			}
		}
	}
	return out
}

// stripSSML returns the words of an SSML document or fragment: tags
// dropped, entities decoded, spaces collapsed.
func stripSSML(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

// tone returns d of a sine at hz, at rate, with 10 ms ramps.
func tone(rate int, hz float64, d time.Duration, amp float64) []int16 {
	n := int(time.Duration(rate) * d / time.Second)
	out := make([]int16, n)
	ramp := rate / 100
	for i := range out {
		g := amp
		if i < ramp {
			g *= float64(i) / float64(ramp)
		} else if n-i < ramp {
			g *= float64(n-i) / float64(ramp)
		}
		out[i] = int16(g * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// player plays the segments of one prompt. It is used by one goroutine at
// a time: the session's in lockstep, else the playout goroutine while it
// runs and the session's once it has stopped.
type player struct {
	synth  tts.Synthesizer
	lang   string
	voice  string
	rate   int
	frameN int

	ctx    context.Context // synthesis; cancelled when the prompt is dropped
	cancel context.CancelFunc

	segs   []segment
	i      int  // current segment
	opened bool // segment i is open
	stream tts.Stream
	audio  []int16 // segment i's audio so far
	pos    int     // samples of it played
	ended  bool    // all of segment i's audio is in audio
	marks  []tts.Mark
	rs     *resample.Resampler

	// timing of the first segment, for the trace (wall clock, unix ns)
	synthStart time.Time
	firstAudio time.Time
	firstFrame atomic.Int64

	// playout goroutine (free-running mode)
	done     chan struct{}
	stop     context.CancelFunc
	finished bool  // every segment played (valid after done)
	err      error // failure that stopped it (valid after done)

	// failed is set when a toneOnFail segment fell back to the tone.
	failed error
	// fileErr is set when an audio file could not be played (its text was
	// said instead, or nothing when it has none).
	fileErr error
}

func newPlayer(parent context.Context, s *session, segs []segment) *player {
	ctx, cancel := context.WithCancel(parent)
	return &player{
		synth: s.cfg.Synthesizer, lang: s.cfg.Language, voice: s.cfg.Voice,
		rate: s.rate, frameN: s.frameN, ctx: ctx, cancel: cancel, segs: segs,
		audio: s.playBuf[:0],
	}
}

// errSegment wraps the failure of one segment.
type errSegment struct {
	seg int
	err error
}

func (e *errSegment) Error() string { return fmt.Sprintf("prompt segment %d: %v", e.seg, e.err) }
func (e *errSegment) Unwrap() error { return e.err }

// open starts segment p.i.
func (p *player) open() error {
	seg := &p.segs[p.i]
	p.audio, p.pos, p.ended, p.marks = p.audio[:0], 0, false, p.marks[:0]
	p.opened = true
	switch {
	case seg.samples != nil:
		p.audio = append(p.audio, seg.samples...)
		p.ended = true
	case seg.file != "":
		s, err := loadAudio(seg.file, p.rate)
		if err != nil {
			// Say what the recording says instead, when known.
			p.fileErr = fmt.Errorf("audio %s: %w", seg.file, err)
			if seg.spoken == "" {
				p.ended = true
				return nil
			}
			seg.file, seg.text = "", seg.spoken
			return p.openTTS(seg)
		}
		p.audio = append(p.audio, s...)
		p.ended = true
	default:
		return p.openTTS(seg)
	}
	return nil
}

// openTTS starts synthesizing seg.
func (p *player) openTTS(seg *segment) error {
	req := tts.Request{Text: seg.text, SSML: seg.ssml, Language: p.lang, Voice: p.voice, SampleRate: p.rate}
	// The trace's times are those of the first audio played: they are not
	// touched once a frame was sent (the session reads them then).
	if p.synthStart.IsZero() && p.firstFrame.Load() == 0 {
		p.synthStart = time.Now()
	}
	st, err := p.synth.Synthesize(p.ctx, req)
	if err != nil {
		return err
	}
	p.stream = st
	return nil
}

// loadAudio reads a WAV or MP3 file (by extension) at rate Hz.
func loadAudio(path string, rate int) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), ".mp3") {
		return mp3.Decode(f, rate)
	}
	s, r, err := wav.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if r == rate {
		return s, nil
	}
	rs, err := resample.New(r, rate, resample.Medium)
	if err != nil {
		return nil, err
	}
	out := rs.Process(make([]int16, 0, resample.OutputLen(r, rate, len(s))+rs.Delay()), s)
	return rs.Flush(out)[rs.Delay():], nil
}

// closeStream ends segment p.i's synthesis.
func (p *player) closeStream() {
	if p.stream != nil {
		p.stream.Close()
		p.stream = nil
	}
}

// fill puts the next frame of the prompt in f and returns how many samples
// of it are audio (the rest is silence); 0 with a nil error means the
// prompt is over. The position advances only with commit.
func (p *player) fill(f *media.Frame) (int, error) {
	for p.i < len(p.segs) {
		if !p.opened {
			if err := p.open(); err != nil {
				if err = p.segFailed(err); err != nil {
					return 0, err
				}
			}
		}
		for len(p.audio)-p.pos < p.frameN && !p.ended {
			c, err := p.stream.Recv()
			if errors.Is(err, io.EOF) {
				p.ended = true
				if p.rs != nil {
					p.audio = p.rs.Flush(p.audio)
				}
				break
			}
			if err != nil {
				if err = p.segFailed(err); err != nil {
					return 0, err
				}
				break
			}
			if p.firstAudio.IsZero() && p.firstFrame.Load() == 0 {
				p.firstAudio = time.Now()
			}
			p.addChunk(c)
		}
		if p.pos >= len(p.audio) && p.ended {
			p.closeStream()
			p.i++
			p.opened = false
			continue
		}
		n := copy(f.Samples[:p.frameN], p.audio[p.pos:])
		f.Samples = f.Samples[:p.frameN]
		clear(f.Samples[n:])
		f.Rate = p.rate
		f.Time = time.Time{}
		return n, nil
	}
	return 0, nil
}

// segFailed handles a synthesis failure of segment p.i: the fallback
// segment turns into a tone, any other returns the error.
func (p *player) segFailed(err error) error {
	p.closeStream()
	seg := &p.segs[p.i]
	if !seg.toneOnFail || p.ctx.Err() != nil {
		return &errSegment{seg: p.i, err: err}
	}
	p.failed = err
	p.audio = append(p.audio[:0], tone(p.rate, 440, 400*time.Millisecond, 8000)...)
	p.pos, p.ended, p.marks = 0, true, p.marks[:0]
	return nil
}

// addChunk appends a chunk's audio (resampled when the engine gave another
// rate) and its marks, whose times are in the stream's audio.
func (p *player) addChunk(c tts.Chunk) {
	p.marks = append(p.marks, c.Marks...)
	if c.Rate == p.rate || c.Rate == 0 {
		p.audio = append(p.audio, c.Samples...)
		return
	}
	if p.rs == nil || p.rs.InRate() != c.Rate {
		rs, err := resample.New(c.Rate, p.rate, resample.Medium)
		if err != nil {
			return // unusable rate: the chunk is dropped
		}
		p.rs = rs
	}
	p.audio = p.rs.Process(p.audio, c.Samples)
}

// commit records that the frame fill returned was played.
func (p *player) commit(n int) {
	p.pos += n
	if p.firstFrame.Load() == 0 {
		p.firstFrame.Store(time.Now().UnixNano())
	}
}

// heard splits the prompt's text at the word being played: what the caller
// heard (the words before and the one being played) and the rest.
func (p *player) heard() (heard, cut string) {
	var h, c []string
	for j, seg := range p.segs {
		switch {
		case j < p.i:
			h = append(h, seg.spoken)
		case j > p.i || !p.opened:
			c = append(c, seg.spoken)
		default:
			a, b := p.cutSegment(seg)
			h = append(h, a)
			c = append(c, b)
		}
	}
	join := func(s []string) string {
		var out []string
		for _, x := range s {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return strings.Join(out, " ")
	}
	return join(h), join(c)
}

// charsPerSecond estimates speech speed when an engine gives no marks and
// the segment's length is not known yet.
const charsPerSecond = 14

// cutSegment splits the current segment at the play position.
func (p *player) cutSegment(seg segment) (string, string) {
	if len(p.marks) > 0 {
		played := time.Duration(p.pos) * time.Second / time.Duration(p.rate)
		src := seg.text
		if seg.ssml != "" {
			src = seg.ssml
		}
		end := -1
		for _, m := range p.marks {
			if m.At < played && m.Offset+m.Len <= len(src) && m.Offset+m.Len > end {
				end = m.Offset + m.Len
			}
		}
		if end < 0 {
			return "", seg.spoken
		}
		if seg.ssml != "" {
			return stripSSML(src[:end]), stripSSML(src[end:])
		}
		return strings.TrimSpace(src[:end]), strings.TrimSpace(src[end:])
	}
	// No marks: the fraction of the audio played, of the whole audio once
	// known, else of an estimate from the text's length.
	text := seg.spoken
	total := len(p.audio)
	if !p.ended {
		est := len(text) * p.rate / charsPerSecond
		total = max(total, est)
	}
	if total == 0 {
		return "", text
	}
	words := strings.Fields(text)
	if p.pos == 0 {
		return "", text
	}
	at := int(float64(len(text)) * float64(p.pos) / float64(total))
	idx := 0
	var h []string
	for _, w := range words {
		start := strings.Index(text[idx:], w) + idx
		if start > at {
			break
		}
		h = append(h, w)
		idx = start + len(w)
	}
	return strings.Join(h, " "), strings.Join(words[len(h):], " ")
}

package google

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/texttospeech/apiv1/texttospeechpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parole-voice/parole/tts"
)

// plan is a checked request.
type plan struct {
	voice  *texttospeechpb.VoiceSelectionParams
	rate   int
	speed  float64
	ssml   string   // set: one unary SSML request
	pieces []string // text pieces, one request (or streaming input) each
	stream bool
	enc    texttospeechpb.AudioEncoding
}

func (s *Synthesizer) plan(req tts.Request) (*plan, error) {
	if req.SampleRate < 8000 || req.SampleRate > 48000 {
		return nil, fmt.Errorf("%w: sample rate %d Hz (the service gives 8000…48000)", tts.ErrUnsupported, req.SampleRate)
	}
	speed := req.Rate
	if speed == 0 {
		speed = 1
	}
	if speed < 0.25 || speed > 2 {
		return nil, fmt.Errorf("%w: speaking rate %g (the service takes 0.25…2)", tts.ErrUnsupported, speed)
	}
	name, lang := voiceFor(s.cfg.Voices, req)
	p := &plan{voice: &texttospeechpb.VoiceSelectionParams{LanguageCode: lang, Name: name}, rate: req.SampleRate, speed: speed}
	switch {
	case req.SSML != "":
		doc, err := checkSSML(req.SSML)
		if err != nil {
			return nil, err
		}
		p.ssml = doc
	case strings.TrimSpace(req.Text) == "":
		return nil, ErrEmpty
	case s.cfg.Streaming:
		p.stream = true
		p.pieces = Sentences(req.Text)
	case len(req.Text) > s.cfg.SplitAbove && s.cfg.SplitAbove > 0, len(req.Text) > maxInputBytes:
		p.pieces = Sentences(req.Text)
	default:
		p.pieces = []string{strings.TrimSpace(req.Text)}
	}
	switch {
	case p.stream:
		p.enc = texttospeechpb.AudioEncoding_PCM
	case s.cfg.Encoding == "mp3":
		p.enc = texttospeechpb.AudioEncoding_MP3
	case s.cfg.Encoding == "mulaw" && req.SampleRate == 8000:
		p.enc = texttospeechpb.AudioEncoding_MULAW
	default:
		p.enc = texttospeechpb.AudioEncoding_LINEAR16
	}
	return p, nil
}

// Synthesize checks req and starts its synthesis on a goroutine; audio
// comes out of the stream's Recv as soon as it is decoded.
func (s *Synthesizer) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	p, err := s.plan(req)
	if err != nil {
		return nil, err
	}
	st := &stream{notify: make(chan struct{}, 1), done: make(chan struct{})}
	st.ctx, st.cancel = context.WithCancel(ctx)
	go func() {
		defer close(st.done)
		var err error
		if p.stream {
			err = s.streaming(st, p)
		} else {
			err = s.unary(st, p)
		}
		if err == nil {
			err = io.EOF
		} else if st.ctx.Err() != nil {
			err = fmt.Errorf("google tts: %w", context.Cause(st.ctx))
		}
		st.end(err)
	}()
	return st, nil
}

// unary synthesizes each piece with SynthesizeSpeech, one after another,
// delivering each piece's audio as soon as it is decoded.
func (s *Synthesizer) unary(st *stream, p *plan) error {
	ac := &texttospeechpb.AudioConfig{AudioEncoding: p.enc, SpeakingRate: p.speed, EffectsProfileId: s.cfg.EffectsProfile}
	if p.enc != texttospeechpb.AudioEncoding_MP3 {
		// MP3 comes at the voice's rate (MPEG-2.5 rates are not
		// decoded) and is resampled here.
		ac.SampleRateHertz = int32(p.rate)
	}
	inputs := make([]*texttospeechpb.SynthesisInput, 0, max(len(p.pieces), 1))
	if p.ssml != "" {
		inputs = append(inputs, &texttospeechpb.SynthesisInput{InputSource: &texttospeechpb.SynthesisInput_Ssml{Ssml: p.ssml}})
	}
	for _, t := range p.pieces {
		inputs = append(inputs, &texttospeechpb.SynthesisInput{InputSource: &texttospeechpb.SynthesisInput_Text{Text: t}})
	}
	chunk := int(ChunkDuration) / int(time.Second/time.Duration(p.rate))
	for _, in := range inputs {
		req := &texttospeechpb.SynthesizeSpeechRequest{Input: in, Voice: p.voice, AudioConfig: ac}
		var resp *texttospeechpb.SynthesizeSpeechResponse
		err := s.retry(st.ctx, func(ctx context.Context) (err error) {
			resp, err = s.client.SynthesizeSpeech(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		pcm, err := decode(p.enc, resp.GetAudioContent(), p.rate)
		if err != nil {
			return err
		}
		for off := 0; off < len(pcm); off += chunk {
			st.push(tts.Chunk{Samples: pcm[off:min(off+chunk, len(pcm)):min(off+chunk, len(pcm))], Rate: p.rate})
		}
	}
	return nil
}

// retry runs call under Config.Timeout, again after Unavailable.
func (s *Synthesizer) retry(ctx context.Context, call func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := call(cctx)
		timedOut := ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return nil
		}
		if timedOut {
			return fmt.Errorf("%w: no answer within %v: %w", ErrDeadline, s.cfg.Timeout, err)
		}
		var nr errNoRetry
		if errors.As(err, &nr) {
			return nr.err
		}
		if status.Code(err) != codes.Unavailable || attempt >= s.cfg.MaxRetries || ctx.Err() != nil {
			return mapErr(err)
		}
		wait := s.cfg.RetryBackoff << attempt
		s.cfg.Logger.Warn("google tts: service unavailable, retrying", "attempt", attempt+1, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return mapErr(err)
		}
	}
}

// streaming runs one StreamingSynthesize call: the config, every sentence
// as an input, half-close, then each response's audio is a chunk at once.
func (s *Synthesizer) streaming(st *stream, p *plan) error {
	got := false
	return s.retry(st.ctx, func(ctx context.Context) error {
		cl, err := s.client.StreamingSynthesize(ctx)
		if err != nil {
			return err
		}
		reqs := []*texttospeechpb.StreamingSynthesizeRequest{{StreamingRequest: &texttospeechpb.StreamingSynthesizeRequest_StreamingConfig{
			StreamingConfig: &texttospeechpb.StreamingSynthesizeConfig{
				Voice: p.voice,
				StreamingAudioConfig: &texttospeechpb.StreamingAudioConfig{
					AudioEncoding: texttospeechpb.AudioEncoding_PCM, SampleRateHertz: int32(p.rate), SpeakingRate: p.speed,
				},
			},
		}}}
		for _, t := range p.pieces {
			reqs = append(reqs, &texttospeechpb.StreamingSynthesizeRequest{StreamingRequest: &texttospeechpb.StreamingSynthesizeRequest_Input{
				Input: &texttospeechpb.StreamingSynthesisInput{InputSource: &texttospeechpb.StreamingSynthesisInput_Text{Text: t}},
			}})
		}
		// The text is small next to gRPC's flow-control window: send it
		// all, then read.
		for _, r := range reqs {
			if err := cl.Send(r); err != nil {
				break // the call's error comes out of Recv
			}
		}
		cl.CloseSend()
		var odd []byte // a sample split between two responses
		for {
			resp, err := cl.Recv()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if got {
					// Audio already went out: a retry would repeat it.
					return errNoRetry{mapErr(err)}
				}
				return err
			}
			b := resp.GetAudioContent()
			if len(odd) > 0 && len(b) > 0 {
				b = append(odd, b...)
				odd = nil
			}
			if len(b)%2 == 1 {
				odd = []byte{b[len(b)-1]}
				b = b[:len(b)-1]
			}
			if len(b) > 0 {
				got = true
				st.push(tts.Chunk{Samples: pcmLE(make([]int16, 0, len(b)/2), b), Rate: p.rate})
			}
		}
	})
}

// errNoRetry carries an already mapped error through retry untouched.
type errNoRetry struct{ err error }

func (e errNoRetry) Error() string { return e.err.Error() }
func (e errNoRetry) Unwrap() error { return e.err }

// stream is the queue of chunks between the synthesis goroutine and Recv.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	notify chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	queue  []tts.Chunk
	err    error // io.EOF or the failure, after the last chunk
	closed bool
}

func (st *stream) push(c tts.Chunk) {
	st.mu.Lock()
	st.queue = append(st.queue, c)
	st.mu.Unlock()
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

func (st *stream) end(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.mu.Unlock()
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// Recv returns the next chunk, io.EOF after the last one, or the error
// that stopped the synthesis (after the chunks that came before it).
func (st *stream) Recv() (tts.Chunk, error) {
	for {
		st.mu.Lock()
		if st.closed {
			st.mu.Unlock()
			return tts.Chunk{}, ErrClosed
		}
		if len(st.queue) > 0 {
			c := st.queue[0]
			st.queue[0] = tts.Chunk{}
			st.queue = st.queue[1:]
			st.mu.Unlock()
			return c, nil
		}
		if st.err != nil {
			err := st.err
			st.mu.Unlock()
			return tts.Chunk{}, err
		}
		st.mu.Unlock()
		<-st.notify
	}
}

// Close stops the synthesis and waits for its goroutine.
func (st *stream) Close() error {
	st.mu.Lock()
	st.closed = true
	st.mu.Unlock()
	st.cancel()
	<-st.done
	return nil
}

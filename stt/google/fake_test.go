package google

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/speech/apiv1/speechpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/parole-voice/parole/media/g711"
)

// fakeSpeech is a fake of Google's Speech service, registered with the
// library's own speechpb server interface. It checks what the client sends
// (the config first and only first, audio chunks of 1 byte to 25 KB),
// records every call's audio, and answers like the service: an energy
// voice activity detector on the audio it receives decides where
// utterances end; each utterance gets interim results while it lasts and a
// final result at its end, with result_end_time and word times relative to
// the call's first audio byte.
type fakeSpeech struct {
	speechpb.UnimplementedSpeechServer

	// original is the whole audio the test writes, in the encoding sent;
	// the fake locates each call's audio in it (the replay after a
	// rotation starts anywhere) to name utterances by position.
	original []byte
	// answer names the utterance spoken between global byte offsets.
	answer func(start, end int64) []*speechpb.SpeechRecognitionAlternative
	// fail, when set, is asked after each chunk of call n whether to end
	// the call with an error (io.EOF: end it cleanly).
	fail func(n int, received int) error
	// silentAtEnd: after the client half-closes, send nothing and hang
	// until the call is cancelled.
	silentAtEnd bool

	mu    sync.Mutex
	calls []*fakeCall
	heard int64 // furthest offset of original the VAD has processed
}

// progress is how far into the original audio the fake has listened.
func (f *fakeSpeech) progress() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heard
}

type fakeCall struct {
	cfg      *speechpb.StreamingRecognitionConfig
	audio    []byte
	chunks   []int
	recvAt   []time.Time // arrival of each chunk
	bad      []string    // protocol violations
	halfDone bool        // the client half-closed
	off      *int64      // offset in original of the first byte, once known
}

func (f *fakeSpeech) call(i int) *fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.calls) {
		return nil
	}
	return f.calls[i]
}

func (f *fakeSpeech) ncalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// violations lists every protocol violation seen.
func (f *fakeSpeech) violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v []string
	for i, c := range f.calls {
		for _, b := range c.bad {
			v = append(v, fmt.Sprintf("call %d: %s", i, b))
		}
	}
	return v
}

// utterance tracking of one call.
type vadState struct {
	speech      bool
	start       int // call byte offset of the speech start
	silence     int // bytes of silence since the last speech frame
	lastInterim int
	read        int // bytes the VAD has read
}

const (
	vadLevel    = 300 // mean |sample| of a speech frame
	vadHangover = 400 * time.Millisecond
)

func (f *fakeSpeech) StreamingRecognize(st speechpb.Speech_StreamingRecognizeServer) error {
	c := &fakeCall{}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	bad := func(format string, a ...any) {
		f.mu.Lock()
		c.bad = append(c.bad, fmt.Sprintf(format, a...))
		f.mu.Unlock()
	}

	first, err := st.Recv()
	if err != nil {
		return err
	}
	cfg := first.GetStreamingConfig()
	if cfg == nil {
		bad("first request without streaming_config")
		return status.Error(codes.InvalidArgument, "first request must carry streaming_config")
	}
	f.mu.Lock()
	c.cfg = cfg
	f.mu.Unlock()
	rc := cfg.GetConfig()
	mulaw := rc.GetEncoding() == speechpb.RecognitionConfig_MULAW
	if !mulaw && rc.GetEncoding() != speechpb.RecognitionConfig_LINEAR16 {
		bad("encoding %v", rc.GetEncoding())
	}
	width := 2
	if mulaw {
		width = 1
	}
	rate := int(rc.GetSampleRateHertz())
	frame := rate / 50 * width
	dur := func(b int) time.Duration { return time.Duration(b/width) * time.Second / time.Duration(rate) }
	var vad vadState
	var samples []int16
	finals := 0
	send := func(r *speechpb.StreamingRecognizeResponse) error { return st.Send(r) }

	finalize := func(end int) error {
		start, stop := f.global(c, vad.start), f.global(c, end)
		alts := f.answer(start, stop)
		if len(alts) > 0 && cfg.GetConfig().GetEnableWordTimeOffsets() {
			words := strings.Fields(alts[0].Transcript)
			span := dur(end - vad.start)
			for i, w := range words {
				ws := dur(vad.start) + span*time.Duration(i)/time.Duration(len(words))
				we := dur(vad.start) + span*time.Duration(i+1)/time.Duration(len(words))
				alts[0].Words = append(alts[0].Words, &speechpb.WordInfo{Word: w, StartTime: durationpb.New(ws), EndTime: durationpb.New(we), Confidence: 0.9})
			}
		}
		finals++
		resp := &speechpb.StreamingRecognizeResponse{Results: []*speechpb.StreamingRecognitionResult{{
			Alternatives: alts, IsFinal: true, ResultEndTime: durationpb.New(dur(end)),
		}}}
		if cfg.GetSingleUtterance() {
			if err := send(&speechpb.StreamingRecognizeResponse{SpeechEventType: speechpb.StreamingRecognizeResponse_END_OF_SINGLE_UTTERANCE}); err != nil {
				return err
			}
		}
		return send(resp)
	}

	for {
		req, err := st.Recv()
		if err == io.EOF {
			f.mu.Lock()
			c.halfDone = true
			f.mu.Unlock()
			if f.silentAtEnd {
				<-st.Context().Done()
				return st.Context().Err()
			}
			if vad.speech {
				return finalize(len(c.audio))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if req.GetStreamingConfig() != nil {
			bad("streaming_config again after the first request")
			continue
		}
		a := req.GetAudioContent()
		if len(a) == 0 || len(a) >= maxRequestBytes {
			bad("audio chunk of %d bytes", len(a))
		}
		f.mu.Lock()
		c.audio = append(c.audio, a...)
		c.chunks = append(c.chunks, len(a))
		c.recvAt = append(c.recvAt, time.Now())
		f.mu.Unlock()
		if f.fail != nil {
			if err := f.fail(n, len(c.audio)); err == io.EOF {
				return nil // the call ends cleanly, without a result
			} else if err != nil {
				return err
			}
		}
		if cfg.GetSingleUtterance() && finals > 0 {
			continue // the service ignores audio after the utterance
		}
		// Run the VAD on the whole frames received.
		for len(c.audio)-vad.lastFrameEnd() >= frame {
			pos := vad.lastFrameEnd()
			fr := c.audio[pos : pos+frame]
			samples = samples[:0]
			if mulaw {
				samples = g711.DecodeUlaw(samples, fr)
			} else {
				for i := 0; i+1 < len(fr); i += 2 {
					samples = append(samples, int16(uint16(fr[i])|uint16(fr[i+1])<<8))
				}
			}
			var sum int
			for _, v := range samples {
				sum += max(int(v), -int(v))
			}
			loud := sum/len(samples) > vadLevel
			vad.advance(frame)
			if g := f.global(c, pos+frame); g > 0 {
				f.mu.Lock()
				f.heard = max(f.heard, g)
				f.mu.Unlock()
			}
			switch {
			case loud && !vad.speech:
				vad.speech, vad.start, vad.silence, vad.lastInterim = true, pos, 0, pos
			case loud:
				vad.silence = 0
				if cfg.GetInterimResults() && dur(pos+frame-vad.lastInterim) >= 300*time.Millisecond {
					vad.lastInterim = pos + frame
					alts := f.answer(f.global(c, vad.start), f.global(c, pos+frame))
					if len(alts) > 0 {
						words := strings.Fields(alts[0].Transcript)
						alts = alts[:1]
						alts[0].Transcript = strings.Join(words[:min(len(words), 1)], " ")
					}
					if err := send(&speechpb.StreamingRecognizeResponse{Results: []*speechpb.StreamingRecognitionResult{{
						Alternatives: alts, Stability: 0.5, ResultEndTime: durationpb.New(dur(pos + frame)),
					}}}); err != nil {
						return err
					}
				}
			case vad.speech:
				vad.silence += frame
				if dur(vad.silence) >= vadHangover {
					vad.speech = false
					if err := finalize(pos + frame); err != nil {
						return err
					}
				}
			}
		}
	}
}

// lastFrameEnd and advance track how far the VAD has read.
func (v *vadState) lastFrameEnd() int { return v.read }
func (v *vadState) advance(n int)     { v.read += n }

// global is the offset in f.original of byte off of call c's audio.
func (f *fakeSpeech) global(c *fakeCall, off int) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.off == nil {
		if len(c.audio) < 1600 && len(c.audio) < len(f.original) {
			return -1 // too little to place yet
		}
		i := int64(bytes.Index(f.original, c.audio[:min(len(c.audio), 1600)]))
		if i < 0 {
			return -1
		}
		c.off = &i
	}
	return *c.off + int64(off)
}

// serve starts the fake on a 127.0.0.1 port and returns a recognizer
// connected to it.
func serve(t testing.TB, f *fakeSpeech, cfg Config) *Recognizer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	speechpb.RegisterSpeechServer(srv, f)
	go srv.Serve(lis)
	cfg.Endpoint = lis.Addr().String()
	r, err := New(context.Background(), cfg,
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		srv.Stop()
	})
	return r
}

package nuance

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	asrpb "github.com/parole-voice/parole/internal/nuancepb/asr"
	"github.com/parole-voice/parole/internal/nuancepb/mixtest"
	"github.com/parole-voice/parole/media/g711"
)

// fakeASR is an in-process ASRaaS Recognizer. It checks the bearer token
// and that the init message comes first, answers 100 Continue, decodes the
// audio in the declared format, finds speech by its energy (20 ms frames
// above speechRMS) and answers with start-of-speech, partial results every
// partialEvery of speech, and the scripted final hypotheses when the
// utterance_end_silence_ms of silence follows speech or the client ends
// its stream.
type fakeASR struct {
	asrpb.UnimplementedRecognizerServer
	tokens *mixtest.TokenServer

	// script
	hyps     []*asrpb.Hypothesis // final hypotheses
	fail     []codes.Code        // error of attempt i (OK: none)
	failAt   time.Duration       // audio received before failing
	noAnswer bool                // never send 100 Continue
	status   uint32              // in-band status instead of 100

	mu       sync.Mutex
	calls    int
	inits    []*asrpb.RecognitionInitMessage
	tokensIn []string
	received [][]int16 // decoded audio of each call
	errs     []error   // protocol violations seen
}

const (
	speechRMS    = 300
	partialEvery = 200 * time.Millisecond
)

func (f *fakeASR) violation(err error) error {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
	return status.Error(codes.InvalidArgument, err.Error())
}

func (f *fakeASR) Recognize(rpc asrpb.Recognizer_RecognizeServer) error {
	tok, err := f.tokens.Check(rpc.Context())
	if err != nil {
		return err
	}
	f.mu.Lock()
	call := f.calls
	f.calls++
	f.tokensIn = append(f.tokensIn, tok)
	f.received = append(f.received, nil)
	f.mu.Unlock()

	first, err := rpc.Recv()
	if err != nil {
		return err
	}
	init := first.GetRecognitionInitMessage()
	if init == nil || init.GetParameters() == nil {
		return f.violation(errors.New("first message is not an init message with parameters"))
	}
	f.mu.Lock()
	f.inits = append(f.inits, init)
	f.mu.Unlock()
	p := init.GetParameters()
	if f.noAnswer {
		<-rpc.Context().Done()
		return nil
	}
	if f.status != 0 {
		return rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Status{Status: &asrpb.Status{Code: f.status, Message: "Bad request", Details: "scripted"}}})
	}
	if call < len(f.fail) && f.fail[call] != codes.OK && f.failAt == 0 {
		return status.Error(f.fail[call], "scripted failure")
	}
	rate := 8000
	if pcm := p.GetAudioFormat().GetPcm(); pcm != nil && pcm.GetSampleRateHz() != 0 {
		rate = int(pcm.GetSampleRateHz())
	}
	if err := rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Status{Status: &asrpb.Status{Code: 100, Message: "Continue"}}}); err != nil {
		return err
	}
	endSilence := time.Duration(p.GetUtteranceEndSilenceMs()) * time.Millisecond
	if endSilence == 0 {
		endSilence = 500 * time.Millisecond
	}
	frame := rate / 50
	var pcm []int16
	inSpeech := false
	var next, start, lastSpeech, lastPartial int // sample offsets
	final := func() error {
		end := lastSpeech + frame
		words := scriptWords(f.hyps, start, end, rate)
		r := &asrpb.Result{ResultType: asrpb.EnumResultType_FINAL, AbsStartMs: msAt(start, rate), AbsEndMs: msAt(end, rate), Hypotheses: words}
		inSpeech = false
		return rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Result{Result: r}})
	}
	done := func() error {
		return rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Status{Status: &asrpb.Status{Code: 200, Message: "Success"}}})
	}
	for {
		req, err := rpc.Recv()
		if err == io.EOF {
			if inSpeech {
				if err := final(); err != nil {
					return err
				}
			}
			return done()
		}
		if err != nil {
			return err
		}
		if req.GetRecognitionInitMessage() != nil {
			return f.violation(errors.New("second init message"))
		}
		b := req.GetAudio()
		n := len(pcm)
		switch {
		case p.GetAudioFormat().GetUlaw() != nil:
			pcm = g711.DecodeUlaw(pcm, b)
		case p.GetAudioFormat().GetAlaw() != nil:
			pcm = g711.DecodeAlaw(pcm, b)
		default:
			if len(b)%2 != 0 {
				return f.violation(errors.New("odd PCM byte count"))
			}
			for i := 0; i < len(b); i += 2 {
				pcm = append(pcm, int16(binary.LittleEndian.Uint16(b[i:])))
			}
		}
		f.mu.Lock()
		f.received[call] = append(f.received[call], pcm[n:]...)
		f.mu.Unlock()
		if call < len(f.fail) && f.fail[call] != codes.OK && len(pcm) >= int(f.failAt.Seconds()*float64(rate)) {
			return status.Error(f.fail[call], "scripted failure")
		}
		for ; next+frame <= len(pcm); next += frame {
			off := next
			loud := rms(pcm[off:off+frame]) > speechRMS
			switch {
			case loud && !inSpeech:
				inSpeech = true
				start, lastSpeech, lastPartial = off, off, off
				if err := rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_StartOfSpeech{StartOfSpeech: &asrpb.StartOfSpeech{FirstAudioToStartOfSpeechMs: msAt(off, rate)}}}); err != nil {
					return err
				}
			case loud:
				lastSpeech = off
			case inSpeech && off-lastSpeech >= int(endSilence.Seconds()*float64(rate)):
				if err := final(); err != nil {
					return err
				}
				if p.GetUtteranceDetectionMode() == asrpb.EnumUtteranceDetectionMode_SINGLE {
					return done()
				}
			}
			if inSpeech && p.GetResultType() != asrpb.EnumResultType_FINAL && off-lastPartial >= int(partialEvery.Seconds()*float64(rate)) {
				lastPartial = off
				r := &asrpb.Result{ResultType: p.GetResultType(), AbsStartMs: msAt(start, rate), AbsEndMs: msAt(off, rate),
					Hypotheses: []*asrpb.Hypothesis{{FormattedText: f.hyps[0].GetFormattedText()[:len(f.hyps[0].GetFormattedText())/2]}}}
				if err := rpc.Send(&asrpb.RecognitionResponse{ResponseUnion: &asrpb.RecognitionResponse_Result{Result: r}}); err != nil {
					return err
				}
			}
		}
	}
}

// scriptWords returns copies of the scripted hypotheses with their words
// spread evenly over [start, end).
func scriptWords(hyps []*asrpb.Hypothesis, start, end, rate int) []*asrpb.Hypothesis {
	out := make([]*asrpb.Hypothesis, len(hyps))
	for i, h := range hyps {
		c := &asrpb.Hypothesis{FormattedText: h.FormattedText, MinimallyFormattedText: h.MinimallyFormattedText,
			Rejected: h.Rejected, OptionalHypothesisConfidence: h.OptionalHypothesisConfidence,
			OptionalHypothesisAverageConfidence: h.OptionalHypothesisAverageConfidence}
		n := len(h.Words)
		for j, w := range h.Words {
			s := start + (end-start)*j/max(n, 1)
			e := start + (end-start)*(j+1)/max(n, 1)
			c.Words = append(c.Words, &asrpb.Word{Text: w.Text, OptionalWordConfidence: w.OptionalWordConfidence,
				StartMs: msAt(s, rate), EndMs: msAt(e, rate), OptionalWordGrammarRule: w.OptionalWordGrammarRule})
		}
		out[i] = c
	}
	return out
}

func msAt(sample, rate int) uint32 { return uint32(int64(sample) * 1000 / int64(rate)) }

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(s), 1)))
}

// serve starts f on a loopback port and returns its address.
func serve(t testing.TB, f *fakeASR) string {
	t.Helper()
	return serveBench(t, f)
}

// serveBench starts any Recognizer service on a loopback port.
func serveBench(t testing.TB, f asrpb.RecognizerServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	asrpb.RegisterRecognizerServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func newTestRecognizer(t testing.TB, addr string, ts *mixtest.TokenServer, cfg Config) *Recognizer {
	t.Helper()
	cfg.Endpoint = addr
	cfg.ClientID, cfg.ClientSecret = mixtest.ClientID, mixtest.ClientSecret
	cfg.TokenURL = ts.TokenURL()
	cfg.Insecure = true
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func conf(v float32) *asrpb.Hypothesis_Confidence { return &asrpb.Hypothesis_Confidence{Confidence: v} }

func word(text, rule string) *asrpb.Word {
	w := &asrpb.Word{Text: text, OptionalWordConfidence: &asrpb.Word_Confidence{Confidence: 0.9}}
	if rule != "" {
		w.OptionalWordGrammarRule = &asrpb.Word_GrammarRule{GrammarRule: rule}
	}
	return w
}

var _ = context.Background

func (f *fakeASR) nCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeASR) getInits() []*asrpb.RecognitionInitMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*asrpb.RecognitionInitMessage(nil), f.inits...)
}

func (f *fakeASR) getReceived() [][]int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]int16(nil), f.received...)
}

func (f *fakeASR) getTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokensIn...)
}

func (f *fakeASR) getErrs() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}

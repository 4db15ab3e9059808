package sphinx

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
)

// benchWrite streams an Asterisk prompt (looped, with silence between
// repetitions) through one stream, 20 ms of 8 kHz audio per op.
func benchWrite(b *testing.B, cfg stt.Config) {
	speech := prompt(b, "agent-pass")
	r := benchRecognizer(b)
	cfg.SampleRate = 8000
	s, err := r.Stream(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	audio := padded(speech, 8000, 500*time.Millisecond)
	f := media.NewFrame(8000)
	frames, off := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		if off+160 > len(audio) {
			off = 0
		}
		copy(f.Samples, audio[off:off+160])
		off += 160
		if err := s.Write(f); err != nil {
			b.Fatal(err)
		}
		frames++
	}
	testutil.ReportFrames(b, frames)
}

var benchRec *Recognizer

func benchRecognizer(b *testing.B) *Recognizer {
	if benchRec == nil {
		var err error
		if benchRec, err = New(Config{}); err != nil {
			b.Fatal(err)
		}
	}
	return benchRec
}

// BenchmarkWriteGrammar: one 20 ms frame through the grammar search (the
// product path), resampled 8 → 16 kHz.
func BenchmarkWriteGrammar(b *testing.B) { benchWrite(b, stt.Config{Grammar: promptGrammar}) }

// BenchmarkWriteLM: one 20 ms frame through the full language model.
func BenchmarkWriteLM(b *testing.B) { benchWrite(b, stt.Config{}) }

// BenchmarkNewDecoder: loading the acoustic model, dictionary and language
// model into a new decoder (what a stream costs when the pool is empty).
func BenchmarkNewDecoder(b *testing.B) {
	r := benchRecognizer(b)
	key, _ := r.key(8000, 0)
	args, err := r.args(key)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d, err := newDecoder(args)
		if err != nil {
			b.Fatal(err)
		}
		d.free()
	}
}

// BenchmarkStreamPooled: opening and closing a grammar stream on a pooled
// decoder with the grammar already loaded.
func BenchmarkStreamPooled(b *testing.B) {
	r := benchRecognizer(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: promptGrammar})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkCloseSendToFinal: the time from CloseSend to the final result
// of a 3.3 s prompt with the grammar (ns/op is that latency; the audio is
// written outside the timer).
func BenchmarkCloseSendToFinal(b *testing.B) {
	r := benchRecognizer(b)
	audio := append(make([]int16, 4000), prompt(b, "agent-pass")...)
	f := media.NewFrame(8000)
	for b.Loop() {
		b.StopTimer()
		s, err := r.Stream(context.Background(), stt.Config{SampleRate: 8000, Grammar: promptGrammar})
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off+160 <= len(audio); off += 160 {
			copy(f.Samples, audio[off:])
			if err := s.Write(f); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := s.CloseSend(); err != nil {
			b.Fatal(err)
		}
		if res, err := s.Recv(); err != nil || !res.Final {
			b.Fatal(res, err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkSecondPass: the end of an utterance decoded with a cepstral
// mean far from its own (a fresh decoder's -cmninit: the first utterance
// of a call), at 16 kHz as in a browser call. With the second pass (on)
// the utterance is decoded again; ns/op is the time from CloseSend to the
// final result, and "accepted" the share of finals with the right value.
func BenchmarkSecondPass(b *testing.B) {
	testutil.RequireFile(b, DefaultModelDir+"/mdef", "pocketsphinx-en-us")
	fw, err := os.Open(testutil.SpokenWAV(b, "I would like to book an appointment"))
	if err != nil {
		b.Fatal(err)
	}
	s8, _, err := wav.ReadAll(fw)
	fw.Close()
	if err != nil {
		b.Fatal(err)
	}
	speech := upsample(b, s8, 16000)
	audio := call(speech, 16000, time.Second, 0)
	g := &stt.Grammar{Rules: []stt.Rule{{Phrase: "book an appointment", Value: "book"},
		{Phrase: "opening hours", Value: "hours"}, {Phrase: "talk to an operator", Value: "operator"}}}
	for _, c := range []struct {
		name  string
		shift float64
	}{{"off", -1}, {"on", DefaultCMNShift}} {
		b.Run(c.name, func(b *testing.B) {
			r, err := New(Config{PoolSize: 1, CMNShift: c.shift})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			// the mean of a decoder that heard nothing yet
			s0, err := r.stream(context.Background(), stt.Config{SampleRate: 16000, Grammar: g})
			if err != nil {
				b.Fatal(err)
			}
			cold, _ := s0.dec.cmn()
			s0.Close()
			f := media.NewFrame(16000)
			accepted, n := 0, 0
			for b.Loop() {
				b.StopTimer()
				s, err := r.stream(context.Background(), stt.Config{SampleRate: 16000, Grammar: g})
				if err != nil {
					b.Fatal(err)
				}
				s.dec.setCMN(&cold)
				s.cmn0, s.cmn0OK = s.dec.cmn()
				for off := 0; off+320 <= len(audio); off += 320 {
					copy(f.Samples, audio[off:])
					if err := s.Write(f); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := s.CloseSend(); err != nil {
					b.Fatal(err)
				}
				res, err := s.Recv()
				if err != nil || !res.Final {
					b.Fatal(res, err)
				}
				b.StopTimer()
				n++
				if !res.Rejected && res.Value == "book" {
					accepted++
				}
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(accepted)/float64(n), "accepted")
			b.ReportMetric(float64(len(speech))/16000, "s-speech")
		})
	}
}

package sphinx

import (
	"context"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"

	"github.com/parole-voice/parole/media"
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

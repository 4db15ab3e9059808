package filecall_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/filecall"
)

// FuzzCall drives a call with arbitrary configuration and an arbitrary
// sequence of Recv and Send: New rejects what it cannot use with ErrConfig,
// nothing panics, the call always ends with ErrHangup, and the output is
// never ahead of the input.
func FuzzCall(f *testing.F) {
	f.Add(8000, 8000, 100, int64(0), int64(0), int64(0), "12#", []byte{0, 1, 1, 0, 2})
	f.Add(16000, 44100, 3000, int64(20e6), int64(-1), int64(100e6), "", []byte{1, 1, 1, 1})
	f.Add(8050, 0, 0, int64(-5), int64(1e9), int64(0), "x", []byte{})
	f.Fuzz(func(t *testing.T, rate, inRate, n int, lead, tail, after int64, keys string, ops []byte) {
		if n < 0 || n > 1<<16 || rate > 96000 {
			return
		}
		// Input rates the resampler's own fuzzing covers; odd ratios only
		// cost filter design time here.
		rates := []int{0, 8000, 11025, 16000, 22050, 24000, 44100, 48000, 1}
		inRate = rates[uint(inRate)%uint(len(rates))]
		cfg := filecall.Config{Rate: rate, InputRate: inRate, Input: make([]int16, n), Lead: time.Duration(lead) % time.Second,
			Tail: time.Duration(tail) % (2 * time.Second), AfterPrompt: time.Duration(after) % time.Second, MaxDuration: 5 * time.Second}
		for i, k := range keys {
			cfg.Keys = append(cfg.Keys, filecall.Key{At: time.Duration(i) * 30 * time.Millisecond, Digit: k})
		}
		c, err := filecall.New(cfg)
		if err != nil {
			if !errors.Is(err, filecall.ErrConfig) {
				t.Fatalf("New: %v", err)
			}
			return
		}
		ctx := context.Background()
		fr := media.NewFrame(c.Info().Rate)
		for i := 0; ; i++ {
			op := byte(0)
			if len(ops) > 0 {
				op = ops[i%len(ops)]
			}
			spf := media.SamplesPerFrame(c.Info().Rate)
			if op%3 == 1 && len(c.Output())/spf < int(c.Elapsed()/media.FrameDuration) {
				if err := c.Send(ctx, fr); err != nil {
					t.Fatalf("Send behind the input: %v", err)
				}
				continue
			}
			if op%7 == 6 {
				c.Clear(ctx)
			}
			if _, err := c.Recv(ctx); err != nil {
				if !errors.Is(err, telephony.ErrHangup) {
					t.Fatalf("Recv: %v", err)
				}
				break
			}
			if i > 1000 {
				t.Fatal("call longer than MaxDuration")
			}
		}
		if spf := media.SamplesPerFrame(c.Info().Rate); len(c.Output()) > int(c.Elapsed()/media.FrameDuration)*spf {
			t.Fatalf("output %d samples ahead of %v of input", len(c.Output()), c.Elapsed())
		}
	})
}

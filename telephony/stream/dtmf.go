package stream

import (
	"context"
	"fmt"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/dtmf"
)

// DTMFTones plays keys in band through send, one 20 ms frame at a time at
// rate Hz: each key a dual tone of 100 ms at -7 dBm0 per tone followed by
// 100 ms of silence (ITU-T Q.23/Q.24 timing), for legs whose protocol
// carries no DTMF towards the caller. A character that is not a key
// ("0"-"9", "*", "#", "A"-"D") is an error wrapping dtmf.ErrNotDigit, and
// nothing is played.
func DTMFTones(ctx context.Context, rate int, digits string, send func(context.Context, *media.Frame) error) error {
	g, err := dtmf.NewGenerator(dtmf.ToneConfig{Rate: rate})
	if err != nil {
		return fmt.Errorf("stream: DTMF: %w", err)
	}
	pcm, err := g.AppendDigits(nil, digits)
	if err != nil {
		return fmt.Errorf("stream: DTMF %q: %w", digits, err)
	}
	size := media.SamplesPerFrame(rate)
	f := &media.Frame{Rate: rate}
	for len(pcm) > 0 {
		n := min(size, len(pcm))
		f.Samples = pcm[:n]
		if err := send(ctx, f); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	return nil
}

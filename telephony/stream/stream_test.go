package stream_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/telephony/stream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Out writes frames in order, 20 ms apart, and Clear drops the queue.
func TestOut(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	var vals []int16
	o, err := stream.NewOut(stream.OutConfig{Rate: 8000, Write: func(f *media.Frame) error {
		mu.Lock()
		at, vals = append(at, time.Now()), append(vals, f.Samples[0])
		mu.Unlock()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(nil)
	ctx := context.Background()
	f := media.NewFrame(8000)
	for i := range 10 {
		f.Samples[0] = int16(i)
		if err := o.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for o.Written() < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	for i, v := range vals {
		if v != int16(i) {
			t.Fatalf("frame %d carries %d", i, v)
		}
	}
	if span := at[9].Sub(at[0]); span < 170*time.Millisecond {
		t.Errorf("10 frames within %v, want ≈ 180 ms", span)
	}
	mu.Unlock()
	for range 2 {
		o.Send(ctx, f)
	}
	if n := o.Clear(); n < 1 {
		t.Errorf("Clear dropped %d", n)
	}
	if err := o.Send(ctx, &media.Frame{Samples: make([]int16, 200), Rate: 8000}); !errors.Is(err, stream.ErrFrame) {
		t.Errorf("long frame: %v", err)
	}
	o.Close(errors.New("bye"))
	if err := o.Send(ctx, f); !errors.Is(err, stream.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestAssembler(t *testing.T) {
	a := stream.NewAssembler(8000, 1000)
	var f media.Frame
	n, next := 0, 0
	for _, size := range []int{80, 240, 50, 270} { // 640 samples: 4 frames
		s, err := a.Extend(size)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s {
			s[i] = int16(n)
			n++
		}
		for a.Next(&f) {
			if len(f.Samples) != 160 {
				t.Fatalf("frame of %d samples", len(f.Samples))
			}
			for i, v := range f.Samples {
				if v != int16(next) {
					t.Fatalf("sample %d: %d, want %d", i, v, next)
				}
				next++
			}
		}
	}
	if next != 640 || a.Buffered() != 0 {
		t.Errorf("%d samples out, %d left", next, a.Buffered())
	}
	if _, err := a.Extend(1001); !errors.Is(err, stream.ErrTooLarge) {
		t.Errorf("Extend beyond max: %v", err)
	}
}

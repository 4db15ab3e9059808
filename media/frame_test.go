package media

import (
	"testing"
	"time"
)

func TestSamplesPerFrame(t *testing.T) {
	for rate, want := range map[int]int{Rate8k: 160, Rate16k: 320, Rate24k: 480, Rate48k: 960} {
		if got := SamplesPerFrame(rate); got != want {
			t.Errorf("SamplesPerFrame(%d) = %d, want %d", rate, got, want)
		}
		if d := NewFrame(rate).Duration(); d != FrameDuration {
			t.Errorf("NewFrame(%d).Duration() = %v", rate, d)
		}
	}
	if d := (&Frame{Samples: make([]int16, 80), Rate: 8000}).Duration(); d != 10*time.Millisecond {
		t.Errorf("short frame duration = %v", d)
	}
	if d := (&Frame{Samples: make([]int16, 80)}).Duration(); d != 0 {
		t.Errorf("frame without rate: duration %v, want 0", d)
	}
}

func TestCopyFromReusesStorage(t *testing.T) {
	src := NewFrame(Rate8k)
	for i := range src.Samples {
		src.Samples[i] = int16(i)
	}
	src.Time = time.Unix(10, 0)
	dst := NewFrame(Rate16k) // larger: storage reused
	before := &dst.Samples[0]
	dst.CopyFrom(src)
	if &dst.Samples[0] != before {
		t.Error("CopyFrom reallocated although capacity sufficed")
	}
	if dst.Rate != Rate8k || !dst.Time.Equal(src.Time) || len(dst.Samples) != 160 || dst.Samples[159] != 159 {
		t.Errorf("copy differs: rate %d len %d", dst.Rate, len(dst.Samples))
	}
	dst.Silence()
	if dst.Samples[159] != 0 || src.Samples[159] != 159 {
		t.Error("Silence must clear the copy only")
	}
}

func TestFramePool(t *testing.T) {
	p := NewFramePool(Rate16k)
	f := p.Get()
	if len(f.Samples) != 320 || f.Rate != Rate16k || !f.Time.IsZero() {
		t.Fatalf("Get() = len %d rate %d", len(f.Samples), f.Rate)
	}
	f.Samples = f.Samples[:10] // a user may shorten it; Get restores the length
	f.Time = time.Now()
	p.Put(f)
	g := p.Get()
	if len(g.Samples) != 320 || !g.Time.IsZero() {
		t.Errorf("recycled frame not reset: len %d time %v", len(g.Samples), g.Time)
	}
	p.Put(NewFrame(Rate8k)) // wrong rate: dropped, never handed out
	for range 10 {
		if h := p.Get(); h.Rate != Rate16k || len(h.Samples) != 320 {
			t.Fatalf("pool handed out a foreign frame: rate %d len %d", h.Rate, len(h.Samples))
		}
	}
	p.Put(nil)
}

func BenchmarkFramePool(b *testing.B) {
	p := NewFramePool(Rate8k)
	b.ReportAllocs()
	for b.Loop() {
		f := p.Get()
		f.Samples[0] = 1
		p.Put(f)
	}
}

package cache

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func req(text string) tts.Request {
	return tts.Request{Text: text, Language: "en-US", SampleRate: media.Rate8k}
}

// readAll reads a stream to its end and checks every frame is 20 ms but
// the last.
func readAll(t testing.TB, st tts.Stream) ([]int16, []tts.Mark, error) {
	t.Helper()
	defer st.Close()
	var pcm []int16
	var marks []tts.Mark
	short := false
	for {
		c, err := st.Recv()
		if err == io.EOF {
			return pcm, marks, nil
		}
		if err != nil {
			return pcm, marks, err
		}
		if short && len(c.Samples) > 0 {
			t.Fatalf("a frame after a short frame")
		}
		if n := len(c.Samples); n != media.SamplesPerFrame(c.Rate) {
			short = true
		}
		pcm = append(pcm, c.Samples...)
		marks = append(marks, c.Marks...)
	}
}

// checkAudio checks pcm is the fake's utterance of text.
func checkAudio(t testing.TB, pcm []int16, marks []tts.Mark, text string, chunks int) {
	t.Helper()
	n := media.Rate8k * 37 / 1000
	if len(pcm) != chunks*n {
		t.Fatalf("%d samples, want %d", len(pcm), chunks*n)
	}
	for i, v := range pcm {
		if v != sampleAt(i, len(text)) {
			t.Fatalf("sample %d is %d, want %d", i, v, sampleAt(i, len(text)))
		}
	}
	if len(marks) != chunks {
		t.Fatalf("%d marks, want %d", len(marks), chunks)
	}
	for i, m := range marks {
		if m.Offset != i+1 {
			t.Fatalf("mark %d: %+v", i, m)
		}
	}
}

func synth(t testing.TB, c *Cache, r tts.Request) ([]int16, []tts.Mark, error) {
	t.Helper()
	st, err := c.Synthesize(context.Background(), r)
	if err != nil {
		return nil, nil, err
	}
	return readAll(t, st)
}

func TestHitAfterMiss(t *testing.T) {
	f := &fake{chunks: 10}
	c, err := New(f, Options{Engine: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		pcm, marks, err := synth(t, c, req("hello"))
		if err != nil {
			t.Fatal(err)
		}
		checkAudio(t, pcm, marks, "hello", 10)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d syntheses, want 1", n)
	}
	st := c.Stats()
	if st.Misses != 1 || st.Hits != 2 || st.Entries != 1 {
		t.Errorf("stats %+v", st)
	}
	// every field of the key matters
	for _, r := range []tts.Request{
		{Text: "hello", Language: "fr-FR", SampleRate: 8000},
		{Text: "hello", Language: "en-US", SampleRate: 16000},
		{Text: "hello", Language: "en-US", SampleRate: 8000, Voice: "x"},
		{Text: "hello", Language: "en-US", SampleRate: 8000, Rate: 1.2},
		{SSML: "hello", Language: "en-US", SampleRate: 8000},
	} {
		if Key("fake", r) == Key("fake", req("hello")) {
			t.Errorf("%+v has the key of req(hello)", r)
		}
	}
	if Key("fake", tts.Request{Text: "a", SampleRate: 8000}) != Key("fake", tts.Request{Text: "a", SampleRate: 8000, Rate: 1}) {
		t.Error("Rate 0 and 1 have different keys")
	}
	if Key("a", req("x")) == Key("b", req("x")) {
		t.Error("the engine is not in the key")
	}
	if f.open.Load() != 0 {
		t.Errorf("%d engine streams left open", f.open.Load())
	}
}

func TestChunksBelongToCaller(t *testing.T) {
	f := &fake{chunks: 4}
	c, _ := New(f, Options{})
	st, _ := c.Synthesize(context.Background(), req("x"))
	for {
		ch, err := st.Recv()
		if err != nil {
			break
		}
		clear(ch.Samples) // scribble on our copy
		for i := range ch.Marks {
			ch.Marks[i].Offset = -1
		}
	}
	st.Close()
	pcm, marks, err := synth(t, c, req("x"))
	if err != nil {
		t.Fatal(err)
	}
	checkAudio(t, pcm, marks, "x", 4)
}

func TestConcurrentMissesSynthesizeOnce(t *testing.T) {
	f := &fake{chunks: 8, stall: make(chan struct{})}
	c, _ := New(f, Options{})
	const n = 20
	var wg sync.WaitGroup
	results := make([][]int16, n)
	markss := make([][]tts.Mark, n)
	errs := make([]error, n)
	started := make(chan struct{}, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := c.Synthesize(context.Background(), req("same"))
			started <- struct{}{}
			if err != nil {
				errs[i] = err
				return
			}
			results[i], markss[i], errs[i] = readAll(t, st)
		}()
	}
	for range n {
		<-started
	}
	// all twenty are waiting on the one stalled synthesis: let it run
	for range f.chunks + 1 {
		f.stall <- struct{}{}
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		checkAudio(t, results[i], markss[i], "same", 8)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("%d syntheses, want 1", got)
	}
	if st := c.Stats(); st.Misses != 1 || st.Joins != n-1 {
		t.Errorf("stats %+v", st)
	}
}

func TestStreamsWhileRecording(t *testing.T) {
	f := &fake{chunks: 5, stall: make(chan struct{})}
	c, _ := New(f, Options{})
	st, err := c.Synthesize(context.Background(), req("live"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.stall <- struct{}{} // one 37 ms chunk: one whole frame can leave
	ch, err := st.Recv()
	if err != nil || len(ch.Samples) != media.SamplesPerFrame(media.Rate8k) {
		t.Fatalf("first frame: %d samples, %v", len(ch.Samples), err)
	}
	// the caller got audio before the synthesis ended
	if c.Stats().Entries != 0 {
		t.Fatal("stored before the end")
	}
	go func() {
		for range f.chunks {
			f.stall <- struct{}{}
		}
	}()
	rest, marks, err := readAll(t, st)
	if err != nil {
		t.Fatal(err)
	}
	checkAudio(t, append(ch.Samples, rest...), append(ch.Marks, marks...), "live", 5)
}

func TestFailureNotCached(t *testing.T) {
	f := &fake{chunks: 6, failAt: 4}
	c, _ := New(f, Options{Dir: t.TempDir()})
	pcm, _, err := synth(t, c, req("bad"))
	if !errors.Is(err, errBoom) {
		t.Fatalf("error %v, want the engine's", err)
	}
	if len(pcm) != 3*(media.Rate8k*37/1000) {
		t.Errorf("%d samples before the error", len(pcm))
	}
	if _, _, err := synth(t, c, req("bad")); !errors.Is(err, errBoom) {
		t.Fatalf("second try: %v", err)
	}
	if f.calls.Load() != 2 || c.Stats().Entries != 0 || c.Stats().Failures != 2 {
		t.Errorf("calls %d, stats %+v", f.calls.Load(), c.Stats())
	}
	files, _ := os.ReadDir(c.opts.Dir)
	if len(files) != 0 {
		t.Errorf("%d files after failures", len(files))
	}
	// an engine that refuses: its error, nothing cached
	r := &fake{refuses: true}
	c2, _ := New(r, Options{})
	if _, err := c2.Synthesize(context.Background(), req("x")); !errors.Is(err, tts.ErrUnsupported) {
		t.Errorf("refusal: %v", err)
	}
	if _, err := c2.Synthesize(context.Background(), req("x")); !errors.Is(err, tts.ErrUnsupported) || r.calls.Load() != 2 {
		t.Errorf("refusal again: %v, %d calls", err, r.calls.Load())
	}
}

func TestCancelNotCached(t *testing.T) {
	f := &fake{chunks: 6, stall: make(chan struct{})}
	c, _ := New(f, Options{})
	// Close mid-synthesis: the engine stops, nothing is kept
	st, _ := c.Synthesize(context.Background(), req("c"))
	f.stall <- struct{}{}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if f.open.Load() != 0 {
		t.Fatal("engine stream still open after Close")
	}
	if _, err := st.Recv(); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	// ctx cancel mid-synthesis
	ctx, cancel := context.WithCancel(context.Background())
	st, _ = c.Synthesize(ctx, req("c"))
	f.stall <- struct{}{}
	cancel()
	for {
		if _, err := st.Recv(); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Recv after cancel: %v", err)
			}
			break
		}
	}
	st.Close()
	if c.Stats().Entries != 0 || f.open.Load() != 0 {
		t.Errorf("stats %+v, %d engine streams open", c.Stats(), f.open.Load())
	}
	// the leader leaves, a follower stays: the synthesis goes on
	ctx, cancel = context.WithCancel(context.Background())
	lead, _ := c.Synthesize(ctx, req("c"))
	follow, _ := c.Synthesize(context.Background(), req("c"))
	cancel()
	lead.Close()
	go func() {
		for range f.chunks + 1 {
			f.stall <- struct{}{}
		}
	}()
	pcm, marks, err := readAll(t, follow)
	if err != nil {
		t.Fatal(err)
	}
	checkAudio(t, pcm, marks, "c", 6)
	f.stall = nil
	if _, _, err := synth(t, c, req("c")); err != nil || f.calls.Load() != 3 {
		t.Errorf("after the follower: %v, %d calls", err, f.calls.Load())
	}
}

func TestEvictionOrder(t *testing.T) {
	f := &fake{chunks: 5} // 5·296 samples: 2960 bytes + overhead
	one := (&entry{key: Key("", req("a")), samples: make([]int16, 5*296), marks: make([]tts.Mark, 5)}).size()
	c, _ := New(f, Options{MaxBytes: 3 * one})
	for _, s := range []string{"a", "bb", "ccc"} {
		synth(t, c, req(s))
	}
	synth(t, c, req("a"))    // a is now the most recent: b is the oldest
	synth(t, c, req("dddd")) // evicts b
	if st := c.Stats(); st.Evictions != 1 || st.Entries != 3 || st.Bytes != 3*one {
		t.Fatalf("stats %+v (entry %d bytes)", st, one)
	}
	before := f.calls.Load()
	for _, s := range []string{"a", "ccc", "dddd"} {
		synth(t, c, req(s))
	}
	if f.calls.Load() != before {
		t.Error("a kept entry was synthesized again")
	}
	synth(t, c, req("bb"))
	if f.calls.Load() != before+1 {
		t.Error("the evicted entry was not synthesized again")
	}
	// larger than the whole bound: served, not kept
	big := &fake{chunks: 100}
	c2, _ := New(big, Options{MaxBytes: 1000})
	pcm, marks, err := synth(t, c2, req("big"))
	if err != nil {
		t.Fatal(err)
	}
	checkAudio(t, pcm, marks, "big", 100)
	if c2.Stats().Entries != 0 {
		t.Error("oversized entry kept")
	}
}

func TestDiskSurvivesNewCache(t *testing.T) {
	dir := t.TempDir()
	f := &fake{chunks: 7}
	c, err := New(f, Options{Dir: dir, Engine: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	synth(t, c, req("persist"))
	c2, err := New(f, Options{Dir: dir, Engine: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	pcm, marks, err := synth(t, c2, req("persist"))
	if err != nil {
		t.Fatal(err)
	}
	checkAudio(t, pcm, marks, "persist", 7)
	if f.calls.Load() != 1 || c2.Stats().DiskHits != 1 {
		t.Errorf("calls %d, stats %+v", f.calls.Load(), c2.Stats())
	}
	// promoted to memory: the next one is a memory hit
	synth(t, c2, req("persist"))
	if c2.Stats().Hits != 1 {
		t.Errorf("stats %+v", c2.Stats())
	}
	// another engine name does not read it
	c3, _ := New(f, Options{Dir: dir, Engine: "other"})
	synth(t, c3, req("persist"))
	if f.calls.Load() != 2 {
		t.Errorf("calls %d", f.calls.Load())
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	f := &fake{chunks: 3}
	c, _ := New(f, Options{Dir: dir})
	synth(t, c, req("x"))
	path := filepath.Join(dir, Key("", req("x"))+".pcm")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other := Key("", req("y"))
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)-7],
		"empty":     nil,
		"flipped":   append(append([]byte{}, good[:100]...), append([]byte{good[100] ^ 1}, good[101:]...)...),
		"other key": append(append(append([]byte{}, good[:8]...), other...), good[8+64:]...),
		"garbage":   []byte("not a cache file at all, not at all"),
	} {
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		c2, _ := New(f, Options{Dir: dir})
		before := f.calls.Load()
		pcm, marks, err := synth(t, c2, req("x"))
		if err != nil {
			t.Fatal(err)
		}
		checkAudio(t, pcm, marks, "x", 3)
		if f.calls.Load() != before+1 {
			t.Errorf("%s: not treated as a miss", name)
		}
		// rewritten whole
		if b, _ := os.ReadFile(path); string(b) != string(good) {
			t.Errorf("%s: file not replaced by a good one", name)
		}
	}
	// leftovers of a crash are removed
	tmp := filepath.Join(dir, ".tmp-123")
	os.WriteFile(tmp, []byte("partial"), 0o644)
	New(f, Options{Dir: dir})
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("temporary file left")
	}
}

func TestDiskBound(t *testing.T) {
	dir := t.TempDir()
	f := &fake{chunks: 5}
	size := int64(len(encode(&entry{key: Key("", req("a")), samples: make([]int16, 5*296), marks: make([]tts.Mark, 5)})))
	c, _ := New(f, Options{Dir: dir, MaxDiskBytes: 3 * size, MaxBytes: 1})
	old := time.Now().Add(-time.Hour)
	for i, s := range []string{"a", "b", "c"} {
		synth(t, c, req(s))
		// distinct modification times, oldest first
		os.Chtimes(filepath.Join(dir, Key("", req(s))+".pcm"), old.Add(time.Duration(i)*time.Minute), old.Add(time.Duration(i)*time.Minute))
	}
	synth(t, c, req("a")) // disk hit: a becomes the most recent
	synth(t, c, req("d")) // evicts b
	if _, err := os.Stat(filepath.Join(dir, Key("", req("b"))+".pcm")); !os.IsNotExist(err) {
		t.Error("b not evicted")
	}
	for _, s := range []string{"a", "c", "d"} {
		if _, err := os.Stat(filepath.Join(dir, Key("", req(s))+".pcm")); err != nil {
			t.Errorf("%s evicted", s)
		}
	}
	if st := c.Stats(); st.DiskEvictions != 1 || st.DiskHits != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRecvFrameZeroAllocs(t *testing.T) {
	f := &fake{chunks: 200}
	c, _ := New(f, Options{})
	synth(t, c, req("warm"))
	st, _ := c.Synthesize(context.Background(), req("warm"))
	defer st.Close()
	s := st.(*Stream)
	fr := media.NewFrame(media.Rate8k)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.RecvFrame(fr); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("RecvFrame: %v allocations per frame", allocs)
	}
}

func TestEngineRateMismatch(t *testing.T) {
	c, _ := New(rateLiar{}, Options{})
	if _, _, err := synth(t, c, req("x")); !errors.Is(err, ErrEngine) {
		t.Errorf("error %v, want ErrEngine", err)
	}
}

// rateLiar answers every request at 16 kHz.
type rateLiar struct{}

func (rateLiar) Synthesize(ctx context.Context, r tts.Request) (tts.Stream, error) {
	return &liarStream{}, nil
}

type liarStream struct{ sent bool }

func (s *liarStream) Recv() (tts.Chunk, error) {
	if s.sent {
		return tts.Chunk{}, io.EOF
	}
	s.sent = true
	return tts.Chunk{Samples: make([]int16, 320), Rate: 16000}, nil
}
func (s *liarStream) Close() error { return nil }

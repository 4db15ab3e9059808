// Package cache is parole's prompt cache: a [tts.Synthesizer] in front of
// any other that keeps synthesized utterances ready to send.
//
// # What is kept
//
// An entry is the whole utterance at the request's sample rate plus its
// marks. Streams from the cache yield it as 20 ms frames (one [tts.Chunk]
// per frame); the last frame is short, not padded, so the audio is exactly
// what the engine produced. A mark travels with the frame in which its word
// starts (or, while a synthesis is in flight, the first frame yielded after
// the engine reported it).
//
// The key ([Key]) is a SHA-256 of the engine name, voice, language, sample
// rate, speaking rate (0 counts as 1) and the text or SSML (which of the two
// is part of the key).
//
// # Hits, misses and concurrent misses
//
// A memory hit returns a stream over the stored samples: no synthesis, no
// goroutine. [Stream.RecvFrame] copies each frame into the caller's frame
// and allocates nothing; Recv, whose chunks belong to the caller, copies
// the rest of the utterance once, at its first call, and hands out
// sub-slices of that copy (one allocation per stream, none per frame).
//
// On a miss the first caller (the leader) starts the engine and one
// recorder goroutine that reads the engine's stream into a growing
// recording. Every caller of the same key while the synthesis runs (the
// leader included) gets a stream that reads the recording as it grows: each
// frame leaves as soon as the engine has produced it, nobody waits for the
// whole utterance, and the engine runs once. The engine runs under a
// context detached from the leader's cancellation: the synthesis stops only
// when every stream reading it has been closed or has had its context
// cancelled. The recording is stored only when the engine's stream ended
// with io.EOF; a failed or abandoned synthesis is not cached and the next
// request starts afresh. Readers of a failed synthesis get the engine's
// error after the audio recorded before it.
//
// # Memory and disk
//
// The memory layer is an LRU bounded by Options.MaxBytes (samples, marks
// and a fixed overhead per entry); an entry larger than the bound is not
// kept in memory. With Options.Dir set, every completed utterance is also
// written to Dir/<key>.pcm (a small header, the samples, the marks and a
// CRC-32), atomically through a temporary file and a rename, and read back
// on a memory miss. A file that is truncated, corrupt or written for
// another key counts as a miss and is removed. Options.MaxDiskBytes bounds
// the directory: beyond it the least recently used files (by modification
// time, refreshed on every disk hit) are removed; zero means unbounded.
package cache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parole-voice/parole/tts"
)

// DefaultMaxBytes is the memory bound when Options.MaxBytes is zero.
const DefaultMaxBytes = 64 << 20

// entryOverhead is what an entry costs beyond its samples and marks.
const entryOverhead = 256

// markBytes is the memory a Mark takes.
const markBytes = 24

// Errors.
var (
	// ErrClosed: Recv on a stream after Close.
	ErrClosed = errors.New("cache: stream closed")
	// ErrEngine: the engine's stream broke the contract (chunks at another
	// sample rate than requested, or at changing rates).
	ErrEngine = errors.New("cache: engine returned inconsistent audio")
)

// Options configure a [Cache].
type Options struct {
	// Engine names the synthesizer behind the cache; it is part of the key,
	// so caches of several engines may share a directory.
	Engine string
	// MaxBytes bounds the memory the entries take; 0 means
	// DefaultMaxBytes.
	MaxBytes int64
	// Dir, when set, is the directory of the on-disk layer. It is created
	// if needed.
	Dir string
	// MaxDiskBytes bounds the files in Dir; 0 means unbounded.
	MaxDiskBytes int64
}

// Stats are the cache's counters since New.
type Stats struct {
	// Hits are requests served from memory, DiskHits from Dir.
	Hits, DiskHits int64
	// Misses are requests that started the engine; Joins joined a
	// synthesis already running for the same key.
	Misses, Joins int64
	// Failures are syntheses that ended in an error or were abandoned.
	Failures int64
	// Evictions are entries dropped from memory for space, DiskEvictions
	// files removed from Dir for space.
	Evictions, DiskEvictions int64
	// Entries and Bytes are what the memory layer holds now.
	Entries, Bytes int64
}

// Cache is a tts.Synthesizer that caches another's output. It is safe for
// concurrent use.
type Cache struct {
	next tts.Synthesizer
	opts Options

	mu       sync.Mutex
	lru      *list.List // of *entry, most recently used first
	items    map[string]*list.Element
	inflight map[string]*flight
	bytes    int64

	diskMu    sync.Mutex
	diskBytes int64

	hits, diskHits, misses, joins, failures, evictions, diskEvictions atomic.Int64
}

// entry is one complete utterance.
type entry struct {
	key     string
	rate    int
	samples []int16
	marks   []tts.Mark
}

func (e *entry) size() int64 {
	return int64(2*len(e.samples)+markBytes*len(e.marks)+len(e.key)) + entryOverhead
}

// New returns a cache in front of next.
func New(next tts.Synthesizer, opts Options) (*Cache, error) {
	if next == nil {
		return nil, errors.New("cache: nil synthesizer")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	c := &Cache{
		next:     next,
		opts:     opts,
		lru:      list.New(),
		items:    map[string]*list.Element{},
		inflight: map[string]*flight{},
	}
	if opts.Dir != "" {
		if err := c.openDir(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Key returns the cache key of req for an engine: the hex SHA-256 of every
// field that changes the audio.
func Key(engine string, req tts.Request) string {
	rate := req.Rate
	if rate == 0 {
		rate = 1
	}
	kind, text := "text", req.Text
	if req.SSML != "" {
		kind, text = "ssml", req.SSML
	}
	var small [512]byte
	b := small[:0]
	for _, f := range [...]string{engine, req.Voice, req.Language, kind} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	b = strconv.AppendInt(b, int64(req.SampleRate), 10)
	b = append(b, ':')
	b = strconv.AppendFloat(b, rate, 'g', -1, 64)
	b = append(b, ':')
	b = append(b, text...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, b := int64(c.lru.Len()), c.bytes
	c.mu.Unlock()
	return Stats{
		Hits: c.hits.Load(), DiskHits: c.diskHits.Load(),
		Misses: c.misses.Load(), Joins: c.joins.Load(), Failures: c.failures.Load(),
		Evictions: c.evictions.Load(), DiskEvictions: c.diskEvictions.Load(),
		Entries: n, Bytes: b,
	}
}

// Synthesize returns the cached utterance of req, or starts (or joins) its
// synthesis; see the package documentation. Errors of the engine's
// Synthesize are returned as they are.
func (c *Cache) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := Key(c.opts.Engine, req)
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*entry)
		c.mu.Unlock()
		c.hits.Add(1)
		return newStream(ctx, e, nil), nil
	}
	if f, ok := c.inflight[key]; ok {
		f.mu.Lock()
		f.refs++
		f.mu.Unlock()
		c.mu.Unlock()
		c.joins.Add(1)
		return c.flightStream(ctx, f), nil
	}
	f := &flight{key: key, rate: req.SampleRate, refs: 1, changed: make(chan struct{}), finished: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()

	if c.opts.Dir != "" {
		if e := c.readDisk(key); e != nil {
			c.diskHits.Add(1)
			f.rate = e.rate
			c.complete(f, e)
			close(f.finished)
			return c.flightStream(ctx, f), nil
		}
	}
	c.misses.Add(1)
	ectx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st, err := c.next.Synthesize(ectx, req)
	if err != nil {
		cancel()
		c.fail(f, err)
		close(f.finished)
		return nil, err
	}
	f.mu.Lock()
	f.cancel = cancel
	f.mu.Unlock()
	go c.record(f, st, cancel)
	return c.flightStream(ctx, f), nil
}

// record reads the engine's stream into f until it ends.
func (c *Cache) record(f *flight, st tts.Stream, cancel context.CancelFunc) {
	defer close(f.finished)
	defer cancel()
	defer st.Close()
	for {
		ch, err := st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				f.mu.Lock()
				e := &entry{key: f.key, rate: f.rate, samples: f.samples, marks: f.marks}
				f.mu.Unlock()
				if c.opts.Dir != "" {
					// before the readers see the end, so that an ended
					// stream is on disk; best effort: a failed write
					// leaves a memory-only entry
					c.writeDisk(e)
				}
				c.complete(f, e)
				return
			}
			c.fail(f, err)
			return
		}
		if ch.Rate != f.rate && f.rate > 0 || ch.Rate <= 0 {
			c.fail(f, fmt.Errorf("%w: chunk at %d Hz, want %d Hz", ErrEngine, ch.Rate, f.rate))
			return
		}
		f.mu.Lock()
		f.rate = ch.Rate
		f.samples = append(f.samples, ch.Samples...)
		f.marks = append(f.marks, ch.Marks...)
		f.broadcast()
		f.mu.Unlock()
	}
}

// complete stores e and ends f successfully.
func (c *Cache) complete(f *flight, e *entry) {
	c.mu.Lock()
	if c.inflight[f.key] == f {
		delete(c.inflight, f.key)
	}
	c.storeLocked(e)
	c.mu.Unlock()
	f.mu.Lock()
	f.samples, f.marks, f.rate = e.samples, e.marks, e.rate
	f.done = true
	f.broadcast()
	f.mu.Unlock()
}

// fail ends f with err; nothing is stored.
func (c *Cache) fail(f *flight, err error) {
	c.failures.Add(1)
	c.mu.Lock()
	if c.inflight[f.key] == f {
		delete(c.inflight, f.key)
	}
	c.mu.Unlock()
	f.mu.Lock()
	f.done, f.err = true, err
	f.broadcast()
	f.mu.Unlock()
}

// storeLocked puts e in the LRU and evicts for space; c.mu is held.
func (c *Cache) storeLocked(e *entry) {
	sz := e.size()
	if sz > c.opts.MaxBytes {
		return
	}
	if el, ok := c.items[e.key]; ok { // raced with another flight of the key
		c.bytes -= el.Value.(*entry).size()
		c.lru.Remove(el)
	}
	c.items[e.key] = c.lru.PushFront(e)
	c.bytes += sz
	for c.bytes > c.opts.MaxBytes {
		el := c.lru.Back()
		old := el.Value.(*entry)
		c.lru.Remove(el)
		delete(c.items, old.key)
		c.bytes -= old.size()
		c.evictions.Add(1)
	}
}

// flightStream returns a stream over f that holds one of f's references.
func (c *Cache) flightStream(ctx context.Context, f *flight) *Stream {
	s := newStream(ctx, nil, f)
	s.cache = c
	s.stopAfter = context.AfterFunc(ctx, s.release)
	return s
}

// release drops one reference to f; the last one abandons the synthesis.
// It reports whether the synthesis was abandoned.
func (c *Cache) release(f *flight) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs--
	if f.refs > 0 || f.done {
		return false
	}
	if c.inflight[f.key] == f {
		delete(c.inflight, f.key)
	}
	if f.cancel != nil {
		f.cancel()
	}
	return true
}

// flight is a synthesis in progress and its recording.
type flight struct {
	key      string
	finished chan struct{} // closed when the recorder returned

	mu      sync.Mutex
	rate    int
	samples []int16
	marks   []tts.Mark
	done    bool
	err     error
	refs    int
	cancel  context.CancelFunc
	changed chan struct{} // closed and replaced at every change
}

// broadcast wakes the readers; f.mu is held.
func (f *flight) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

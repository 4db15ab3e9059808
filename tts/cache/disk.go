package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parole-voice/parole/tts"
)

// File layout (little endian): magic, the key (64 hex bytes), rate, sample
// count and mark count (uint32), the samples (int16), the marks (offset,
// length, at in ns: int64 each), and the CRC-32 (IEEE) of all that.
const (
	magic     = "PRLTTS1\n"
	keyLen    = 64
	headerLen = len(magic) + keyLen + 12
	markLen   = 24
	fileExt   = ".pcm"
	tmpPrefix = ".tmp-"
	// maxFileSamples bounds what a header may declare (an hour at 48 kHz).
	maxFileSamples = 3600 * 48000
)

func (c *Cache) path(key string) string { return filepath.Join(c.opts.Dir, key+fileExt) }

// openDir creates the directory, removes temporary files a crash left and
// sums the size of the entries.
func (c *Cache) openDir() error {
	if err := os.MkdirAll(c.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	ents, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	for _, d := range ents {
		name := d.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			os.Remove(filepath.Join(c.opts.Dir, name))
			continue
		}
		if strings.HasSuffix(name, fileExt) {
			if info, err := d.Info(); err == nil {
				c.diskBytes += info.Size()
			}
		}
	}
	return nil
}

// encode returns the file of e.
func encode(e *entry) []byte {
	b := make([]byte, 0, headerLen+2*len(e.samples)+markLen*len(e.marks)+4)
	b = append(b, magic...)
	b = append(b, e.key...)
	b = binary.LittleEndian.AppendUint32(b, uint32(e.rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.samples)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.marks)))
	for _, v := range e.samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	for _, m := range e.marks {
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Offset))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Len))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.At))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// errCorrupt reports a file that is not a valid entry.
var errCorrupt = errors.New("cache: corrupt file")

// decode parses a file written by encode for key.
func decode(b []byte, key string) (*entry, error) {
	if len(b) < headerLen+4 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad header", errCorrupt)
	}
	if string(b[len(magic):len(magic)+keyLen]) != key {
		return nil, fmt.Errorf("%w: written for another key", errCorrupt)
	}
	h := b[len(magic)+keyLen:]
	rate := binary.LittleEndian.Uint32(h)
	ns := binary.LittleEndian.Uint32(h[4:])
	nm := binary.LittleEndian.Uint32(h[8:])
	if rate == 0 || rate > 1_000_000 || ns > maxFileSamples || nm > ns+1000 {
		return nil, fmt.Errorf("%w: bad sizes", errCorrupt)
	}
	if want := headerLen + 2*int(ns) + markLen*int(nm) + 4; len(b) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errCorrupt, len(b), want)
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: checksum", errCorrupt)
	}
	e := &entry{key: key, rate: int(rate), samples: make([]int16, ns)}
	p := body[headerLen:]
	for i := range e.samples {
		e.samples[i] = int16(binary.LittleEndian.Uint16(p[2*i:]))
	}
	p = p[2*ns:]
	if nm > 0 {
		e.marks = make([]tts.Mark, nm)
	}
	for i := range e.marks {
		q := p[markLen*i:]
		m := tts.Mark{
			Offset: int(int64(binary.LittleEndian.Uint64(q))),
			Len:    int(int64(binary.LittleEndian.Uint64(q[8:]))),
			At:     time.Duration(binary.LittleEndian.Uint64(q[16:])),
		}
		if m.Offset < 0 || m.Len < 0 || m.At < 0 {
			return nil, fmt.Errorf("%w: bad mark", errCorrupt)
		}
		e.marks[i] = m
	}
	return e, nil
}

// readDisk returns the entry of key from Dir, or nil. A file that does not
// decode is removed.
func (c *Cache) readDisk(key string) *entry {
	p := c.path(key)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	e, err := decode(b, key)
	if err != nil {
		c.diskMu.Lock()
		if os.Remove(p) == nil {
			c.diskBytes -= int64(len(b))
		}
		c.diskMu.Unlock()
		return nil
	}
	now := time.Now()
	os.Chtimes(p, now, now) // recently used
	return e
}

// writeDisk stores e in Dir atomically and prunes the directory to its
// bound.
func (c *Cache) writeDisk(e *entry) error {
	b := encode(e)
	tmp, err := os.CreateTemp(c.opts.Dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(e.key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	c.diskMu.Lock()
	defer c.diskMu.Unlock()
	c.diskBytes += int64(len(b))
	if c.opts.MaxDiskBytes > 0 && c.diskBytes > c.opts.MaxDiskBytes {
		c.pruneLocked()
	}
	return nil
}

// pruneLocked removes the least recently used files until Dir fits its
// bound; c.diskMu is held.
func (c *Cache) pruneLocked() {
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	filepath.WalkDir(c.opts.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && p != c.opts.Dir {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, fileExt) && !strings.HasPrefix(d.Name(), tmpPrefix) {
			if info, err := d.Info(); err == nil {
				files = append(files, file{p, info.Size(), info.ModTime()})
				total += info.Size()
			}
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		if total <= c.opts.MaxDiskBytes {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
			c.diskEvictions.Add(1)
		}
	}
	c.diskBytes = total
}

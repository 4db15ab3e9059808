package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parole-voice/parole/dialog"
)

// Bolt is the embedded default [Store]: one bbolt file, which survives a
// restart of the process. Only one process may open the file at a time (a
// second one waits a second for the lock and fails), so it serves one
// parole node; share conversations between nodes with [Redis].
//
// Layout of the file (format 2), one bucket each:
//
//	data     a conversation and its transcript, side by side under the
//	         prefix P = id length (2 bytes, big-endian) + id:
//	         P 0x00 seq (8 bytes, big-endian) → transcript entry JSON
//	         P 0x01 → version (8 bytes), expiry (8, Unix ns, 0 none),
//	                  user id length (2), user id, conversation JSON
//	expiry   expiry (8 bytes) + id → nothing: Sweep's index
//	users    user id → a bucket of conversation ids
//	links    channel → a bucket of channel user id → user id
//
// The record of a conversation sorts right after its newest transcript
// entry, so a turn — the record rewritten, two entries appended — changes
// one leaf page of the B+tree (and the branch pages above it); older
// entries settle in pages that are not written again. A commit of one
// turn writes about 5 pages (meta, root, the data bucket's branch path and
// leaf; 21–23 KiB in BenchmarkTurn), a group commit of 16 turns of
// different conversations about 2.5 pages per turn. Format 1, which kept
// records in a bucket "conversations" and each transcript in a sub-bucket
// of "transcripts" (plus a synced free list), wrote 35–40 KiB per turn;
// [OpenBolt] converts a format-1 file on open, in one transaction.
type Bolt struct {
	db    *bolt.DB
	ttl   time.Duration
	clock func() time.Time

	// Group commit (see write): the writes waiting for the next
	// transaction, and whether a caller is committing.
	mu      sync.Mutex
	queue   []*writeReq
	leading bool
	commits atomic.Int64 // group commits run, for the benchmarks
}

// Group commit bounds: how many times a fresh leader yields the processor
// for more writers to join, and how many writes one commit takes (the
// leader stops yielding there, and later writers wait for the next
// commit). A writer therefore waits at most for the commit under way, for
// its own, and for the scheduling rounds of its leader's yields.
const (
	maxYields = 4
	maxBatch  = 1024
)

// writeReq is one write waiting for a group commit.
type writeReq struct {
	fn   func(*bolt.Tx) error
	err  error
	lead bool          // promoted to commit the queue
	wake chan struct{} // one send: done, or promoted
}

var (
	_ Store   = (*Bolt)(nil)
	_ Sweeper = (*Bolt)(nil)
)

var (
	bucketData   = []byte("data")
	bucketExpiry = []byte("expiry")
	bucketUsers  = []byte("users")
	bucketLinks  = []byte("links")

	// The buckets of format 1, converted by OpenBolt.
	bucketV1Convs       = []byte("conversations")
	bucketV1Transcripts = []byte("transcripts")
)

// Tags after a conversation's key prefix in the data bucket.
const (
	tagEntry  = 0x00
	tagRecord = 0x01
)

// dataFill is the fill percent of the data bucket's pages: bbolt splits a
// page when it holds more. Writes go to the end of a conversation's key
// range (new entries just before the record), but conversations' ranges
// sit side by side, so a page usually splits in its middle. Measured over
// 40,000 turns of 1000 conversations: 0.5 (bbolt's default) left 8936 leaf
// pages in a tree of depth 4 and 6.6 page writes per sequential turn; 0.7
// 6950 leaves, depth 3, 5.3 writes; 0.9 and 0.95 split branch pages into
// slivers (20% used) and went back to depth 4 and 6.7 writes.
const dataFill = 0.7

// convPrefix returns the prefix of conversation id's keys in the data
// bucket. The length in front keeps one id's keys from ever reading as
// another's.
func convPrefix(id string) []byte {
	k := make([]byte, 2, 2+len(id)+1+8)
	binary.BigEndian.PutUint16(k, uint16(len(id)))
	return append(k, id...)
}

// recordKey is the key of conversation id's record.
func recordKey(id string) []byte { return append(convPrefix(id), tagRecord) }

// entryKey is the key of entry seq of conversation id's transcript.
func entryKey(id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(convPrefix(id), tagEntry), seq)
}

// dataBucket returns the data bucket of tx, set up for writing when tx is
// writable.
func dataBucket(tx *bolt.Tx) *bolt.Bucket {
	bk := tx.Bucket(bucketData)
	if tx.Writable() {
		bk.FillPercent = dataFill
	}
	return bk
}

// boltHeader is the fixed part of a stored conversation.
const boltHeader = 8 + 8 + 2

// OpenBolt opens (creating when needed) the bbolt file at path. It uses
// opts.TTL, opts.Now and opts.NoSync. bbolt's free page list is not
// stored (it would be written with every commit) but rebuilt on open by
// reading the page headers of the whole file, so opening a big file takes
// a moment longer.
func OpenBolt(path string, opts Options) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: time.Second,
		NoSync:  opts.NoSync,
		// The free page list is not written with each commit (it can be
		// many pages in a file that has churned) but rebuilt by scanning
		// the file on open. It holds no data: durability is the same.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open bbolt file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketData, bucketExpiry, bucketUsers, bucketLinks} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		return migrateV1(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open bbolt file %s: %w", path, err)
	}
	return &Bolt{db: db, ttl: opts.TTL, clock: opts.clock()}, nil
}

// DB returns the underlying bbolt database, for backups (DB().View with
// Tx.WriteTo) and statistics.
func (b *Bolt) DB() *bolt.DB { return b.db }

// Close implements [Store.Close].
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("store: close bbolt: %w", err)
	}
	return nil
}

// view and update run a transaction after checking ctx, mapping a closed
// database to ErrClosed.
func (b *Bolt) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return boltErr(b.db.View(fn))
}

func (b *Bolt) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return boltErr(b.db.Update(fn))
}

// write runs fn in a write transaction shared with the writes of other
// goroutines that arrive meanwhile (group commit): while one transaction
// commits — an fsync, unless NoSync — the next writes queue up, and the
// first of them then commits them all in one transaction. A lone writer
// commits at once; under load one fsync serves many turns.
//
// fn must return errors wrapping the package's sentinels (ErrConflict,
// ErrNotFound, ErrCorrupt, ErrInvalid) before it writes anything: such an
// error is that write's result and the shared transaction goes on. Any
// other error aborts the transaction; the writes of the batch are then run
// again one transaction each, so only the failing one fails.
func (b *Bolt) write(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{fn: fn, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	if b.leading {
		b.mu.Unlock()
		<-r.wake
		if !r.lead {
			return r.err
		}
		b.mu.Lock()
	}
	b.leading = true
	if !r.lead {
		// A fresh leader yields before taking the queue, so that writers
		// already runnable — on one core they cannot run while this one
		// commits — join this commit instead of each paying for their own.
		// A lone writer gets the processor straight back; the wait is
		// bounded by one scheduling round of the goroutines that are ready.
		for range maxYields {
			n := len(b.queue)
			b.mu.Unlock()
			runtime.Gosched()
			b.mu.Lock()
			if len(b.queue) == n || len(b.queue) >= maxBatch {
				break
			}
		}
	}
	batch := b.queue
	if len(batch) > maxBatch {
		// The rest waits for the next commit, which its first writer leads.
		batch = slices.Clone(batch[:maxBatch])
		b.queue = slices.Delete(b.queue, 0, maxBatch)
	} else {
		b.queue = nil
	}
	b.mu.Unlock()

	b.commit(batch)
	for _, w := range batch {
		if w != r {
			w.wake <- struct{}{}
		}
	}

	b.mu.Lock()
	if len(b.queue) > 0 {
		next := b.queue[0] // hand over: it commits what queued meanwhile
		next.lead = true
		next.wake <- struct{}{}
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	return r.err
}

// commit runs a batch of writes in one transaction, setting each one's err.
func (b *Bolt) commit(batch []*writeReq) {
	b.commits.Add(1)
	err := b.db.Update(func(tx *bolt.Tx) error {
		for _, w := range batch {
			w.err = w.fn(tx)
			if w.err != nil && !isSentinel(w.err) {
				return w.err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if len(batch) == 1 {
		batch[0].err = boltErr(err)
		return
	}
	for _, w := range batch {
		w.err = boltErr(b.db.Update(w.fn))
	}
}

func isSentinel(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInvalid)
}

func boltErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// convRecord is a parsed stored conversation. json aliases bbolt's memory
// and is valid only in the transaction.
type convRecord struct {
	ver     Version
	expires int64
	user    string
	json    []byte
}

func parseConv(id string, v []byte) (convRecord, error) {
	if len(v) < boltHeader {
		return convRecord{}, fmt.Errorf("%w: conversation %q: record of %d bytes", ErrCorrupt, id, len(v))
	}
	n := int(binary.BigEndian.Uint16(v[16:]))
	if len(v) < boltHeader+n {
		return convRecord{}, fmt.Errorf("%w: conversation %q: user id of %d bytes in a record of %d", ErrCorrupt, id, n, len(v))
	}
	return convRecord{
		ver:     Version(binary.BigEndian.Uint64(v)),
		expires: int64(binary.BigEndian.Uint64(v[8:])),
		user:    string(v[boltHeader : boltHeader+n]),
		json:    v[boltHeader+n:],
	}, nil
}

func (r convRecord) expired(t time.Time) bool { return r.expires != 0 && t.UnixNano() >= r.expires }

func expiryKey(expires int64, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(expires))
	copy(k[8:], id)
	return k
}

// getLive returns the unexpired conversation id, ok false when there is
// none.
func getLive(tx *bolt.Tx, id string, t time.Time) (convRecord, bool, error) {
	v := tx.Bucket(bucketData).Get(recordKey(id))
	if v == nil {
		return convRecord{}, false, nil
	}
	r, err := parseConv(id, v)
	if err != nil {
		return convRecord{}, false, err
	}
	if r.expired(t) {
		return convRecord{}, false, nil
	}
	return r, true, nil
}

// Load implements [Store.Load].
func (b *Bolt) Load(ctx context.Context, id string) (*dialog.Conversation, Version, error) {
	if err := checkID("conversation id", id); err != nil {
		return nil, 0, err
	}
	var (
		conv *dialog.Conversation
		ver  Version
	)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		r, ok, err := getLive(tx, id, now(b.clock))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("conversation %q: %w", id, ErrNotFound)
		}
		conv, err = decodeConv(id, r.json)
		ver = r.ver
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return conv, ver, nil
}

// Save implements [Store.Save].
func (b *Bolt) Save(ctx context.Context, conv *dialog.Conversation, ver Version, entries ...Entry) (Version, error) {
	if err := checkConv(conv); err != nil {
		return 0, err
	}
	t := now(b.clock)
	buf := getWriteBuf()
	defer putWriteBuf(buf)
	lines, err := buf.encodeEntries(entries, t)
	if err != nil {
		return 0, err
	}
	saved := *conv
	stamp(&saved, t)
	// The record, but for its version and expiry, which the transaction
	// fills in.
	rec := append(buf.rec[:0], make([]byte, boltHeader)...)
	binary.BigEndian.PutUint16(rec[16:], uint16(len(saved.UserID)))
	rec = append(rec, saved.UserID...)
	if rec, err = encodeConvJSON(rec, &saved); err != nil {
		return 0, fmt.Errorf("store: encode conversation %q: %w", conv.ID, err)
	}
	buf.rec = rec
	var nv Version
	err = b.write(ctx, func(tx *bolt.Tx) error {
		data := dataBucket(tx)
		key := recordKey(conv.ID)
		var cur Version
		oldUser, oldExp, expired := "", int64(0), false
		if v := data.Get(key); v != nil {
			r, err := parseConv(conv.ID, v)
			if err != nil {
				return err
			}
			if expired = r.expired(t); !expired {
				cur, oldUser, oldExp = r.ver, r.user, r.expires
			}
		}
		if cur != ver {
			return fmt.Errorf("save %q at version %d, stored %d: %w", conv.ID, ver, cur, ErrConflict)
		}
		// Checks done: from here on only bbolt can fail (see write).
		if expired {
			if err := deleteTx(tx, conv.ID); err != nil {
				return err
			}
		}
		nv = cur + 1
		exp := int64(0)
		if b.ttl > 0 {
			exp = t.Add(b.ttl).UnixNano()
		}
		binary.BigEndian.PutUint64(rec, uint64(nv))
		binary.BigEndian.PutUint64(rec[8:], uint64(exp))
		if err := data.Put(key, rec); err != nil {
			return err
		}
		if oldExp != exp {
			ex := tx.Bucket(bucketExpiry)
			if oldExp != 0 {
				if err := ex.Delete(expiryKey(oldExp, conv.ID)); err != nil {
					return err
				}
			}
			if exp != 0 {
				if err := ex.Put(expiryKey(exp, conv.ID), nil); err != nil {
					return err
				}
			}
		}
		if oldUser != saved.UserID {
			if err := unindexTx(tx, oldUser, conv.ID); err != nil {
				return err
			}
			if saved.UserID != "" {
				ub, err := tx.Bucket(bucketUsers).CreateBucketIfNotExists([]byte(saved.UserID))
				if err != nil {
					return err
				}
				if err := ub.Put([]byte(conv.ID), nil); err != nil {
					return err
				}
			}
		}
		return appendTx(tx, conv.ID, lines)
	})
	if err != nil {
		return 0, err
	}
	*conv = saved
	return nv, nil
}

func unindexTx(tx *bolt.Tx, user, id string) error {
	if user == "" {
		return nil
	}
	users := tx.Bucket(bucketUsers)
	ub := users.Bucket([]byte(user))
	if ub == nil {
		return nil
	}
	if err := ub.Delete([]byte(id)); err != nil {
		return err
	}
	if k, _ := ub.Cursor().First(); k == nil {
		return users.DeleteBucket([]byte(user))
	}
	return nil
}

// deleteTx removes conversation id and everything filed under it. A
// record whose header is corrupt is removed too (its index entries, which
// cannot be found, are skipped by readers).
func deleteTx(tx *bolt.Tx, id string) error {
	key := recordKey(id)
	data := dataBucket(tx)
	if v := data.Get(key); v != nil {
		if r, err := parseConv(id, v); err == nil {
			user, exp := r.user, r.expires
			if err := unindexTx(tx, user, id); err != nil {
				return err
			}
			if exp != 0 {
				if err := tx.Bucket(bucketExpiry).Delete(expiryKey(exp, id)); err != nil {
					return err
				}
			}
		}
		if err := data.Delete(key); err != nil {
			return err
		}
	}
	// Collect the transcript's keys first: a bbolt cursor skips keys when
	// the one under it is deleted.
	from := append(convPrefix(id), tagEntry)
	var keys [][]byte
	c := data.Cursor()
	for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, from); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := data.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements [Store.Delete].
func (b *Bolt) Delete(ctx context.Context, id string) error {
	if err := checkID("conversation id", id); err != nil {
		return err
	}
	return b.write(ctx, func(tx *bolt.Tx) error { return deleteTx(tx, id) })
}

// Append implements [Store.Append].
func (b *Bolt) Append(ctx context.Context, convID string, entries ...Entry) error {
	if err := checkID("conversation id", convID); err != nil {
		return err
	}
	t := now(b.clock)
	buf := getWriteBuf()
	defer putWriteBuf(buf)
	data, err := buf.encodeEntries(entries, t)
	if err != nil {
		return err
	}
	return b.write(ctx, func(tx *bolt.Tx) error {
		if _, ok, err := getLive(tx, convID, t); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("append to conversation %q: %w", convID, ErrNotFound)
		}
		return appendTx(tx, convID, data)
	})
}

// appendTx appends encoded entries to the transcript of id, numbering
// them after the last one stored.
func appendTx(tx *bolt.Tx, id string, lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	data := dataBucket(tx)
	seq := lastSeq(data, id)
	for _, d := range lines {
		seq++
		if err := data.Put(entryKey(id, seq), d); err != nil {
			return err
		}
	}
	return nil
}

// lastSeq returns the number of the last entry of id's transcript, 0 when
// it is empty. The entries sort right before the record key.
func lastSeq(data *bolt.Bucket, id string) uint64 {
	from := append(convPrefix(id), tagEntry)
	c := data.Cursor()
	k, _ := c.Seek(recordKey(id))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if len(k) != len(from)+8 || !bytes.HasPrefix(k, from) {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(from):])
}

// Transcript implements [Store.Transcript].
func (b *Bolt) Transcript(ctx context.Context, convID string) ([]Entry, error) {
	if err := checkID("conversation id", convID); err != nil {
		return nil, err
	}
	var out []Entry
	err := b.view(ctx, func(tx *bolt.Tx) error {
		if _, ok, err := getLive(tx, convID, now(b.clock)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("transcript of conversation %q: %w", convID, ErrNotFound)
		}
		out = []Entry{}
		from := append(convPrefix(convID), tagEntry)
		c := tx.Bucket(bucketData).Cursor()
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, from); k, v = c.Next() {
			if len(k) != len(from)+8 {
				return fmt.Errorf("%w: transcript of %q: key %x", ErrCorrupt, convID, k)
			}
			e, err := decodeEntry(convID, binary.BigEndian.Uint64(k[len(from):]), v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Link implements [Store.Link].
func (b *Bolt) Link(ctx context.Context, channel, channelUserID, userID string) error {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return err
	}
	if err := checkID("user id", userID); err != nil {
		return err
	}
	return b.write(ctx, func(tx *bolt.Tx) error {
		cb, err := tx.Bucket(bucketLinks).CreateBucketIfNotExists([]byte(channel))
		if err != nil {
			return err
		}
		return cb.Put([]byte(channelUserID), []byte(userID))
	})
}

// UserID implements [Store.UserID].
func (b *Bolt) UserID(ctx context.Context, channel, channelUserID string) (string, error) {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return "", err
	}
	var user string
	err := b.view(ctx, func(tx *bolt.Tx) error {
		if cb := tx.Bucket(bucketLinks).Bucket([]byte(channel)); cb != nil {
			if v := cb.Get([]byte(channelUserID)); v != nil {
				user = string(v)
				return nil
			}
		}
		return fmt.Errorf("user of %s %q: %w", channel, channelUserID, ErrNotFound)
	})
	return user, err
}

// Conversations implements [Store.Conversations].
func (b *Bolt) Conversations(ctx context.Context, userID string) ([]*dialog.Conversation, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, err
	}
	out := []*dialog.Conversation{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUsers).Bucket([]byte(userID))
		if ub == nil {
			return nil
		}
		t := now(b.clock)
		return ub.ForEach(func(k, _ []byte) error {
			id := string(k)
			r, ok, err := getLive(tx, id, t)
			if err != nil || !ok {
				return err
			}
			conv, err := decodeConv(id, r.json)
			if err != nil {
				return err
			}
			out = append(out, conv)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortRecent(out)
	return out, nil
}

// Sweep deletes the conversations that have expired, with their
// transcripts, and returns how many it deleted. Expired conversations are
// invisible before Sweep runs; Sweep frees their space in the file (for
// reuse: a bbolt file never shrinks by itself). It works through the expiry
// index in transactions of at most 512 conversations.
func (b *Bolt) Sweep(ctx context.Context) (int, error) {
	const batch = 512
	total := 0
	for {
		n, done := 0, false
		err := b.update(ctx, func(tx *bolt.Tx) error {
			n = 0
			limit := binary.BigEndian.AppendUint64(nil, uint64(now(b.clock).UnixNano()))
			expiry := tx.Bucket(bucketExpiry)
			var keys [][]byte
			c := expiry.Cursor()
			for k, _ := c.First(); k != nil && len(keys) < batch; k, _ = c.Next() {
				if len(k) >= 8 && bytes.Compare(k[:8], limit) > 0 {
					break
				}
				keys = append(keys, bytes.Clone(k))
			}
			done = len(keys) < batch
			for _, k := range keys {
				// Delete the conversation only when the key is its current
				// expiry; a stale or malformed key is just dropped.
				if len(k) > 8 {
					id := string(k[8:])
					if v := tx.Bucket(bucketData).Get(recordKey(id)); v != nil {
						if r, err := parseConv(id, v); err == nil && r.expires == int64(binary.BigEndian.Uint64(k)) {
							if err := deleteTx(tx, id); err != nil {
								return err
							}
							n++
						}
					}
				}
				if err := expiry.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if done {
			return total, nil
		}
	}
}

// migrateV1 converts a file of format 1 (see [Bolt]) to format 2: every
// record and transcript entry moves to the data bucket under its new key,
// and the old buckets go. A file without them is left as it is.
func migrateV1(tx *bolt.Tx) error {
	convs, trs := tx.Bucket(bucketV1Convs), tx.Bucket(bucketV1Transcripts)
	if convs == nil && trs == nil {
		return nil
	}
	data := dataBucket(tx)
	if convs != nil {
		if err := convs.ForEach(func(k, v []byte) error {
			if len(k) > MaxIDLen {
				return fmt.Errorf("%w: format 1 conversation id of %d bytes", ErrCorrupt, len(k))
			}
			return data.Put(recordKey(string(k)), v)
		}); err != nil {
			return fmt.Errorf("convert format 1 conversations: %w", err)
		}
		if err := tx.DeleteBucket(bucketV1Convs); err != nil {
			return err
		}
	}
	if trs != nil {
		if err := trs.ForEachBucket(func(id []byte) error {
			if len(id) > MaxIDLen {
				return fmt.Errorf("%w: format 1 transcript id of %d bytes", ErrCorrupt, len(id))
			}
			return trs.Bucket(id).ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return fmt.Errorf("%w: format 1 transcript of %q: key %x", ErrCorrupt, id, k)
				}
				return data.Put(entryKey(string(id), binary.BigEndian.Uint64(k)), v)
			})
		}); err != nil {
			return fmt.Errorf("convert format 1 transcripts: %w", err)
		}
		if err := tx.DeleteBucket(bucketV1Transcripts); err != nil {
			return err
		}
	}
	return nil
}

// writeBuf holds the encoded values of one write until it has committed:
// bbolt keeps referring to a value given to Put until then. Save and
// Append take one from a pool, so a turn does not allocate its values.
type writeBuf struct {
	entries []byte
	ends    []int
	lines   [][]byte
	rec     []byte
}

var writeBufs = sync.Pool{New: func() any {
	return &writeBuf{entries: make([]byte, 0, 2048), rec: make([]byte, 0, 1024)}
}}

func getWriteBuf() *writeBuf { return writeBufs.Get().(*writeBuf) }

// putWriteBuf returns w to the pool, unless a big write left it big.
func putWriteBuf(w *writeBuf) {
	if cap(w.entries) > 64<<10 || cap(w.rec) > 64<<10 {
		return
	}
	clear(w.lines)
	writeBufs.Put(w)
}

// encodeEntries is prepareEntries into w: the JSON of each entry, valid
// until w goes back to the pool.
func (w *writeBuf) encodeEntries(entries []Entry, t time.Time) ([][]byte, error) {
	w.entries, w.ends = w.entries[:0], w.ends[:0]
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if e.Time.IsZero() {
			e.Time = t
		}
		e.Seq = 0
		var err error
		if w.entries, err = encodeEntryJSON(w.entries, &e); err != nil {
			return nil, fmt.Errorf("store: encode entry %d: %w", i, err)
		}
		w.ends = append(w.ends, len(w.entries))
	}
	all := w.entries
	w.lines = w.lines[:0]
	start := 0
	for _, end := range w.ends {
		w.lines = append(w.lines, all[start:end:end])
		start = end
	}
	return w.lines, nil
}

package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parole-voice/parole/dialog"
)

func boltHarness() harness {
	clock := newFakeClock()
	return harness{
		open: func(t *testing.T, opts Options) Store {
			opts.Now = clock.Now
			b, err := OpenBolt(filepath.Join(t.TempDir(), "parole.db"), opts)
			must(t, err)
			t.Cleanup(func() { b.Close() })
			return b
		},
		advance: func(_ *testing.T, d time.Duration) { clock.Add(d) },
		ttl:     time.Hour,
		corruptConv: func(t *testing.T, s Store, id string) {
			// A good header (so the user index still leads here) and bad JSON.
			rec := binary.BigEndian.AppendUint64(nil, 1)
			rec = binary.BigEndian.AppendUint64(rec, 0)
			rec = binary.BigEndian.AppendUint16(rec, 5)
			rec = append(rec, "alice{\"id\": 12"...)
			boltPut(t, s.(*Bolt), rec, bucketData, recordKey(id))
		},
		corruptEntry: func(t *testing.T, s Store, id string) {
			boltPut(t, s.(*Bolt), []byte(`{"kind":"reply","reply":null}`), bucketData, entryKey(id, 2))
		},
	}
}

// boltPut writes value under the key path (buckets, then the key).
func boltPut(t *testing.T, b *Bolt, value []byte, path ...[]byte) {
	t.Helper()
	must(t, b.DB().Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(path[0])
		for _, name := range path[1 : len(path)-1] {
			var err error
			if bk, err = bk.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return bk.Put(path[len(path)-1], value)
	}))
}

func TestBolt(t *testing.T) { testStore(t, boltHarness()) }

// TestBoltReopen closes the file and opens it again, as a restart does:
// conversations, versions, transcripts (and their numbering) and links
// are all still there.
func TestBoltReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parole.db")
	b, err := OpenBolt(path, Options{})
	must(t, err)
	conv := fullConversation("call-1", "alice", "sip")
	ver, err := b.Save(ctx, conv, 0)
	must(t, err)
	ver, err = b.Save(ctx, conv, ver)
	must(t, err)
	must(t, b.Append(ctx, "call-1", EventEntry("sip", fullEvent(1)), ReplyEntry("sip", fullReply(1), time.Now())))
	must(t, b.Link(ctx, "sip", "+33123456789", "alice"))
	before, err := b.Transcript(ctx, "call-1")
	must(t, err)
	must(t, b.Close())

	// While the file is open, a second opener waits for the lock and fails.
	b, err = OpenBolt(path, Options{})
	must(t, err)
	defer b.Close()
	if _, err := OpenBolt(path, Options{}); err == nil {
		t.Fatal("opened a locked file twice")
	}

	got, gv, err := b.Load(ctx, "call-1")
	must(t, err)
	if gv != ver || !reflect.DeepEqual(got, conv) {
		t.Fatalf("after reopen: version %d (want %d), %+v", gv, ver, got)
	}
	after, err := b.Transcript(ctx, "call-1")
	must(t, err)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("transcript changed across reopen")
	}
	must(t, b.Append(ctx, "call-1", EventEntry("sip", dialog.Text("again"))))
	after, err = b.Transcript(ctx, "call-1")
	must(t, err)
	if n := len(after); n != 3 || after[2].Seq != 3 {
		t.Fatalf("numbering after reopen: %d entries, last seq %d", n, after[n-1].Seq)
	}
	if u, err := b.UserID(ctx, "sip", "+33123456789"); err != nil || u != "alice" {
		t.Fatalf("link after reopen: %q, %v", u, err)
	}
	convs, err := b.Conversations(ctx, "alice")
	must(t, err)
	if convIDs(convs) != "call-1" {
		t.Fatalf("alice's conversations after reopen: %s", convIDs(convs))
	}
}

// TestBoltSweepMany expires more conversations than one sweep transaction
// holds and checks that the file is left with nothing of them.
func TestBoltSweepMany(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "parole.db"), Options{TTL: time.Minute, Now: clock.Now, NoSync: true})
	must(t, err)
	defer b.Close()
	const n = 1300
	for i := range n {
		id := "c" + string(rune('a'+i%26)) + string(binary.BigEndian.AppendUint32(nil, uint32(i)))
		_, err := b.Save(ctx, &dialog.Conversation{ID: id, UserID: "u" + string(rune('a'+i%7))}, 0)
		must(t, err)
		must(t, b.Append(ctx, id, EventEntry("web", dialog.Text("hi"))))
	}
	clock.Add(30 * time.Second)
	_, err = b.Save(ctx, &dialog.Conversation{ID: "young", UserID: "ua"}, 0)
	must(t, err)
	clock.Add(45 * time.Second)
	got, err := b.Sweep(ctx)
	must(t, err)
	if got != n {
		t.Fatalf("Sweep deleted %d, want %d", got, n)
	}
	must(t, b.DB().View(func(tx *bolt.Tx) error {
		for name, want := range map[string]int{"data": 1, "expiry": 1, "users": 1} {
			k := 0
			must(t, tx.Bucket([]byte(name)).ForEach(func(_, _ []byte) error { k++; return nil }))
			if k != want {
				t.Errorf("bucket %s holds %d keys after sweep, want %d", name, k, want)
			}
		}
		return nil
	}))
}

// TestBoltShortRecord: a record too short for its header is ErrCorrupt and
// can still be deleted.
func TestBoltShortRecord(t *testing.T) {
	ctx := context.Background()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "parole.db"), Options{})
	must(t, err)
	defer b.Close()
	for _, rec := range [][]byte{{1, 2, 3}, append(make([]byte, 16), 0xff, 0xff, 'x')} {
		boltPut(t, b, rec, bucketData, recordKey("short"))
		_, _, err = b.Load(ctx, "short")
		wantErr(t, err, ErrCorrupt)
		_, err = b.Save(ctx, &dialog.Conversation{ID: "short"}, 0)
		wantErr(t, err, ErrCorrupt)
		wantErr(t, b.Append(ctx, "short", EventEntry("web", dialog.Text("x"))), ErrCorrupt)
		must(t, b.Delete(ctx, "short"))
		_, _, err = b.Load(ctx, "short")
		wantErr(t, err, ErrNotFound)
	}
}

// TestBoltGroupCommit: in a batch, a write failing with a sentinel error
// leaves the others to commit together; a write failing inside bbolt
// aborts the shared transaction, and the others are committed alone.
func TestBoltGroupCommit(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "parole.db"), Options{NoSync: true})
	must(t, err)
	defer b.Close()
	put := func(key string) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket(bucketLinks).Put([]byte(key), []byte("v")) }
	}
	boom := errors.New("disk on fire")
	batch := []*writeReq{
		{fn: put("a")},
		{fn: func(*bolt.Tx) error { return fmt.Errorf("x: %w", ErrConflict) }},
		{fn: put("b")},
	}
	b.commit(batch)
	if batch[0].err != nil || !errors.Is(batch[1].err, ErrConflict) || batch[2].err != nil {
		t.Fatalf("errors %v, %v, %v", batch[0].err, batch[1].err, batch[2].err)
	}
	batch = []*writeReq{
		{fn: put("c")},
		{fn: func(tx *bolt.Tx) error {
			if err := put("lost")(tx); err != nil {
				return err
			}
			return boom
		}},
		{fn: put("d")},
	}
	b.commit(batch)
	if batch[0].err != nil || !errors.Is(batch[1].err, boom) || batch[2].err != nil {
		t.Fatalf("errors %v, %v, %v", batch[0].err, batch[1].err, batch[2].err)
	}
	must(t, b.DB().View(func(tx *bolt.Tx) error {
		for key, want := range map[string]bool{"a": true, "b": true, "c": true, "d": true, "lost": false} {
			if got := tx.Bucket(bucketLinks).Get([]byte(key)) != nil; got != want {
				t.Errorf("key %s stored: %v, want %v", key, got, want)
			}
		}
		return nil
	}))
}

// TestBoltMigrateV1 writes a file in format 1 (records in "conversations",
// each transcript in a sub-bucket of "transcripts") with bbolt directly and
// opens it: OpenBolt converts it, and everything reads back as stored, with
// the transcript numbering going on where it stopped.
func TestBoltMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	conv := fullConversation("call-1", "alice", "sip")
	conv.Started = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	conv.Updated = conv.Started
	js, err := encodeConv(conv)
	must(t, err)
	lines, err := prepareEntries([]Entry{EventEntry("sip", fullEvent(1)), ReplyEntry("sip", fullReply(1), conv.Started)}, conv.Started)
	must(t, err)

	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"conversations", "transcripts", "expiry", "users", "links"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		rec := binary.BigEndian.AppendUint64(nil, 7) // version
		rec = binary.BigEndian.AppendUint64(rec, 0)  // no expiry
		rec = binary.BigEndian.AppendUint16(rec, uint16(len("alice")))
		rec = append(append(rec, "alice"...), js...)
		if err := tx.Bucket([]byte("conversations")).Put([]byte("call-1"), rec); err != nil {
			return err
		}
		tb, err := tx.Bucket([]byte("transcripts")).CreateBucket([]byte("call-1"))
		if err != nil {
			return err
		}
		for _, l := range lines {
			seq, _ := tb.NextSequence()
			if err := tb.Put(binary.BigEndian.AppendUint64(nil, seq), l); err != nil {
				return err
			}
		}
		ub, err := tx.Bucket([]byte("users")).CreateBucket([]byte("alice"))
		if err != nil {
			return err
		}
		return ub.Put([]byte("call-1"), nil)
	}))
	must(t, db.Close())

	b, err := OpenBolt(path, Options{})
	must(t, err)
	defer b.Close()
	got, ver, err := b.Load(ctx, "call-1")
	must(t, err)
	if ver != 7 || !reflect.DeepEqual(got, conv) {
		t.Fatalf("after migration: version %d, %+v", ver, got)
	}
	tr, err := b.Transcript(ctx, "call-1")
	must(t, err)
	if len(tr) != 2 || tr[0].Seq != 1 || tr[1].Seq != 2 || tr[0].Kind != KindEvent || tr[1].Kind != KindReply ||
		!reflect.DeepEqual(*tr[0].Event, fullEvent(1)) {
		t.Fatalf("transcript after migration: %+v", tr)
	}
	must(t, b.Append(ctx, "call-1", EventEntry("sip", dialog.Text("again"))))
	if tr, err = b.Transcript(ctx, "call-1"); err != nil || len(tr) != 3 || tr[2].Seq != 3 {
		t.Fatalf("numbering after migration: %d entries, %v", len(tr), err)
	}
	convs, err := b.Conversations(ctx, "alice")
	must(t, err)
	if convIDs(convs) != "call-1" {
		t.Fatalf("alice's conversations after migration: %s", convIDs(convs))
	}
	must(t, b.DB().View(func(tx *bolt.Tx) error {
		for _, name := range []string{"conversations", "transcripts"} {
			if tx.Bucket([]byte(name)) != nil {
				t.Errorf("format 1 bucket %s is still there", name)
			}
		}
		return nil
	}))
}

// TestBoltGroupCommitOneCore: with one processor, writers that are ready
// together share commits (a lone writer could not otherwise be joined by
// anyone while it commits), and every write lands.
func TestBoltGroupCommitOneCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b, err := OpenBolt(filepath.Join(t.TempDir(), "parole.db"), Options{NoSync: true})
	must(t, err)
	defer b.Close()
	ctx := context.Background()
	const writers, saves = 32, 20
	commits := b.commits.Load()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprint("c", w)
			var ver Version
			for range saves {
				var err error
				if ver, err = b.Save(ctx, &dialog.Conversation{ID: id}, ver, EventEntry("web", dialog.Text("hi"))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := b.commits.Load() - commits
	if per := float64(writers*saves) / float64(n); per < 4 {
		t.Errorf("%d writes took %d commits: %.1f per commit, want ≥ 4", writers*saves, n, per)
	}
	for w := range writers {
		tr, err := b.Transcript(ctx, fmt.Sprint("c", w))
		must(t, err)
		if len(tr) != saves {
			t.Fatalf("c%d: %d transcript entries, want %d", w, len(tr), saves)
		}
	}
}

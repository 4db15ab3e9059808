package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/internal/testutil"
)

// redisServer is a redis-server process started for a test.
type redisServer struct {
	url    string // redis://127.0.0.1:port/0
	socket string // unix socket path
}

// startRedis starts a throw-away redis-server (no persistence) on a free
// loopback port and a unix socket, waits until it answers PING, and stops
// it when the test ends.
func startRedis(tb testing.TB) redisServer {
	tb.Helper()
	bin := testutil.RequireTool(tb, "redis-server", "redis-server")
	dir, err := os.MkdirTemp("", "rds") // short: unix socket paths are limited
	must2(tb, err)
	tb.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "redis.sock")
	var lastErr error
	for range 5 {
		port, err := freePort()
		must2(tb, err)
		var out bytes.Buffer
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		must2(tb, cmd.Start())
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = waitPing(addr, 5*time.Second); lastErr == nil {
			tb.Cleanup(func() {
				cmd.Process.Kill()
				cmd.Wait()
			})
			return redisServer{url: "redis://" + addr + "/0", socket: sock}
		}
		cmd.Process.Kill()
		cmd.Wait()
		lastErr = fmt.Errorf("%w; redis-server said: %s", lastErr, out.String())
	}
	tb.Fatal(lastErr)
	return redisServer{}
}

func must2(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPing sends PING in RESP until the server answers +PONG.
func waitPing(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := func() error {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write([]byte("PING\r\n")); err != nil {
				return err
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return err
			}
			if line != "+PONG\r\n" {
				return fmt.Errorf("PING answered %q", line)
			}
			return nil
		}()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s did not answer PING: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawClient is a plain client for the tests to look at and spoil keys.
func rawClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	ro, err := redis.ParseURL(url)
	must(t, err)
	ro.DisableIdentity = true
	c := redis.NewClient(ro)
	t.Cleanup(func() { c.Close() })
	return c
}

func redisHarness(t *testing.T, srv redisServer) harness {
	raw := rawClient(t, srv.url)
	var n atomic.Int64
	return harness{
		open: func(t *testing.T, opts Options) Store {
			// Every store gets its own prefix on the shared server.
			opts.Prefix = fmt.Sprintf("test%d:", n.Add(1))
			r, err := NewRedis(context.Background(), srv.url, opts)
			must(t, err)
			t.Cleanup(func() { r.Close() })
			return r
		},
		advance:   func(_ *testing.T, d time.Duration) { time.Sleep(d) },
		ttl:       1500 * time.Millisecond,
		realClock: true,
		corruptConv: func(t *testing.T, s Store, id string) {
			must(t, raw.HSet(context.Background(), s.(*Redis).convKey(id), "d", `{"id":`).Err())
		},
		corruptEntry: func(t *testing.T, s Store, id string) {
			must(t, raw.RPush(context.Background(), s.(*Redis).trKey(id), `not json`).Err())
		},
	}
}

func TestRedis(t *testing.T) {
	srv := startRedis(t)
	testStore(t, redisHarness(t, srv))
}

// TestRedisTwoNodes runs two store instances — two parole nodes — on one
// server: each sees the other's writes, and 8 goroutines split over both
// nodes incrementing one slot 100 times each lose no update.
func TestRedisTwoNodes(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	var nodes [2]*Redis
	for i := range nodes {
		r, err := NewRedis(ctx, srv.url, Options{Prefix: "shared:", TTL: time.Hour})
		must(t, err)
		defer r.Close()
		nodes[i] = r
	}
	// A call starts on node 0; the next event lands on node 1.
	conv := fullConversation("call-7", "alice", "sip")
	ver, err := nodes[0].Save(ctx, conv, 0)
	must(t, err)
	must(t, nodes[0].Append(ctx, "call-7", EventEntry("sip", fullEvent(1))))
	must(t, nodes[0].Link(ctx, "sip", "+33123456789", "alice"))
	got, gv, err := nodes[1].Load(ctx, "call-7")
	must(t, err)
	if gv != ver || got.Step != conv.Step || got.UserID != "alice" {
		t.Fatalf("node 1 loaded %+v at %d", got, gv)
	}
	if u, err := nodes[1].UserID(ctx, "sip", "+33123456789"); err != nil || u != "alice" {
		t.Fatalf("node 1 link: %q %v", u, err)
	}
	must(t, nodes[1].Append(ctx, "call-7", ReplyEntry("sip", fullReply(1), time.Now())))
	tr, err := nodes[0].Transcript(ctx, "call-7")
	must(t, err)
	if len(tr) != 2 || tr[0].Kind != KindEvent || tr[1].Kind != KindReply {
		t.Fatalf("node 0 transcript: %+v", tr)
	}
	// Node 0 saving its stale copy after node 1's update is refused.
	got.Step = "node1"
	_, err = nodes[1].Save(ctx, got, gv)
	must(t, err)
	conv.Step = "node0"
	_, err = nodes[0].Save(ctx, conv, ver)
	wantErr(t, err, ErrConflict)

	const workers, increments = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := nodes[w%2]
			for range increments {
				_, _, err := Update(ctx, node, "counter", func(c *dialog.Conversation) error {
					n, _ := strconv.Atoi(c.Slots["n"])
					c.SetSlot("n", strconv.Itoa(n+1))
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, v, err := nodes[0].Load(ctx, "counter")
	must(t, err)
	if c.Slots["n"] != "800" || v != 800 {
		t.Fatalf("two nodes, 8×100 increments: n=%s version %d", c.Slots["n"], v)
	}
	// The conversation keys carry the TTL.
	raw := rawClient(t, srv.url)
	for _, k := range []string{nodes[0].convKey("call-7"), nodes[0].trKey("call-7")} {
		ttl, err := raw.PTTL(ctx, k).Result()
		must(t, err)
		if ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s has TTL %v, want (0, 1h]", k, ttl)
		}
	}
}

// TestRedisURLs connects through redis:// with a database number and
// through the unix socket, and checks that prefixes and databases keep
// stores apart.
func TestRedisURLs(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	open := func(url, prefix string) *Redis {
		r, err := NewRedis(ctx, url, Options{Prefix: prefix})
		must(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	db0 := open(srv.url, "")
	_, err := db0.Save(ctx, &dialog.Conversation{ID: "c", Step: "db0"}, 0)
	must(t, err)
	// The default prefix is parole:.
	raw := rawClient(t, srv.url)
	if n, err := raw.Exists(ctx, "parole:conv:c").Result(); err != nil || n != 1 {
		t.Fatalf("parole:conv:c exists = %d, %v", n, err)
	}
	sock := open("unix://"+srv.socket, "")
	if c, _, err := sock.Load(ctx, "c"); err != nil || c.Step != "db0" {
		t.Fatalf("over the unix socket: %+v, %v", c, err)
	}
	for _, other := range []*Redis{
		open(strings.TrimSuffix(srv.url, "/0")+"/3", ""),
		open(srv.url, "other:"),
	} {
		_, _, err := other.Load(ctx, "c")
		wantErr(t, err, ErrNotFound)
	}

	_, err = NewRedis(ctx, "http://localhost:6379", Options{})
	wantErr(t, err, ErrInvalid)
	port, err := freePort()
	must(t, err)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := NewRedis(cctx, fmt.Sprintf("redis://127.0.0.1:%d/0?max_retries=-1", port), Options{}); err == nil {
		t.Fatal("NewRedis with no server succeeded")
	}
}

// TestRedisWrongType: a key of another type under the store's prefix is
// ErrCorrupt, never a panic, and Delete clears it.
func TestRedisWrongType(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	r, err := NewRedis(ctx, srv.url, Options{})
	must(t, err)
	defer r.Close()
	raw := rawClient(t, srv.url)
	must(t, raw.Set(ctx, r.convKey("s"), "a string", 0).Err())
	_, _, err = r.Load(ctx, "s")
	wantErr(t, err, ErrCorrupt)
	_, err = r.Save(ctx, &dialog.Conversation{ID: "s"}, 0)
	wantErr(t, err, ErrCorrupt)
	must(t, raw.HSet(ctx, r.convKey("v"), "v", "seven", "d", `{"id":"v"}`).Err())
	_, _, err = r.Load(ctx, "v")
	wantErr(t, err, ErrCorrupt)
	_, err = r.Save(ctx, &dialog.Conversation{ID: "v"}, 7)
	wantErr(t, err, ErrCorrupt)
	must(t, raw.HSet(ctx, r.convKey("w"), "v", "1", "d", `{"id":"not-w"}`).Err())
	_, _, err = r.Load(ctx, "w")
	wantErr(t, err, ErrCorrupt)
	for _, id := range []string{"s", "v", "w"} {
		must(t, r.Delete(ctx, id))
		_, _, err = r.Load(ctx, id)
		wantErr(t, err, ErrNotFound)
	}
}

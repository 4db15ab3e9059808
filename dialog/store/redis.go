package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parole-voice/parole/dialog"
)

// Redis is the shared [Store]: several parole nodes pointing at one Redis
// server (or Sentinel-managed primary) see the same conversations, and
// optimistic concurrency keeps their updates from overwriting each other.
// Every write is one Lua script, so it is atomic on the server.
//
// Keys, all starting with the prefix ("parole:" by default):
//
//	conv:<id>        hash: v (version), d (conversation JSON), u (user id)
//	tr:<id>          list of transcript entries (JSON), oldest first
//	user:<user id>   sorted set of conversation ids, by update time (ms)
//	link:<channel>   hash: channel user id → user id
//
// With a TTL, conv:<id> and tr:<id> get PEXPIRE on every Save and Redis
// removes them itself. The scripts build user keys from the prefix, so the
// store needs a single Redis server, not Redis Cluster.
type Redis struct {
	client redis.UniversalClient
	owned  bool
	prefix string
	ttlMS  int64
	closed atomic.Bool
}

var _ Store = (*Redis)(nil)

// NewRedis connects to the Redis server at url and checks it answers
// (PING). url is parsed by redis.ParseURL: "redis://[:password@]host:port/db",
// "rediss://…" for TLS, or "unix:///path/to/redis.sock?db=N". The store owns
// the connection: Close closes it. It uses opts.TTL and opts.Prefix.
func NewRedis(ctx context.Context, url string, opts Options) (*Redis, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("%w: redis url: %w", ErrInvalid, err)
	}
	ro.DisableIdentity = true // CLIENT SETINFO is Redis ≥ 7.2 only
	client := redis.NewClient(ro)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("store: redis at %s: %w", ro.Addr, err)
	}
	r := NewRedisClient(client, opts)
	r.owned = true
	return r, nil
}

// NewRedisClient returns a store using an existing client (a
// redis.NewFailoverClient for Sentinel, say). Close does not close the
// client. It uses opts.TTL and opts.Prefix.
func NewRedisClient(client redis.UniversalClient, opts Options) *Redis {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "parole:"
	}
	ttl := opts.TTL.Milliseconds()
	if opts.TTL > 0 && ttl == 0 {
		ttl = 1
	}
	return &Redis{client: client, prefix: prefix, ttlMS: ttl}
}

// Close implements [Store.Close].
func (r *Redis) Close() error {
	if r.closed.Swap(true) || !r.owned {
		return nil
	}
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("store: close redis: %w", err)
	}
	return nil
}

func (r *Redis) begin(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

func (r *Redis) convKey(id string) string   { return r.prefix + "conv:" + id }
func (r *Redis) trKey(id string) string     { return r.prefix + "tr:" + id }
func (r *Redis) userPrefix() string         { return r.prefix + "user:" }
func (r *Redis) linkKey(ch string) string   { return r.prefix + "link:" + ch }
func (r *Redis) userKey(user string) string { return r.userPrefix() + user }

// redisErr maps a value of the wrong type (someone else's key under our
// prefix) to ErrCorrupt and a closed client to ErrClosed.
func redisErr(what string, err error) error {
	switch {
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("store: %s: %w: %w", what, ErrClosed, err)
	case strings.HasPrefix(err.Error(), "WRONGTYPE"):
		return fmt.Errorf("store: %s: %w: %w", what, ErrCorrupt, err)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Load implements [Store.Load].
func (r *Redis) Load(ctx context.Context, id string) (*dialog.Conversation, Version, error) {
	if err := checkID("conversation id", id); err != nil {
		return nil, 0, err
	}
	if err := r.begin(ctx); err != nil {
		return nil, 0, err
	}
	vals, err := r.client.HMGet(ctx, r.convKey(id), "v", "d").Result()
	if err != nil {
		return nil, 0, redisErr("load "+strconv.Quote(id), err)
	}
	return r.parseConv(id, vals)
}

func (r *Redis) parseConv(id string, vals []any) (*dialog.Conversation, Version, error) {
	if len(vals) != 2 || vals[0] == nil && vals[1] == nil {
		return nil, 0, fmt.Errorf("conversation %q: %w", id, ErrNotFound)
	}
	vs, ok1 := vals[0].(string)
	d, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, 0, fmt.Errorf("%w: conversation %q: hash lacks v or d", ErrCorrupt, id)
	}
	ver, err := strconv.ParseUint(vs, 10, 64)
	if err != nil || ver == 0 {
		return nil, 0, fmt.Errorf("%w: conversation %q: version %q", ErrCorrupt, id, vs)
	}
	conv, err := decodeConv(id, []byte(d))
	if err != nil {
		return nil, 0, err
	}
	return conv, Version(ver), nil
}

// saveScript checks the version and writes the conversation, its user
// index, transcript entries and expiry. KEYS: conv, transcript, new user's
// set. ARGV: expected version, JSON, TTL ms, user id, conversation id,
// score, user key prefix, then transcript entries.
// It returns {1, new version}, {0, stored version} on conflict or
// {-1, stored version} when that is not a number.
var saveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if not tonumber(cur) then return {-1, cur} end
if cur ~= ARGV[1] then return {0, cur} end
local old = false
if cur == '0' then
  redis.call('DEL', KEYS[2])
else
  old = redis.call('HGET', KEYS[1], 'u')
end
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'u', ARGV[4])
if old and old ~= '' and old ~= ARGV[4] then
  redis.call('ZREM', ARGV[7] .. old, ARGV[5])
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
end
for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, nv}
`)

// Save implements [Store.Save].
func (r *Redis) Save(ctx context.Context, conv *dialog.Conversation, ver Version, entries ...Entry) (Version, error) {
	if err := checkConv(conv); err != nil {
		return 0, err
	}
	if err := r.begin(ctx); err != nil {
		return 0, err
	}
	t := now(time.Now) // Updated only: expiry runs on the server's clock
	lines, err := prepareEntries(entries, t)
	if err != nil {
		return 0, err
	}
	saved := *conv
	stamp(&saved, t)
	data, err := encodeConv(&saved)
	if err != nil {
		return 0, err
	}
	keys := []string{r.convKey(conv.ID), r.trKey(conv.ID), r.userKey(saved.UserID)}
	args := make([]any, 7, 7+len(lines))
	args[0], args[1], args[2], args[3] = strconv.FormatUint(uint64(ver), 10), data, r.ttlMS, saved.UserID
	args[4], args[5], args[6] = conv.ID, saved.Updated.UnixMilli(), r.userPrefix()
	for _, l := range lines {
		args = append(args, l)
	}
	res, err := saveScript.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return 0, redisErr("save "+strconv.Quote(conv.ID), err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("store: save %q: script returned %v", conv.ID, res)
	}
	status, _ := res[0].(int64)
	switch status {
	case 1:
		nv, ok := res[1].(int64)
		if !ok || nv <= 0 {
			return 0, fmt.Errorf("store: save %q: script returned version %v", conv.ID, res[1])
		}
		*conv = saved
		return Version(nv), nil
	case 0:
		return 0, fmt.Errorf("save %q at version %d, stored %v: %w", conv.ID, ver, res[1], ErrConflict)
	default:
		return 0, fmt.Errorf("%w: conversation %q: version %q", ErrCorrupt, conv.ID, res[1])
	}
}

// deleteScript removes a conversation, its transcript and its user index
// entry. KEYS: conv, transcript. ARGV: user key prefix, conversation id.
var deleteScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  local u = redis.call('HGET', KEYS[1], 'u')
  if u and u ~= '' then redis.call('ZREM', ARGV[1] .. u, ARGV[2]) end
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`)

// Delete implements [Store.Delete].
func (r *Redis) Delete(ctx context.Context, id string) error {
	if err := checkID("conversation id", id); err != nil {
		return err
	}
	if err := r.begin(ctx); err != nil {
		return err
	}
	err := deleteScript.Run(ctx, r.client, []string{r.convKey(id), r.trKey(id)}, r.userPrefix(), id).Err()
	if err != nil {
		return redisErr("delete "+strconv.Quote(id), err)
	}
	return nil
}

// appendScript appends entries to a live conversation's transcript, which
// expires with the conversation. KEYS: conv, transcript. ARGV: entries.
// It returns the transcript's length, or -1 when the conversation is gone.
var appendScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local n = 0
for i = 1, #ARGV do n = redis.call('RPUSH', KEYS[2], ARGV[i]) end
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then redis.call('PEXPIRE', KEYS[2], pttl) end
return n
`)

// Append implements [Store.Append].
func (r *Redis) Append(ctx context.Context, convID string, entries ...Entry) error {
	if err := checkID("conversation id", convID); err != nil {
		return err
	}
	if err := r.begin(ctx); err != nil {
		return err
	}
	data, err := prepareEntries(entries, now(time.Now))
	if err != nil {
		return err
	}
	args := make([]any, len(data))
	for i, d := range data {
		args[i] = d
	}
	n, err := appendScript.Run(ctx, r.client, []string{r.convKey(convID), r.trKey(convID)}, args...).Int64()
	if err != nil {
		return redisErr("append to "+strconv.Quote(convID), err)
	}
	if n < 0 {
		return fmt.Errorf("append to conversation %q: %w", convID, ErrNotFound)
	}
	return nil
}

// Transcript implements [Store.Transcript].
func (r *Redis) Transcript(ctx context.Context, convID string) ([]Entry, error) {
	if err := checkID("conversation id", convID); err != nil {
		return nil, err
	}
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	var exists *redis.IntCmd
	var list *redis.StringSliceCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, r.convKey(convID))
		list = p.LRange(ctx, r.trKey(convID), 0, -1)
		return nil
	})
	if err != nil {
		return nil, redisErr("transcript of "+strconv.Quote(convID), err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("transcript of conversation %q: %w", convID, ErrNotFound)
	}
	raw := list.Val()
	out := make([]Entry, len(raw))
	for i, s := range raw {
		e, err := decodeEntry(convID, uint64(i+1), []byte(s))
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// Link implements [Store.Link].
func (r *Redis) Link(ctx context.Context, channel, channelUserID, userID string) error {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return err
	}
	if err := checkID("user id", userID); err != nil {
		return err
	}
	if err := r.begin(ctx); err != nil {
		return err
	}
	if err := r.client.HSet(ctx, r.linkKey(channel), channelUserID, userID).Err(); err != nil {
		return redisErr("link", err)
	}
	return nil
}

// UserID implements [Store.UserID].
func (r *Redis) UserID(ctx context.Context, channel, channelUserID string) (string, error) {
	if err := checkChannelUser(channel, channelUserID); err != nil {
		return "", err
	}
	if err := r.begin(ctx); err != nil {
		return "", err
	}
	u, err := r.client.HGet(ctx, r.linkKey(channel), channelUserID).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("user of %s %q: %w", channel, channelUserID, ErrNotFound)
	}
	if err != nil {
		return "", redisErr("user id", err)
	}
	return u, nil
}

// pruneScript drops from a user's set the conversations that no longer
// exist (expired). KEYS: the user's set. ARGV: conversation key prefix,
// then ids.
var pruneScript = redis.NewScript(`
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 0
`)

// Conversations implements [Store.Conversations]. Ids of expired
// conversations are pruned from the user's set on the way.
func (r *Redis) Conversations(ctx context.Context, userID string) ([]*dialog.Conversation, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, err
	}
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	ids, err := r.client.ZRevRange(ctx, r.userKey(userID), 0, -1).Result()
	if err != nil {
		return nil, redisErr("conversations of "+strconv.Quote(userID), err)
	}
	out := []*dialog.Conversation{}
	if len(ids) == 0 {
		return out, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, r.convKey(id), "v", "d")
		}
		return nil
	})
	if err != nil {
		return nil, redisErr("conversations of "+strconv.Quote(userID), err)
	}
	var gone []any
	for i, id := range ids {
		conv, _, err := r.parseConv(id, cmds[i].Val())
		if errors.Is(err, ErrNotFound) {
			gone = append(gone, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if conv.UserID == userID { // else: moved to another user in between
			out = append(out, conv)
		}
	}
	if len(gone) > 0 {
		args := append([]any{r.prefix + "conv:"}, gone...)
		if err := pruneScript.Run(ctx, r.client, []string{r.userKey(userID)}, args...).Err(); err != nil {
			return nil, redisErr("prune conversations of "+strconv.Quote(userID), err)
		}
	}
	sortRecent(out)
	return out, nil
}

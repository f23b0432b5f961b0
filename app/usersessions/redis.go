package usersessions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix starts the names of the Redis keys of the index.
const DefaultRedisPrefix = "gosessions:usersessions:"

// Redis is a Backend in Redis, for the cache engine on Redis, whose
// sessions live in the same Redis. Its keys, after the prefix:
//
//	u:OWNER        sorted set: the owner's session keys, scored by Seq
//	e:OWNER:KEY    hash: the entry (seq, device, created, last_seen,
//	               touched in Unix microseconds, ip, ua)
//	k:KEY          set: the owners with an entry for KEY
//	seq            the last Seq given
//	count          the number of entries
//	owners         sorted set: the owners, scored by their entries
//
// None has a TTL: an entry goes when its session is seen gone (see the
// package doc), so it must not be evicted first (a maxmemory policy that
// evicts keys without a TTL, allkeys-*, would drop live sessions from
// the index). Every write is a Lua script that gives the same result when
// go-redis runs it twice; the scripts name keys they compute, so the
// index needs one Redis, not a Redis Cluster.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns the backend on client, its keys under prefix
// (DefaultRedisPrefix when ""). The client is the caller's to close.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{client: client, prefix: prefix}
}

func (r *Redis) owned(owner string) string      { return r.prefix + "u:" + owner }
func (r *Redis) entry(owner, key string) string { return r.prefix + "e:" + owner + ":" + key }
func (r *Redis) owners(key string) string       { return r.prefix + "k:" + key }

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// putScript: KEYS u, e, k, seq, count, owners; ARGV owner, key, device,
// created, last_seen, touched, ip, ua.
var putScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'last_seen', ARGV[5], 'touched', ARGV[6])
  if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], 'ip', ARGV[7]) end
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[2], 'ua', ARGV[8]) end
  return 0
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], 'seq', seq, 'device', ARGV[3], 'created', ARGV[4], 'last_seen', ARGV[5], 'touched', ARGV[6], 'ip', ARGV[7], 'ua', ARGV[8])
redis.call('ZADD', KEYS[1], seq, ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[5])
redis.call('ZINCRBY', KEYS[6], 1, ARGV[1])
return 1
`)

// unlinkLua removes the entry of owner o and key k (prefix p): the body
// shared by the scripts that remove entries.
const unlinkLua = `
local function unlink(p, o, k)
  if redis.call('DEL', p .. 'e:' .. o .. ':' .. k) == 0 then return 0 end
  redis.call('ZREM', p .. 'u:' .. o, k)
  redis.call('SREM', p .. 'k:' .. k, o)
  redis.call('DECR', p .. 'count')
  if tonumber(redis.call('ZINCRBY', p .. 'owners', -1, o)) <= 0 then
    redis.call('ZREM', p .. 'owners', o)
  end
  return 1
end
`

// removeKeyScript: KEYS k; ARGV prefix, key.
var removeKeyScript = redis.NewScript(unlinkLua + `
for _, o in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  unlink(ARGV[1], o, ARGV[2])
end
redis.call('DEL', KEYS[1])
return 1
`)

// dropScript: KEYS e; ARGV prefix, owner, key, before.
var dropScript = redis.NewScript(unlinkLua + `
local t = redis.call('HGET', KEYS[1], 'touched')
if not t or tonumber(t) >= tonumber(ARGV[4]) then return 0 end
return unlink(ARGV[1], ARGV[2], ARGV[3])
`)

// Put implements Backend.
func (r *Redis) Put(ctx context.Context, e Entry) error {
	err := putScript.Run(ctx, r.client,
		[]string{r.owned(e.Owner), r.entry(e.Owner, e.Key), r.owners(e.Key), r.prefix + "seq", r.prefix + "count", r.prefix + "owners"},
		e.Owner, e.Key, e.Device, micros(e.Created), micros(e.LastSeen), micros(e.Touched), e.IP, e.UserAgent).Err()
	if err != nil {
		return fmt.Errorf("usersessions: index session %s: %w", short(e.Key), err)
	}
	return nil
}

// parseEntry reads an entry's hash; ok is false for none.
func parseEntry(owner, key string, h map[string]string) (e Entry, ok bool, err error) {
	if len(h) == 0 {
		return Entry{}, false, nil
	}
	e = Entry{Owner: owner, Key: key, Device: h["device"], IP: h["ip"], UserAgent: h["ua"]}
	num := func(field string) int64 {
		n, perr := strconv.ParseInt(h[field], 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("usersessions: entry of session %s: corrupt %s %q", short(key), field, h[field])
		}
		return n
	}
	e.Seq = num("seq")
	e.Created = time.UnixMicro(num("created"))
	e.LastSeen = time.UnixMicro(num("last_seen"))
	e.Touched = time.UnixMicro(num("touched"))
	return e, err == nil, err
}

// Get implements Backend.
func (r *Redis) Get(ctx context.Context, owner, key string) (Entry, bool, error) {
	h, err := r.client.HGetAll(ctx, r.entry(owner, key)).Result()
	if err != nil {
		return Entry{}, false, fmt.Errorf("usersessions: read the index: %w", err)
	}
	return parseEntry(owner, key, h)
}

// Owned implements Backend: the sorted set, then the hashes in one
// pipeline.
func (r *Redis) Owned(ctx context.Context, owner string) ([]Entry, error) {
	keys, err := r.client.ZRange(ctx, r.owned(owner), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("usersessions: read the index: %w", err)
	}
	return r.entries(ctx, owner, keys)
}

// entries reads the hashes of owner's keys, by Seq; a hash removed
// meanwhile is left out.
func (r *Redis) entries(ctx context.Context, owner string, keys []string) ([]Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HGetAll(ctx, r.entry(owner, k))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("usersessions: read the index: %w", err)
	}
	out := make([]Entry, 0, len(keys))
	for i, k := range keys {
		e, ok, err := parseEntry(owner, k, cmds[i].Val())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// RemoveKey implements Backend.
func (r *Redis) RemoveKey(ctx context.Context, key string) error {
	if err := removeKeyScript.Run(ctx, r.client, []string{r.owners(key)}, r.prefix, key).Err(); err != nil {
		return fmt.Errorf("usersessions: remove session %s from the index: %w", short(key), err)
	}
	return nil
}

// Drop implements Backend.
func (r *Redis) Drop(ctx context.Context, owner, key string, before time.Time) (bool, error) {
	n, err := dropScript.Run(ctx, r.client, []string{r.entry(owner, key)}, r.prefix, owner, key, micros(before)).Int()
	if err != nil {
		return false, fmt.Errorf("usersessions: drop session %s from the index: %w", short(key), err)
	}
	return n == 1, nil
}

// Count implements Backend.
func (r *Redis) Count(ctx context.Context) (int64, int64, error) {
	pipe := r.client.Pipeline()
	entries := pipe.Get(ctx, r.prefix+"count")
	owners := pipe.ZCard(ctx, r.prefix+"owners")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, fmt.Errorf("usersessions: count the index: %w", err)
	}
	n, _ := entries.Int64()
	return n, owners.Val(), nil
}

// Top implements Backend.
func (r *Redis) Top(ctx context.Context, n int) ([]OwnerCount, error) {
	if n <= 0 {
		return nil, nil
	}
	zs, err := r.client.ZRevRangeWithScores(ctx, r.prefix+"owners", 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("usersessions: count the index: %w", err)
	}
	out := make([]OwnerCount, len(zs))
	for i, z := range zs {
		out[i] = OwnerCount{Owner: z.Member.(string), Entries: int64(z.Score)}
	}
	return top(out, n), nil
}

// Sweep implements Backend: it walks the owners' sorted sets with SCAN.
func (r *Redis) Sweep(ctx context.Context, before, now time.Time, live func(ctx context.Context, key string) (bool, error)) (int64, error) {
	var n int64
	match := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`, `\`, `\\`).Replace(r.prefix) + "u:*"
	var cursor uint64
	for {
		sets, next, err := r.client.Scan(ctx, cursor, match, 500).Result()
		if err != nil {
			return n, fmt.Errorf("usersessions: sweep the index: %w", err)
		}
		for _, set := range sets {
			owner := strings.TrimPrefix(set, r.prefix+"u:")
			entries, err := r.Owned(ctx, owner)
			if err != nil {
				return n, err
			}
			for _, e := range entries {
				if !e.Touched.Before(before) {
					continue
				}
				ok, err := live(ctx, e.Key)
				if err != nil {
					return n, err
				}
				if ok {
					continue
				}
				dropped, err := r.Drop(ctx, owner, e.Key, before)
				if err != nil {
					return n, err
				}
				if dropped {
					n++
				}
			}
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

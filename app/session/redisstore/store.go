package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/session"
)

// Store is a session.Store kept in Redis: Django's cache engine with
// Redis as the cache, but with the Store contract (create only if absent,
// compare-and-swap updates, no resurrection) that Django's cache engine
// does not have. It is safe for concurrent use, and several processes may
// share one Redis through it.
type Store struct {
	client redis.UniversalClient
	o      options
}

// New returns a store on client. The client is the caller's: its
// timeouts bound every call (see [ParseURL]), and Store never closes it.
func New(client redis.UniversalClient, opts ...Option) *Store {
	return &Store{client: client, o: newOptions(DefaultPrefix, opts)}
}

// Fields of a record's hash.
const (
	fieldData    = "data"    // the session data, as the session package gave it
	fieldExpires = "expires" // the expiry, microseconds since the Unix epoch
)

// createScript: KEYS[1] the record; ARGV data, expires, ttl (ms), now.
// A live record keeps its key (0); an expired one is replaced. With a TTL
// of zero or less the record has outlived its grace already and is not
// kept (but the call succeeds: it would never load anyway).
var createScript = newScript(`
local e = redis.call('HGET', KEYS[1], 'expires')
if e and tonumber(e) > tonumber(ARGV[4]) then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], 'data', ARGV[1], 'expires', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)

// updateScript: KEYS[1] the record; ARGV old, data, expires, ttl (ms).
// 1 swapped, 0 the data differs from old, -1 no record.
var updateScript = newScript(`
local cur = redis.call('HGET', KEYS[1], 'data')
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'expires', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1
`)

// deleteScript: KEYS[1] the record; ARGV old. 1 deleted, 0 the data
// differs from old, -1 no record.
var deleteScript = newScript(`
local cur = redis.call('HGET', KEYS[1], 'data')
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// ttl returns the Redis TTL of a record expiring at expires: the time
// until its expiry plus the grace, in whole milliseconds rounded up, or
// zero or less when that is past.
func (s *Store) ttl(expires, now time.Time) int64 {
	d := expires.Add(s.o.grace).Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// Load implements session.Store: one HMGET; the expiry is checked
// against the store's clock.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fault(ctx, "load", key, err)
	}
	vals, err := s.client.HMGet(ctx, s.o.prefix+key, fieldData, fieldExpires).Result()
	if err != nil {
		return session.Record{}, fault(ctx, "load", key, err)
	}
	rec, ok, err := parseRecord(key, vals)
	if err != nil {
		return session.Record{}, fault(ctx, "load", key, err)
	}
	if !ok || !rec.Expires.After(s.o.now()) {
		return session.Record{}, session.ErrNotFound
	}
	return rec, nil
}

// fault wraps a Redis error of op on key; when the context is done, the
// error says so too (errors.Is(err, context.DeadlineExceeded)), whatever
// go-redis made of it (an i/o timeout).
func fault(ctx context.Context, op, key string, err error) error {
	if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s session %s: %w (%w)", op, session.KeyHash(key), err, cerr)
	}
	return fmt.Errorf("redisstore: %s session %s: %w", op, session.KeyHash(key), err)
}

// ctxErr is ctx.Err(), or DeadlineExceeded as soon as the deadline has
// passed: go-redis gives a connection the context's deadline, which can
// fire just before the context's own timer does.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// parseRecord reads the data and expiry fields of a record; ok is false
// when the record does not exist.
func parseRecord(key string, vals []any) (rec session.Record, ok bool, err error) {
	data, okData := vals[0].(string)
	exp, okExp := vals[1].(string)
	if !okData || !okExp {
		return session.Record{}, false, nil
	}
	us, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return session.Record{}, false, fmt.Errorf("corrupt expiry %q", exp)
	}
	return session.Record{Key: key, Data: data, Expires: time.UnixMicro(us)}, true, nil
}

// micros is t as the store keeps it: microseconds since the Unix epoch,
// which gives whole seconds and milliseconds back exactly.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if err := ctx.Err(); err != nil {
		return fault(ctx, "create", rec.Key, err)
	}
	now := s.o.now()
	res, err := createScript.runOnce(ctx, s.client, []string{s.o.prefix + rec.Key},
		rec.Data, micros(rec.Expires), s.ttl(rec.Expires, now), micros(now))
	if err != nil {
		return fault(ctx, "create", rec.Key, err)
	}
	if res == int64(0) {
		return session.ErrExists
	}
	return nil
}

// Update implements session.Store: compare-and-swap on the data, in one
// script.
func (s *Store) Update(ctx context.Context, rec session.Record, old string) error {
	if err := ctx.Err(); err != nil {
		return fault(ctx, "update", rec.Key, err)
	}
	res, err := updateScript.runOnce(ctx, s.client, []string{s.o.prefix + rec.Key},
		old, rec.Data, micros(rec.Expires), s.ttl(rec.Expires, s.o.now()))
	if err != nil {
		return fault(ctx, "update", rec.Key, err)
	}
	switch res {
	case int64(0):
		return session.ErrConflict
	case int64(-1):
		return session.ErrNotFound
	}
	return nil
}

// Delete implements session.Store: DEL, or with old a script that
// deletes only while the data equals old (ErrConflict otherwise,
// ErrNotFound when there is no record). The script runs at most once,
// like Update's: run again after a lost reply, a delete that succeeded
// would report its own deletion as ErrNotFound, and a key cycle would
// take that for a logout.
func (s *Store) Delete(ctx context.Context, key, old string) error {
	if err := ctx.Err(); err != nil {
		return fault(ctx, "delete", key, err)
	}
	if old == "" {
		if err := s.client.Del(ctx, s.o.prefix+key).Err(); err != nil {
			return fault(ctx, "delete", key, err)
		}
		return nil
	}
	res, err := deleteScript.runOnce(ctx, s.client, []string{s.o.prefix + key}, old)
	if err != nil {
		return fault(ctx, "delete", key, err)
	}
	switch res {
	case int64(0):
		return session.ErrConflict
	case int64(-1):
		return session.ErrNotFound
	}
	return nil
}

// Check pings Redis within ctx: for readiness probes.
func (s *Store) Check(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
			return fmt.Errorf("redisstore: ping: %w (%w)", err, cerr)
		}
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// eachBatch is how many keys Each asks SCAN for at a time.
const eachBatch = 500

// Each calls fn with every record the store holds, expired ones still in
// their grace period included (check rec.Expires), in no particular order,
// until fn returns an error, which Each returns. It walks the keys with
// SCAN (never KEYS, which blocks Redis), eachBatch keys at a time, and
// holds one batch in memory. Like SCAN, it sees every record that exists
// for the whole walk, maybe twice, and may or may not see records written
// meanwhile. On Redis Cluster it walks every primary, one at a time.
func (s *Store) Each(ctx context.Context, fn func(rec session.Record) error) error {
	type primaries interface {
		ForEachMaster(ctx context.Context, fn func(ctx context.Context, client *redis.Client) error) error
	}
	if c, ok := s.client.(primaries); ok {
		var mu sync.Mutex // ForEachMaster runs the nodes concurrently
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return s.each(ctx, node, fn)
		})
	}
	return s.each(ctx, s.client, fn)
}

func (s *Store) each(ctx context.Context, c redis.Cmdable, fn func(rec session.Record) error) error {
	match := globEscape(s.o.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, eachBatch).Result()
		if err != nil {
			if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
				return fmt.Errorf("redisstore: scan sessions: %w (%w)", err, cerr)
			}
			return fmt.Errorf("redisstore: scan sessions: %w", err)
		}
		if len(keys) > 0 {
			pipe := c.Pipeline()
			cmds := make([]*redis.SliceCmd, len(keys))
			for i, k := range keys {
				cmds[i] = pipe.HMGet(ctx, k, fieldData, fieldExpires)
			}
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("redisstore: read sessions: %w", err)
			}
			for i, k := range keys {
				key := strings.TrimPrefix(k, s.o.prefix)
				rec, ok, err := parseRecord(key, cmds[i].Val())
				if err != nil {
					return fault(ctx, "read", key, err)
				}
				if !ok {
					continue // deleted since SCAN saw it
				}
				if err := fn(rec); err != nil {
					return err
				}
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscape escapes the characters SCAN's MATCH pattern gives a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

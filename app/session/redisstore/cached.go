package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/session"
)

// CachedStore is Django's cached_db engine: the database store is the
// record, and Redis a write-through cache in front of it that never
// serves what an acknowledged write replaced (see the package doc for the
// exact guarantee and its windows). When Redis fails, it serves from the
// database alone and comes back to Redis by itself.
//
// It is safe for concurrent use. NewCache starts one goroutine, which
// watches Redis while it is failing; Close stops it.
type CachedStore struct {
	client redis.UniversalClient
	db     session.Store
	o      options

	genKey     string
	fillWindow time.Duration // a miss fills the cache only this soon after it began

	mu       sync.Mutex
	suspect  bool   // bypassing Redis until the prober clears it
	dirty    uint64 // writes that may have left a stale entry behind...
	bumped   uint64 // ...and how many of them the last generation bump covered
	lastLog  time.Time
	lastErr  error
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	hits, misses, fills, fallbacks, errs, bumps atomic.Int64
}

// NewCache returns a store that caches db in Redis through client. The
// client is the caller's (its timeouts bound every Redis call: see
// [ParseURL]); so is db. Call Close when done with the store.
func NewCache(client redis.UniversalClient, db session.Store, opts ...Option) *CachedStore {
	o := newOptions(DefaultCachePrefix, opts)
	c := &CachedStore{
		client:     client,
		db:         db,
		o:          o,
		genKey:     o.prefix + "gen",
		fillWindow: o.tombstone / 3,
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go c.probe()
	return c
}

// Close stops the store's goroutine and waits for it. It closes neither
// the client nor the database. The store must not be used afterwards.
func (c *CachedStore) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

// CacheStats are counters of a CachedStore since it was made.
type CacheStats struct {
	Hits      int64 // loads answered by Redis
	Misses    int64 // loads that read the database although Redis answered (no entry, a tombstone, an expired entry)
	Fills     int64 // entries written by misses
	Fallbacks int64 // loads and writes served by the database alone because Redis failed or is being bypassed
	Errors    int64 // failed Redis calls, the prober's included
	Bumps     int64 // generation increments by this store (each empties the cache of every instance)
	Bypassing bool  // Redis is bypassed now, until it answers again
}

// Stats returns the store's counters.
func (c *CachedStore) Stats() CacheStats {
	c.mu.Lock()
	bypassing := c.suspect
	c.mu.Unlock()
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Fills: c.fills.Load(),
		Fallbacks: c.fallbacks.Load(), Errors: c.errs.Load(), Bumps: c.bumps.Load(),
		Bypassing: bypassing,
	}
}

// The cache's scripts. Every one reads the generation (KEYS[1]) and
// works on the entry ARGV[1] .. generation .. ":" .. ARGV[2] (prefix,
// session key), in one round trip. An entry is "v<expiry>:<data>" (the
// expiry in microseconds since the Unix epoch) or a tombstone
// "t<random token>". Each script gives the same end state when it runs
// twice or late, so go-redis may retry them.
var (
	// cacheLoadScript returns {generation, entry or nil}.
	cacheLoadScript = newScript(`
local g = redis.call('GET', KEYS[1]) or '0'
return {g, redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])}
`)
	// cacheMarkScript writes tombstone ARGV[3] for ARGV[4] ms.
	cacheMarkScript = newScript(`
local g = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
`)
	// cacheCommitScript: if the entry is still tombstone ARGV[3] (the
	// writer's own, written before its database write), it becomes entry
	// ARGV[4] for ARGV[5] ms; otherwise tombstone ARGV[6] for ARGV[7] ms.
	cacheCommitScript = newScript(`
local k = ARGV[1] .. (redis.call('GET', KEYS[1]) or '0') .. ':' .. ARGV[2]
if redis.call('GET', k) == ARGV[3] then
  redis.call('SET', k, ARGV[4], 'PX', ARGV[5])
  return 1
end
redis.call('SET', k, ARGV[6], 'PX', ARGV[7])
return 0
`)
	// cacheReleaseScript deletes the entry if it is still tombstone
	// ARGV[3]: the database refused the write, nothing changed.
	cacheReleaseScript = newScript(`
local k = ARGV[1] .. (redis.call('GET', KEYS[1]) or '0') .. ':' .. ARGV[2]
if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end
return 1
`)
	// cacheFillScript writes entry ARGV[4] for ARGV[5] ms if the
	// generation is still ARGV[3] (the one the miss saw) and the key has
	// no entry and no tombstone.
	cacheFillScript = newScript(`
local g = redis.call('GET', KEYS[1]) or '0'
if g ~= ARGV[3] then return 0 end
if redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[4], 'PX', ARGV[5], 'NX') then return 1 end
return 0
`)
)

// ms converts d to whole milliseconds, rounded up, at least 1.
func ms(d time.Duration) int64 {
	if d <= time.Millisecond {
		return 1
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func encodeEntry(rec session.Record) string {
	return "v" + micros(rec.Expires) + ":" + rec.Data
}

// decodeEntry reads an entry; ok is false for a tombstone or anything
// else that is not an entry.
func decodeEntry(key, v string) (rec session.Record, ok bool) {
	if !strings.HasPrefix(v, "v") {
		return session.Record{}, false
	}
	exp, data, found := strings.Cut(v[1:], ":")
	if !found {
		return session.Record{}, false
	}
	us, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return session.Record{}, false
	}
	return session.Record{Key: key, Data: data, Expires: time.UnixMicro(us)}, true
}

func newTombstone() string { return "t" + rand.Text() }

// bypassing reports whether Redis is to be left alone (it failed and has
// not answered the prober since).
func (c *CachedStore) bypassing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.suspect
}

// fail records a failed Redis call: from now on the store bypasses Redis
// until the prober sees it answer.
func (c *CachedStore) fail(err error) {
	c.errs.Add(1)
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	c.bypass()
}

// bypass makes the store leave Redis alone until the prober sees it
// answer.
func (c *CachedStore) bypass() {
	c.mu.Lock()
	c.suspect = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// stale records that Redis may hold an entry older than the database (a
// write whose cache step failed or was skipped): the prober bumps the
// generation before the store uses Redis again.
func (c *CachedStore) stale() {
	c.mu.Lock()
	c.dirty++
	c.mu.Unlock()
	c.bypass()
}

// fallback counts a request served by the database alone, and logs it at
// most once per 10 s.
func (c *CachedStore) fallback() {
	n := c.fallbacks.Add(1)
	if c.o.log == nil {
		return
	}
	c.mu.Lock()
	now := time.Now()
	if now.Sub(c.lastLog) < logEvery {
		c.mu.Unlock()
		return
	}
	c.lastLog = now
	err := c.lastErr
	c.mu.Unlock()
	c.o.log.Warn("redisstore: Redis unavailable, serving sessions from the database", "error", err, "fallbacks", n)
}

// logEvery bounds the store's log lines about Redis failing.
const logEvery = 10 * time.Second

// keys are the KEYS of every script: the generation.
func (c *CachedStore) keys() []string { return []string{c.genKey} }

// Load implements session.Store: the cached entry, or on a miss the
// database's record, which then fills the cache.
func (c *CachedStore) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("redisstore: load session %s: %w", session.KeyHash(key), err)
	}
	if c.bypassing() {
		c.fallback()
		return c.db.Load(ctx, key)
	}
	start := time.Now()
	res, err := cacheLoadScript.run(ctx, c.client, c.keys(), c.o.prefix, key)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return session.Record{}, fault(ctx, "load", key, err)
		}
		c.fail(err)
		c.fallback()
		return c.db.Load(ctx, key)
	}
	gen, val, absent := "", "", true
	if r, ok := res.([]any); ok && len(r) > 0 {
		gen, _ = r[0].(string)
		if len(r) > 1 && r[1] != nil {
			val, _ = r[1].(string)
			absent = false
		}
	}
	if rec, ok := decodeEntry(key, val); ok && rec.Expires.After(c.o.now()) {
		c.hits.Add(1)
		return rec, nil
	}
	// A tombstone or an expired entry is a miss that does not fill: the
	// key holds something, which SET NX respects.
	c.misses.Add(1)
	rec, err := c.db.Load(ctx, key)
	if err == nil && absent && gen != "" {
		c.fill(ctx, start, gen, rec)
	}
	return rec, err
}

// fill caches rec, read from the database by a miss that began at start
// and saw generation gen, unless that was too long ago (a slower fill
// could outlive the tombstone of a write it did not see).
func (c *CachedStore) fill(ctx context.Context, start time.Time, gen string, rec session.Record) {
	deadline := start.Add(c.fillWindow)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if !time.Now().Before(deadline) {
		return
	}
	// The client leaving does not abandon a fill in flight, whose outcome
	// would then be unknown; the deadline still bounds it.
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	ttl := min(rec.Expires.Sub(c.o.now()), c.o.maxAge)
	res, err := cacheFillScript.run(fctx, c.client, c.keys(), c.o.prefix, rec.Key, gen, encodeEntry(rec), ms(ttl))
	if err != nil {
		// It may still run, late: the generation bump makes it harmless.
		c.fail(err)
		c.stale()
		return
	}
	if res == int64(1) {
		c.fills.Add(1)
	}
}

// isResult reports whether err is one of the Store contract's results
// (the write was refused and changed nothing), rather than a fault.
func isResult(err error) bool {
	return errors.Is(err, session.ErrExists) || errors.Is(err, session.ErrConflict) || errors.Is(err, session.ErrNotFound)
}

// Create implements session.Store: the database decides; the cache then
// holds the new record.
func (c *CachedStore) Create(ctx context.Context, rec session.Record) error {
	return c.write(ctx, "create", rec, func() error { return c.db.Create(ctx, rec) })
}

// Update implements session.Store: the database decides the
// compare-and-swap; the cache then holds the new record.
func (c *CachedStore) Update(ctx context.Context, rec session.Record, old string) error {
	return c.write(ctx, "update", rec, func() error { return c.db.Update(ctx, rec, old) })
}

// write runs a database write of rec between the two cache steps: a
// tombstone of its own before (so that no reader caches what it read
// before the write), then, once the database has answered, the new entry
// if the tombstone is still there, or a fresh tombstone if anything else
// touched the key meanwhile.
func (c *CachedStore) write(ctx context.Context, op string, rec session.Record, dbWrite func() error) error {
	if err := ctx.Err(); err != nil {
		return fault(ctx, op, rec.Key, err)
	}
	// Before the tombstone is sent: it expires no sooner than start plus
	// its TTL, by Redis's clock.
	start := time.Now()
	var mark string
	if !c.bypassing() {
		mark = newTombstone()
		_, err := cacheMarkScript.run(ctx, c.client, c.keys(), c.o.prefix, rec.Key, mark, ms(c.o.tombstone))
		if err != nil {
			if ctxErr(ctx) != nil {
				return fault(ctx, op, rec.Key, err)
			}
			c.fail(err)
			mark = ""
		}
	}
	err := dbWrite()
	if mark == "" {
		c.fallback()
		if !isResult(err) {
			// Written (or maybe, after a fault) behind Redis's back.
			c.stale()
		}
		return err
	}
	switch {
	case err == nil:
		if time.Since(start)+c.fillWindow >= c.o.tombstone {
			// So slow that the tombstone may have expired before the
			// write landed plus the fill window, and a reader cached
			// the old record.
			c.stale()
			return nil
		}
		now := c.o.now()
		ttl := max(min(rec.Expires.Sub(now), c.o.maxAge), c.o.tombstone)
		// The request's end must not leave the step half done.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.tombstone/3)
		defer cancel()
		if _, cerr := cacheCommitScript.run(sctx, c.client, c.keys(), c.o.prefix, rec.Key, mark,
			encodeEntry(rec), ms(ttl), newTombstone(), ms(c.o.tombstone)); cerr != nil {
			// The tombstone stays (readers go to the database) until
			// it expires, after the write: no stale entry.
			c.fail(cerr)
		}
	case isResult(err):
		// Nothing changed: take the tombstone back, so that the next
		// load (the manager's reload after a conflict) fills the cache
		// from the database.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.tombstone/3)
		defer cancel()
		if _, cerr := cacheReleaseScript.run(sctx, c.client, c.keys(), c.o.prefix, rec.Key, mark); cerr != nil {
			c.fail(cerr)
		}
	default:
		// A fault: the write may or may not have landed. The tombstone
		// stays until it expires; the database answers meanwhile.
	}
	return err
}

// Delete implements session.Store: the database deletes; the cache then
// holds a tombstone, so that no instance loads the session from it again.
func (c *CachedStore) Delete(ctx context.Context, key, old string) error {
	if err := ctx.Err(); err != nil {
		return fault(ctx, "delete", key, err)
	}
	if c.bypassing() {
		c.fallback()
		err := c.db.Delete(ctx, key, old)
		if !isResult(err) {
			c.stale()
		}
		return err
	}
	err := c.db.Delete(ctx, key, old)
	if err != nil && !isResult(err) {
		// A fault: maybe deleted. Tombstone it all the same.
		c.tombstone(ctx, key)
		return err
	}
	// Deleted, a conflict (the caller's data was stale: maybe read from
	// an entry that a write behind the cache's back made stale), or a
	// conditional delete that found the record gone (ErrNotFound).
	c.tombstone(ctx, key)
	return err
}

// tombstone marks key deleted in the cache; when that fails the store
// bumps the generation before it uses Redis again.
func (c *CachedStore) tombstone(ctx context.Context, key string) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.tombstone/3)
	defer cancel()
	if _, err := cacheMarkScript.run(sctx, c.client, c.keys(), c.o.prefix, key, newTombstone(), ms(c.o.tombstone)); err != nil {
		c.fail(err)
		c.stale()
	}
}

// Probe backoff: the first ping 50 ms after a failure, then twice as late
// each time, up to once a second.
const (
	probeFirst = 50 * time.Millisecond
	probeMax   = time.Second
)

// probe is the store's goroutine: after each failure it pings Redis with
// backoff until it answers, bumps the generation if a write may have left
// a stale entry, and ends the bypass.
func (c *CachedStore) probe() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		for wait := probeFirst; ; wait = min(2*wait, probeMax) {
			timer.Reset(wait)
			select {
			case <-c.stop:
				return
			case <-timer.C:
			}
			if c.recover() {
				break
			}
		}
	}
}

// recover pings Redis and, when it answers, bumps the generation if
// needed and ends the bypass. It reports whether it did.
func (c *CachedStore) recover() bool {
	ctx, cancel := context.WithTimeout(context.Background(), probeMax)
	defer cancel()
	if err := c.client.Ping(ctx).Err(); err != nil {
		c.errs.Add(1)
		return false
	}
	c.mu.Lock()
	target, need := c.dirty, c.dirty != c.bumped
	c.mu.Unlock()
	var gen int64
	if need {
		// Every entry of the old generation becomes unreachable: the
		// cache of every instance starts empty.
		var err error
		if gen, err = c.client.Incr(ctx, c.genKey).Result(); err != nil {
			c.errs.Add(1)
			return false
		}
		c.bumps.Add(1)
	}
	c.mu.Lock()
	if need {
		c.bumped = target
	}
	done := c.dirty == c.bumped
	if done {
		c.suspect = false
	}
	c.mu.Unlock()
	if done && c.o.log != nil {
		if need {
			c.o.log.Info("redisstore: Redis answers again; cache emptied (new generation)", "generation", gen)
		} else {
			c.o.log.Info("redisstore: Redis answers again")
		}
	}
	return done
}

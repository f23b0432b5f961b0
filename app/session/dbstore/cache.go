package dbstore

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// recordCache keeps recently seen records in memory for a Store. Two kinds
// exist, one per engine, because each engine offers a different way of
// learning that another process changed a row: walCache (SQLite: the WAL
// index says whether anyone committed) and notifyCache (PostgreSQL: a
// trigger notifies every change).
type recordCache interface {
	// get returns the cached live record of key, and a token to fill the
	// cache with after a read of the database. ctx bounds any wait.
	get(ctx context.Context, key string, now time.Time) (session.Record, cacheToken, bool)
	// fill caches rec, read from the database after get gave t, unless
	// the database may have changed since.
	fill(rec session.Record, t cacheToken)
	// beginCommit is called by the committer just before COMMIT, with
	// the write lock held on SQLite; endCommit after it, with the batch.
	beginCommit() cacheToken
	endCommit(t cacheToken, committed, wrote bool, batch []*writeOp)
	// stats returns the counters, the number of entries and whether the
	// cache is serving (a notifyCache is off while it cannot listen).
	stats() (hits, misses int64, size int, on bool)
	close() error
}

// cacheToken is what a cache needs to know, when a read or a commit ends,
// of the state it saw when that read or commit began.
type cacheToken struct {
	wal   walVersion // walCache: the WAL-index header
	walOK bool
	gen   uint64 // notifyCache: listener generation
	seq   uint64 // notifyCache: notifications seen
}

// walCache keeps recently seen records in memory, like Django's cached_db
// engine but without its stale reads: an entry is served only while the
// database provably has not changed since the cache was last known
// current (the WAL-index header is the same, see walWatch), or changed only
// through this store's own commits, which update the cache themselves.
//
// Any other commit, by another process, by Django, by manage
// clearsessions, empties the cache: with no way to tell which rows it
// touched, forgetting everything is the only safe answer. A deployment of
// one process keeps its whole cache; several processes writing all the
// time mostly read through to the database, and are still correct.
//
// How a commit of this store is told apart from someone else's: the
// committer reads the header while it holds SQLite's write lock, just
// before COMMIT (so nobody else can commit in between), and again just
// after. If the change counter moved by exactly one, the change was its
// own commit.
type walCache struct {
	max   int
	watch *walWatch

	// committing is held by the committer from just before COMMIT until
	// the cache reflects it; a reader that finds the database changed
	// resynchronises only when no commit of ours is in flight.
	committing sync.Mutex

	hits, misses atomic.Int64

	known   atomic.Pointer[walVersion] // state the entries are current for
	mu      sync.RWMutex
	entries map[string]session.Record
}

func newWALCache(max int, watch *walWatch) *walCache {
	c := &walCache{max: max, watch: watch, entries: make(map[string]session.Record, min(max, 4096))}
	if v, ok := watch.version(); ok {
		c.known.Store(&v)
	}
	return c
}

// get returns the cached record for key if the cache is current. It also
// returns the version read, for fill.
func (c *walCache) get(_ context.Context, key string, now time.Time) (session.Record, cacheToken, bool) {
	v, ok := c.watch.version()
	t := cacheToken{wal: v, walOK: ok}
	if !ok {
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	if k := c.known.Load(); k == nil || *k != v {
		c.resync()
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	c.mu.RLock()
	rec, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !rec.Expires.After(now) {
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	c.hits.Add(1)
	return rec, t, true
}

// resync forgets everything after a commit by someone else, unless one of
// ours is in flight (then it will be accounted for when it lands).
func (c *walCache) resync() {
	if !c.committing.TryLock() {
		return
	}
	defer c.committing.Unlock()
	v, ok := c.watch.version()
	if !ok {
		return
	}
	if k := c.known.Load(); k != nil && *k == v {
		return
	}
	c.mu.Lock()
	clear(c.entries)
	c.known.Store(&v)
	c.mu.Unlock()
}

// fill caches rec, read from the database after the header was at t.wal,
// if nothing has been committed since.
func (c *walCache) fill(rec session.Record, t cacheToken) {
	if !t.walOK {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now, ok := c.watch.version()
	if k := c.known.Load(); !ok || now != t.wal || k == nil || *k != t.wal {
		return
	}
	c.put(rec)
}

// put stores rec; the caller holds c.mu.
func (c *walCache) put(rec session.Record) { putBounded(c.entries, c.max, rec) }

// putBounded stores rec in entries, evicting an arbitrary entry when
// entries already holds max records. A key is copied when it enters: the
// key a load is asked for is often a slice of the request's Cookie
// header, which the entry would otherwise keep alive, whole, for as long
// as it stays cached. An entry replaced keeps the copy it has.
func putBounded(entries map[string]session.Record, max int, rec session.Record) {
	if old, ok := entries[rec.Key]; ok {
		rec.Key = old.Key
		entries[rec.Key] = rec
		return
	}
	if len(entries) >= max {
		for k := range entries {
			delete(entries, k)
			break
		}
	}
	rec.Key = strings.Clone(rec.Key)
	entries[rec.Key] = rec
}

// beginCommit is called by the committer holding SQLite's write lock, just
// before COMMIT. It returns the header as it is then.
func (c *walCache) beginCommit() cacheToken {
	c.committing.Lock()
	v, ok := c.watch.version()
	return cacheToken{wal: v, walOK: ok}
}

// endCommit applies a batch after COMMIT (committed tells whether COMMIT
// succeeded, wrote whether the batch changed any row).
func (c *walCache) endCommit(t cacheToken, committed, wrote bool, batch []*writeOp) {
	defer c.committing.Unlock()
	before, beforeOK := t.wal, t.walOK
	after, afterOK := c.watch.version()
	c.mu.Lock()
	defer c.mu.Unlock()
	own := beforeOK && afterOK && committed
	if own {
		k := c.known.Load()
		switch {
		case k == nil || *k != before:
			own = false // someone else committed before us
		case wrote:
			own = after.change == before.change+1
		default:
			own = after == before
		}
	}
	if !own {
		clear(c.entries)
		if afterOK {
			c.known.Store(&after)
		} else {
			c.known.Store(nil)
		}
		return
	}
	for _, op := range batch {
		switch {
		case op.err != nil:
			delete(c.entries, op.key())
		case op.kind == opDelete:
			delete(c.entries, op.rec.Key)
		default:
			c.put(op.rec)
		}
	}
	c.known.Store(&after)
}

func (c *walCache) stats() (hits, misses int64, size int, on bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.hits.Load(), c.misses.Load(), len(c.entries), true
}

func (c *walCache) close() error { return c.watch.close() }

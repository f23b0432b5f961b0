package dbstore

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// cache keeps recently seen records in memory, like Django's cached_db
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
type cache struct {
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

func newCache(max int, watch *walWatch) *cache {
	c := &cache{max: max, watch: watch, entries: make(map[string]session.Record, min(max, 4096))}
	if v, ok := watch.version(); ok {
		c.known.Store(&v)
	}
	return c
}

// get returns the cached record for key if the cache is current. It also
// returns the version read, for fill.
func (c *cache) get(key string, now time.Time) (session.Record, walVersion, bool) {
	v, ok := c.watch.version()
	if !ok {
		c.misses.Add(1)
		return session.Record{}, v, false
	}
	if k := c.known.Load(); k == nil || *k != v {
		c.resync()
		c.misses.Add(1)
		return session.Record{}, v, false
	}
	c.mu.RLock()
	rec, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !rec.Expires.After(now) {
		c.misses.Add(1)
		return session.Record{}, v, false
	}
	c.hits.Add(1)
	return rec, v, true
}

// resync forgets everything after a commit by someone else, unless one of
// ours is in flight (then it will be accounted for when it lands).
func (c *cache) resync() {
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

// fill caches rec, read from the database after the header was at v, if
// nothing has been committed since.
func (c *cache) fill(rec session.Record, v walVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, ok := c.watch.version()
	if k := c.known.Load(); !ok || now != v || k == nil || *k != v {
		return
	}
	c.put(rec)
}

// put stores rec, evicting an arbitrary entry when full; the caller holds
// c.mu.
func (c *cache) put(rec session.Record) {
	if _, ok := c.entries[rec.Key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[rec.Key] = rec
}

// beginCommit is called by the committer holding SQLite's write lock, just
// before COMMIT. It returns the header as it is then.
func (c *cache) beginCommit() (walVersion, bool) {
	c.committing.Lock()
	return c.watch.version()
}

// endCommit applies a batch after COMMIT (committed tells whether COMMIT
// succeeded, wrote whether the batch changed any row).
func (c *cache) endCommit(before walVersion, beforeOK, committed, wrote bool, batch []*writeOp) {
	defer c.committing.Unlock()
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

// size returns the number of cached records.
func (c *cache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

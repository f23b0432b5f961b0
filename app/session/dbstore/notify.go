package dbstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
)

// notifyChannel is the channel the trigger of migrations 3 and 4
// notifies on every change of django_session: "KEY MD5-OF-DATA EXPIRY"
// (the expiry in microseconds since the Unix epoch; migration 3 alone
// sent no expiry), "KEY -" for a delete, "*" for a TRUNCATE.
const notifyChannel = "gosessions_django_session"

// notifySlots is the number of slots that remember the last notification
// of the keys hashing to them (see notifyCache.fill).
const notifySlots = 4096

// notifyCache is the session cache on PostgreSQL. PostgreSQL has no cheap
// way to ask "did anybody commit since?", so instead every change of
// django_session, whoever makes it (another Go process, Django, raw SQL,
// manage), fires a trigger that notifies the change when its transaction
// commits, and each process listens on a connection of its own and
// forgets what changed.
//
// A notification arrives some time after its commit, and a process under
// load may take longer still to read it: a cache trusting whatever it
// heard so far would answer stale data in that window (measured: one read
// in eight right after another process's write, for up to 60 ms). So a
// cached entry is served only after a fence: a round trip on the listening
// connection that began after the read began, which PostgreSQL completes
// only after delivering every notification of every transaction committed
// before it. Concurrent reads share fences, so under load one cheap
// round trip ("SELECT 1") serves many reads instead of one query each.
//
// What it guarantees, like the WAL cache on SQLite:
//
//   - a read never returns data older than what any transaction (any
//     process, Django, raw SQL) had committed when the read began: a
//     write acknowledged anywhere is seen by every later read, and a
//     deleted session is never served again;
//   - a process's own writes are in its cache at once, in commit order;
//   - a read of the database that raced with a change never fills the
//     cache with what it read (each slot of keys remembers its last
//     notification, and a fill that started before it is dropped);
//   - when the listening connection is lost, notifications are lost with
//     it: the cache empties at once and stays off, every read going to
//     the database, until the connection is back.
type notifyCache struct {
	max      int
	listener *database.Listener

	on    atomic.Bool
	gen   atomic.Uint64 // +1 at each reset: fills that began before are dropped
	seq   atomic.Uint64 // notifications received
	slots [notifySlots]atomic.Uint64
	// last is the last notification of each slot, under mu: its number
	// (equal to the slot's once recorded), key, data's md5 and expiry.
	last [notifySlots]notice

	ready     chan struct{} // closed when first listening
	readyOnce sync.Once

	hits, misses atomic.Int64
	// fences counts round trips; fenceFailures the hits they could not
	// confirm (listener down, deadline), which read the database instead.
	fenceFailures atomic.Int64

	mu      sync.RWMutex
	entries map[string]session.Record
}

// newNotifyCache starts listening on db and returns the cache once the
// listener is in place. It fails when migration 3 (the trigger) is not
// applied. (Without migration 4 the notifications carry no expiry: the
// cache is still right, since such a notification never matches a cached
// entry, but keeps fewer of its own writes.)
func newNotifyCache(ctx context.Context, max int, db *database.DB) (*notifyCache, error) {
	var one int
	err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname = 'gosessions_django_session_changed' AND tgrelid = 'django_session'::regclass`).Scan(&one)
	if err != nil {
		return nil, fmt.Errorf("dbstore: WithCache: look for the notify trigger: %w", err)
	}
	if one != 1 {
		return nil, fmt.Errorf("%w (WithCache on PostgreSQL needs migration 3, notify_session_changes)", ErrNotMigrated)
	}
	c := &notifyCache{max: max, ready: make(chan struct{}), entries: make(map[string]session.Record, min(max, 4096))}
	c.listener, err = db.Listen(notifyChannel, c.notified, c.listening)
	if err != nil {
		return nil, fmt.Errorf("dbstore: WithCache: %w", err)
	}
	select {
	case <-c.ready:
		return c, nil
	case <-ctx.Done():
		c.listener.Stop()
		return nil, fmt.Errorf("dbstore: WithCache: listen for session changes: %w", ctx.Err())
	}
}

// slotOf returns the slot of key (FNV-1a).
func slotOf(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return h % notifySlots
}

// listening is called by the listener when it starts or stops listening:
// either way, what the cache holds can no longer be trusted.
func (c *notifyCache) listening(on bool) {
	c.reset(on)
	if on {
		c.readyOnce.Do(func() { close(c.ready) })
	}
}

// reset empties the cache and turns it on or off.
func (c *notifyCache) reset(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.gen.Add(1)
	c.on.Store(on)
}

// notified applies one notification.
func (c *notifyCache) notified(payload string) {
	if payload == "*" {
		c.reset(c.on.Load())
		return
	}
	key, rest, _ := strings.Cut(payload, " ")
	sum, exp, _ := strings.Cut(rest, " ")
	// The slot first: a fill that read the database before this change
	// committed finds it and gives up.
	slot, seq := slotOf(key), c.seq.Add(1)
	c.slots[slot].Store(seq)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := notice{seq: seq, key: key, sum: sum, exp: exp}
	c.last[slot] = n
	if e, ok := c.entries[key]; ok && !n.is(e) {
		delete(c.entries, key)
	}
}

// notice is one notification: a change of key whose data has md5 sum
// ("-" for a deletion) and whose expiry is exp (microseconds since the
// Unix epoch; "" from migration 3's trigger, which did not send it), the
// seq-th received.
type notice struct {
	seq           uint64
	key, sum, exp string
}

// is reports whether the notification says that key now holds exactly
// rec: the same data and the same expiry. Every column that decides what
// a load returns is compared, so that a change of expire_date alone (an
// operator ending a session) drops a cached entry like a change of data.
// A notification without an expiry never matches.
func (n notice) is(rec session.Record) bool {
	return n.key == rec.Key && n.sum != "-" && n.exp != "" &&
		n.sum == md5hex(rec.Data) && n.exp == strconv.FormatInt(rec.Expires.UnixMicro(), 10)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (c *notifyCache) token() cacheToken {
	return cacheToken{gen: c.gen.Load(), seq: c.seq.Load()}
}

func (c *notifyCache) get(ctx context.Context, key string, now time.Time) (session.Record, cacheToken, bool) {
	t := c.token()
	if !c.on.Load() || !c.has(key, now) {
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	// Every notification of a commit before this read must be applied
	// before the entry can be trusted.
	if err := c.listener.Fence(ctx); err != nil {
		c.fenceFailures.Add(1)
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	c.mu.RLock()
	rec, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !rec.Expires.After(now) || !c.on.Load() {
		c.misses.Add(1)
		return session.Record{}, t, false
	}
	c.hits.Add(1)
	return rec, t, true
}

// has reports whether a live entry for key is cached, fence aside.
func (c *notifyCache) has(key string, now time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rec, ok := c.entries[key]
	return ok && rec.Expires.After(now)
}

// fresh reports whether key may be cached from a read or commit that
// began at t; the caller holds c.mu.
func (c *notifyCache) fresh(key string, t cacheToken) bool {
	return c.on.Load() && c.gen.Load() == t.gen && c.slots[slotOf(key)].Load() <= t.seq
}

func (c *notifyCache) fill(rec session.Record, t cacheToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fresh(rec.Key, t) {
		c.put(rec)
	}
}

// put stores rec; the caller holds c.mu.
func (c *notifyCache) put(rec session.Record) { putBounded(c.entries, c.max, rec) }

func (c *notifyCache) beginCommit() cacheToken { return c.token() }

// endCommit puts the batch's own writes in the cache, unless a
// notification about the same keys arrived since the commit began that
// may be another's, later write: then whose write is last is not known
// here, and the key is forgotten.
func (c *notifyCache) endCommit(t cacheToken, committed, _ bool, batch []*writeOp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range batch {
		switch {
		case !committed || op.err != nil || op.kind == opDelete:
			delete(c.entries, op.key())
		case c.fresh(op.key(), t) || c.lastIsOwn(op.rec, t):
			c.put(op.rec)
		default:
			delete(c.entries, op.key())
		}
	}
}

// lastIsOwn reports whether the last notification of rec's slot is the
// one of this process's own write of rec (its data and expiry), just
// committed: its own notification often arrives before the commit's
// answer. Any later
// change of the key (another process's) would be notified after it and be
// the last; an earlier one, between the read and this write, would have
// failed the write (compare-and-swap, create if absent). The caller
// holds c.mu.
func (c *notifyCache) lastIsOwn(rec session.Record, t cacheToken) bool {
	slot := slotOf(rec.Key)
	n := c.last[slot]
	return c.on.Load() && c.gen.Load() == t.gen && n.seq == c.slots[slot].Load() && n.is(rec)
}

func (c *notifyCache) stats() (hits, misses int64, size int, on bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.hits.Load(), c.misses.Load(), len(c.entries), c.on.Load()
}

// close stops listening.
func (c *notifyCache) close() error {
	c.listener.Stop()
	return nil
}

// Package memstore is an in-process [session.Store]: a map guarded by a
// mutex, bounded like Django's local-memory cache. It is fast and needs no
// setup, but sessions vanish on restart and are not shared between
// processes, like Django's cache engine on a local-memory cache. Use it
// for tests, development and single-process sites.
//
// Memory is bounded: beyond [WithMaxEntries] records (Django's
// MAX_ENTRIES, [DefaultMaxEntries] by default) the least recently used
// record is evicted, and expired records are swept a few at a time by the
// store's own calls, with no goroutine. An evicted record is simply gone,
// as an expired one is: a later Update or conditional Delete of it finds
// nothing, and nothing brings it back.
package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// DefaultMaxEntries is the bound of a store made without
// [WithMaxEntries]: Django's default MAX_ENTRIES is 300 for any cached
// value; sessions get the site's CACHE_MAX_ENTRIES default.
const DefaultMaxEntries = 10000

// sweepStep is how many records each call of the store examines for
// expiry: more than the one record a call can add, so that a pass over
// every record ends within about as many calls as there are records.
const sweepStep = 2

// Store keeps records in memory. The zero value is not usable; call New.
type Store struct {
	now func() time.Time
	max int

	mu   sync.Mutex
	recs map[string]*entry
	// lru links the entries, most recently used first: root.next is the
	// most recent, root.prev the least.
	lru entry
	// sweep is the next entry the sweep examines; it walks from the least
	// recently used toward the most recent, and starts again at the
	// least recent when it reaches the root.
	sweep *entry

	hits, misses, writes, evicted, expired int64
}

// entry is a record and its place in the recency list.
type entry struct {
	session.Record
	prev, next *entry
}

// Option configures a Store.
type Option func(*Store)

// WithMaxEntries bounds the store to n records (Django's MAX_ENTRIES): a
// record created beyond it evicts the least recently used. n below 1
// counts as 1.
func WithMaxEntries(n int) Option {
	return func(s *Store) { s.max = max(n, 1) }
}

// New returns an empty store whose expiry checks use now (time.Now if nil).
func New(now func() time.Time, opts ...Option) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, max: DefaultMaxEntries, recs: map[string]*entry{}}
	for _, o := range opts {
		o(s)
	}
	s.lru.next, s.lru.prev = &s.lru, &s.lru
	s.sweep = &s.lru
	return s
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepSome(now)
	rec, ok := s.recs[key]
	if ok && !rec.Expires.After(now) {
		s.remove(rec)
		s.expired++
		ok = false
	}
	if !ok {
		s.misses++
		return session.Record{}, session.ErrNotFound
	}
	s.hits++
	s.touch(rec)
	return rec.Record, nil
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepSome(now)
	if cur, ok := s.recs[rec.Key]; ok {
		if cur.Expires.After(now) {
			return session.ErrExists
		}
		s.remove(cur) // expired: the key is free again, as in Redis
		s.expired++
	}
	e := &entry{Record: rec}
	s.recs[rec.Key] = e
	s.pushFront(e)
	s.writes++
	for len(s.recs) > s.max {
		s.remove(s.lru.prev)
		s.evicted++
	}
	return nil
}

// Update implements session.Store.
func (s *Store) Update(ctx context.Context, rec session.Record, old string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepSome(s.now())
	cur, ok := s.recs[rec.Key]
	switch {
	case !ok:
		return session.ErrNotFound
	case cur.Data != old:
		return session.ErrConflict
	}
	cur.Record = rec
	s.touch(cur)
	s.writes++
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key, old string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[key]
	switch {
	case !ok && old == "":
		return nil
	case !ok:
		return session.ErrNotFound
	case old != "" && cur.Data != old:
		return session.ErrConflict
	}
	s.remove(cur)
	return nil
}

// DeleteExpired removes expired records and returns how many.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var n int64
	for _, e := range s.recs {
		if !e.Expires.After(now) {
			s.remove(e)
			n++
		}
	}
	s.expired += n
	return n, ctx.Err()
}

// Len returns the number of records, expired ones not swept yet included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Live returns the number of records that have not expired. It examines
// every record.
func (s *Store) Live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, e := range s.recs {
		if e.Expires.After(now) {
			n++
		}
	}
	return n
}

// Stats are counters of a Store since it was made.
type Stats struct {
	Hits    int64 // loads that found a live record
	Misses  int64 // loads that found none (unknown, deleted, expired or evicted)
	Writes  int64 // records created or updated
	Evicted int64 // records evicted, least recently used first, to stay within the bound
	Expired int64 // expired records removed (by the sweep, a load or DeleteExpired)
	Len     int   // records held now, expired ones not swept yet included
	Max     int   // the bound (WithMaxEntries)
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Hits: s.hits, Misses: s.misses, Writes: s.writes,
		Evicted: s.evicted, Expired: s.expired,
		Len: len(s.recs), Max: s.max,
	}
}

// sweepSome removes the expired records among the next sweepStep of the
// sweep's walk. Every call of the store takes a step and adds at most
// one record, so a record that expires is removed within about two
// passes' worth of calls (twice the record count), whatever the calls
// are: memory held by expired records stays bounded without a goroutine.
func (s *Store) sweepSome(now time.Time) {
	for range sweepStep {
		if s.sweep == &s.lru { // at the root: start again from the least recent
			s.sweep = s.lru.prev
			if s.sweep == &s.lru {
				return // empty
			}
		}
		e := s.sweep
		s.sweep = e.prev
		if !e.Expires.After(now) {
			s.remove(e)
			s.expired++
		}
	}
}

// pushFront links e as the most recently used.
func (s *Store) pushFront(e *entry) {
	e.prev, e.next = &s.lru, s.lru.next
	s.lru.next.prev = e
	s.lru.next = e
}

// unlink takes e out of the recency list, moving the sweep past it first
// so that the walk neither loses its place nor skips the rest.
func (s *Store) unlink(e *entry) {
	if s.sweep == e {
		s.sweep = e.prev
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// touch marks e as the most recently used.
func (s *Store) touch(e *entry) {
	if s.lru.next == e {
		return
	}
	s.unlink(e)
	s.pushFront(e)
}

// remove forgets e.
func (s *Store) remove(e *entry) {
	s.unlink(e)
	delete(s.recs, e.Key)
}

// Package memstore is an in-process [session.Store]: a map guarded by a
// mutex. It is fast and needs no setup, but sessions vanish on restart and
// are not shared between processes, like Django's cache engine on a
// local-memory cache. Use it for tests, development and single-process
// tools.
package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// Store keeps records in memory. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu   sync.Mutex
	recs map[string]session.Record
}

// New returns an empty store whose expiry checks use now (time.Now if nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, recs: map[string]session.Record{}}
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[key]
	if !ok || !rec.Expires.After(s.now()) {
		return session.Record{}, session.ErrNotFound
	}
	return rec, nil
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.Key]; ok {
		return session.ErrExists
	}
	s.recs[rec.Key] = rec
	return nil
}

// Update implements session.Store.
func (s *Store) Update(ctx context.Context, rec session.Record, old string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[rec.Key]
	switch {
	case !ok:
		return session.ErrNotFound
	case cur.Data != old:
		return session.ErrConflict
	}
	s.recs[rec.Key] = rec
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
	delete(s.recs, key)
	return nil
}

// DeleteExpired removes expired records and returns how many.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var n int64
	for k, rec := range s.recs {
		if !rec.Expires.After(now) {
			delete(s.recs, k)
			n++
		}
	}
	return n, ctx.Err()
}

// Len returns the number of records, expired ones included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

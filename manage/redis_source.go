package main

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/redisstore"
)

// redisSource is where the cache engine keeps sessions: Redis, walked with
// SCAN (redisstore.Store.Each) in batches, deleted through the store's
// conditional delete. Redis has no query language: list keeps its page in
// a heap of --limit entries, lookup and stats walk every key. SCAN may
// return a key twice while Redis resizes its table; a session counted
// twice by stats or revoke then is the price of never blocking Redis.
type redisSource struct {
	st     *redisstore.Store
	client *redis.Client
}

// openRedisSource connects to CACHE_URL and checks that Redis answers.
func openRedisSource(ctx context.Context, cfg app.Config) (*redisSource, error) {
	client := redis.NewClient(cfg.Cache)
	st := redisstore.New(client)
	if err := st.Check(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("Redis at %s does not answer: %w", cfg.Cache.Addr, err)
	}
	return &redisSource{st: st, client: client}, nil
}

func (s *redisSource) store() session.Store { return s.st }

func (s *redisSource) close() error { return s.client.Close() }

// in reports whether rec is of class c at now.
func in(c class, rec session.Record, now time.Time) bool {
	return rec.Expires.After(now) == (c == live)
}

func (s *redisSource) each(ctx context.Context, c class, now time.Time, fn func([]session.Record) error) error {
	batch := make([]session.Record, 0, batchSize)
	err := s.st.Each(ctx, func(rec session.Record) error {
		if !in(c, rec, now) {
			return nil
		}
		batch = append(batch, rec)
		if len(batch) < batchSize {
			return nil
		}
		full := batch
		batch = make([]session.Record, 0, batchSize)
		return fn(full)
	})
	if err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// snapshot is each: SCAN has no consistent view. It returns every key that
// exists for the whole walk, but a session whose holder cycles its key
// during the walk may be under keys that each exist for part of it only.
func (s *redisSource) snapshot(ctx context.Context, c class, now, since time.Time, fn func([]session.Record) error) error {
	return s.each(ctx, c, now, func(batch []session.Record) error {
		if !since.IsZero() {
			batch = slices.DeleteFunc(batch, func(rec session.Record) bool { return rec.Expires.Before(since) })
		}
		return fn(batch)
	})
}

// byExpiry is a min-heap of records by expiry (then key): its root is the
// first to drop when a later one arrives.
type byExpiry []session.Record

func (h byExpiry) Len() int { return len(h) }
func (h byExpiry) Less(i, j int) bool {
	if !h[i].Expires.Equal(h[j].Expires) {
		return h[i].Expires.Before(h[j].Expires)
	}
	return h[i].Key > h[j].Key
}
func (h byExpiry) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byExpiry) Push(x any)   { *h = append(*h, x.(session.Record)) }
func (h *byExpiry) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// latest keeps the limit latest-expiring sessions in a heap while it walks
// Redis, then hands them over latest first: memory bounded by limit.
func (s *redisSource) latest(ctx context.Context, c class, now time.Time, limit int, fn func(session.Record) error) error {
	h := &byExpiry{}
	err := s.st.Each(ctx, func(rec session.Record) error {
		if !in(c, rec, now) {
			return nil
		}
		if h.Len() < limit {
			heap.Push(h, rec)
		} else if byExpiry([]session.Record{(*h)[0], rec}).Less(0, 1) {
			(*h)[0] = rec
			heap.Fix(h, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	recs := []session.Record(*h)
	slices.SortFunc(recs, func(a, b session.Record) int {
		if c := b.Expires.Compare(a.Expires); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func (s *redisSource) summary(ctx context.Context, now time.Time) (liveStats, expiredStats classStats, err error) {
	add := func(st *classStats, rec session.Record) {
		st.Count++
		st.Bytes += int64(len(rec.Data))
		exp := rec.Expires.UTC()
		if st.Earliest == nil || exp.Before(*st.Earliest) {
			st.Earliest = &exp
		}
		if st.Latest == nil || exp.After(*st.Latest) {
			e := exp
			st.Latest = &e
		}
	}
	err = s.st.Each(ctx, func(rec session.Record) error {
		if rec.Expires.After(now) {
			add(&liveStats, rec)
		} else {
			add(&expiredStats, rec)
		}
		return nil
	})
	if err != nil {
		return classStats{}, classStats{}, fmt.Errorf("sum up sessions: %w", err)
	}
	for _, st := range []*classStats{&liveStats, &expiredStats} {
		st.Average = st.Bytes / max(st.Count, 1)
	}
	return liveStats, expiredStats, nil
}

// errEnough stops a walk early.
var errEnough = errors.New("enough")

// lookup finds the session whose key is prefix, or up to two whose key
// starts with it, walking every key (live or in its grace period).
func (s *redisSource) lookup(ctx context.Context, prefix string) ([]session.Record, error) {
	var found []session.Record
	err := s.st.Each(ctx, func(rec session.Record) error {
		switch {
		case rec.Key == prefix:
			found = []session.Record{rec}
			return errEnough
		case strings.HasPrefix(rec.Key, prefix) && len(found) < 2:
			found = append(found, rec)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("find session: %w", err)
	}
	slices.SortFunc(found, func(a, b session.Record) int { return strings.Compare(a.Key, b.Key) })
	return found, nil
}

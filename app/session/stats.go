package session

import (
	"context"
	"errors"
	"sync/atomic"
)

// Stats are a Manager's counters since it was made, for monitoring (the
// demo site exports them to Prometheus; this package stays free of any
// metrics library). Reading them costs a few atomic loads.
type Stats struct {
	// Loads counts store reads: a session's first use in a request, and
	// the re-reads of a save that met a concurrent change.
	Loads int64
	// NotFound counts the loads that found no live record: an unknown,
	// deleted or expired key (a stale cookie, or a revoked session).
	NotFound int64
	// Saves counts records written: created, updated, or moved to a new
	// key by CycleKey. Deleting (Flush) is not a save.
	Saves int64
	// Conflicts counts compare-and-swap retries: a save that found the
	// record changed by another request, reloaded it and replayed its
	// changes (see the package doc, "No lost updates").
	Conflicts int64
	// Interrupted counts saves refused because the record was deleted
	// meanwhile ([ErrInterrupted], a 400).
	Interrupted int64
	// LoadErrors, SaveErrors and DeleteErrors count store failures, not
	// the results ErrNotFound, ErrExists and ErrConflict, by kind.
	LoadErrors, SaveErrors, DeleteErrors ErrorCounts
}

// ErrorCounts are store failures by kind.
type ErrorCounts struct {
	// Timeout: the request's store budget (Config.StoreTimeout) ran out
	// waiting: the store is slow or locked.
	Timeout int64
	// Failure: any other fault: the store is down or refused the write.
	Failure int64
}

// Stats returns the manager's counters.
func (m *Manager) Stats() Stats {
	c := &m.counters
	return Stats{
		Loads:        c.loads.Load(),
		NotFound:     c.notFound.Load(),
		Saves:        c.saves.Load(),
		Conflicts:    c.conflicts.Load(),
		Interrupted:  c.interrupted.Load(),
		LoadErrors:   c.errs[statLoad].counts(),
		SaveErrors:   c.errs[statSave].counts(),
		DeleteErrors: c.errs[statDelete].counts(),
	}
}

// counters are the atomics behind Stats.
type counters struct {
	loads, notFound, saves, conflicts, interrupted atomic.Int64
	errs                                           [3]errorCounters
}

type errorCounters struct{ timeout, failure atomic.Int64 }

func (e *errorCounters) counts() ErrorCounts {
	return ErrorCounts{Timeout: e.timeout.Load(), Failure: e.failure.Load()}
}

// storeOp indexes counters.errs.
type storeOp int

const (
	statLoad storeOp = iota
	statSave
	statDelete
)

// failed counts err, a store failure, under op.
func (c *counters) failed(op storeOp, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		c.errs[op].timeout.Add(1)
	} else {
		c.errs[op].failure.Add(1)
	}
}

// countingStore is the manager's view of Config.Store: every call is
// counted by its outcome, in one place rather than at each call site.
type countingStore struct {
	Store
	c *counters
}

func (s countingStore) Load(ctx context.Context, key string) (Record, error) {
	rec, err := s.Store.Load(ctx, key)
	s.c.loads.Add(1)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		s.c.notFound.Add(1)
	default:
		s.c.failed(statLoad, err)
	}
	return rec, err
}

func (s countingStore) Create(ctx context.Context, rec Record) error {
	err := s.Store.Create(ctx, rec)
	switch {
	case err == nil:
		s.c.saves.Add(1)
	case !errors.Is(err, ErrExists):
		s.c.failed(statSave, err)
	}
	return err
}

func (s countingStore) Update(ctx context.Context, rec Record, old string) error {
	err := s.Store.Update(ctx, rec, old)
	switch {
	case err == nil:
		s.c.saves.Add(1)
	case errors.Is(err, ErrConflict):
		s.c.conflicts.Add(1)
	case !errors.Is(err, ErrNotFound): // not found: counted as interrupted by the caller
		s.c.failed(statSave, err)
	}
	return err
}

func (s countingStore) Delete(ctx context.Context, key, old string) error {
	err := s.Store.Delete(ctx, key, old)
	switch {
	case err == nil:
	case errors.Is(err, ErrConflict): // CycleKey found the old record changed
		s.c.conflicts.Add(1)
	case errors.Is(err, ErrNotFound): // a conditional delete found it gone: counted as interrupted by the caller
	default:
		s.c.failed(statDelete, err)
	}
	return err
}

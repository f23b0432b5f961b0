package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/migrations"
)

// lifecycle is the state Run shares with the site it serves: whether a
// shutdown is draining it, and the folded failure lines to write out at
// the end.
type lifecycle struct {
	draining atomic.Bool
	failures *logDedup
}

// Reasons /readyz gives. They are fixed texts: the details, which may name
// hosts, go to the log.
var (
	errDraining    = errors.New("draining")
	errUnavailable = errors.New("database unavailable")
)

// ready returns the readiness check of /readyz: not while draining; then
// the session engine answers and the schema is fully migrated (storeReady).
func (lc *lifecycle) ready(db *database.DB, store checker, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if lc.draining.Load() {
			return errDraining
		}
		err := storeReady(ctx, db, store, log)
		if lc.draining.Load() { // a shutdown began while the store was asked
			return errDraining
		}
		return err
	}
}

// checker is a session engine that can tell whether it is able to serve
// (engine.Stack: on the database, the database answers, its file is the
// one opened, the table exists; an engine without a check of its own,
// process memory or signed cookies, is ready when the database answers).
type checker interface {
	Check(ctx context.Context) error
}

// storeReady reports whether the session engine answers and the schema is
// fully migrated, within the context's deadline. migrations.Status takes
// no context: it runs on and is abandoned at the deadline (it ends by
// itself within the database's lock timeout).
func storeReady(ctx context.Context, db *database.DB, store checker, log *slog.Logger) error {
	switch err := store.Check(ctx); {
	case errors.Is(err, database.ErrFileLost):
		log.Warn("not ready", "error", err)
		return errors.New("database file lost: restart to open the current file")
	case errors.Is(err, dbstore.ErrNotMigrated):
		log.Warn("not ready", "error", err)
		return errors.New("schema not migrated: the django_session table is missing")
	case err != nil:
		log.Warn("not ready: the session store does not answer", "error", err)
		return errUnavailable
	}
	type status struct {
		all []migrations.Info
		err error
	}
	done := make(chan status, 1)
	go func() {
		all, err := migrations.Status(db)
		done <- status{all, err}
	}()
	var st status
	select {
	case st = <-done:
	case <-ctx.Done():
		log.Warn("not ready: reading the migration status timed out", "error", ctx.Err())
		return errUnavailable
	}
	if errors.Is(st.err, migrations.ErrDirty) {
		log.Warn("not ready", "error", st.err)
		return errors.New("schema dirty: a migration failed part-way")
	}
	if st.err != nil {
		log.Warn("not ready: reading the migration status failed", "error", st.err)
		return errUnavailable
	}
	pending := 0
	for _, m := range st.all {
		if !m.Applied {
			pending++
		}
	}
	if pending > 0 {
		return fmt.Errorf("schema not migrated: %d pending migrations", pending)
	}
	return nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/djangosessions/gosessions/migrations"
	"gorm.io/gorm"
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
// the database answers and its schema is fully migrated (storeReady).
func (lc *lifecycle) ready(db *gorm.DB, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if lc.draining.Load() {
			return errDraining
		}
		err := storeReady(ctx, db, log)
		if lc.draining.Load() { // a shutdown began while the store was asked
			return errDraining
		}
		return err
	}
}

// storeReady reports whether the database answers and its schema is fully
// migrated, within the context's deadline. The database is asked through
// a ping and migrations.Status, which takes no context: it runs on and is
// abandoned at the deadline (it ends by itself within the database's busy
// timeout). The store will answer this itself once it has a check of its
// own.
func storeReady(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	sqlDB, err := db.DB()
	if err != nil {
		log.Warn("not ready", "error", err)
		return errUnavailable
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		log.Warn("not ready: database ping failed", "error", err)
		return errUnavailable
	}
	type status struct {
		all []migrations.Info
		err error
	}
	done := make(chan status, 1)
	go func() {
		all, err := migrations.Status(sqlDB)
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

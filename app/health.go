package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/migrations"
	"github.com/djangosessions/gosessions/views"
)

// lifecycle is the state Run shares with the site it serves: whether a
// shutdown is draining it, and the folded failure lines to write out at
// the end.
type lifecycle struct {
	draining atomic.Bool
	failures *logDedup
	// now is the clock of the readiness check's answers (tests move it);
	// nil is time.Now.
	now func() time.Time
}

// Reasons /readyz gives. They are fixed texts: the details, which may name
// hosts, go to the log.
var (
	errDraining    = errors.New("draining")
	errUnavailable = errors.New("database unavailable")
	errMigrating   = errors.New("migrating")
)

// readyTTL is how long an answer of the readiness check is reused: probes
// at any rate cost the database at most one check per readyTTL.
const readyTTL = time.Second

// readyCheckTimeout bounds one readiness check. It is shorter than the
// wait of /readyz (views.DefaultReadyTimeout), so that the probes waiting
// for a check get its answer.
const readyCheckTimeout = views.DefaultReadyTimeout * 4 / 5

// ready returns the readiness check of /readyz: not while draining; then
// the session engine answers and the schema is fully migrated
// (storeReady), an answer found at most readyTTL ago and shared by
// concurrent probes.
func (lc *lifecycle) ready(db *database.DB, store checker, log *slog.Logger) func(ctx context.Context) error {
	now := lc.now
	if now == nil {
		now = time.Now
	}
	cached := &readiness{
		check:   func(ctx context.Context) error { return storeReady(ctx, db, store, log) },
		ttl:     readyTTL,
		timeout: readyCheckTimeout,
		now:     now,
		log:     log,
	}
	return func(ctx context.Context) error {
		if lc.draining.Load() {
			return errDraining
		}
		err := cached.get(ctx)
		if lc.draining.Load() { // a shutdown began while the store was asked
			return errDraining
		}
		return err
	}
}

// readiness runs a check at most once per ttl, whatever the number of
// callers: the callers in between get the last answer, and the callers
// while it runs wait for that one run. A run is bounded by timeout on its
// own context, not by a caller's, and nothing of it outlives that bound.
type readiness struct {
	check        func(context.Context) error
	ttl, timeout time.Duration
	now          func() time.Time
	log          *slog.Logger

	mu      sync.Mutex
	err     error         // the last answer
	at      time.Time     // when it was found; zero before the first
	running chan struct{} // closed when the run in flight ends; nil if none
}

// get returns the last answer if it is fresh, else the answer of the run
// in flight (starting one if none is), or errUnavailable if ctx ends
// first.
func (r *readiness) get(ctx context.Context) error {
	r.mu.Lock()
	if r.running == nil {
		if !r.at.IsZero() && r.now().Sub(r.at) < r.ttl {
			err := r.err
			r.mu.Unlock()
			return err
		}
		r.running = make(chan struct{})
		go r.run(r.running)
	}
	running := r.running
	r.mu.Unlock()
	select {
	case <-running:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.err
	case <-ctx.Done():
		return errUnavailable
	}
}

// run runs the check once and publishes its answer.
func (r *readiness) run(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	err := r.check(ctx)
	if err == nil && ctx.Err() != nil {
		err = errUnavailable
	}
	if ctx.Err() != nil {
		r.log.Warn("not ready: the readiness check did not finish in time", "timeout", r.timeout)
	}
	cancel()
	r.mu.Lock()
	r.err, r.at, r.running = err, r.now(), nil
	close(done)
	r.mu.Unlock()
}

// checker is a session engine that can tell whether it is able to serve
// (engine.Stack: on the database, the database answers, its file is the
// one opened, the table exists; an engine without a check of its own,
// process memory or signed cookies, is ready when the database answers).
type checker interface {
	Check(ctx context.Context) error
}

// storeReady reports whether the session engine answers and the schema
// is fully migrated, within the context's deadline. It uses the site's own
// connections and waits for no lock: a migration in flight (another
// process holding the migration lock) is "migrating" at once, before the
// engine is asked (the migration may hold the session table).
func storeReady(ctx context.Context, db *database.DB, store checker, log *slog.Logger) error {
	pending, migErr := pendingMigrations(ctx, db)
	if errors.Is(migErr, migrations.ErrMigrating) {
		log.Info("not ready: a migration is in flight")
		return errMigrating
	}
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
	if errors.Is(migErr, migrations.ErrDirty) {
		log.Warn("not ready", "error", migErr)
		return errors.New("schema dirty: a migration failed part-way")
	}
	if migErr != nil {
		log.Warn("not ready: reading the migration status failed", "error", migErr)
		return errUnavailable
	}
	if pending > 0 {
		return fmt.Errorf("schema not migrated: %d pending migrations", pending)
	}
	return nil
}

// pendingMigrations is migrations.Engine.Pending for db's engine.
func pendingMigrations(ctx context.Context, db *database.DB) (int, error) {
	e, err := either.Migrations(db)
	if err != nil {
		return 0, err
	}
	return e.Pending(ctx, db)
}

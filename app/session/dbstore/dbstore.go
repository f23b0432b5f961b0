// Package dbstore keeps sessions in Django's django_session table through
// GORM: Django's "db" session engine. A Go site and a Django site that
// share the database (and SECRET_KEY) share their sessions.
//
// Every operation is one SQL statement:
//
//	Load    SELECT ... WHERE session_key = ? AND expire_date > now
//	Create  INSERT ... ON CONFLICT DO NOTHING    (0 rows: ErrExists)
//	Update  UPDATE ... WHERE session_key = ? AND session_data = old
//	Delete  DELETE ... WHERE session_key = ? [AND session_data = old]
//
// Update and the conditional Delete are compare-and-swap operations on the
// session data, which is what lets session.Manager merge concurrent
// requests of one session without losing an update, across any number of
// processes sharing the database. When they change no row, a second
// SELECT in the same transaction tells a missing record (ErrNotFound, or
// nothing for Delete) from a changed one (ErrConflict).
//
// # Speed
//
// Writes are group-committed: concurrent writes of many sessions share one
// transaction, and each caller returns once that transaction has
// committed (see committer). With WithCache, loads of sessions this
// process has recently seen are answered from memory, checked against
// SQLite's WAL index so that a write by any other process (another server,
// Django, manage clearsessions) is never missed (see cache).
//
// # Durability
//
// A write is reported only after its transaction committed. How much a
// commit survives is the database's synchronous setting: app.OpenDB uses
// WAL with synchronous=NORMAL by default, which survives a crash of the
// process but may lose the last commits on power loss; FULL (an fsync per
// commit, amortised over each group) survives power loss too.
//
// The package needs a migrated database (see package migrations) and does
// not open it: the application owns the connection.
package dbstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// DefaultBatchSize is the batch size DeleteExpired uses when given none.
const DefaultBatchSize = 1000

// Store is a session.Store on a GORM database. It is safe for concurrent
// use; call Close when done with it.
//
// Loads are plain SQL run through GORM's prepared-statement pool: on the
// hot path GORM's per-call statement building would double the time and
// the allocations. Writes go through a committer that groups concurrent
// writes into one transaction (see committer), and an optional cache
// (WithCache) answers loads of recently seen sessions from memory.
type Store struct {
	db        *gorm.DB      // with prepared statements
	pool      gorm.ConnPool // db's prepared-statement pool
	now       func() time.Time
	cacheSize int

	writer *sql.DB
	commit committer
	cache  *cache

	prepMu   sync.Mutex
	prepared bool
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides which records have expired (Load
// and DeleteExpired). The default is time.Now; tests inject a fixed clock
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithCache keeps up to size recently used sessions in memory, so that a
// session this process has just seen loads without a query. It needs a
// SQLite file in WAL mode (what app.OpenDB opens); elsewhere the store
// works without a cache. Entries are dropped when any other process
// commits to the database, so the cache never serves stale data.
func WithCache(size int) Option {
	return func(s *Store) { s.cacheSize = size }
}

// New returns a store on db, which must hold a migrated django_session
// table. Statements are prepared once, on first use.
func New(db *gorm.DB, opts ...Option) *Store {
	db = db.Session(&gorm.Session{PrepareStmt: true})
	s := &Store{db: db, pool: db.Statement.ConnPool, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.writer, _ = db.DB()
	s.commit.db = s.writer
	if s.cacheSize > 0 && s.writer != nil {
		if w := s.watchWAL(); w != nil {
			s.cache = newCache(s.cacheSize, w)
			s.commit.cache = s.cache
		}
	}
	return s
}

// watchWAL opens the WAL index of the database file, or returns nil when
// the database is not a file in WAL mode.
func (s *Store) watchWAL() *walWatch {
	ctx := context.Background()
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		return nil
	}
	rows, err := s.writer.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return nil
	}
	defer rows.Close()
	var path string
	for rows.Next() {
		var seq int
		var name, file string
		if rows.Scan(&seq, &name, &file) == nil && name == "main" {
			path = file
		}
	}
	if path == "" {
		return nil
	}
	w, err := openWALWatch(path)
	if err != nil {
		return nil
	}
	return w
}

// Stats are counters of a Store since it was made.
type Stats struct {
	Commits     int64 // write transactions
	Writes      int64 // writes (creates, updates, deletes) in them
	CacheHits   int64 // loads answered from memory
	CacheMisses int64 // loads that queried the database (with a cache)
	CacheLen    int   // sessions in the cache now
}

// Stats returns the store's counters. Writes/Commits is the average group
// size of the group commit.
func (s *Store) Stats() Stats {
	st := Stats{Commits: s.commit.commits.Load(), Writes: s.commit.writes.Load()}
	if s.cache != nil {
		st.CacheHits, st.CacheMisses, st.CacheLen = s.cache.hits.Load(), s.cache.misses.Load(), s.cache.size()
	}
	return st
}

// Close releases the store's prepared statements and files. It does not
// close the database.
func (s *Store) Close() error {
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if s.prepared {
		s.commit.stmts.close()
		s.prepared = false
	}
	if s.cache != nil {
		return s.cache.watch.close()
	}
	return nil
}

const (
	loadSQL         = `SELECT session_data, expire_date FROM django_session WHERE session_key = ? AND expire_date > ?`
	existsSQL       = `SELECT 1 FROM django_session WHERE session_key = ?`
	createSQL       = `INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	updateSQL       = `UPDATE django_session SET session_data = ?, expire_date = ? WHERE session_key = ? AND session_data = ?`
	deleteSQL       = `DELETE FROM django_session WHERE session_key = ?`
	deleteIfSQL     = `DELETE FROM django_session WHERE session_key = ? AND session_data = ?`
	deleteExpirySQL = `DELETE FROM django_session WHERE session_key IN (SELECT session_key FROM django_session WHERE expire_date < ? LIMIT ?)`
)

// Load implements session.Store: the record, if it exists and has not
// expired by the store's clock.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("dbstore: load session %s: %w", session.KeyHash(key), err)
	}
	now := s.now()
	var v walVersion
	if s.cache != nil {
		rec, ver, ok := s.cache.get(key, now)
		if ok {
			return rec, nil
		}
		v = ver
	}
	var (
		data    string
		expires models.DateTime
	)
	found, err := s.queryRow(ctx, loadSQL, []any{key, models.DateTime{Time: now}}, &data, &expires)
	if err != nil {
		return session.Record{}, fmt.Errorf("dbstore: load session %s: %w", session.KeyHash(key), err)
	}
	if !found {
		return session.Record{}, session.ErrNotFound
	}
	rec := session.Record{Key: key, Data: data, Expires: expires.Time}
	if s.cache != nil {
		s.cache.fill(rec, v)
	}
	return rec, nil
}

// write queues op with the committer, preparing its statements first.
func (s *Store) write(ctx context.Context, op *writeOp) error {
	s.prepMu.Lock()
	if !s.prepared {
		if s.writer == nil {
			s.prepMu.Unlock()
			return errors.New("no database connection")
		}
		st, err := prepare(ctx, s.writer)
		if err != nil {
			s.prepMu.Unlock()
			return err
		}
		s.commit.stmts, s.prepared = st, true
	}
	s.prepMu.Unlock()
	op.ctx = ctx
	return s.commit.do(op)
}

// Create implements session.Store. It is an INSERT that does nothing on a
// taken key, reported as session.ErrExists; it never overwrites.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	err := s.write(ctx, &writeOp{kind: opCreate, rec: rec})
	if err != nil && !errors.Is(err, session.ErrExists) {
		return fmt.Errorf("dbstore: create session %s: %w", session.KeyHash(rec.Key), err)
	}
	return err
}

// Update implements session.Store: compare-and-swap on the session data.
func (s *Store) Update(ctx context.Context, rec session.Record, old string) error {
	err := s.write(ctx, &writeOp{kind: opUpdate, rec: rec, old: old})
	if err != nil && !errors.Is(err, session.ErrConflict) && !errors.Is(err, session.ErrNotFound) {
		return fmt.Errorf("dbstore: update session %s: %w", session.KeyHash(rec.Key), err)
	}
	return err
}

// Delete implements session.Store. With old empty it deletes
// unconditionally; otherwise only while the data still equals old.
func (s *Store) Delete(ctx context.Context, key, old string) error {
	err := s.write(ctx, &writeOp{kind: opDelete, rec: session.Record{Key: key}, old: old})
	if err != nil && !errors.Is(err, session.ErrConflict) {
		return fmt.Errorf("dbstore: delete session %s: %w", session.KeyHash(key), err)
	}
	return err
}

// queryRow scans the first row of query into dest and reports whether
// there was one. (It does not use the pool's QueryRowContext: GORM's
// prepared-statement pool returns a Row that panics on Scan when the
// statement cannot be prepared, as on a cancelled context or a missing
// table.)
func (s *Store) queryRow(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
	rows, err := s.pool.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	return true, rows.Close()
}

// exec runs a statement and returns the number of rows it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.pool.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpired deletes the records that expired before now (by the
// store's clock), like Django's clearsessions, and returns how many.
//
// It deletes batchSize rows at a time (DefaultBatchSize when batchSize is
// not positive), each batch a statement and a transaction of its own, so
// that on a table of millions the site's own writes get their turn between
// batches instead of waiting for one long DELETE. progress, when not nil,
// receives the running total after each batch that deleted rows.
// Cancelling ctx stops it between batches (or interrupts the current one);
// the count of rows deleted so far is returned with the error.
func (s *Store) DeleteExpired(ctx context.Context, batchSize int, progress func(deleted int64)) (int64, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	// One cut-off for the whole run: sessions expiring meanwhile wait for
	// the next run, and the loop ends.
	now := models.DateTime{Time: s.now()}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		n, err := s.exec(ctx, deleteExpirySQL, now, batchSize)
		if err != nil {
			return total, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		total += n
		if n > 0 && progress != nil {
			progress(total)
		}
		if n < int64(batchSize) {
			return total, nil
		}
	}
}

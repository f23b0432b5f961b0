// Package dbstore keeps sessions in Django's django_session table through
// GORM: Django's "db" session engine. A Go site and a Django site that
// share the database (and SECRET_KEY) share their sessions, on SQLite
// (expire_date as Django's UTC text) and on PostgreSQL (timestamptz).
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
// SELECT in the same transaction tells a missing record (ErrNotFound) from
// a changed one (ErrConflict). The unconditional Delete of a missing
// record succeeds.
//
// # Speed
//
// Writes are group-committed: concurrent writes of many sessions share one
// transaction, and each caller returns once that transaction has
// committed (see committer). With WithCache, loads of sessions this
// process has recently seen are answered from memory, and a write by any
// other process (another server, Django, manage clearsessions) is never
// missed: on SQLite the cache checks the WAL index before each read (see
// walCache); on PostgreSQL a trigger notifies every change of
// django_session, each process listens for them, and a cached entry is
// served only after a round trip on the listening connection that began
// after the read (see notifyCache).
//
// # Durability
//
// A write is reported only after its transaction committed. How much a
// commit survives is the database's setting: on SQLite package
// database/sqlite uses WAL with synchronous=NORMAL by default, which
// survives a crash of the process but may lose the last commits on power
// loss; FULL (an fsync per commit, amortised over each group) survives
// power loss too. PostgreSQL's default (synchronous_commit on) survives
// both.
//
// # Bounded waits
//
// Every wait for the database is bounded by the caller's context deadline
// (session.Manager gives each request one budget, Config.StoreTimeout):
// the queue for the one writer connection, the wait for SQLite's write
// lock (the busy timeout is lowered for a request that has already
// waited), PostgreSQL's connection and lock waits. A write whose deadline
// passes while it waits is dropped from the queue, never applied later.
//
// The package needs a migrated database (see package migrations), opened
// by package database, which tells it the engine.
package dbstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// Store is a session.Store on a GORM database. It is safe for concurrent
// use; call Close when done with it.
//
// Loads are plain SQL run through GORM's prepared-statement pool: on the
// hot path GORM's per-call statement building would double the time and
// the allocations. Writes go through a committer that groups concurrent
// writes into one transaction (see committer), and an optional cache
// (WithCache) answers loads of recently seen sessions from memory.
type Store struct {
	db        *database.DB
	gorm      *gorm.DB      // with prepared statements
	pool      gorm.ConnPool // its prepared-statement pool
	now       func() time.Time
	cacheSize int

	sql queries // in the database's dialect

	commit committer
	cache  recordCache

	prepMu   sync.Mutex
	prepared bool
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides which records have expired (Load
// and ClearExpired). The default is time.Now; tests inject a fixed clock
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithCache keeps up to size recently used sessions in memory, so that a
// session this process has just seen loads without a query. Entries are
// dropped when any other process changes them, so the cache never serves
// stale data: on SQLite it needs a file in WAL mode (what package
// database/sqlite opens), whose index shows every other process's commit;
// on PostgreSQL it needs migration 3's notification trigger (package
// migrations/postgres) and keeps one connection listening. New fails with
// an error saying so on a SQLite database not in WAL mode (such as
// sqlite::memory:).
func WithCache(size int) Option {
	return func(s *Store) { s.cacheSize = size }
}

// WithBatchObserver has observe called with the number of writes in each
// transaction the group commit runs (1 when writes do not overlap; up to
// 256 under load), for a histogram of group sizes. It is called by the
// writer that led the group, after the commit and before the group's
// writers return, so it must be quick and must not call the store.
func WithBatchObserver(observe func(size int)) Option {
	return func(s *Store) { s.commit.observe = observe }
}

// ErrNotMigrated reports a database without the django_session table.
var ErrNotMigrated = errors.New("dbstore: the django_session table does not exist: apply the migrations first (go run ./manage migrate, or Up of package migrations/sqlite or migrations/postgres)")

// New returns a store on db, which must hold a migrated django_session
// table: New checks it, and fails with [ErrNotMigrated] when it is missing,
// so that a forgotten migration shows at start rather than as a 503 on
// every request. Statements are prepared once, on first use.
func New(db *database.DB, opts ...Option) (*Store, error) {
	if db == nil || db.Gorm == nil {
		return nil, errors.New("dbstore: New needs an open database")
	}
	g := db.Gorm.Session(&gorm.Session{PrepareStmt: true})
	s := &Store{db: db, gorm: g, pool: g.Statement.ConnPool, now: time.Now, sql: sqliteQueries}
	switch db.Engine {
	case database.SQLite:
	case database.PostgreSQL:
		s.sql = sqliteQueries.rebind()
		s.sql.updateMany = postgresUpdateMany
		// On PostgreSQL a failed statement aborts its whole transaction.
		s.commit.abortsOnError = true
	default:
		return nil, fmt.Errorf("dbstore: unsupported database engine %v", db.Engine)
	}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), db.Timeout+time.Second)
	defer cancel()
	if err := s.checkTable(ctx); err != nil {
		return nil, err
	}
	s.commit.db = db.SQL()
	s.commit.sql = &s.sql
	s.commit.timeArg = s.timeArg
	s.commit.lost = db.Writable
	if db.Engine == database.SQLite {
		s.commit.busyTimeout = db.Timeout
	}
	if s.cacheSize > 0 {
		c, err := s.newCache(ctx)
		if err != nil {
			return nil, err
		}
		s.cache, s.commit.cache = c, c
	}
	return s, nil
}

// newCache returns the cache of the store's engine: it must learn every
// change another process makes.
func (s *Store) newCache(ctx context.Context) (recordCache, error) {
	db := s.db
	switch db.Engine {
	case database.SQLite:
		if !db.WAL() {
			return nil, fmt.Errorf("dbstore: WithCache needs a SQLite file in WAL mode, so that it can see every other process's writes (package database/sqlite opens one so); %s is not", db.URL())
		}
		w, err := openWALWatch(db.Path())
		if err != nil {
			return nil, fmt.Errorf("dbstore: WithCache: watch the WAL index of %s: %w", db.Path(), err)
		}
		return newWALCache(s.cacheSize, w), nil
	case database.PostgreSQL:
		return newNotifyCache(ctx, s.cacheSize, db)
	}
	return nil, fmt.Errorf("dbstore: WithCache: no cache for engine %v", db.Engine)
}

// checkTable fails with ErrNotMigrated when django_session is missing.
func (s *Store) checkTable(ctx context.Context) error {
	rows, err := s.db.Gorm.WithContext(ctx).Raw("SELECT 1 FROM django_session WHERE 1 = 0").Rows()
	if err == nil {
		// SQLite may find the table gone only when it steps (a reader
		// prepared against the schema it knew).
		for rows.Next() {
		}
		err = errors.Join(rows.Err(), rows.Close())
	}
	if err == nil {
		return nil
	}
	if missingTable(err) {
		return ErrNotMigrated
	}
	return fmt.Errorf("dbstore: check the django_session table: %w", err)
}

// missingTable reports whether err says that a table does not exist, in
// SQLite's or PostgreSQL's words.
func missingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") && strings.Contains(msg, "relation")
}

// Check reports whether the store can serve: the database answers within
// ctx, its file is the one opened, and django_session exists. It is what
// a readiness probe asks.
func (s *Store) Check(ctx context.Context) error {
	if err := s.db.Check(ctx); err != nil {
		return fmt.Errorf("dbstore: %w", err)
	}
	return s.checkTable(ctx)
}

// Stats are counters of a Store since it was made.
type Stats struct {
	Commits     int64 // write transactions
	Writes      int64 // writes (creates, updates, deletes) in them
	Rollbacks   int64 // PostgreSQL: groups rolled back because a write failed, then run one by one
	CacheHits   int64 // loads answered from memory
	CacheMisses int64 // loads that queried the database (with a cache)
	CacheLen    int   // sessions in the cache now
	CacheOn     bool  // the cache is serving (on PostgreSQL: its listener is connected)
	// FenceFailures (PostgreSQL's cache): cached sessions that could not be
	// confirmed fresh (the listener down, the deadline passed) and were
	// read from the database instead.
	FenceFailures int64
}

// Stats returns the store's counters. Writes/Commits is the average group
// size of the group commit.
func (s *Store) Stats() Stats {
	st := Stats{Commits: s.commit.commits.Load(), Writes: s.commit.writes.Load(), Rollbacks: s.commit.rollbacks.Load()}
	if s.cache != nil {
		st.CacheHits, st.CacheMisses, st.CacheLen, st.CacheOn = s.cache.stats()
	}
	if c, ok := s.cache.(*notifyCache); ok {
		st.FenceFailures = c.fenceFailures.Load()
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
		return s.cache.close()
	}
	return nil
}

// queries are the store's statements. They are plain SQL that both
// engines run as they are, but for the placeholders.
type queries struct {
	load, exists, create, update, delete, deleteIf, deleteExpired string
	// updateMany, PostgreSQL's only, applies several compare-and-swap
	// updates in one statement and returns the ordinal of each that
	// wrote: a batch of updates costs one round trip instead of one per
	// session. SQLite's statements cost no round trip, so it has none.
	updateMany string
}

// sqliteQueries are the statements with SQLite's ? placeholders.
var sqliteQueries = queries{
	load:          `SELECT session_data, expire_date FROM django_session WHERE session_key = ? AND expire_date > ?`,
	exists:        `SELECT 1 FROM django_session WHERE session_key = ?`,
	create:        `INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
	update:        `UPDATE django_session SET session_data = ?, expire_date = ? WHERE session_key = ? AND session_data = ?`,
	delete:        `DELETE FROM django_session WHERE session_key = ?`,
	deleteIf:      `DELETE FROM django_session WHERE session_key = ? AND session_data = ?`,
	deleteExpired: `DELETE FROM django_session WHERE session_key IN (SELECT session_key FROM django_session WHERE expire_date < ? LIMIT ?)`,
}

// postgresUpdateMany is queries.updateMany: the arrays hold each
// update's key, old data, new data and expiry, in the batch's key order.
// PostgreSQL joins them in that order through the primary key (a nested
// loop over at most maxBatch rows), so the rows are locked in key order as
// they are one statement at a time. A key twice in the arrays is updated
// once, by one of those whose old data matches: the others conflict, as
// they would one at a time, the first having changed the data.
const postgresUpdateMany = `UPDATE django_session AS s SET session_data = v.new, expire_date = v.exp
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS v(key, old, new, exp, i)
WHERE s.session_key = v.key AND s.session_data = v.old
RETURNING v.i`

// rebind returns the statements with PostgreSQL's numbered placeholders
// ($1, $2, ...) instead of ?.
func (q queries) rebind() queries {
	for _, p := range []*string{&q.load, &q.exists, &q.create, &q.update, &q.delete, &q.deleteIf, &q.deleteExpired} {
		*p = rebind(*p)
	}
	return q
}

// rebind numbers the ? placeholders of query. The store's statements have
// no ? in literals or identifiers, so every ? is a placeholder.
func rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeArg is the argument for an expire_date: Django's text on SQLite
// (models.DateTime), and on PostgreSQL a time that pgx sends as an
// instant, right whatever the connection's time zone.
func (s *Store) timeArg(t time.Time) any {
	if s.db.Engine == database.PostgreSQL {
		return instant{t}
	}
	return models.DateTime{Time: t}
}

// instant is an expire_date argument for PostgreSQL's timestamptz: the
// time to the microsecond, as Python keeps it. Like models.DateTime it
// refuses times outside Django's years 1 to 9999, which Django could not
// read back.
type instant struct{ time.Time }

// Value implements driver.Valuer.
func (i instant) Value() (driver.Value, error) {
	if _, err := (models.DateTime{Time: i.Time}).Value(); err != nil {
		return nil, err
	}
	return i.UTC().Truncate(time.Microsecond), nil
}

// Load implements session.Store: the record, if it exists and has not
// expired by the store's clock.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("dbstore: load session %s: %w", session.KeyHash(key), err)
	}
	now := s.now()
	var token cacheToken
	if s.cache != nil {
		rec, t, ok := s.cache.get(ctx, key, now)
		if ok {
			return rec, nil
		}
		token = t
	}
	var (
		data    string
		expires models.DateTime
	)
	found, err := s.queryRow(ctx, s.sql.load, []any{key, s.timeArg(now)}, &data, &expires)
	if err != nil {
		return session.Record{}, fmt.Errorf("dbstore: load session %s: %w", session.KeyHash(key), err)
	}
	if !found {
		return session.Record{}, session.ErrNotFound
	}
	rec := session.Record{Key: key, Data: data, Expires: expires.Time}
	if s.cache != nil {
		s.cache.fill(rec, token)
	}
	return rec, nil
}

// write queues op with the committer, preparing its statements first.
func (s *Store) write(ctx context.Context, op *writeOp) error {
	s.prepMu.Lock()
	if !s.prepared {
		st, err := prepare(ctx, s.commit.db, &s.sql)
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
// unconditionally (a missing record is not an error); otherwise only
// while the data still equals old: ErrConflict when it differs,
// ErrNotFound when the record is gone.
func (s *Store) Delete(ctx context.Context, key, old string) error {
	err := s.write(ctx, &writeOp{kind: opDelete, rec: session.Record{Key: key}, old: old})
	if err != nil && !errors.Is(err, session.ErrConflict) && !errors.Is(err, session.ErrNotFound) {
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

// DefaultHoldTarget is how long a batch of ClearExpired aims to hold the
// database's write lock when no batch size is given.
const DefaultHoldTarget = 8 * time.Millisecond

// ClearOptions tune ClearExpired.
type ClearOptions struct {
	// BatchSize is the rows per batch; 0 or less sizes each batch by
	// time, for HoldTarget.
	BatchSize int
	// HoldTarget is how long a batch should hold the write lock
	// (DefaultHoldTarget when 0): the longest a write of the site waits
	// for a batch.
	HoldTarget time.Duration
	// Pause is the time between two batches, in which writers that
	// waited get the lock (SQLite's busy handler retries a waiting
	// writer only every few milliseconds, up to 25 ms and then 50 and
	// 100: back-to-back batches would starve it). 0 means twice
	// HoldTarget on SQLite and none on PostgreSQL, whose writers wait on
	// row locks, not on one database lock; a negative Pause, none.
	Pause time.Duration
	// Progress, when not nil, receives the running total after each
	// batch that deleted rows.
	Progress func(deleted int64)
}

// ClearResult is what ClearExpired did.
type ClearResult struct {
	Deleted     int64
	Batches     int
	LongestHold time.Duration // the longest batch, from BEGIN to COMMIT
	Held        time.Duration // all batches, BEGIN to COMMIT
}

// Bounds of a batch sized by time.
const (
	minClearBatch   = 16
	maxClearBatch   = 100_000
	firstClearBatch = 256
)

// ClearExpired deletes the records that expired before now (by the
// store's clock), like Django's clearsessions, in batches that each hold
// the write lock briefly, with pauses between them for the site's writes.
// A batch sized by time grows or shrinks after each one so that it holds
// the lock for about HoldTarget.
//
// On SQLite it deletes in rowid order within the expiry index (rows lie
// on disk roughly in expiry order, so that is nearly sequential), with a
// large page cache and memory-mapped reads for its own connection, and
// checkpoints the write-ahead log itself after each batch, outside the
// write lock: left to SQLite's automatic checkpoint, the work would fall
// inside a batch, or inside the commit of a site request. Measurements
// are in docs/performance.md.
func (s *Store) ClearExpired(ctx context.Context, opt ClearOptions) (ClearResult, error) {
	var r ClearResult
	if opt.HoldTarget <= 0 {
		opt.HoldTarget = DefaultHoldTarget
	}
	// One cut-off for the whole run: sessions expiring meanwhile wait for
	// the next run, and the loop ends.
	now := s.timeArg(s.now())
	var batch func(n int) (int64, time.Duration, error)
	if s.db.Engine == database.SQLite {
		conn, err := s.commit.db.Conn(ctx)
		if err != nil {
			return r, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		defer conn.Close()
		restore, err := tuneForClear(ctx, conn)
		if err != nil {
			return r, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		defer restore()
		if opt.Pause == 0 {
			opt.Pause = 2 * opt.HoldTarget
		}
		batch = func(n int) (int64, time.Duration, error) {
			tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
			if err != nil {
				return 0, 0, err
			}
			t0 := time.Now()
			res, err := tx.ExecContext(ctx, sqliteDeleteExpiredRowid, now, n)
			if err != nil {
				tx.Rollback()
				return 0, time.Since(t0), err
			}
			err = tx.Commit()
			held := time.Since(t0)
			if err != nil {
				return 0, held, err
			}
			deleted, err := res.RowsAffected()
			if err != nil {
				return 0, held, err
			}
			// Checkpoint now, before the log grows past SQLite's
			// automatic checkpoint (1,000 pages), which the site's next
			// commit would otherwise run inside a request. A passive
			// checkpoint takes no write lock: it is part of the pause.
			if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				return deleted, held, err
			}
			return deleted, held, nil
		}
	} else {
		batch = func(n int) (int64, time.Duration, error) {
			t0 := time.Now()
			deleted, err := s.exec(ctx, s.sql.deleteExpired, now, n)
			return deleted, time.Since(t0), err
		}
	}
	n := opt.BatchSize
	if n <= 0 {
		n = firstClearBatch
	}
	for {
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		t0 := time.Now()
		deleted, held, err := batch(n)
		paused := time.Since(t0) - held // the checkpoint
		r.Deleted += deleted
		r.Batches++
		r.Held += held
		r.LongestHold = max(r.LongestHold, held)
		if err != nil {
			return r, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		if deleted > 0 && opt.Progress != nil {
			opt.Progress(r.Deleted)
		}
		if deleted < int64(n) {
			return r, nil
		}
		if opt.BatchSize <= 0 {
			n = nextClearBatch(n, held, opt.HoldTarget)
		}
		if wait := opt.Pause - paused; wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
}

// nextClearBatch sizes the next batch from the last: n rows held the lock
// for held; aim at target, changing by at most half or double at a time
// (one slow batch, a checkpoint or another process, must not swing it).
func nextClearBatch(n int, held, target time.Duration) int {
	next := 2 * n
	if held > 0 {
		next = int(float64(n) * float64(target) / float64(held))
	}
	return min(max(next, n/2, minClearBatch), 2*n, maxClearBatch)
}

// sqliteDeleteExpiredRowid deletes a batch of expired rows by rowid: the
// expiry index gives them, and each is deleted without a second search of
// the primary-key index to find its row.
const sqliteDeleteExpiredRowid = `DELETE FROM django_session WHERE rowid IN (SELECT rowid FROM django_session WHERE expire_date < ? LIMIT ?)`

// tuneForClear sets conn up for a long deletion: a page cache of 128 MiB
// (the primary-key index, in random order, is touched all over), reads
// through a memory map (no copy per page), and no automatic checkpoint
// (ClearExpired checkpoints after each batch, outside the write lock).
// restore puts the connection's settings back.
func tuneForClear(ctx context.Context, conn *sql.Conn) (restore func(), err error) {
	settings := []string{"cache_size", "mmap_size", "wal_autocheckpoint"}
	want := map[string]string{"cache_size": "-131072", "mmap_size": "1073741824", "wal_autocheckpoint": "0"}
	old := map[string]string{}
	for _, name := range settings {
		var v string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			return nil, fmt.Errorf("read PRAGMA %s: %w", name, err)
		}
		old[name] = v
	}
	restore = func() {
		for _, name := range settings {
			conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA "+name+" = "+old[name])
		}
	}
	for _, name := range settings {
		if _, err := conn.ExecContext(ctx, "PRAGMA "+name+" = "+want[name]); err != nil {
			restore()
			return nil, fmt.Errorf("PRAGMA %s: %w", name, err)
		}
	}
	return restore, nil
}

// Package database is the SQL database that sessions (and the rest of an
// application's models) live in, configured for a web server, on SQLite or
// PostgreSQL: a [DB] says which engine it is, and the packages below
// (dbstore, migrations) are handed that instead of guessing from a driver
// or dialect. [ParseURL] reads a DATABASE_URL for either engine.
//
// The drivers live in one package each, so that a program links only the
// one it uses (a PostgreSQL-only program builds without cgo):
// package database/sqlite opens SQLite (mattn/go-sqlite3, cgo) and
// package database/postgres opens PostgreSQL (pgx). An application that
// already uses GORM imports one of them, without the demo site:
//
//	db, err := postgres.OpenURL(ctx, "postgres://user:pw@host/db") // or sqlite.OpenURL(ctx, "sqlite:app.db")
//	...
//	defer db.Close()
//	db.Gorm.Find(&orders) // the application's own models, same connections
//
// What they set up, and why:
//
//   - SQLite: WAL (readers never block the writer), synchronous=NORMAL
//     (a crash of the process loses nothing; ?synchronous=full survives a
//     power cut too), one writer connection and a pool of readers (a queue
//     in Go instead of SQLite's polling busy handler), BEGIN IMMEDIATE, a
//     busy timeout of ?timeout=SECONDS (default 5), foreign keys on. It
//     watches the file: a database file deleted or replaced under the
//     running process (a mistaken cleanup, a volume swap) is detected
//     within a second, logged, and from then on every write fails (see
//     [DB.Err]) instead of being acknowledged into a file nobody will
//     read again.
//   - PostgreSQL: pgx, one pool of max(10, 4×CPUs) connections
//     (?pool_max_conns), TimeZone UTC as Django's connections have,
//     lock_timeout of ?timeout=SECONDS (default 5), connect_timeout 10 s.
//
// A private in-memory SQLite database ("sqlite::memory:") is one
// connection: every connection to ":memory:" is a database of its own, so
// a pool would hand out empty databases. Never open ":memory:" with a
// connection pool of your own.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrFileLost reports that the SQLite file the database was opened from
// was deleted or replaced while the process had it open. Writes would go
// to a file nobody can open again, so they fail from then on; restart the
// process to open the file that is there now.
var ErrFileLost = errors.New("database: the database file was deleted or replaced while open; writes are refused (restart to open the current file)")

// DB is an open database: GORM on the connections an engine package
// configured, and what the packages that use it need to know.
type DB struct {
	// Gorm is the GORM handle, for models. Its DB() is the *sql.DB that
	// writes (on SQLite the one writer connection; see [DB.SQL]).
	Gorm *gorm.DB
	// Engine is SQLite or PostgreSQL.
	Engine Engine
	// Timeout is how long one statement waits for another connection's
	// lock (SQLite's busy timeout, PostgreSQL's lock_timeout).
	Timeout time.Duration

	url    URL
	sql    *sql.DB
	reader *sql.DB     // SQLite's readers, which also checkpoint; nil otherwise
	path   string      // the SQLite file, absolute; "" otherwise
	file   os.FileInfo // its identity when opened
	wal    bool        // the SQLite file is in WAL mode

	lostMu   sync.Mutex
	lost     atomic.Pointer[error]
	log      *slog.Logger
	stopOnce sync.Once
	stop     chan struct{}
	watching sync.WaitGroup
}

// Option configures a DB as it is opened.
type Option func(*DB)

// WithLogger sets where the database reports problems it finds later,
// such as a lost database file. Default slog.Default().
func WithLogger(log *slog.Logger) Option {
	return func(db *DB) { db.log = log }
}

// Conns are the connections an engine package (database/sqlite,
// database/postgres) opened for a URL; New makes a DB of them. An
// application opens its database with one of those packages, never with
// New directly.
type Conns struct {
	// Dialector returns GORM's dialect on the connections. It is given the
	// DB being made, for a connection pool that asks db.Writable before
	// each write.
	Dialector func(db *DB) gorm.Dialector
	// Writer is the *sql.DB that writes: SQLite's one writer connection,
	// PostgreSQL's pool. It is pinged first.
	Writer *sql.DB
	// Reader is SQLite's pool of reader connections, which also
	// checkpoints the log in the background; nil on PostgreSQL.
	Reader *sql.DB
	// Path is the absolute path of the SQLite file, which the DB watches;
	// "" for PostgreSQL and in-memory databases.
	Path string
	// WAL reports a SQLite file in write-ahead-log mode.
	WAL bool
}

// New checks that c's connections answer, opens GORM on them and returns
// the DB, for the engine packages. Errors never show a password; on an
// error c's connections are closed.
func New(ctx context.Context, u URL, c Conns, opts ...Option) (*DB, error) {
	db := &DB{Engine: u.Engine, Timeout: u.Timeout, url: u, sql: c.Writer, reader: c.Reader, path: c.Path, wal: c.WAL, log: slog.Default()}
	fail := func(err error) (*DB, error) {
		c.Writer.Close()
		if c.Reader != nil {
			c.Reader.Close()
		}
		return nil, fmt.Errorf("database %s: %w", u.shown, redact(err, u.secrets))
	}
	// The writer connects first: on SQLite it creates the file and
	// switches it to WAL before any reader looks at it.
	if err := c.Writer.PingContext(ctx); err != nil {
		return fail(err)
	}
	if c.Reader != nil {
		if err := c.Reader.PingContext(ctx); err != nil {
			return fail(err)
		}
	}
	g, err := gorm.Open(c.Dialector(db), gormConfig())
	if err != nil {
		return fail(err)
	}
	db.Gorm = g
	if db.path != "" {
		if db.file, err = os.Stat(db.path); err != nil {
			return fail(err)
		}
	}
	for _, o := range opts {
		o(db)
	}
	if db.file != nil {
		db.stop = make(chan struct{})
		db.watching.Add(1)
		go db.watch()
		if db.wal && db.reader != nil {
			db.watching.Add(1)
			go db.checkpoint()
		}
	}
	return db, nil
}

// FromGORM wraps a GORM handle that the application opened itself, on the
// given engine, so that dbstore and migrations can use it. It reads the
// busy timeout and journal mode from a SQLite connection; prefer the
// engine packages' Open, which also sets them right (a SQLite database not in WAL mode cannot
// have dbstore's cache, and dbstore says so).
func FromGORM(ctx context.Context, g *gorm.DB, engine Engine) (*DB, error) {
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	db := &DB{Gorm: g, Engine: engine, Timeout: defaultTimeout, sql: sqlDB, log: slog.Default()}
	switch engine {
	case SQLite:
		var ms int64
		if err := sqlDB.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
			return nil, fmt.Errorf("database: read the busy timeout: %w", err)
		}
		db.Timeout = time.Duration(ms) * time.Millisecond
		var mode string
		if err := sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return nil, fmt.Errorf("database: read the journal mode: %w", err)
		}
		db.wal = mode == "wal"
		rows, err := sqlDB.QueryContext(ctx, "PRAGMA database_list")
		if err != nil {
			return nil, fmt.Errorf("database: read the file name: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq int
			var name, file string
			if rows.Scan(&seq, &name, &file) == nil && name == "main" {
				db.path = file
			}
		}
	case PostgreSQL:
	default:
		return nil, fmt.Errorf("database: unknown engine %d", engine)
	}
	return db, nil
}

// SQL returns the *sql.DB that writes: on SQLite the one writer
// connection, on PostgreSQL the pool. Closing it closes the database.
func (db *DB) SQL() *sql.DB { return db.sql }

// Path returns the absolute path of the SQLite file, or "" for
// PostgreSQL and in-memory databases.
func (db *DB) Path() string { return db.path }

// WAL reports whether the database is a SQLite file in WAL mode, which
// dbstore's cache needs.
func (db *DB) WAL() bool { return db.wal && db.path != "" }

// URL returns the URL the database was opened from (zero for FromGORM).
func (db *DB) URL() URL { return db.url }

// Writable returns ErrFileLost when the SQLite file the database was
// opened from is no longer the one at its path (deleted or replaced): a
// write now would go to a file nobody will open again. It looks at the
// file each time (one stat), so a writer that asks before each
// transaction never has a write acknowledged after the file went. Other
// databases are always writable, as far as this goes.
func (db *DB) Writable() error { return db.checkFile() }

// Err returns ErrFileLost once the SQLite file was found deleted or
// replaced, and nil otherwise; it costs one atomic load (see Writable).
func (db *DB) Err() error {
	if p := db.lost.Load(); p != nil {
		return *p
	}
	return nil
}

// Check reports whether the database answers within ctx and its file is
// still the one that was opened: a readiness probe.
func (db *DB) Check(ctx context.Context) error {
	if err := db.checkFile(); err != nil {
		return err
	}
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("database %s: %w", db.url.shown, redact(err, db.url.secrets))
	}
	return nil
}

// checkFile compares the file at the path with the one opened, and marks
// the database lost when they differ.
func (db *DB) checkFile() error {
	if err := db.Err(); err != nil || db.file == nil {
		return err
	}
	fi, err := os.Stat(db.path)
	if err == nil && os.SameFile(fi, db.file) {
		return nil
	}
	db.lostMu.Lock()
	defer db.lostMu.Unlock()
	if err := db.Err(); err != nil {
		return err
	}
	// Logged before it takes effect: whoever sees Err also finds the
	// reason in the log.
	db.log.Error("the database file was deleted or replaced while the site had it open: writes are refused from now on; restart to open the file that is there now", "path", db.path)
	lost := fmt.Errorf("%w: %s", ErrFileLost, db.path)
	db.lost.Store(&lost)
	return lost
}

// watchInterval is how often the SQLite file's identity is checked.
const watchInterval = time.Second

// watch checks the file every watchInterval until Close.
func (db *DB) watch() {
	defer db.watching.Done()
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			if db.checkFile() != nil {
				return
			}
		}
	}
}

// checkpointInterval is how often a SQLite file's write-ahead log is
// checkpointed in the background (see checkpoint).
const checkpointInterval = 200 * time.Millisecond

// checkpoint copies the write-ahead log into the database file every
// checkpointInterval until Close, on a reader connection. SQLite's
// automatic checkpoint (every 1,000 pages of log) runs inside the commit
// that crosses the threshold, two fsyncs included: with group commit,
// inside the response of every request of that group, which is what
// made the slowest writes slow. A passive checkpoint takes no write lock,
// so the writer goes on meanwhile; with nothing to copy it costs a read
// of the log's index.
func (db *DB) checkpoint() {
	defer db.watching.Done()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	ctx := context.Background()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			var busy, log, done int
			if err := db.reader.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
				db.log.Debug("database: background checkpoint failed", "error", err)
			}
		}
	}
}

// Close stops watching the file and closes every connection.
func (db *DB) Close() error {
	db.stopOnce.Do(func() {
		if db.stop != nil {
			close(db.stop)
		}
	})
	db.watching.Wait()
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("database: close: %w", err)
	}
	return nil
}

// gormConfig is GORM's configuration, the same on every engine.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		// Every statement the session store runs is a single atomic
		// statement; GORM's default transaction around each Create/Update/
		// Delete would only add a BEGIN and a COMMIT round trip.
		SkipDefaultTransaction: true,
		// Quiet: no SQL in the logs, only statements slower than 200 ms,
		// without their arguments, which hold session keys and data.
		Logger: quietLogger{Interface: logger.NewSlogLogger(slog.Default(), logger.Config{
			SlowThreshold:             200 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true,
		}), level: logger.Warn},
		// Constraint violations become gorm.ErrDuplicatedKey and
		// gorm.ErrForeignKeyViolated, which callers can test for without
		// knowing the driver.
		TranslateError: true,
	}
}

// quietLogger is a GORM logger that leaves failed statements to the
// caller, who gets the error and reports it with its context: a request
// cancelled by its client is not a database error worth a log line. In
// Info mode (db.Debug()) it logs everything, failures included.
type quietLogger struct {
	logger.Interface
	level logger.LogLevel
}

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: l.Interface.LogMode(level), level: level}
}

// ParamsFilter is the inner logger's, which leaves a statement's
// arguments out (ParameterizedQueries). GORM looks for it by type
// assertion, which the embedded interface hides: without this method a
// slow statement would be logged with its arguments, session keys
// included.
func (l quietLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level < logger.Info {
		err = nil // slow statements are still logged
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

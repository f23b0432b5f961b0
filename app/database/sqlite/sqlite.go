// Package sqlite opens a SQLite database as a [database.DB], configured
// for a web server (see package database), with mattn/go-sqlite3, which
// needs cgo.
//
//	db, err := sqlite.OpenURL(ctx, "sqlite:db.sqlite3")
//
// The URL's forms and options are database.ParseURL's.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/mattn/go-sqlite3"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/database"
)

// Open opens the SQLite database of u and checks that it can be used:
// two connection pools share the file, behind the one *gorm.DB:
//
//   - one writer connection, on which every write and every transaction
//     runs, one at a time. SQLite allows a single writer per database; a
//     queue in Go is fair and costs nothing, while several writer
//     connections would fight through SQLite's busy handler, which polls
//     with sleeps of up to 100 ms and is what gives SQLite servers their
//     long tail latencies.
//   - several reader connections for plain SELECTs (and read-only
//     transactions), which in WAL mode run in parallel with each other and
//     with the writer, and see every committed write.
//
// The routing is by statement: SELECT goes to the readers, everything else
// to the writer. GORM's PrepareStmt mode caches a prepared SELECT on the
// readers and cannot reuse it inside a transaction; do not enable it on a
// *gorm.DB whose transactions read (dbstore enables it only for its own
// single statements).
//
// A missing file in an existing directory is created empty, as SQLite
// does; a missing directory or a file that is not a database is an error.
// An empty or out-of-date database opens fine: apply the migrations
// (package migrations/sqlite) before use. Close the DB when done.
func Open(ctx context.Context, u database.URL, opts ...database.Option) (*database.DB, error) {
	if u.Engine != database.SQLite {
		return nil, fmt.Errorf("sqlite: %s is not a SQLite URL", u)
	}
	drv := &sqlite3.SQLiteDriver{}
	pool := &pool{}
	conns := database.Conns{
		Dialector: func(db *database.DB) gorm.Dialector {
			pool.db = db
			return &gormsqlite.Dialector{Conn: pool}
		},
	}
	if u.Memory {
		// Every connection to ":memory:" is a database of its own: one
		// connection, kept forever, serves reads and writes.
		one := sql.OpenDB(&connector{drv: drv, dsn: dsn("file::memory:", true, u)})
		one.SetMaxOpenConns(1)
		one.SetMaxIdleConns(1)
		pool.writer, pool.reader = one, one
		conns.Writer = one
	} else {
		abs, err := filepath.Abs(u.Path)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", u.Path, err)
		}
		dir := filepath.Dir(abs)
		switch fi, err := os.Stat(dir); {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("database %s: directory %s does not exist", abs, dir)
		case err != nil:
			return nil, fmt.Errorf("database %s: %w", abs, err)
		case !fi.IsDir():
			return nil, fmt.Errorf("database %s: %s is not a directory", abs, dir)
		}
		// A file: URI with the path escaped, so that '?', '#' and '%' in
		// a file name are not read as URI syntax.
		uri := "file:" + (&url.URL{Path: abs}).EscapedPath()
		reader := sql.OpenDB(&connector{drv: drv, dsn: dsn(uri, false, u)})
		// Closing the writer closes the readers. The writer checkpoints
		// the log itself only as a backstop (the DB checkpoints it in the
		// background).
		writerDrv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = "+strconv.Itoa(writerAutoCheckpoint), nil)
			return err
		}}
		writer := sql.OpenDB(&connector{drv: writerDrv, dsn: dsn(uri, true, u), onClose: reader.Close})
		writer.SetMaxOpenConns(1)
		writer.SetMaxIdleConns(1)
		// Reads are CPU-bound and each connection keeps its own page
		// cache: a few per core. Idle connections are kept, since opening
		// one costs the PRAGMAs above.
		n := max(4, 2*runtime.GOMAXPROCS(0))
		reader.SetMaxOpenConns(n)
		reader.SetMaxIdleConns(n)
		pool.writer, pool.reader = writer, reader
		conns.Writer, conns.Reader, conns.Path, conns.WAL = writer, reader, abs, true
	}
	return database.New(ctx, u, conns, opts...)
}

// OpenURL parses raw with database.ParseURL and opens it with Open.
func OpenURL(ctx context.Context, raw string, opts ...database.Option) (*database.DB, error) {
	u, err := database.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return Open(ctx, u, opts...)
}

// writerAutoCheckpoint is the writer connection's own automatic
// checkpoint, in pages of log: a backstop far above what the background
// checkpoint leaves, for when it cannot keep up.
const writerAutoCheckpoint = 10000

// dsn returns the DSN of a connection to the SQLite URI uri: the
// connection settings are mattn/go-sqlite3 parameters, each run as a
// PRAGMA on every new connection.
func dsn(uri string, writer bool, u database.URL) string {
	v := url.Values{}
	// Wait up to Timeout for another process's write lock (another server
	// process, manage clearsessions, Django) instead of failing at once
	// with "database is locked". The session store lowers it for a
	// request that has already waited (see dbstore).
	v.Set("_busy_timeout", strconv.FormatInt(u.Timeout.Milliseconds(), 10))
	// Enforce foreign keys, which SQLite leaves off by default, so that
	// tables referring to others stay consistent.
	v.Set("_foreign_keys", "1")
	if !writer {
		// A reader must never write: a statement routed to it by mistake
		// fails loudly ("attempt to write a readonly database") instead
		// of competing with the writer connection.
		v.Set("_query_only", "1")
		return uri + "?" + v.Encode()
	}
	// WAL: readers do not block the writer and the writer does not block
	// readers, and a commit appends to the log instead of rewriting
	// pages. The mode is stored in the file, so it holds for every
	// process (Django included) from then on.
	v.Set("_journal_mode", "WAL")
	// In WAL mode NORMAL fsyncs at checkpoints only, not at each commit:
	// a power cut may lose the last commits but never corrupts the
	// database. That is the usual trade for sessions; FULL, on request,
	// fsyncs every commit.
	v.Set("_synchronous", u.Synchronous)
	// BEGIN IMMEDIATE takes the write lock when a transaction starts. A
	// deferred transaction that reads and then writes has to upgrade its
	// lock, and when another process has written meanwhile SQLite refuses
	// at once (SQLITE_BUSY, without waiting), so two such transactions can
	// fail each other.
	v.Set("_txlock", "immediate")
	return uri + "?" + v.Encode()
}

// connector opens connections to one DSN. It exists for its Close:
// database/sql calls it when the *sql.DB is closed.
type connector struct {
	drv     *sqlite3.SQLiteDriver
	dsn     string
	onClose func() error
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c *connector) Driver() driver.Driver { return c.drv }

func (c *connector) Close() error {
	if c.onClose == nil {
		return nil
	}
	return c.onClose()
}

// pool is the gorm.ConnPool that sends each statement to the writer or to
// the readers (see Open). Writes fail once the database file was lost
// (see database.DB.Writable).
type pool struct {
	writer, reader *sql.DB
	db             *database.DB // set before GORM runs a statement
}

// pick returns the pool for query: the readers for a SELECT, the writer
// for anything else (a WITH may end in a DELETE; INSERT ... RETURNING
// arrives through QueryContext).
func (p *pool) pick(query string) *sql.DB {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) > len("select") && strings.EqualFold(q[:len("select")], "select") {
		switch q[len("select")] {
		case ' ', '\t', '\r', '\n', '*', '(':
			return p.reader
		}
	}
	return p.writer
}

func (p *pool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.pick(query).PrepareContext(ctx, query)
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.db.Writable(); err != nil {
		return nil, err
	}
	return p.writer.ExecContext(ctx, query, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db := p.pick(query)
	if db == p.writer {
		if err := p.db.Writable(); err != nil {
			return nil, err
		}
	}
	return db.QueryContext(ctx, query, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.pick(query).QueryRowContext(ctx, query, args...)
}

// BeginTx starts a transaction on the writer (BEGIN IMMEDIATE), or on a
// reader for a read-only one, which then reads one consistent snapshot
// without holding up writes.
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if opts != nil && opts.ReadOnly {
		return p.reader.BeginTx(ctx, opts)
	}
	if err := p.db.Writable(); err != nil {
		return nil, err
	}
	return p.writer.BeginTx(ctx, opts)
}

// GetDBConn is what gorm.DB.DB returns: the writer.
func (p *pool) GetDBConn() (*sql.DB, error) { return p.writer, nil }

// Ping checks both pools; GORM calls it when opening.
func (p *pool) Ping() error {
	return errors.Join(p.writer.Ping(), p.reader.Ping())
}

// WriteLocked reports whether a connection holds the write lock of db's
// SQLite file now: another process's transaction (a migration running,
// manage clearsessions), or this process's writer in a commit. It tries
// to take the lock without waiting, on a connection of its own that it
// closes at once, and releases it at once. It is for rare questions (is
// a version marked dirty a migration in flight?), not for every request.
// A database that is not a SQLite file is never write-locked.
func WriteLocked(ctx context.Context, db *database.DB) (bool, error) {
	path := db.Path()
	if db.Engine != database.SQLite || path == "" {
		return false, nil
	}
	// Neither busy timeout nor query_only, unlike the pool's connections:
	// the lock is tried once.
	uri := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_busy_timeout=0"
	c, err := (&sqlite3.SQLiteDriver{}).Open(uri)
	if err != nil {
		return false, fmt.Errorf("database %s: %w", path, err)
	}
	defer c.Close()
	conn := c.(*sqlite3.SQLiteConn)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	_, err = conn.Exec("BEGIN IMMEDIATE", nil)
	var serr sqlite3.Error
	if errors.As(err, &serr) && (serr.Code == sqlite3.ErrBusy || serr.Code == sqlite3.ErrLocked) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("database %s: try the write lock: %w", path, err)
	}
	if _, err := conn.Exec("ROLLBACK", nil); err != nil {
		return false, fmt.Errorf("database %s: release the write lock: %w", path, err)
	}
	return false, nil
}

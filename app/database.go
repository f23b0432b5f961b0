package app

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenDB opens the database that databaseURL names, configured for a web
// server, and checks that it can be used. This is the only place that
// knows the SQL drivers. Two engines are supported:
//
//   - PostgreSQL: "postgres://user:password@host:port/dbname?options" (or
//     "postgresql://"), opened with pgx. See openPostgres for the settings.
//   - SQLite: "sqlite:PATH", "sqlite3:PATH", dj-database-url's
//     "sqlite:///relative" and "sqlite:////absolute", "file:PATH" and a
//     plain path are accepted (any query string other than synchronous= is
//     ignored), and "sqlite::memory:" gives a private in-memory database.
//
// Any other scheme is an error. Errors never show the URL's password.
//
// A missing SQLite file in an existing directory is created empty, as
// SQLite does; a missing directory or a file that is not a database is an
// error. An empty or out-of-date database opens fine: ask
// migrations.Status, or apply migrations.Up.
//
// On SQLite two connection pools share the file, behind the one *gorm.DB
// returned:
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
// *gorm.DB whose transactions read (app/session/dbstore enables it only for
// its own single statements).
//
// db.DB() returns the writer's *sql.DB (on PostgreSQL, the one pool),
// which is what migrations need; closing it closes everything, so callers
// close the database with
//
//	sqlDB, err := db.DB()
//	...
//	err = sqlDB.Close()
func OpenDB(ctx context.Context, databaseURL string) (*gorm.DB, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, errors.New("open database: the database URL is empty")
	}
	if isPostgresURL(databaseURL) {
		return openPostgres(ctx, databaseURL)
	}
	// One parser for the URL forms, shared with the development secret
	// key that is kept beside the file (secret.go).
	path, memory, ok := sqlitePath(databaseURL)
	if !ok {
		return nil, fmt.Errorf("open database: unsupported database URL scheme %q: supported are PostgreSQL (postgres://user:password@host:port/dbname) and SQLite (sqlite:PATH or a plain path)", urlScheme(databaseURL))
	}

	synchronous, err := synchronousMode(databaseURL)
	if err != nil {
		return nil, err
	}
	pool, name, err := openSQLite(ctx, path, memory, synchronous)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(&sqlite.Dialector{Conn: pool}, gormConfig())
	if err != nil {
		pool.close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	return db, nil
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

// synchronousMode reads the durability mode from the URL's query
// ("sqlite:db.sqlite3?synchronous=full"): NORMAL (the default) survives a
// crash of the process, FULL also a power cut, at the price of an fsync per
// commit (the session store's group commit shares it between concurrent
// writes).
func synchronousMode(databaseURL string) (string, error) {
	_, query, ok := strings.Cut(databaseURL, "?")
	if !ok {
		return "NORMAL", nil
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("open database: bad query string in the database URL: %w", err)
	}
	switch v := strings.ToUpper(values.Get("synchronous")); v {
	case "":
		return "NORMAL", nil
	case "NORMAL", "FULL":
		return v, nil
	default:
		return "", fmt.Errorf("open database: synchronous=%q in the database URL: want normal or full", values.Get("synchronous"))
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

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level < logger.Info {
		err = nil // slow statements are still logged
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// urlScheme returns the scheme of a database URL for an error message,
// without the rest, which may hold a password.
func urlScheme(databaseURL string) string {
	scheme, _, _ := strings.Cut(strings.TrimSpace(databaseURL), ":")
	return scheme
}

// sqliteDSN returns the DSN of a connection to the SQLite URI uri: the
// connection settings are mattn/go-sqlite3 parameters, each run as a
// PRAGMA on every new connection.
func sqliteDSN(uri string, writer bool, synchronous string) string {
	v := url.Values{}
	// Wait up to 5 s for another process's write lock (another server
	// process, manage clearsessions, Django) instead of failing at once
	// with "database is locked".
	v.Set("_busy_timeout", "5000")
	// Enforce foreign keys, which SQLite leaves off by default, so that
	// future tables referring to others stay consistent.
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
	v.Set("_synchronous", synchronous)
	// BEGIN IMMEDIATE takes the write lock when a transaction starts. A
	// deferred transaction that reads and then writes has to upgrade its
	// lock, and when another process has written meanwhile SQLite refuses
	// at once (SQLITE_BUSY, without waiting), so two such transactions can
	// fail each other.
	v.Set("_txlock", "immediate")
	return uri + "?" + v.Encode()
}

// openSQLite opens and pings the writer and reader pools of the file at
// path (or of a private in-memory database). name is the database's name
// for error messages.
func openSQLite(ctx context.Context, path string, memory bool, synchronous string) (pool *sqlitePool, name string, err error) {
	drv := &sqlite3.SQLiteDriver{}
	if memory {
		// Every connection to ":memory:" is a database of its own: one
		// connection, kept forever, serves reads and writes.
		name = ":memory:"
		db := sql.OpenDB(&sqliteConnector{drv: drv, dsn: sqliteDSN("file::memory:", true, synchronous)})
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		pool = &sqlitePool{writer: db, reader: db}
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, path, fmt.Errorf("open database %s: %w", path, err)
		}
		name = abs
		dir := filepath.Dir(abs)
		switch fi, err := os.Stat(dir); {
		case errors.Is(err, fs.ErrNotExist):
			return nil, name, fmt.Errorf("open database %s: directory %s does not exist", name, dir)
		case err != nil:
			return nil, name, fmt.Errorf("open database %s: %w", name, err)
		case !fi.IsDir():
			return nil, name, fmt.Errorf("open database %s: %s is not a directory", name, dir)
		}
		// A file: URI with the path escaped, so that '?', '#' and '%' in
		// a file name are not read as URI syntax.
		uri := "file:" + (&url.URL{Path: abs}).EscapedPath()
		reader := sql.OpenDB(&sqliteConnector{drv: drv, dsn: sqliteDSN(uri, false, synchronous)})
		// Closing the writer (what db.DB() returns) closes the readers.
		writer := sql.OpenDB(&sqliteConnector{drv: drv, dsn: sqliteDSN(uri, true, synchronous), onClose: reader.Close})
		writer.SetMaxOpenConns(1)
		writer.SetMaxIdleConns(1)
		// Reads are CPU-bound and each connection keeps its own page
		// cache: a few per core. Idle connections are kept, since opening
		// one costs the PRAGMAs above.
		n := max(4, 2*runtime.GOMAXPROCS(0))
		reader.SetMaxOpenConns(n)
		reader.SetMaxIdleConns(n)
		pool = &sqlitePool{writer: writer, reader: reader}
	}
	// The writer connects first: it creates the file and switches it to
	// WAL before any reader looks at it.
	if err := pool.writer.PingContext(ctx); err != nil {
		pool.close()
		return nil, name, fmt.Errorf("open database %s: %w", name, err)
	}
	if err := pool.reader.PingContext(ctx); err != nil {
		pool.close()
		return nil, name, fmt.Errorf("open database %s: %w", name, err)
	}
	return pool, name, nil
}

// sqliteConnector opens connections to one DSN. It exists for its Close:
// database/sql calls it when the *sql.DB is closed.
type sqliteConnector struct {
	drv     *sqlite3.SQLiteDriver
	dsn     string
	onClose func() error
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

func (c *sqliteConnector) Close() error {
	if c.onClose == nil {
		return nil
	}
	return c.onClose()
}

// sqlitePool is the gorm.ConnPool that sends each statement to the writer
// or to the readers (see OpenDB).
type sqlitePool struct {
	writer, reader *sql.DB
}

// pick returns the pool for query: the readers for a SELECT, the writer
// for anything else (a WITH may end in a DELETE; INSERT ... RETURNING
// arrives through QueryContext).
func (p *sqlitePool) pick(query string) *sql.DB {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) > len("select") && strings.EqualFold(q[:len("select")], "select") {
		switch q[len("select")] {
		case ' ', '\t', '\r', '\n', '*', '(':
			return p.reader
		}
	}
	return p.writer
}

func (p *sqlitePool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.pick(query).PrepareContext(ctx, query)
}

func (p *sqlitePool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.writer.ExecContext(ctx, query, args...)
}

func (p *sqlitePool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.pick(query).QueryContext(ctx, query, args...)
}

func (p *sqlitePool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.pick(query).QueryRowContext(ctx, query, args...)
}

// BeginTx starts a transaction on the writer (BEGIN IMMEDIATE), or on a
// reader for a read-only one, which then reads one consistent snapshot
// without holding up writes.
func (p *sqlitePool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if opts != nil && opts.ReadOnly {
		return p.reader.BeginTx(ctx, opts)
	}
	return p.writer.BeginTx(ctx, opts)
}

// GetDBConn is what gorm.DB.DB returns: the writer.
func (p *sqlitePool) GetDBConn() (*sql.DB, error) { return p.writer, nil }

// Ping checks both pools; GORM calls it when opening.
func (p *sqlitePool) Ping() error {
	return errors.Join(p.writer.Ping(), p.reader.Ping())
}

// close closes both pools (the writer closes the readers).
func (p *sqlitePool) close() {
	p.writer.Close()
	p.reader.Close()
}

// isPostgresURL reports whether databaseURL names a PostgreSQL database
// ("postgres:" or "postgresql:", in any case).
func isPostgresURL(databaseURL string) bool {
	switch strings.ToLower(urlScheme(databaseURL)) {
	case "postgres", "postgresql":
		return true
	}
	return false
}

// Settings of the PostgreSQL connection pool (see openPostgres).
const (
	// postgresConnectTimeout bounds connecting (TCP, TLS, authentication)
	// when the URL sets no connect_timeout: an unreachable host fails the
	// start in seconds instead of hanging it.
	postgresConnectTimeout = "10"
	// postgresMaxIdleTime closes connections unused for that long, so that
	// a quiet site gives its connections back to the server.
	postgresMaxIdleTime = 5 * time.Minute
	// postgresMaxLifetime renews connections after that long, so that the
	// pool follows a failover or a change of address.
	postgresMaxLifetime = time.Hour
)

// openPostgres opens the PostgreSQL database at databaseURL with pgx, in
// one pool (PostgreSQL runs reads and writes in parallel, each on its
// connection: no writer/reader split as on SQLite):
//
//   - every connection has TimeZone UTC, as Django's connections do with
//     USE_TZ on: a timestamptz is an instant whatever the zone, but text
//     compared with one (models.DateTime's value) is read in that zone.
//   - up to pool_max_conns connections (a URL option, pgxpool's name;
//     default max(10, 4×GOMAXPROCS)), idle ones kept for
//     postgresMaxIdleTime. The server's max_connections (100 by default)
//     bounds the sum over every process.
//   - connect_timeout (seconds) defaults to 10.
//
// Every other URL option is passed to pgx, which takes libpq's (sslmode,
// application_name, ...) and sends unknown ones to the server as settings.
func openPostgres(ctx context.Context, databaseURL string) (*gorm.DB, error) {
	cfg, maxConns, name, secrets, err := postgresConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	pool.SetConnMaxIdleTime(postgresMaxIdleTime)
	pool.SetConnMaxLifetime(postgresMaxLifetime)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", name, redact(err, secrets))
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: pool}), gormConfig())
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", name, redact(err, secrets))
	}
	return db, nil
}

// postgresConfig parses a PostgreSQL URL into pgx's configuration, the
// pool size, the database's name for messages (the URL without password
// or options) and the secrets that error messages must not show.
func postgresConfig(databaseURL string) (cfg *pgx.ConnConfig, maxConns int, name string, secrets []string, err error) {
	u, err := url.Parse(strings.TrimSpace(databaseURL))
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, 0, "", nil, fmt.Errorf("open database: bad PostgreSQL URL: %v", err)
	}
	q := u.Query()
	if pw, ok := u.User.Password(); ok && pw != "" {
		secrets = append(secrets, pw)
	}
	if pw := q.Get("password"); pw != "" {
		secrets = append(secrets, pw)
	}
	shown := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		shown.User = url.User(u.User.Username())
	}
	name = shown.String()
	if u.Opaque != "" || u.Host == "" && u.Path == "" {
		return nil, 0, "", nil, fmt.Errorf("open database %s: bad PostgreSQL URL: want postgres://user:password@host:port/dbname", u.Scheme+":...")
	}

	maxConns = max(10, 4*runtime.GOMAXPROCS(0))
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, 0, "", nil, fmt.Errorf("open database %s: pool_max_conns=%q: want a whole number, 1 or more", name, v)
		}
		maxConns = n
		q.Del("pool_max_conns")
	}
	if !q.Has("connect_timeout") {
		q.Set("connect_timeout", postgresConnectTimeout)
	}
	u.RawQuery = q.Encode()
	cfg, err = pgx.ParseConfig(u.String())
	if err != nil {
		return nil, 0, "", nil, fmt.Errorf("open database %s: bad PostgreSQL URL: %w", name, redact(err, secrets))
	}
	for k := range cfg.RuntimeParams {
		if strings.EqualFold(k, "timezone") {
			delete(cfg.RuntimeParams, k)
		}
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	return cfg, maxConns, name, secrets, nil
}

// redact returns err with every secret masked and on one line (pgx lists
// the addresses it tried on lines of their own). pgx never quotes a
// password; this is a second guard, for secrets long enough that masking
// them cannot garble the message. It still wraps err, for errors.Is and
// errors.As.
func redact(err error, secrets []string) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return redactedError{msg: msg, err: err}
}

// redactedError is an error with a message safe to log.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// Package migrations owns the database schema: numbered SQL files embedded
// in the binary and applied with golang-migrate, like Django's migrate and
// showmigrations. GORM's AutoMigrate is not used; the schema has one owner.
//
// Each engine has its own files, because Django writes a different DDL for
// each: SQLite's are in this directory, PostgreSQL's in postgres/. Both
// sets have the same versions and names; the engine is the one the
// database.DB says it is.
//
// Migrations are plain SQL in *.up.sql / *.down.sql pairs, without
// BEGIN/COMMIT: the SQLite driver runs each file in a transaction, and
// PostgreSQL runs a file sent as one query in one, so a failing migration
// leaves the schema as it was. On PostgreSQL an advisory lock keeps two
// processes from migrating at once.
//
// The applied version is kept in a table of this package's own,
// [VersionTable], not in golang-migrate's default schema_migrations, so
// that an application's own golang-migrate migrations and these apply
// side by side in either order. Earlier releases of this project recorded
// their version (1) in schema_migrations: on the first run with the new
// table that version is adopted (when django_session exists) and
// schema_migrations is left alone, since it may be the application's.
package migrations

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/golang-migrate/migrate/v4"
	migratedb "github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// VersionTable is the table where the applied version of these migrations
// is recorded.
const VersionTable = "gosessions_schema_migrations"

// legacyTable is where earlier releases recorded it: golang-migrate's
// default table, which applications use for their own migrations too.
const legacyTable = "schema_migrations"

// The migrations of each engine.
var (
	//go:embed *.sql
	sqliteFiles embed.FS
	//go:embed postgres/*.sql
	postgresFiles embed.FS
)

// engine is what differs between database engines.
type engine struct {
	files fs.FS // the engine's migrations
	// open returns a migrate instance on db, its database driver and a
	// function that releases what they hold.
	open func(db *sql.DB, src source.Driver) (*migrate.Migrate, migratedb.Driver, func(), error)
	// sqlFalse is the SQL for false in the version table's dirty column.
	sqlFalse string
	// tableExists is a query with one placeholder, a table name, that
	// returns a row when the table exists.
	tableExists string
}

// engineOf returns what differs for db's engine.
func engineOf(db *database.DB) (engine, error) {
	switch db.Engine {
	case database.SQLite:
		return engine{files: sqliteFiles, open: openSQLite, sqlFalse: "0",
			tableExists: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`}, nil
	case database.PostgreSQL:
		files, err := fs.Sub(postgresFiles, "postgres")
		if err != nil {
			return engine{}, fmt.Errorf("migrations: read embedded files: %w", err)
		}
		return engine{files: files, open: openPostgres, sqlFalse: "false",
			tableExists: `SELECT 1 WHERE to_regclass($1) IS NOT NULL`}, nil
	}
	return engine{}, fmt.Errorf("migrations: unsupported database engine %v", db.Engine)
}

// Info describes one embedded migration.
type Info struct {
	// Version is the number the file name starts with.
	Version uint
	// Name is the rest of the file name, e.g. "create_django_session".
	Name string
	// Applied reports whether the migration is applied to the database
	// (after the step, when reported by Up or To).
	Applied bool
}

// ErrDirty reports a database whose last migration failed part-way (or
// whose migrating process died): nothing runs until an operator repairs
// it. The error wrapping it says how.
var ErrDirty = errors.New("migrations: database is dirty")

// Status returns every embedded migration, oldest first, with whether it is
// applied, like Django's showmigrations. A database that was never migrated
// has none applied. On a dirty database it returns the list (the failed
// migration shown as not applied) together with an error wrapping
// ErrDirty.
func Status(db *database.DB) ([]Info, error) {
	e, err := engineOf(db)
	if err != nil {
		return nil, err
	}
	all, err := embedded(e.files)
	if err != nil {
		return nil, err
	}
	_, drv, done, err := open(e, db)
	if err != nil {
		return nil, err
	}
	defer done()
	cur, dirty, err := version(drv)
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i].Applied = all[i].Version < cur || (all[i].Version == cur && !dirty)
	}
	if dirty {
		return all, dirtyError(e, all, cur)
	}
	return all, nil
}

// ErrMigrating reports a migration in flight: another connection holds
// the migration lock (PostgreSQL), or on SQLite the version is marked
// dirty while another connection holds the write lock, as golang-migrate
// marks it while it runs a migration.
var ErrMigrating = errors.New("migrations: a migration is in flight")

// Pending returns how many embedded migrations the database lacks, for a
// readiness probe asked at any rate: it reads the version table directly
// (no golang-migrate instance, nothing created or adopted, no connection
// beyond db's own pool), never waits for the migration lock, and is
// bounded by ctx, on PostgreSQL also on the server's side (its statement
// and lock timeouts end with ctx, so no query of it outlives a caller that
// gave up).
//
// A migration in flight is ErrMigrating; a version marked dirty that no
// one is migrating wraps ErrDirty, as Status reports it. A database
// without VersionTable has every migration pending (Up adopts an earlier
// release's schema_migrations; Pending does not look at it).
func Pending(ctx context.Context, db *database.DB) (int, error) {
	e, err := engineOf(db)
	if err != nil {
		return 0, err
	}
	all, err := embedded(e.files)
	if err != nil {
		return 0, err
	}
	var cur uint
	var dirty bool
	switch db.Engine {
	case database.PostgreSQL:
		cur, dirty, err = postgresVersion(ctx, db)
	default:
		cur, dirty, err = sqliteVersion(ctx, db)
	}
	if err != nil {
		return 0, err
	}
	if dirty {
		return 0, dirtyError(e, all, cur)
	}
	n := 0
	for _, m := range all {
		if m.Version > cur {
			n++
		}
	}
	return n, nil
}

// postgresVersion reads the applied version in one short read-only
// transaction on db's pool, holding the migration lock for the read if it
// is free (a transaction-level advisory lock on golang-migrate's key,
// released at the commit) and answering ErrMigrating at once if it is not.
func postgresVersion(ctx context.Context, db *database.DB) (v uint, dirty bool, err error) {
	tx, err := db.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	defer tx.Rollback()
	bound := db.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		bound = time.Until(deadline)
	}
	ms := strconv.FormatInt(max(1, bound.Milliseconds()), 10)
	var (
		dbName, schema string
		exists         bool
	)
	err = tx.QueryRowContext(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true),
		current_database(), current_schema(), to_regclass(format('%I.%I', current_schema(), $2::text)) IS NOT NULL`,
		ms, VersionTable).Scan(new(string), new(string), &dbName, &schema, &exists)
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	// The key golang-migrate's PostgreSQL driver locks (its Lock).
	key, err := migratedb.GenerateAdvisoryLockId(dbName, schema, VersionTable)
	if err != nil {
		return 0, false, fmt.Errorf("migrations: lock key: %w", err)
	}
	var free bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1::bigint)`, key).Scan(&free); err != nil {
		return 0, false, fmt.Errorf("migrations: try the migration lock: %w", err)
	}
	if !free {
		return 0, false, ErrMigrating
	}
	if !exists {
		return 0, false, nil
	}
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version, dirty FROM `+pgx.Identifier{schema, VersionTable}.Sanitize()+` LIMIT 1`).Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	return versionOf(version), dirty, nil
}

// sqliteVersion reads the applied version on db's readers. SQLite has no
// migration lock between processes: a version marked dirty is a migration
// in flight when another connection holds the write lock (golang-migrate
// runs each migration in a write transaction), looked at a few times a
// few milliseconds apart so that this process's own commits are not taken
// for one.
func sqliteVersion(ctx context.Context, db *database.DB) (v uint, dirty bool, err error) {
	var version int64
	err = db.Gorm.WithContext(ctx).Raw(`SELECT version, dirty FROM `+VersionTable+` LIMIT 1`).Row().Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	if dirty {
		for range 3 {
			locked, err := db.WriteLocked(ctx)
			if err != nil {
				return 0, false, fmt.Errorf("migrations: %w", err)
			}
			if !locked {
				return versionOf(version), true, nil
			}
			select {
			case <-ctx.Done():
				return 0, false, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return 0, false, ErrMigrating
	}
	return versionOf(version), false, nil
}

// versionOf is a version read from VersionTable, 0 for golang-migrate's
// NilVersion (-1).
func versionOf(v int64) uint {
	if v < 0 {
		return 0
	}
	return uint(v)
}

// Up applies every pending migration in order, calling report (when not
// nil) after each one. Nothing pending is success.
func Up(db *database.DB, report func(Info)) error {
	e, err := engineOf(db)
	if err != nil {
		return err
	}
	all, err := embedded(e.files)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return nil
	}
	return migrateTo(e, db, all, all[len(all)-1].Version, report)
}

// To migrates up or down to version, calling report (when not nil) after
// each migration applied (Applied true) or reverted (Applied false).
// Version 0 reverts every migration.
func To(db *database.DB, version uint, report func(Info)) error {
	e, err := engineOf(db)
	if err != nil {
		return err
	}
	all, err := embedded(e.files)
	if err != nil {
		return err
	}
	if version != 0 && index(all, version) < 0 {
		return fmt.Errorf("migrations: no migration has version %d (known: %s)", version, versions(all))
	}
	return migrateTo(e, db, all, version, report)
}

// migrateTo moves one migration at a time so that each step can be
// reported as it completes. Several processes may run it at once: each
// step is taken under golang-migrate's lock (an advisory lock on
// PostgreSQL), from the version found then.
func migrateTo(e engine, db *database.DB, all []Info, target uint, report func(Info)) error {
	m, drv, done, err := open(e, db)
	if err != nil {
		return err
	}
	defer done()
	for {
		cur, dirty, err := version(drv)
		if err != nil {
			return err
		}
		if dirty {
			return dirtyError(e, all, cur)
		}
		i := index(all, cur)
		if cur != 0 && i < 0 {
			return fmt.Errorf("migrations: the database is at version %d, which this program does not know (known: %s); it was migrated by a newer version", cur, versions(all))
		}
		var step Info
		switch {
		case cur == target:
			return nil
		case cur < target:
			step = all[i+1] // i is -1 when nothing is applied
			step.Applied = true
			err = m.Steps(1)
		default:
			step = all[i]
			err = m.Steps(-1)
		}
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, migrate.ErrNoChange) {
			// No step to take from the version golang-migrate found under
			// its lock: another process (a second server starting at the
			// same time) migrated after the version was read. Look again.
			if now, _, verr := version(drv); verr == nil && now != cur {
				continue
			}
		}
		if err != nil {
			verb := "apply"
			if !step.Applied {
				verb = "revert"
			}
			return fmt.Errorf("migrations: %s %d_%s: %w", verb, step.Version, step.Name, err)
		}
		if report != nil {
			report(step)
		}
	}
}

// open returns a migrate instance on db with e's migrations, its database
// driver, and a function to call when done with them.
func open(e engine, db *database.DB) (*migrate.Migrate, migratedb.Driver, func(), error) {
	src, err := iofs.New(e.files, ".")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: read embedded files: %w", err)
	}
	m, drv, done, err := e.open(db.SQL(), src)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := adopt(e, db, drv); err != nil {
		done()
		return nil, nil, nil, err
	}
	return m, drv, done, nil
}

// adopt records, in VersionTable, the version 1 that an earlier release
// of this project recorded in schema_migrations, when VersionTable has
// none yet and django_session exists. Version 1 is the only version those
// releases had; any other version there belongs to the application. It
// runs under the migration lock.
func adopt(e engine, db *database.DB, drv migratedb.Driver) error {
	if err := drv.Lock(); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	defer drv.Unlock()
	if v, _, err := drv.Version(); err != nil || v != migratedb.NilVersion {
		return err
	}
	ctx := context.Background()
	for _, table := range []string{legacyTable, "django_session"} {
		var one int
		err := db.SQL().QueryRowContext(ctx, e.tableExists, table).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrations: look for table %s: %w", table, err)
		}
	}
	var (
		version int64
		dirty   bool
	)
	err := db.SQL().QueryRowContext(ctx, "SELECT version, dirty FROM "+legacyTable+" LIMIT 1").Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (version != 1 || dirty) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrations: read %s: %w", legacyTable, err)
	}
	if err := drv.SetVersion(1, false); err != nil {
		return fmt.Errorf("migrations: adopt version 1 from %s: %w", legacyTable, err)
	}
	return nil
}

// openSQLite returns a migrate instance on a SQLite db. It is never
// closed: migrate's Close closes the database driver, and the SQLite
// driver then closes db, which belongs to the caller. Dropping the
// instance leaks nothing (no goroutine outlives a migration, and the
// driver holds no connection), and the embedded source has nothing to
// close.
func openSQLite(db *sql.DB, src source.Driver) (*migrate.Migrate, migratedb.Driver, func(), error) {
	drv, err := sqlite3.WithInstance(db, &sqlite3.Config{MigrationsTable: VersionTable})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: open database: %w", err)
	}
	return newMigrate(src, "sqlite3", drv, func() {})
}

// openPostgres returns a migrate instance on a PostgreSQL db. The pgx
// driver of golang-migrate keeps a connection for itself until it is
// closed, and closing it closes its *sql.DB; so it gets a pool of its own,
// opened with db's connection settings, and done closes that pool.
func openPostgres(db *sql.DB, src source.Driver) (*migrate.Migrate, migratedb.Driver, func(), error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: open database: %w", err)
	}
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected connection type %T", dc)
		}
		cfg = c.Conn().Config()
		return nil
	})
	conn.Close()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: open database: %w", err)
	}
	own := stdlib.OpenDB(*cfg)
	drv, err := pgxmigrate.WithInstance(own, &pgxmigrate.Config{MigrationsTable: VersionTable})
	if err != nil {
		own.Close()
		return nil, nil, nil, fmt.Errorf("migrations: open database: %w", err)
	}
	return newMigrate(src, "pgx5", drv, func() { drv.Close() })
}

// newMigrate returns a migrate instance on src and drv; closeDriver
// releases drv when it is not wanted.
func newMigrate(src source.Driver, name string, drv migratedb.Driver, closeDriver func()) (*migrate.Migrate, migratedb.Driver, func(), error) {
	m, err := migrate.NewWithInstance("iofs", src, name, drv)
	if err != nil {
		closeDriver()
		return nil, nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return m, drv, closeDriver, nil
}

// version returns the applied version, 0 when none. It reads it under
// the migration lock, which a migrating process holds from marking its
// migration dirty to marking it done: another process's migration in
// flight is waited for, not mistaken for a failed one.
func version(drv migratedb.Driver) (uint, bool, error) {
	if err := drv.Lock(); err != nil {
		return 0, false, fmt.Errorf("migrations: lock: %w", err)
	}
	v, dirty, err := drv.Version()
	if uerr := drv.Unlock(); err == nil && uerr != nil {
		err = uerr
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	if v == migratedb.NilVersion {
		return 0, false, nil
	}
	return uint(v), dirty, nil
}

// dirtyError explains what to do about a dirty database. Each migration
// runs in a transaction, so the schema is as it was before version cur
// and the record only needs to say so again.
func dirtyError(e engine, all []Info, cur uint) error {
	name := "unknown"
	fix := "DELETE FROM " + VersionTable
	if i := index(all, cur); i >= 0 {
		name = all[i].Name
		if i > 0 {
			fix = fmt.Sprintf("UPDATE %s SET version = %d, dirty = %s", VersionTable, all[i-1].Version, e.sqlFalse)
		}
	}
	return fmt.Errorf("%w: migration %d_%s failed part-way and was rolled back; "+
		"fix the cause, mark the previous version as current with the SQL %q, then migrate again",
		ErrDirty, cur, name, fix)
}

// embedded lists the migrations in files, oldest first.
func embedded(files fs.FS) ([]Info, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: read embedded files: %w", err)
	}
	var all []Info
	for _, e := range entries {
		m, err := source.DefaultParse(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrations: embedded file %s: %w", e.Name(), err)
		}
		if m.Direction == source.Up {
			all = append(all, Info{Version: m.Version, Name: m.Identifier})
		}
	}
	slices.SortFunc(all, func(a, b Info) int { return cmp.Compare(a.Version, b.Version) })
	return all, nil
}

func index(all []Info, v uint) int {
	return slices.IndexFunc(all, func(m Info) bool { return m.Version == v })
}

func versions(all []Info) string {
	s := ""
	for i, m := range all {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(m.Version)
	}
	return s
}

// Package migrations owns the database schema: numbered SQL files embedded
// in the binary and applied with golang-migrate, like Django's migrate and
// showmigrations. GORM's AutoMigrate is not used; the schema has one owner.
//
// Each engine has its own files, because Django writes a different DDL for
// each, and its own golang-migrate driver, in a package of its own so that
// a program links only the driver it uses: package migrations/sqlite
// (cgo) and package migrations/postgres (pure Go). Both sets have the same
// versions and names. This package is what they share: an [Engine]'s
// Status, Up and To, the [Info] they report, [ErrDirty].
//
//	err := postgres.Up(db, nil) // package migrations/postgres
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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/golang-migrate/migrate/v4"
	migratedb "github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/djangosessions/gosessions/app/database"
)

// VersionTable is the table where the applied version of these migrations
// is recorded.
const VersionTable = "gosessions_schema_migrations"

// legacyTable is where earlier releases recorded it: golang-migrate's
// default table, which applications use for their own migrations too.
const legacyTable = "schema_migrations"

// Engine is the migrations of one database engine: what packages
// migrations/sqlite and migrations/postgres provide. Its methods apply
// them.
type Engine struct {
	// Database is the engine the migrations are for; they refuse a DB of
	// another.
	Database database.Engine
	// Files are the migrations, *.up.sql and *.down.sql pairs.
	Files fs.FS
	// Driver opens golang-migrate's database driver on db, recording the
	// version in VersionTable, and returns the driver's name and a
	// function that releases what it holds (db stays open: it is the
	// caller's).
	Driver func(db *sql.DB) (drv migratedb.Driver, name string, release func(), err error)
	// False is the SQL for false in the version table's dirty column.
	False string
	// TableExists is a query with one placeholder, a table name, that
	// returns a row when the table exists.
	TableExists string
	// Version reads the applied version and whether it is marked dirty
	// straight from VersionTable, for Pending: on db's own connections,
	// bounded by ctx, never waiting for the migration lock (ErrMigrating
	// when a migration is in flight); 0 when the table does not exist.
	Version func(ctx context.Context, db *database.DB) (version uint, dirty bool, err error)
}

// check refuses a DB of another engine.
func (e Engine) check(db *database.DB) error {
	if db.Engine != e.Database {
		return fmt.Errorf("migrations: these are %v migrations, and the database is %v", e.Database, db.Engine)
	}
	return nil
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
func (e Engine) Status(db *database.DB) ([]Info, error) {
	if err := e.check(db); err != nil {
		return nil, err
	}
	all, err := embedded(e.Files)
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

// Pending returns how many of e's migrations the database lacks, for a
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
func (e Engine) Pending(ctx context.Context, db *database.DB) (int, error) {
	if err := e.check(db); err != nil {
		return 0, err
	}
	all, err := embedded(e.Files)
	if err != nil {
		return 0, err
	}
	cur, dirty, err := e.Version(ctx, db)
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

// Up applies every pending migration in order, calling report (when not
// nil) after each one. Nothing pending is success.
func (e Engine) Up(db *database.DB, report func(Info)) error {
	if err := e.check(db); err != nil {
		return err
	}
	all, err := embedded(e.Files)
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
func (e Engine) To(db *database.DB, version uint, report func(Info)) error {
	if err := e.check(db); err != nil {
		return err
	}
	all, err := embedded(e.Files)
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
func migrateTo(e Engine, db *database.DB, all []Info, target uint, report func(Info)) error {
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
func open(e Engine, db *database.DB) (*migrate.Migrate, migratedb.Driver, func(), error) {
	src, err := iofs.New(e.Files, ".")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: read embedded files: %w", err)
	}
	drv, name, done, err := e.Driver(db.SQL())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("migrations: open database: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, name, drv)
	if err != nil {
		done()
		return nil, nil, nil, fmt.Errorf("migrations: %w", err)
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
func adopt(e Engine, db *database.DB, drv migratedb.Driver) error {
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
		err := db.SQL().QueryRowContext(ctx, e.TableExists, table).Scan(&one)
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
func dirtyError(e Engine, all []Info, cur uint) error {
	name := "unknown"
	fix := "DELETE FROM " + VersionTable
	if i := index(all, cur); i >= 0 {
		name = all[i].Name
		if i > 0 {
			fix = fmt.Sprintf("UPDATE %s SET version = %d, dirty = %s", VersionTable, all[i-1].Version, e.False)
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

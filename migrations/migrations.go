// Package migrations owns the database schema: numbered SQL files embedded
// in the binary and applied with golang-migrate, like Django's migrate and
// showmigrations. GORM's AutoMigrate is not used; the schema has one owner.
//
// Migrations are plain SQL in *.up.sql / *.down.sql pairs, without
// BEGIN/COMMIT: the SQLite driver runs each file in a transaction, so a
// failing migration leaves the schema as it was. The applied version is
// kept in the table schema_migrations.
package migrations

import (
	"cmp"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed *.sql
var files embed.FS

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
func Status(db *sql.DB) ([]Info, error) {
	all, err := embedded()
	if err != nil {
		return nil, err
	}
	m, err := open(db)
	if err != nil {
		return nil, err
	}
	cur, dirty, err := version(m)
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i].Applied = all[i].Version < cur || (all[i].Version == cur && !dirty)
	}
	if dirty {
		return all, dirtyError(all, cur)
	}
	return all, nil
}

// Up applies every pending migration in order, calling report (when not
// nil) after each one. Nothing pending is success.
func Up(db *sql.DB, report func(Info)) error {
	all, err := embedded()
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return nil
	}
	return migrateTo(db, all, all[len(all)-1].Version, report)
}

// To migrates up or down to version, calling report (when not nil) after
// each migration applied (Applied true) or reverted (Applied false).
// Version 0 reverts every migration.
func To(db *sql.DB, version uint, report func(Info)) error {
	all, err := embedded()
	if err != nil {
		return err
	}
	if version != 0 && index(all, version) < 0 {
		return fmt.Errorf("migrations: no migration has version %d (known: %s)", version, versions(all))
	}
	return migrateTo(db, all, version, report)
}

// migrateTo moves one migration at a time so that each step can be
// reported as it completes.
func migrateTo(db *sql.DB, all []Info, target uint, report func(Info)) error {
	m, err := open(db)
	if err != nil {
		return err
	}
	for {
		cur, dirty, err := version(m)
		if err != nil {
			return err
		}
		if dirty {
			return dirtyError(all, cur)
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

// open returns a migrate instance on db. It must never be closed:
// migrate's Close closes the database driver, and the SQLite driver then
// closes db, which belongs to the caller. Dropping the instance leaks
// nothing (no goroutine outlives a migration), and the embedded source has
// nothing to close.
func open(db *sql.DB) (*migrate.Migrate, error) {
	src, err := iofs.New(files, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: read embedded files: %w", err)
	}
	drv, err := sqlite3.WithInstance(db, &sqlite3.Config{})
	if err != nil {
		return nil, fmt.Errorf("migrations: open database: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite3", drv)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return m, nil
}

// version returns the applied version, 0 when none.
func version(m *migrate.Migrate) (uint, bool, error) {
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	return v, dirty, nil
}

// dirtyError explains what to do about a dirty database. SQLite runs each
// migration in a transaction, so the schema is as it was before version
// cur and the record only needs to say so again.
func dirtyError(all []Info, cur uint) error {
	name := "unknown"
	fix := "DELETE FROM schema_migrations"
	if i := index(all, cur); i >= 0 {
		name = all[i].Name
		if i > 0 {
			fix = fmt.Sprintf("UPDATE schema_migrations SET version = %d, dirty = 0", all[i-1].Version)
		}
	}
	return fmt.Errorf("%w: migration %d_%s failed part-way and was rolled back; "+
		"fix the cause, mark the previous version as current with the SQL %q, then migrate again",
		ErrDirty, cur, name, fix)
}

// embedded lists the embedded migrations, oldest first.
func embedded() ([]Info, error) {
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

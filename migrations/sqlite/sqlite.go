// Package sqlite holds the schema migrations of SQLite (Django's DDL for
// SQLite) and applies them with golang-migrate's sqlite3 driver, which
// needs cgo. See package migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	migratedb "github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"

	"github.com/djangosessions/gosessions/app/database"
	sqlitedb "github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/migrations"
)

//go:embed *.sql
var files embed.FS

// Migrations returns SQLite's migrations.
func Migrations() migrations.Engine {
	return migrations.Engine{
		Database:    database.SQLite,
		Files:       files,
		Driver:      driver,
		False:       "0",
		TableExists: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`,
		Version:     version,
	}
}

// Status returns every migration with whether it is applied to db, like
// Django's showmigrations (see migrations.Engine.Status).
func Status(db *database.DB) ([]migrations.Info, error) { return Migrations().Status(db) }

// Up applies every pending migration to db, like Django's migrate (see
// migrations.Engine.Up).
func Up(db *database.DB, report func(migrations.Info)) error { return Migrations().Up(db, report) }

// To migrates db up or down to version (see migrations.Engine.To).
func To(db *database.DB, version uint, report func(migrations.Info)) error {
	return Migrations().To(db, version, report)
}

// driver returns golang-migrate's SQLite driver on db. It is never closed:
// its Close would close db, which belongs to the caller. Dropping it leaks
// nothing (no goroutine outlives a migration, and the driver holds no
// connection).
func driver(db *sql.DB) (migratedb.Driver, string, func(), error) {
	drv, err := sqlite3.WithInstance(db, &sqlite3.Config{MigrationsTable: migrations.VersionTable})
	if err != nil {
		return nil, "", nil, err
	}
	return drv, "sqlite3", func() {}, nil
}

// version reads the applied version on db's readers. SQLite has no
// migration lock between processes: a version marked dirty is a migration
// in flight when another connection holds the write lock (golang-migrate
// runs each migration in a write transaction), looked at a few times a
// few milliseconds apart so that this process's own commits are not taken
// for one.
func version(ctx context.Context, db *database.DB) (v uint, dirty bool, err error) {
	var version int64
	err = db.Gorm.WithContext(ctx).Raw(`SELECT version, dirty FROM `+migrations.VersionTable+` LIMIT 1`).Row().Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	if dirty {
		for range 3 {
			locked, err := sqlitedb.WriteLocked(ctx, db)
			if err != nil {
				return 0, false, fmt.Errorf("migrations: %w", err)
			}
			if !locked {
				return uint(max(version, 0)), true, nil
			}
			select {
			case <-ctx.Done():
				return 0, false, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return 0, false, migrations.ErrMigrating
	}
	return uint(max(version, 0)), false, nil
}

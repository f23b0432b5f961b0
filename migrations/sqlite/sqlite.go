// Package sqlite holds the schema migrations of SQLite (Django's DDL for
// SQLite) and applies them with golang-migrate's sqlite3 driver, which
// needs cgo. See package migrations.
package sqlite

import (
	"database/sql"
	"embed"

	migratedb "github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"

	"github.com/djangosessions/gosessions/app/database"
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

// Package postgres holds the schema migrations of PostgreSQL (Django's
// DDL for PostgreSQL) and applies them with golang-migrate's pgx driver,
// pure Go: a program that uses it and not package migrations/sqlite builds
// without cgo. See package migrations.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	migratedb "github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/migrations"
)

//go:embed *.sql
var files embed.FS

// Migrations returns PostgreSQL's migrations.
func Migrations() migrations.Engine {
	return migrations.Engine{
		Database:    database.PostgreSQL,
		Files:       files,
		Driver:      driver,
		False:       "false",
		TableExists: `SELECT 1 WHERE to_regclass($1) IS NOT NULL`,
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

// driver returns golang-migrate's pgx driver. It keeps a connection for
// itself until it is closed, and closing it closes its *sql.DB; so it gets
// a pool of its own, opened with db's connection settings, which release
// closes.
func driver(db *sql.DB) (migratedb.Driver, string, func(), error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, "", nil, err
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
		return nil, "", nil, err
	}
	own := stdlib.OpenDB(*cfg)
	drv, err := pgxmigrate.WithInstance(own, &pgxmigrate.Config{MigrationsTable: migrations.VersionTable})
	if err != nil {
		own.Close()
		return nil, "", nil, err
	}
	return drv, "pgx5", func() { drv.Close() }, nil
}

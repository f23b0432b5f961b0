// Package postgres holds the schema migrations of PostgreSQL (Django's
// DDL for PostgreSQL) and applies them with golang-migrate's pgx driver,
// pure Go: a program that uses it and not package migrations/sqlite builds
// without cgo. See package migrations.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"time"

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

// version reads the applied version in one short read-only
// transaction on db's pool, holding the migration lock for the read if it
// is free (a transaction-level advisory lock on golang-migrate's key,
// released at the commit) and answering migrations.ErrMigrating at once if it is not.
func version(ctx context.Context, db *database.DB) (v uint, dirty bool, err error) {
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
		ms, migrations.VersionTable).Scan(new(string), new(string), &dbName, &schema, &exists)
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	// The key golang-migrate's PostgreSQL driver locks (its Lock).
	key, err := migratedb.GenerateAdvisoryLockId(dbName, schema, migrations.VersionTable)
	if err != nil {
		return 0, false, fmt.Errorf("migrations: lock key: %w", err)
	}
	var free bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1::bigint)`, key).Scan(&free); err != nil {
		return 0, false, fmt.Errorf("migrations: try the migration lock: %w", err)
	}
	if !free {
		return 0, false, migrations.ErrMigrating
	}
	if !exists {
		return 0, false, nil
	}
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version, dirty FROM `+pgx.Identifier{schema, migrations.VersionTable}.Sanitize()+` LIMIT 1`).Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("migrations: read the applied version: %w", err)
	}
	return uint(max(version, 0)), dirty, nil
}

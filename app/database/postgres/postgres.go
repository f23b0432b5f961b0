// Package postgres opens a PostgreSQL database as a [database.DB], with
// pgx (pure Go): a program that imports it and not package
// database/sqlite builds without cgo.
//
//	db, err := postgres.OpenURL(ctx, "postgres://user:pw@host/db?sslmode=require")
//
// The URL's forms and options are database.ParseURL's.
package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	gormpostgres "gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/database"
)

// Settings of the connection pool (see Open).
const (
	// maxIdleTime closes connections unused for that long, so that a quiet
	// site gives its connections back to the server.
	maxIdleTime = 5 * time.Minute
	// maxLifetime renews connections after that long, so that the pool
	// follows a failover or a change of address.
	maxLifetime = time.Hour
)

// Open opens the PostgreSQL database of u with pgx, in one pool
// (PostgreSQL runs reads and writes in parallel, each on its connection:
// no writer/reader split as on SQLite) of up to u.MaxConns connections,
// idle ones kept for 5 minutes, and checks that it answers. The server's
// max_connections (100 by default) bounds the sum over every process. An
// empty or out-of-date database opens fine: apply the migrations (package
// migrations/postgres) before use. Errors never show a password. Close
// the DB when done.
func Open(ctx context.Context, u database.URL, opts ...database.Option) (*database.DB, error) {
	if u.Engine != database.PostgreSQL {
		return nil, fmt.Errorf("postgres: %s is not a PostgreSQL URL", u)
	}
	pool := stdlib.OpenDB(*u.PgxConfig())
	pool.SetMaxOpenConns(u.MaxConns)
	pool.SetMaxIdleConns(u.MaxConns)
	pool.SetConnMaxIdleTime(maxIdleTime)
	pool.SetConnMaxLifetime(maxLifetime)
	return database.New(ctx, u, database.Conns{
		Dialector: func(*database.DB) gorm.Dialector { return gormpostgres.New(gormpostgres.Config{Conn: pool}) },
		Writer:    pool,
	}, opts...)
}

// OpenURL parses raw with database.ParseURL and opens it with Open.
func OpenURL(ctx context.Context, raw string, opts ...database.Option) (*database.DB, error) {
	u, err := database.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return Open(ctx, u, opts...)
}

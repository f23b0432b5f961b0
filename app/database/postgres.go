package database

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Settings of the PostgreSQL connection pool (see openPostgres).
const (
	// postgresMaxIdleTime closes connections unused for that long, so that
	// a quiet site gives its connections back to the server.
	postgresMaxIdleTime = 5 * time.Minute
	// postgresMaxLifetime renews connections after that long, so that the
	// pool follows a failover or a change of address.
	postgresMaxLifetime = time.Hour
)

// openPostgres opens the PostgreSQL database of u with pgx, in one pool
// (PostgreSQL runs reads and writes in parallel, each on its connection: no
// writer/reader split as on SQLite) of up to u.MaxConns connections, idle
// ones kept for postgresMaxIdleTime. The server's max_connections (100 by
// default) bounds the sum over every process.
func openPostgres(ctx context.Context, u URL) (*DB, error) {
	pool := stdlib.OpenDB(*u.pg)
	pool.SetMaxOpenConns(u.MaxConns)
	pool.SetMaxIdleConns(u.MaxConns)
	pool.SetConnMaxIdleTime(postgresMaxIdleTime)
	pool.SetConnMaxLifetime(postgresMaxLifetime)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", u.shown, redact(err, u.secrets))
	}
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: pool}), gormConfig())
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", u.shown, redact(err, u.secrets))
	}
	return &DB{Gorm: g, Engine: PostgreSQL, Timeout: u.Timeout, url: u, sql: pool}, nil
}

package database

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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

// listenPing is how long a listener waits for a notification before it
// checks that its connection is still alive.
const listenPing = 5 * time.Second

// Listen receives PostgreSQL's notifications on channel, on a connection
// of its own, until the returned stop is called: notify gets each
// payload, in commit order. listening(true) is called once the LISTEN is
// in place, listening(false) when the connection is lost; notifications
// sent meanwhile are lost, so a listener must then assume anything
// changed. It reconnects by itself, with backoff (50 ms doubling to 2 s),
// and logs the first failure of each outage. Only a PostgreSQL DB opened
// by Open can listen.
func (db *DB) Listen(channel string, notify func(payload string), listening func(bool)) (stop func(), err error) {
	if db.Engine != PostgreSQL || db.url.pg == nil {
		return nil, errors.New("database: Listen needs a PostgreSQL database opened by Open")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		backoff := 50 * time.Millisecond
		logged := false
		for {
			started := time.Now()
			err := db.listenOnce(ctx, channel, notify, listening)
			listening(false)
			if ctx.Err() != nil {
				return
			}
			if time.Since(started) > time.Minute {
				backoff, logged = 50*time.Millisecond, false // a new outage
			}
			if !logged {
				db.log.Warn("database: lost the connection that listens for session changes; the session cache is off until it is back", "channel", channel, "error", redact(err, db.url.secrets))
				logged = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// listenOnce connects, listens and delivers notifications until the
// connection fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, channel string, notify func(string), listening func(bool)) error {
	conn, err := pgx.ConnectConfig(ctx, db.url.pg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	listening(true)
	for {
		wait, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			notify(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while: make sure the connection still works.
			if err := conn.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

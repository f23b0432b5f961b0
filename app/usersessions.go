package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/usersessions"
)

// UserIndex is the per-user index of sessions of cfg's engine, ready to
// be put on top of it: the session manager's Watcher (Index) and the
// engine layer that reports its figures and closes what it opened
// (Option). Both are nil for signed cookies, which keep nothing on the
// server.
type UserIndex struct {
	Index  *usersessions.Index
	Option engine.Option
	// close releases what the index opened (a Redis client), when the
	// engine it was meant for did not open; the layer closes it otherwise.
	close func() error
}

// Abandon releases what the index opened, for a caller whose engine
// failed to open (the layer, which closes it otherwise, was never made).
func (ui UserIndex) Abandon() {
	if ui.close != nil {
		ui.close()
	}
}

// NewUserIndex returns the per-user index of cfg's engine, where the
// engine keeps its records: the database's gosessions_usersession table
// (db and cached_db: migration 000005 must be applied), Redis at
// CACHE_URL (cache on Redis) or this process's memory (cache without
// CACHE_URL). Its owners are users, labelled by auth.UserIDOf.
func NewUserIndex(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger) (UserIndex, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		b       usersessions.Backend
		closeFn func() error
	)
	switch cfg.SessionEngine.Needs(cfg.Cache != nil).Record {
	case engine.InCookie:
		return UserIndex{}, nil
	case engine.InDatabase:
		sql, err := usersessions.NewSQL(ctx, db)
		if errors.Is(err, usersessions.ErrNotMigrated) {
			return UserIndex{}, fmt.Errorf("app: the per-user index of sessions: %w", err)
		}
		if err != nil {
			return UserIndex{}, fmt.Errorf("app: %w", err)
		}
		b = sql
	case engine.InRedis:
		client := redis.NewClient(cfg.Cache)
		b, closeFn = usersessions.NewRedis(client, ""), client.Close
	case engine.InMemory:
		b = usersessions.NewMemory()
	default:
		return UserIndex{}, nil // an engine the site does not offer: opening it says why
	}
	idx, err := usersessions.New(b, usersessions.Config{Label: auth.UserIDOf, Logger: log})
	if err != nil {
		return UserIndex{}, fmt.Errorf("app: %w", err)
	}
	counts := &indexCounts{b: b, log: log}
	layer := func(below session.Store) (engine.Layer, error) {
		return engine.Layer{
			Name:  "per-user index",
			Store: below, // the index watches the session manager; it passes the store through
			Close: closeFn,
			Report: func(st *engine.Stats) {
				s := idx.Stats()
				entries, users := counts.get()
				st.Index = &engine.IndexStats{Entries: entries, Users: users, SignedOut: s.SignedOut, Dropped: s.Dropped}
			},
		}, nil
	}
	return UserIndex{Index: idx, Option: engine.WithLayer(layer), close: closeFn}, nil
}

// indexCounts counts the index's entries and users for metrics at most
// once a minute (a COUNT over the table on the database), answering
// with the last count meanwhile.
type indexCounts struct {
	b     usersessions.Backend
	log   *slog.Logger
	count minuteCount[[2]int64]
}

// get returns the count, or -1 and -1 before one has succeeded.
func (c *indexCounts) get() (entries, users int64) {
	n, ok := c.count.get(time.Now(), func() ([2]int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e, u, err := c.b.Count(ctx)
		if err != nil {
			c.log.Warn("metrics: count the per-user index", "error", err)
		}
		return [2]int64{e, u}, err
	})
	if !ok {
		return -1, -1
	}
	return n[0], n[1]
}

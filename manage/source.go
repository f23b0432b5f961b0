package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/models"
)

// class selects sessions by expiry, at one instant.
type class int

const (
	live    class = iota // expire_date > now: what Load finds
	expired              // expire_date <= now: what clearsessions deletes
)

// source is where manage sessions finds the sessions it reads and ends:
// the database (dbSource, GORM on models.Session), or Redis where Redis is
// the session store (redisSource, which walks its keys with SCAN). It is
// kept this small so that a store without a query language can be one.
type source interface {
	// each calls fn with the sessions of c, a batch at a time (never more
	// than a batch in memory), in no particular order, until fn fails.
	each(ctx context.Context, c class, now time.Time, fn func([]session.Record) error) error
	// snapshot is each over one consistent view of the sessions where the
	// source has one (the database: a single statement, streamed), so
	// that a session that moves from key to key while it runs (a key
	// cycle creates the new record before deleting the old) is seen under
	// one of its keys: revoke's last pass relies on it to prove that no
	// matching session is left. Where there is none (Redis's SCAN) it is
	// each.
	// With since not zero, only the sessions expiring at or after since.
	snapshot(ctx context.Context, c class, now, since time.Time, fn func([]session.Record) error) error
	// latest calls fn for at most limit sessions of c, latest expiry
	// first, one at a time.
	latest(ctx context.Context, c class, now time.Time, limit int, fn func(session.Record) error) error
	// summary sums up the live and the expired sessions: count, bytes,
	// earliest and latest expiry.
	summary(ctx context.Context, now time.Time) (live, expired classStats, err error)
	// lookup returns the session whose key is prefix, or else up to two
	// sessions whose key starts with prefix (two: enough to tell an
	// ambiguous prefix), live or expired.
	lookup(ctx context.Context, prefix string) ([]session.Record, error)
	// store is the session store that deletes, the site's own kind: its
	// conditional Delete makes every cache layer forget the session and
	// leaves alone a session that changed since it was read.
	store() session.Store
	// close releases the store.
	close() error
}

// batchSize is how many sessions each and the site's store handle at a
// time: memory stays bounded on any number of sessions.
const batchSize = 1000

// dbSource reads django_session through GORM on models.Session, as a
// reader of the demo would write it beside Django's
// Session.objects.filter(...), and deletes through dbstore.
type dbSource struct {
	db    *database.DB
	stack *engine.Stack
	batch int
}

// openDBSource opens the site's store on db, layers included (Redis in
// front of the database for cached_db, so that a session deleted here is
// forgotten there too), without the in-process cache a command has no use
// for (the other processes' caches learn the deletes from the database);
// a database without the django_session table is an error saying to
// migrate.
func openDBSource(cfg app.Config, db *database.DB, log *slog.Logger) (*dbSource, error) {
	cfg.SessionCacheSize = 0
	stack, err := app.OpenEngine(cfg, db, log)
	if errors.Is(err, dbstore.ErrNotMigrated) {
		return nil, errors.New("the database is not migrated (no django_session table): run `manage migrate` first")
	}
	if err != nil {
		return nil, err
	}
	return &dbSource{db: db, stack: stack, batch: batchSize}, nil
}

// gorm is the database's GORM without its slow-statement warnings: on a
// table of millions every query of a command is "slow", and a warning in
// the middle of a command's output helps nobody.
func (s *dbSource) gorm(ctx context.Context) *gorm.DB {
	return s.db.Gorm.Session(&gorm.Session{Logger: s.db.Gorm.Logger.LogMode(logger.Silent), Context: ctx})
}

func (s *dbSource) store() session.Store { return s.stack.Store() }

func (s *dbSource) close() error { return s.stack.Close() }

// filter is Django's expire_date__gt=now (live) or expire_date__lte=now
// (expired). The bound is a models.DateTime, never a time.Time: on SQLite
// expire_date is Django's text, and the driver's text for a time.Time
// ("2006-01-02 15:04:05.999999999-07:00") would compare wrongly with it.
func (s *dbSource) filter(ctx context.Context, c class, now time.Time) *gorm.DB {
	q := s.gorm(ctx).Model(&models.Session{})
	bound := models.DateTime{Time: now}
	switch c {
	case live:
		q = q.Where("expire_date > ?", bound)
	case expired:
		q = q.Where("expire_date <= ?", bound)
	}
	return q
}

// each is FindInBatches: keyset pages in primary-key order, each a query
// of its own, so that a long run holds no read transaction open and sees
// the rows deleted meanwhile go.
func (s *dbSource) each(ctx context.Context, c class, now time.Time, fn func([]session.Record) error) error {
	var rows []models.Session
	res := s.filter(ctx, c, now).FindInBatches(&rows, s.batch, func(*gorm.DB, int) error {
		recs := make([]session.Record, len(rows))
		for i, r := range rows {
			recs[i] = record(r)
		}
		return fn(recs)
	})
	if res.Error != nil {
		return fmt.Errorf("read sessions: %w", res.Error)
	}
	return nil
}

// snapshot streams the sessions of c from one SELECT, a batch at a time:
// one statement sees one state of the table (SQLite's read transaction of
// the statement, PostgreSQL's statement snapshot), so a session that
// exists throughout, whatever its key, is seen. The statement holds that
// view for as long as the walk takes (on SQLite the write-ahead log cannot
// be checkpointed past it meanwhile; on PostgreSQL vacuum waits for it),
// which each avoids.
func (s *dbSource) snapshot(ctx context.Context, c class, now, since time.Time, fn func([]session.Record) error) error {
	q := s.filter(ctx, c, now)
	if !since.IsZero() {
		q = q.Where("expire_date >= ?", models.DateTime{Time: since})
	}
	rows, err := q.Rows()
	if err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	defer rows.Close()
	batch := make([]session.Record, 0, s.batch)
	for rows.Next() {
		var r models.Session
		if err := s.gorm(ctx).ScanRows(rows, &r); err != nil {
			return fmt.Errorf("read sessions: %w", err)
		}
		if batch = append(batch, record(r)); len(batch) == s.batch {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// latest streams the rows of ORDER BY expire_date DESC LIMIT limit, one
// row in memory at a time, however large limit is.
func (s *dbSource) latest(ctx context.Context, c class, now time.Time, limit int, fn func(session.Record) error) error {
	q := s.filter(ctx, c, now).Order("expire_date DESC").Order("session_key").Limit(limit)
	rows, err := q.Rows()
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r models.Session
		if err := s.gorm(ctx).ScanRows(rows, &r); err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		if err := fn(record(r)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	return nil
}

// summary is Django's
//
//	Session.objects.annotate(live=Q(expire_date__gt=now)).values("live").annotate(
//	    Count("pk"), Sum(Length("session_data")), Min("expire_date"), Max("expire_date"))
//
// one query and one pass over the table, where walking the rows in key
// order would read a table of millions page by page in random order (14 s
// against 2 s on a million rows).
func (s *dbSource) summary(ctx context.Context, now time.Time) (liveStats, expiredStats classStats, err error) {
	var rows []struct {
		Live             bool
		Count, Bytes     int64
		Earliest, Latest models.DateTime
	}
	err = s.gorm(ctx).Model(&models.Session{}).
		Select("expire_date > ? AS live, COUNT(*) AS count, SUM(LENGTH(session_data)) AS bytes, MIN(expire_date) AS earliest, MAX(expire_date) AS latest", models.DateTime{Time: now}).
		Group("live").Scan(&rows).Error
	if err != nil {
		return classStats{}, classStats{}, fmt.Errorf("sum up sessions: %w", err)
	}
	for _, r := range rows {
		earliest, latest := r.Earliest.UTC(), r.Latest.UTC()
		st := classStats{Count: r.Count, Bytes: r.Bytes, Average: r.Bytes / max(r.Count, 1), Earliest: &earliest, Latest: &latest}
		if r.Live {
			liveStats = st
		} else {
			expiredStats = st
		}
	}
	return liveStats, expiredStats, nil
}

// lookup is Session.objects.filter(pk=key), then
// filter(session_key__startswith=prefix)[:2]. A prefix (only a-z and 0-9,
// checked by the caller) is matched with GLOB on SQLite, which is case
// sensitive and uses the key's index, where SQLite's LIKE is neither; on
// PostgreSQL with LIKE, which Django's varchar_pattern_ops index serves.
func (s *dbSource) lookup(ctx context.Context, prefix string) ([]session.Record, error) {
	var rows []models.Session
	q := s.gorm(ctx)
	if err := q.Where("session_key = ?", prefix).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	if len(rows) == 0 {
		match := "session_key LIKE ?"
		pattern := prefix + "%"
		if s.db.Engine == database.SQLite {
			match, pattern = "session_key GLOB ?", prefix+"*"
		}
		if err := q.Where(match, pattern).Order("session_key").Limit(2).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("find session: %w", err)
		}
	}
	var recs []session.Record
	for _, r := range rows {
		if strings.HasPrefix(r.SessionKey, prefix) {
			recs = append(recs, record(r))
		}
	}
	return recs, nil
}

func record(r models.Session) session.Record {
	return session.Record{Key: r.SessionKey, Data: r.SessionData, Expires: r.ExpireDate.Time}
}

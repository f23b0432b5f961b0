// Package dbstore keeps sessions in Django's django_session table through
// GORM: Django's "db" session engine. A Go site and a Django site that
// share the database (and SECRET_KEY) share their sessions.
//
// Every operation is one SQL statement, so it is atomic on its own and
// needs no transaction:
//
//	Load    SELECT ... WHERE session_key = ? AND expire_date > now
//	Create  INSERT ... ON CONFLICT DO NOTHING    (0 rows: ErrExists)
//	Update  UPDATE ... WHERE session_key = ? AND session_data = old
//	Delete  DELETE ... WHERE session_key = ? [AND session_data = old]
//
// Update and the conditional Delete are compare-and-swap operations on the
// session data, which is what lets session.Manager merge concurrent
// requests of one session without losing an update, across any number of
// processes sharing the database. When they change no row, a second
// SELECT tells a missing record (ErrNotFound, or nothing for Delete) from
// a changed one (ErrConflict).
//
// The package needs a migrated database (see package migrations) and does
// not open it: the application owns the connection.
package dbstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// DefaultBatchSize is the batch size DeleteExpired uses when given none.
const DefaultBatchSize = 1000

// Store is a session.Store on a GORM database. It is safe for concurrent
// use.
//
// GORM builds the INSERT from models.Session. The other statements are
// plain SQL run through GORM's prepared-statement pool directly: on the
// hot path (a Load per request, an Update per changed session) GORM's
// per-call statement building would double the time and the allocations.
type Store struct {
	db   *gorm.DB      // with prepared statements
	pool gorm.ConnPool // db's prepared-statement pool
	now  func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides which records have expired (Load
// and DeleteExpired). The default is time.Now; tests inject a fixed clock
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns a store on db, which must hold a migrated django_session
// table. Its statements are prepared once and reused.
func New(db *gorm.DB, opts ...Option) *Store {
	db = db.Session(&gorm.Session{PrepareStmt: true})
	s := &Store{db: db, pool: db.Statement.ConnPool, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

const (
	loadSQL         = `SELECT session_data, expire_date FROM django_session WHERE session_key = ? AND expire_date > ?`
	existsSQL       = `SELECT 1 FROM django_session WHERE session_key = ?`
	updateSQL       = `UPDATE django_session SET session_data = ?, expire_date = ? WHERE session_key = ? AND session_data = ?`
	deleteSQL       = `DELETE FROM django_session WHERE session_key = ?`
	deleteIfSQL     = `DELETE FROM django_session WHERE session_key = ? AND session_data = ?`
	deleteExpirySQL = `DELETE FROM django_session WHERE session_key IN (SELECT session_key FROM django_session WHERE expire_date < ? LIMIT ?)`
)

// Load implements session.Store: the record, if it exists and has not
// expired by the store's clock.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	var (
		data    string
		expires models.DateTime
	)
	found, err := s.queryRow(ctx, loadSQL, []any{key, models.DateTime{Time: s.now()}}, &data, &expires)
	if err != nil {
		return session.Record{}, fmt.Errorf("dbstore: load session %s: %w", session.KeyHash(key), err)
	}
	if !found {
		return session.Record{}, session.ErrNotFound
	}
	return session.Record{Key: key, Data: data, Expires: expires.Time}, nil
}

// Create implements session.Store. It is an INSERT that does nothing on a
// taken key, reported as session.ErrExists; it never overwrites.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	row := models.Session{SessionKey: rec.Key, SessionData: rec.Data, ExpireDate: models.DateTime{Time: rec.Expires}}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return fmt.Errorf("dbstore: create session %s: %w", session.KeyHash(rec.Key), res.Error)
	}
	if res.RowsAffected == 0 {
		return session.ErrExists
	}
	return nil
}

// Update implements session.Store: compare-and-swap on the session data.
func (s *Store) Update(ctx context.Context, rec session.Record, old string) error {
	n, err := s.exec(ctx, updateSQL, rec.Data, models.DateTime{Time: rec.Expires}, rec.Key, old)
	if err != nil {
		return fmt.Errorf("dbstore: update session %s: %w", session.KeyHash(rec.Key), err)
	}
	if n > 0 {
		return nil
	}
	exists, err := s.exists(ctx, rec.Key)
	switch {
	case err != nil:
		return fmt.Errorf("dbstore: update session %s: %w", session.KeyHash(rec.Key), err)
	case exists:
		return session.ErrConflict
	default:
		return session.ErrNotFound
	}
}

// Delete implements session.Store. With old empty it deletes
// unconditionally; otherwise only while the data still equals old.
func (s *Store) Delete(ctx context.Context, key, old string) error {
	var (
		n   int64
		err error
	)
	if old == "" {
		n, err = s.exec(ctx, deleteSQL, key)
	} else {
		n, err = s.exec(ctx, deleteIfSQL, key, old)
	}
	if err != nil {
		return fmt.Errorf("dbstore: delete session %s: %w", session.KeyHash(key), err)
	}
	if old == "" || n > 0 {
		return nil
	}
	exists, err := s.exists(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("dbstore: delete session %s: %w", session.KeyHash(key), err)
	case exists:
		return session.ErrConflict
	default:
		return nil
	}
}

// exists reports whether a record has key, expired or not.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	var one int
	return s.queryRow(ctx, existsSQL, []any{key}, &one)
}

// queryRow scans the first row of query into dest and reports whether
// there was one. (It does not use the pool's QueryRowContext: GORM's
// prepared-statement pool returns a Row that panics on Scan when the
// statement cannot be prepared, as on a cancelled context or a missing
// table.)
func (s *Store) queryRow(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
	rows, err := s.pool.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	return true, rows.Close()
}

// exec runs a statement and returns the number of rows it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.pool.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpired deletes the records that expired before now (by the
// store's clock), like Django's clearsessions, and returns how many.
//
// It deletes batchSize rows at a time (DefaultBatchSize when batchSize is
// not positive), each batch a statement and a transaction of its own, so
// that on a table of millions the site's own writes get their turn between
// batches instead of waiting for one long DELETE. progress, when not nil,
// receives the running total after each batch that deleted rows.
// Cancelling ctx stops it between batches (or interrupts the current one);
// the count of rows deleted so far is returned with the error.
func (s *Store) DeleteExpired(ctx context.Context, batchSize int, progress func(deleted int64)) (int64, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	// One cut-off for the whole run: sessions expiring meanwhile wait for
	// the next run, and the loop ends.
	now := models.DateTime{Time: s.now()}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		n, err := s.exec(ctx, deleteExpirySQL, now, batchSize)
		if err != nil {
			return total, fmt.Errorf("dbstore: delete expired sessions: %w", err)
		}
		total += n
		if n > 0 && progress != nil {
			progress(total)
		}
		if n < int64(batchSize) {
			return total, nil
		}
	}
}

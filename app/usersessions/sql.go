package usersessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/models"
)

// SQL is a Backend in the database's gosessions_usersession table
// (migration 000005, on SQLite and PostgreSQL), beside django_session,
// which it never changes: the db and cached_db engines' index, in the
// same database as their records.
type SQL struct {
	db *database.DB
}

// ErrNotMigrated reports a database without the index's table.
var ErrNotMigrated = errors.New("usersessions: the gosessions_usersession table does not exist: apply the migrations first (go run ./manage migrate)")

// NewSQL returns the backend on db, which must be migrated: it checks the
// table and fails with ErrNotMigrated without it.
func NewSQL(ctx context.Context, db *database.DB) (*SQL, error) {
	if db == nil || db.Gorm == nil {
		return nil, errors.New("usersessions: NewSQL needs an open database")
	}
	s := &SQL{db: db}
	var n int64
	err := s.g(ctx).Raw(`SELECT COUNT(*) FROM gosessions_usersession WHERE 1 = 0`).Scan(&n).Error
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") {
			return nil, ErrNotMigrated
		}
		return nil, fmt.Errorf("usersessions: check the gosessions_usersession table: %w", err)
	}
	return s, nil
}

// g is GORM without slow-statement warnings, on ctx.
func (s *SQL) g(ctx context.Context) *gorm.DB {
	return s.db.Gorm.Session(&gorm.Session{Logger: s.db.Gorm.Logger.LogMode(logger.Silent), Context: ctx})
}

// at is a time argument: Django's text on SQLite (as django_session's
// expire_date), an instant on PostgreSQL.
func (s *SQL) at(t time.Time) any {
	if s.db.Engine == database.PostgreSQL {
		return t.UTC().Truncate(time.Microsecond)
	}
	return models.DateTime{Time: t}
}

const entryColumns = `id, user_id, session_key, device, created, last_seen, touched, ip, user_agent`

// row is an entry as scanned.
type row struct {
	ID                         int64
	UserID, SessionKey         string
	Device                     string
	Created, LastSeen, Touched models.DateTime
	IP, UserAgent              string
}

func (r row) entry() Entry {
	return Entry{
		Owner: r.UserID, Key: r.SessionKey, Seq: r.ID, Device: r.Device,
		Created: r.Created.Time, LastSeen: r.LastSeen.Time, Touched: r.Touched.Time,
		IP: r.IP, UserAgent: r.UserAgent,
	}
}

// Put implements Backend: one INSERT ... ON CONFLICT DO UPDATE.
func (s *SQL) Put(ctx context.Context, e Entry) error {
	err := s.g(ctx).Exec(`INSERT INTO gosessions_usersession (user_id, session_key, device, created, last_seen, touched, ip, user_agent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, session_key) DO UPDATE SET last_seen = excluded.last_seen, touched = excluded.touched,
ip = CASE WHEN excluded.ip <> '' THEN excluded.ip ELSE gosessions_usersession.ip END,
user_agent = CASE WHEN excluded.user_agent <> '' THEN excluded.user_agent ELSE gosessions_usersession.user_agent END`,
		e.Owner, e.Key, e.Device, s.at(e.Created), s.at(e.LastSeen), s.at(e.Touched), e.IP, e.UserAgent).Error
	if err != nil {
		return fmt.Errorf("usersessions: index session %s: %w", short(e.Key), err)
	}
	return nil
}

// Get implements Backend.
func (s *SQL) Get(ctx context.Context, owner, key string) (Entry, bool, error) {
	var rows []row
	err := s.g(ctx).Raw(`SELECT `+entryColumns+` FROM gosessions_usersession WHERE user_id = ? AND session_key = ?`, owner, key).Scan(&rows).Error
	if err != nil {
		return Entry{}, false, fmt.Errorf("usersessions: read the index: %w", err)
	}
	if len(rows) == 0 {
		return Entry{}, false, nil
	}
	return rows[0].entry(), true, nil
}

// Owned implements Backend: the owner's rows, through the unique index.
func (s *SQL) Owned(ctx context.Context, owner string) ([]Entry, error) {
	var rows []row
	err := s.g(ctx).Raw(`SELECT `+entryColumns+` FROM gosessions_usersession WHERE user_id = ? ORDER BY id`, owner).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("usersessions: read the index: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// RemoveKey implements Backend.
func (s *SQL) RemoveKey(ctx context.Context, key string) error {
	if err := s.g(ctx).Exec(`DELETE FROM gosessions_usersession WHERE session_key = ?`, key).Error; err != nil {
		return fmt.Errorf("usersessions: remove session %s from the index: %w", short(key), err)
	}
	return nil
}

// Drop implements Backend.
func (s *SQL) Drop(ctx context.Context, owner, key string, before time.Time) (bool, error) {
	res := s.g(ctx).Exec(`DELETE FROM gosessions_usersession WHERE user_id = ? AND session_key = ? AND touched < ?`, owner, key, s.at(before))
	if res.Error != nil {
		return false, fmt.Errorf("usersessions: drop session %s from the index: %w", short(key), res.Error)
	}
	return res.RowsAffected > 0, nil
}

// Count implements Backend.
func (s *SQL) Count(ctx context.Context) (int64, int64, error) {
	var c struct{ Entries, Owners int64 }
	err := s.g(ctx).Raw(`SELECT COUNT(*) AS entries, COUNT(DISTINCT user_id) AS owners FROM gosessions_usersession`).Scan(&c).Error
	if err != nil {
		return 0, 0, fmt.Errorf("usersessions: count the index: %w", err)
	}
	return c.Entries, c.Owners, nil
}

// Top implements Backend.
func (s *SQL) Top(ctx context.Context, n int) ([]OwnerCount, error) {
	var rows []struct {
		UserID  string
		Entries int64
	}
	err := s.g(ctx).Raw(`SELECT user_id, COUNT(*) AS entries FROM gosessions_usersession GROUP BY user_id ORDER BY entries DESC, user_id LIMIT ?`, n).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("usersessions: count the index: %w", err)
	}
	out := make([]OwnerCount, len(rows))
	for i, r := range rows {
		out[i] = OwnerCount{Owner: r.UserID, Entries: r.Entries}
	}
	return out, nil
}

// Sweep implements Backend: one DELETE, asking django_session (the
// table beside it) which sessions are live; live is not called.
func (s *SQL) Sweep(ctx context.Context, before, now time.Time, _ func(ctx context.Context, key string) (bool, error)) (int64, error) {
	res := s.g(ctx).Exec(`DELETE FROM gosessions_usersession WHERE touched < ? AND NOT EXISTS
(SELECT 1 FROM django_session WHERE django_session.session_key = gosessions_usersession.session_key AND django_session.expire_date > ?)`, s.at(before), s.at(now))
	if res.Error != nil {
		return 0, fmt.Errorf("usersessions: sweep the index: %w", res.Error)
	}
	return res.RowsAffected, nil
}

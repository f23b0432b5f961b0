package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/djangosessions/gosessions/models"
)

// keyChars are the characters of a Django session key
// (VALID_KEY_CHARS: lowercase letters and digits); keys have 32.
const (
	keyChars = "abcdefghijklmnopqrstuvwxyz0123456789"
	keyLen   = 32
)

// fillRowsPerInsert is how many rows one INSERT statement carries (three
// parameters each, well under SQLite's limit of 32766).
const fillRowsPerInsert = 500

// fillSpec says what to put in a fresh database.
type fillSpec struct {
	live, expired int
	secret        string    // the site's SECRET_KEY, to sign the data
	now           time.Time // live sessions expire up to 14 days after it, expired ones up to 30 days before
	seed          uint64    // of the keys and dates, so that runs are alike
}

// benchData is what every filled session holds: the data of a client
// after /set, signed as the site signs it. Django signs session data with
// a salt of its own, not the key, so every row can carry the same value.
func benchData(secret string, now time.Time) (string, error) {
	return signing.NewTimestampSigner(secret, nil, session.SessionSalt).Dumps(map[string]any{
		"username": "harun_dev", "role": "admin", "login_count": 1,
	}, now)
}

// fillDB migrates the SQLite database at dbPath and inserts spec's
// sessions in one transaction. It returns the live sessions' keys, sorted.
func fillDB(ctx context.Context, dbPath string, spec fillSpec) ([]string, error) {
	ddb, err := openSQLite(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer ddb.Close()
	if err := sqlitemigrations.Up(ddb, nil); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	db := ddb.SQL()
	data, err := benchData(spec.secret, spec.now)
	if err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	defer conn.Close()
	// A page cache big enough for the table and the index built after it.
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -524288"); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	defer tx.Rollback()
	// Indexes other than the primary key are dropped during the inserts
	// and built again after them, by sorting: far faster than updating
	// them row by row. Their definitions are read back from the schema,
	// so they are the migrations' own.
	indexes, err := dropIndexes(ctx, tx)
	if err != nil {
		return nil, err
	}
	ins := newInserter(tx)
	defer ins.close()

	rows := makeRows(spec)
	live := make([]string, 0, spec.live)
	for _, r := range rows {
		if r.live {
			live = append(live, r.key)
		}
		date, err := models.DateTime{Time: r.expires}.Value()
		if err != nil {
			return nil, fmt.Errorf("fill: %w", err)
		}
		if err := ins.add(ctx, r.key, data, date); err != nil {
			return nil, err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return nil, err
	}
	for _, ddl := range indexes {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("fill: rebuild index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("fill: commit: %w", err)
	}
	// Leave an empty write-ahead log to the site.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nil, fmt.Errorf("fill: checkpoint: %w", err)
	}
	return live, nil
}

// row is one session to insert.
type row struct {
	key     string
	expires time.Time
	live    bool
}

// makeRows returns spec's sessions in the order a real site creates them,
// by expiry date (a fixed cookie age): the table's rows then lie on disk
// in expiry order, as they do in a real table, which is what decides how
// many pages a deletion of expired rows rewrites. Live ones expire from an
// hour (none expires during a run) to 14 days (Django's default age) after
// spec.now, expired ones up to 30 days before it; keys are random.
func makeRows(spec fillSpec) []row {
	rng := rand.New(rand.NewPCG(spec.seed, 0x5e55))
	total := spec.live + spec.expired
	rows := make([]row, total)
	for i := range rows {
		r := row{key: randomKey(rng), live: (i+1)*spec.live/total > i*spec.live/total}
		if r.live {
			r.expires = spec.now.Add(time.Hour + time.Duration(rng.Int64N(int64(14*24*time.Hour-time.Hour))))
		} else {
			r.expires = spec.now.Add(-time.Second - time.Duration(rng.Int64N(int64(30*24*time.Hour))))
		}
		rows[i] = r
	}
	slices.SortFunc(rows, func(a, b row) int { return a.expires.Compare(b.expires) })
	return rows
}

// dropIndexes drops the indexes of django_session that have a definition
// (not the primary key's) and returns their CREATE statements.
func dropIndexes(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'django_session' AND sql IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("fill: read indexes: %w", err)
	}
	var names, ddls []string
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("fill: read indexes: %w", err)
		}
		names, ddls = append(names, name), append(ddls, ddl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fill: read indexes: %w", err)
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
			return nil, fmt.Errorf("fill: drop index %s: %w", n, err)
		}
	}
	return ddls, nil
}

// randomKey returns a session key of Django's shape.
func randomKey(rng *rand.Rand) string {
	var b [keyLen]byte
	for i := range b {
		b[i] = keyChars[rng.IntN(len(keyChars))]
	}
	return string(b[:])
}

// inserter batches rows into multi-row INSERTs.
type inserter struct {
	tx   *sql.Tx
	full *sql.Stmt
	args []any
}

func newInserter(tx *sql.Tx) *inserter {
	return &inserter{tx: tx, args: make([]any, 0, 3*fillRowsPerInsert)}
}

func insertSQL(rows int) string {
	return "INSERT INTO django_session (session_key, session_data, expire_date) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", rows), ", ")
}

func (in *inserter) add(ctx context.Context, key, data string, date any) error {
	in.args = append(in.args, key, data, date)
	if len(in.args) < cap(in.args) {
		return nil
	}
	if in.full == nil {
		st, err := in.tx.PrepareContext(ctx, insertSQL(fillRowsPerInsert))
		if err != nil {
			return fmt.Errorf("fill: prepare: %w", err)
		}
		in.full = st
	}
	if _, err := in.full.ExecContext(ctx, in.args...); err != nil {
		return fmt.Errorf("fill: insert: %w", err)
	}
	in.args = in.args[:0]
	return nil
}

// flush inserts the rows of a last, partial batch.
func (in *inserter) flush(ctx context.Context) error {
	if len(in.args) == 0 {
		return nil
	}
	if _, err := in.tx.ExecContext(ctx, insertSQL(len(in.args)/3), in.args...); err != nil {
		return fmt.Errorf("fill: insert: %w", err)
	}
	in.args = in.args[:0]
	return nil
}

func (in *inserter) close() {
	if in.full != nil {
		in.full.Close()
	}
}

// countSessions returns how many rows django_session holds.
func countSessions(ctx context.Context, dbPath string) (int64, error) {
	db, err := openSQLite(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM django_session").Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// openSQLite opens the SQLite file at path as the site does.
func openSQLite(ctx context.Context, path string) (*database.DB, error) {
	return sqlite.OpenURL(ctx, "sqlite:"+path)
}

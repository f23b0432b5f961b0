package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/djangosessions/gosessions/models"
)

// usersSpec says what the -usersessions mode puts in a fresh database.
type usersSpec struct {
	live, users int
	secret      string
	now         time.Time
	seed        uint64
}

// usersSecret signs the -usersessions mode's sessions.
const usersSecret = "loadtest-usersessions-secret"

// username is the name of the fill's user whose id is id: user00001 for
// id 1.
func username(id int) string { return fmt.Sprintf("user%05d", id) }

// fillUsers migrates the SQLite database at dbPath and stores, in one
// transaction, spec.users users in auth_user (ids 1 to users, unusable
// passwords) and spec.live live sessions, each logged in as one of them
// (round-robin: live/users sessions each) with the per-user index's entry
// of each, as the site's logins leave them. The tables' indexes are built
// after their rows.
func fillUsers(ctx context.Context, dbPath string, spec usersSpec) error {
	ddb, err := openSQLite(ctx, dbPath)
	if err != nil {
		return err
	}
	defer ddb.Close()
	if err := sqlitemigrations.Up(ddb, nil); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	conn, err := ddb.SQL().Conn(ctx)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -524288"); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	defer tx.Rollback()
	var indexes []string
	for _, table := range []string{"django_session", "gosessions_usersession"} {
		ddl, err := dropTableIndexes(ctx, tx, table)
		if err != nil {
			return err
		}
		indexes = append(indexes, ddl...)
	}

	joined, err := models.DateTime{Time: spec.now.Add(-24 * time.Hour)}.Value()
	if err != nil {
		return err
	}
	users := newRows(tx, "auth_user", "id", "password", "last_login", "is_superuser", "username", "last_name", "email", "is_staff", "is_active", "date_joined", "first_name")
	for i := range spec.users {
		if err := users.add(ctx, i+1, "!", nil, false, username(i+1), "", "", false, true, joined, ""); err != nil {
			return err
		}
	}
	if err := users.flush(ctx); err != nil {
		return err
	}

	// Every session of a user carries the same data, signed once.
	signer := signing.NewTimestampSigner(spec.secret, nil, session.SessionSalt)
	data := make([]string, spec.users)
	for i := range data {
		if data[i], err = signer.Dumps(map[string]any{
			"_auth_user_id": strconv.Itoa(i + 1), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
			"_auth_user_hash": "0123456789abcdef", "visits": 1,
		}, spec.now); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(spec.seed, 0x05e5))
	sessions := newRows(tx, "django_session", "session_key", "session_data", "expire_date")
	entries := newRows(tx, "gosessions_usersession", "user_id", "session_key", "device", "created", "last_seen", "touched", "ip", "user_agent")
	seen, err := models.DateTime{Time: spec.now.Add(-time.Hour)}.Value()
	if err != nil {
		return err
	}
	for i := range spec.live {
		key, u := randomKey(rng), i%spec.users
		expires, err := models.DateTime{Time: spec.now.Add(time.Hour + time.Duration(rng.Int64N(int64(13*24*time.Hour))))}.Value()
		if err != nil {
			return err
		}
		if err := sessions.add(ctx, key, data[u], expires); err != nil {
			return err
		}
		device := fmt.Sprintf("%016x", rng.Uint64())
		if err := entries.add(ctx, strconv.Itoa(u+1), key, device, seen, seen, seen, "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"); err != nil {
			return err
		}
	}
	for _, r := range []*rows{sessions, entries} {
		if err := r.flush(ctx); err != nil {
			return err
		}
		r.close()
	}
	users.close()
	for _, ddl := range indexes {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("fill: rebuild index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("fill: commit: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("fill: checkpoint: %w", err)
	}
	return nil
}

// dropTableIndexes drops the indexes of table that have a definition
// (not its primary key's) and returns their CREATE statements.
func dropTableIndexes(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	q, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", table)
	if err != nil {
		return nil, fmt.Errorf("fill: read indexes: %w", err)
	}
	var names, ddls []string
	for q.Next() {
		var name, ddl string
		if err := q.Scan(&name, &ddl); err != nil {
			q.Close()
			return nil, fmt.Errorf("fill: read indexes: %w", err)
		}
		names, ddls = append(names, name), append(ddls, ddl)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("fill: read indexes: %w", err)
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
			return nil, fmt.Errorf("fill: drop index %s: %w", n, err)
		}
	}
	return ddls, nil
}

// rows batches rows of one table into multi-row INSERTs.
type rows struct {
	tx      *sql.Tx
	table   string
	columns []string
	per     int // rows per statement, within SQLite's 32766 parameters
	full    *sql.Stmt
	args    []any
}

func newRows(tx *sql.Tx, table string, columns ...string) *rows {
	per := min(500, 32766/len(columns))
	return &rows{tx: tx, table: table, columns: columns, per: per, args: make([]any, 0, per*len(columns))}
}

func (r *rows) sql(n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(r.columns)), ", ") + ")"
	return "INSERT INTO " + r.table + " (" + strings.Join(r.columns, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

func (r *rows) add(ctx context.Context, values ...any) error {
	r.args = append(r.args, values...)
	if len(r.args) < cap(r.args) {
		return nil
	}
	if r.full == nil {
		st, err := r.tx.PrepareContext(ctx, r.sql(r.per))
		if err != nil {
			return fmt.Errorf("fill %s: prepare: %w", r.table, err)
		}
		r.full = st
	}
	if _, err := r.full.ExecContext(ctx, r.args...); err != nil {
		return fmt.Errorf("fill %s: insert: %w", r.table, err)
	}
	r.args = r.args[:0]
	return nil
}

func (r *rows) flush(ctx context.Context) error {
	if len(r.args) == 0 {
		return nil
	}
	if _, err := r.tx.ExecContext(ctx, r.sql(len(r.args)/len(r.columns)), r.args...); err != nil {
		return fmt.Errorf("fill %s: insert: %w", r.table, err)
	}
	r.args = r.args[:0]
	return nil
}

func (r *rows) close() {
	if r.full != nil {
		r.full.Close()
	}
}

// userSessions is the -usersessions mode: it fills a fresh SQLite
// database with -live sessions of -users users (and the per-user index's
// entries), then times what an operator runs to list and end the
// sessions of one user: manage sessions revoke --where _auth_user_id=N
// (decodes every live session), list --user and revoke --user (the
// index). Each command runs on a different user, so that none finds
// another's work done.
func (b *bench) userSessions(ctx context.Context, stdout io.Writer) (bool, error) {
	o := b.o
	if o.users < 3 || o.live < o.users {
		return false, fmt.Errorf("-usersessions: want -users of 3 or more and -live at least -users (got %d and %d)", o.users, o.live)
	}
	dbPath := filepath.Join(b.dir, "users.sqlite3")
	b.logf("filling %d sessions of %d users, with the per-user index", o.live, o.users)
	t0 := time.Now()
	if err := fillUsers(ctx, dbPath, usersSpec{live: o.live, users: o.users, secret: usersSecret, now: time.Now(), seed: 1}); err != nil {
		return false, err
	}
	fill := time.Since(t0)
	perUser := o.live / o.users
	fmt.Fprintf(stdout, "SQLite, %d live sessions of %d users (%d each), with the per-user index; filled in %v.\n\n", o.live, o.users, perUser, fill.Round(time.Second))
	fmt.Fprintf(stdout, "%-50s  %10s  %s\n", "command", "time", "output")
	ok := true
	for _, c := range [][]string{
		{"sessions", "revoke", "--where", "_auth_user_id=1"},
		{"sessions", "list", "--user", username(2)},
		{"sessions", "revoke", "--user", username(3)},
		{"sessions", "revoke", "--where", "_auth_user_id=3"},
	} {
		cmd := exec.CommandContext(ctx, o.manage, c...)
		cmd.Env = append(os.Environ(), "DATABASE_URL=sqlite:"+dbPath, "SECRET_KEY="+usersSecret, "SESSION_ENGINE=db")
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(t0)
		if err != nil {
			return false, fmt.Errorf("manage %s: %v\n%s", strings.Join(c, " "), err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		summary := lines[0]
		if c[1] == "list" {
			summary = fmt.Sprintf("%d sessions listed", len(lines)-1)
			if len(lines)-1 != perUser {
				ok = false
				summary += fmt.Sprintf(" (want %d)", perUser)
			}
		}
		fmt.Fprintf(stdout, "%-50s  %10v  %s\n", "manage "+strings.Join(c, " "), took.Round(time.Millisecond), summary)
	}
	fmt.Fprintf(stdout, "\nThe last revoke --where finds nothing: revoke --user %s ended those sessions.\n", username(3))
	return ok, nil
}

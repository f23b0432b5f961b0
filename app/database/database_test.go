package database_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/internal/pgtest"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

// open opens url and closes it when the test ends.
func open(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := either.OpenURL(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count returns how many rows django_session holds.
func count(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM django_session`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenDBErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url, want string
	}{
		{filepath.Join(dir, "missing", "db.sqlite3"), "does not exist"},
		{"sqlite:" + filepath.Join(dir, "missing", "db.sqlite3"), "does not exist"},
		{notDB, "not a database"},
		{dir, "unable to open"},
		{"postgres://user:hunter2@localhost:notaport/db", "bad PostgreSQL URL"},
		{"mysql://localhost/db", "unsupported database URL scheme"},
		{"", "empty"},
	}
	for _, tt := range tests {
		db, err := either.OpenURL(t.Context(), tt.url)
		if err == nil {
			db.Close()
			t.Errorf("OpenURL(%q) succeeded, want an error", tt.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("OpenURL(%q) = %q, want one line with %q (and no password)", tt.url, msg, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenDB created the missing directory: %v", err)
	}
}

func TestOpenDBURLForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		url, file string
	}{
		{"plain.sqlite3", "plain.sqlite3"},
		{"sqlite:prefixed.sqlite3", "prefixed.sqlite3"},
		{"sqlite3:prefixed3.sqlite3", "prefixed3.sqlite3"},
		{"file:uri.sqlite3", "uri.sqlite3"},
		{"sqlite:///relative.sqlite3", "relative.sqlite3"},
		{"sqlite:///" + filepath.Join(dir, "absolute.sqlite3"), "absolute.sqlite3"},
		{filepath.Join(dir, "odd #%3F name.sqlite3"), "odd #%3F name.sqlite3"},
	}
	for _, tt := range tests {
		db := open(t, tt.url)
		if err := sqlitemigrations.Up(db, nil); err != nil {
			t.Errorf("migrate %s: %v", tt.url, err)
		}
		if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
			t.Errorf("OpenURL(%q) did not create %s: %v", tt.url, tt.file, err)
		}
	}
}

// TestOpenDBSettings checks the connection settings OpenDB documents, on
// the writer (what db.DB() returns) and on the readers (plain SELECTs).
func TestOpenDBSettings(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "db.sqlite3"))
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	sqlDB := db.SQL()
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1", // NORMAL
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"query_only":   "0",
	} {
		var got string
		if err := sqlDB.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("writer: PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool: %d connections, want 1", got)
	}
	for pragma, want := range map[string]string{"query_only": "1", "busy_timeout": "5000"} {
		var got string
		if err := db.Gorm.Raw("SELECT * FROM pragma_" + pragma).Row().Scan(&got); err != nil || got != want {
			t.Errorf("reader: %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	// A transaction takes the write lock at BEGIN, and reads inside it
	// see its own writes.
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO django_session VALUES ('txkey-0000', 'd', '2030-01-01 00:00:00')`).Error; err != nil {
			return err
		}
		var n int
		if err := tx.Raw(`SELECT count(*) FROM django_session WHERE session_key = 'txkey-0000'`).Row().Scan(&n); err != nil || n != 1 {
			t.Errorf("read in a transaction = %d, %v; want 1", n, err)
		}
		return errors.New("roll back")
	})
	if err == nil || count(t, db) != 0 {
		t.Errorf("rolled-back transaction: %v, %d rows", err, count(t, db))
	}
}

// TestOpenDBSynchronous: the durability mode comes from the URL.
func TestOpenDBSynchronous(t *testing.T) {
	dir := t.TempDir()
	for url, want := range map[string]string{
		"sqlite:" + filepath.Join(dir, "a.db"):                       "1",
		"sqlite:" + filepath.Join(dir, "b.db") + "?synchronous=full": "2",
		filepath.Join(dir, "c.db") + "?synchronous=NORMAL":           "1",
	} {
		db := open(t, url)
		sqlDB := db.SQL()
		var got string
		if err := sqlDB.QueryRow("PRAGMA synchronous").Scan(&got); err != nil || got != want {
			t.Errorf("%s: synchronous = %q, %v; want %q", url, got, err, want)
		}
	}
	if _, err := either.OpenURL(t.Context(), filepath.Join(dir, "d.db")+"?synchronous=sometimes"); err == nil || !strings.Contains(err.Error(), "synchronous") {
		t.Errorf("bad synchronous: %v", err)
	}
}

// TestCloseClosesReaders: Close closes every
// connection, readers included.
func TestCloseClosesReaders(t *testing.T) {
	db, err := either.OpenURL(t.Context(), filepath.Join(t.TempDir(), "db.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := db.Gorm.Raw("SELECT 1").Row().Scan(&one); err == nil {
		t.Error("a SELECT works after Close: the readers were left open")
	}
}

// TestOpenDBPostgresSettings checks what OpenDB documents for PostgreSQL.
func TestOpenDBPostgresSettings(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := open(t, url+"&pool_max_conns=7&timezone=Europe/Paris&application_name=gosessions-test")
	if db.Engine != database.PostgreSQL || db.Timeout != 5*time.Second {
		t.Errorf("engine %v, timeout %v; want PostgreSQL, 5s", db.Engine, db.Timeout)
	}
	sqlDB := db.SQL()
	if got := sqlDB.Stats().MaxOpenConnections; got != 7 {
		t.Errorf("pool of %d connections, want pool_max_conns=7", got)
	}
	var tz, name string
	if err := sqlDB.QueryRow(`SELECT current_setting('TimeZone'), current_setting('application_name')`).Scan(&tz, &name); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" || name != "gosessions-test" {
		t.Errorf("TimeZone %q, application_name %q; want UTC (whatever the URL says) and the URL's name", tz, name)
	}

	// postgresql:// works too, and the default pool has room for a
	// busy site.
	db = open(t, strings.Replace(url, "postgres://", "postgresql://", 1))
	sqlDB = db.SQL()
	if got := sqlDB.Stats().MaxOpenConnections; got < 10 {
		t.Errorf("default pool of %d connections, want 10 or more", got)
	}
}

// TestOpenDBPostgresErrors: a server that is not there, a bad URL or a
// wrong password each give one line that says so, without the password.
func TestOpenDBPostgresErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	tests := []struct {
		url  string
		want []string
	}{
		{"postgres://user:hunter2@" + closed + "/db", []string{"database postgres://user@" + closed + "/db", "connection refused"}},
		{"postgresql://user:hunter2@" + closed + "/db?sslmode=disable", []string{"connection refused"}},
		{"postgres://user@" + closed + "/db?password=hunter2", []string{"connection refused"}},
		{"postgres://user:hunter2@localhost:port/db", []string{"bad PostgreSQL URL", "invalid port"}},
		{"postgres://user:hunter2@localhost/db?sslmode=sometimes", []string{"sslmode"}},
		{"postgres://user:hunter2@localhost/db?pool_max_conns=0", []string{"pool_max_conns"}},
		{"postgres://", []string{"bad PostgreSQL URL"}},
		{"postgres:db", []string{"bad PostgreSQL URL"}},
	}
	for _, tt := range tests {
		start := time.Now()
		db, err := either.OpenURL(t.Context(), tt.url)
		if err == nil {
			db.Close()
			t.Errorf("OpenURL(%q) succeeded, want an error", tt.url)
			continue
		}
		msg := err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("OpenURL(%q) = %q, want it to say %q", tt.url, msg, w)
			}
		}
		if strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("OpenURL(%q) = %q: not one line, or shows the password", tt.url, msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("OpenURL(%q) took %v to fail", tt.url, d)
		}
	}

	// A server that is there, without the database.
	u, err := neturl.Parse(pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = neturl.UserPassword(u.User.Username(), "hunter2")
	u.Path = "/no_such_database"
	_, err = either.OpenURL(t.Context(), u.String())
	if err == nil || !strings.Contains(err.Error(), `database "no_such_database" does not exist`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("OpenDB of a missing database = %v, want an error naming it, without the password", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url         string
		engine      database.Engine
		path        string
		memory      bool
		timeout     time.Duration
		synchronous string
		shown       string
	}{
		{"sqlite:db.sqlite3", database.SQLite, "db.sqlite3", false, 5 * time.Second, "NORMAL", "sqlite:db.sqlite3"},
		{"sqlite:/var/lib/site/db.sqlite3", database.SQLite, "/var/lib/site/db.sqlite3", false, 5 * time.Second, "NORMAL", "sqlite:/var/lib/site/db.sqlite3"},
		{"sqlite3:x.db", database.SQLite, "x.db", false, 5 * time.Second, "NORMAL", "sqlite:x.db"},
		{"sqlite:///db.sqlite3", database.SQLite, "db.sqlite3", false, 5 * time.Second, "NORMAL", "sqlite:db.sqlite3"},
		{"sqlite:////abs/db.sqlite3", database.SQLite, "/abs/db.sqlite3", false, 5 * time.Second, "NORMAL", "sqlite:/abs/db.sqlite3"},
		{"file:x.db?timeout=0.5", database.SQLite, "x.db", false, 500 * time.Millisecond, "NORMAL", "sqlite:x.db"},
		{"db.sqlite3?synchronous=full&timeout=20", database.SQLite, "db.sqlite3", false, 20 * time.Second, "FULL", "sqlite:db.sqlite3"},
		{"/tmp/site.db", database.SQLite, "/tmp/site.db", false, 5 * time.Second, "NORMAL", "sqlite:/tmp/site.db"},
		{"sqlite::memory:", database.SQLite, "", true, 5 * time.Second, "NORMAL", "sqlite::memory:"},
		{"file::memory:?cache=shared", database.SQLite, "", true, 5 * time.Second, "NORMAL", "sqlite::memory:"},
		{"file:x?mode=memory", database.SQLite, "", true, 5 * time.Second, "NORMAL", "sqlite::memory:"},
		{"postgres://user:hunter2@localhost/site?timeout=2", database.PostgreSQL, "", false, 2 * time.Second, "", "postgres://user@localhost/site"},
		{"PostgreSQL://user@localhost:5433/site", database.PostgreSQL, "", false, 5 * time.Second, "", "postgresql://user@localhost:5433/site"},
	}
	for _, tt := range tests {
		u, err := database.ParseURL(tt.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.url, err)
			continue
		}
		if u.Engine != tt.engine || u.Path != tt.path || u.Memory != tt.memory || u.Timeout != tt.timeout || u.Synchronous != tt.synchronous || u.String() != tt.shown {
			t.Errorf("ParseURL(%q) = %v %q memory=%v timeout=%v sync=%q shown %q; want %v %q %v %v %q %q",
				tt.url, u.Engine, u.Path, u.Memory, u.Timeout, u.Synchronous, u.String(), tt.engine, tt.path, tt.memory, tt.timeout, tt.synchronous, tt.shown)
		}
	}
	for raw, want := range map[string]string{
		"":                                   "empty",
		"   ":                                "empty",
		"mysql://localhost/site":             "unsupported database URL scheme \"mysql\"",
		"sqlite:x.db?timeout=0":              "timeout",
		"sqlite:x.db?timeout=soon":           "timeout",
		"sqlite:x.db?timeout=-1":             "timeout",
		"sqlite:x.db?_busy_timeout=1":        `unknown option "_busy_timeout"`,
		"sqlite:x.db?synchronous=off":        "synchronous",
		"sqlite:x.db?mode=ro":                "mode",
		"sqlite:x.db?%zz":                    "bad query string",
		"postgres://u:hunter2@h/d?timeout=x": "timeout",
	} {
		_, err := database.ParseURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q) = %v, want an error saying %q (and no password)", raw, err, want)
		}
	}
}

// TestTimeout: ?timeout sets SQLite's busy timeout on every connection.
func TestTimeout(t *testing.T) {
	db := open(t, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite3")+"?timeout=0.25")
	if db.Timeout != 250*time.Millisecond {
		t.Errorf("Timeout = %v, want 250ms", db.Timeout)
	}
	var writer, reader int
	if err := db.SQL().QueryRow("PRAGMA busy_timeout").Scan(&writer); err != nil || writer != 250 {
		t.Errorf("writer busy_timeout = %d, %v; want 250", writer, err)
	}
	if err := db.Gorm.Raw("SELECT * FROM pragma_busy_timeout").Row().Scan(&reader); err != nil || reader != 250 {
		t.Errorf("reader busy_timeout = %d, %v; want 250", reader, err)
	}

	// Another connection holds the write lock: a write waits about the
	// timeout, then fails.
	other := open(t, db.Path())
	tx, err := other.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("CREATE TABLE lock_holder (x)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = db.Gorm.Exec("CREATE TABLE waiter (x)").Error
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("write under another's lock = %v, want database is locked", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("the write gave up after %v, before the 250ms timeout", d)
	}
}

// TestPostgresTimeout: ?timeout is PostgreSQL's lock_timeout.
func TestPostgresTimeout(t *testing.T) {
	url := pgtest.NewDatabase(t)
	for raw, want := range map[string]string{url: "5s", url + "&timeout=1.5": "1500ms"} {
		db := open(t, raw)
		var got string
		if err := db.SQL().QueryRow(`SELECT current_setting('lock_timeout')`).Scan(&got); err != nil || got != want {
			t.Errorf("%s: lock_timeout = %q, %v; want %q", raw, got, err, want)
		}
	}
}

// TestFileLost: the database file deleted, or replaced, under an open
// database is noticed, by Check at once and by the watcher within a
// second or two; from then on every write fails with ErrFileLost, and the
// log says why.
func TestFileLost(t *testing.T) {
	for _, how := range []string{"deleted", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "db.sqlite3")
			var logs syncBuffer
			db, err := either.OpenURL(t.Context(), path, database.WithLogger(slogTo(&logs)))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := sqlitemigrations.Up(db, nil); err != nil {
				t.Fatal(err)
			}
			if err := db.Check(t.Context()); err != nil {
				t.Fatalf("Check before: %v", err)
			}
			switch how {
			case "deleted":
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					os.Remove(f)
				}
			case "replaced":
				other := filepath.Join(dir, "other.sqlite3")
				if err := os.WriteFile(other, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(other, path); err != nil {
					t.Fatal(err)
				}
			}
			// The watcher finds it without being asked.
			deadline := time.Now().Add(5 * time.Second)
			for db.Err() == nil && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !errors.Is(db.Err(), database.ErrFileLost) {
				t.Fatalf("Err() = %v five seconds after the file was %s, want ErrFileLost", db.Err(), how)
			}
			if err := db.Check(t.Context()); !errors.Is(err, database.ErrFileLost) {
				t.Errorf("Check = %v, want ErrFileLost", err)
			}
			err = db.Gorm.Exec(`INSERT INTO django_session VALUES ('lostkey00', 'd', '2030-01-01 00:00:00')`).Error
			if !errors.Is(err, database.ErrFileLost) {
				t.Errorf("a write after the file was %s = %v, want ErrFileLost", how, err)
			}
			if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return nil }); !errors.Is(err, database.ErrFileLost) {
				t.Errorf("a transaction after the file was %s = %v, want ErrFileLost", how, err)
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), path) {
				t.Errorf("log = %q, want one ERROR line naming the file", logs.String())
			}
		})
	}
}

// TestFromGORM: a database the application opened itself says what it
// is, and whether dbstore's cache can work on it.
func TestFromGORM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	g, err := gorm.Open(sqlite.Open(path+"?_busy_timeout=1500"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.FromGORM(t.Context(), g, database.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Engine != database.SQLite || db.Timeout != 1500*time.Millisecond || db.Path() != path || db.WAL() {
		t.Errorf("FromGORM = engine %v, timeout %v, path %q, WAL %v; want SQLite, 1.5s, %q, false", db.Engine, db.Timeout, db.Path(), db.WAL(), path)
	}
	if _, err := database.FromGORM(t.Context(), g, database.Engine(0)); err == nil {
		t.Error("FromGORM with no engine succeeded")
	}
}

// slogTo returns a text logger writing to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// syncBuffer is a strings.Builder safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBackgroundCheckpoint checks that the log of a SQLite file is copied
// into the file by the background checkpoint, not by a commit: the
// writer's own automatic checkpoint is only a backstop far above what a
// commit writes here.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.sqlite3")
	db, err := either.OpenURL(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto int
	if err := db.SQL().QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 10000 {
		t.Fatalf("writer wal_autocheckpoint = %d, %v; want 10000", auto, err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(t.Context(), "CREATE TABLE t (x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO t SELECT randomblob(1000) FROM n"); err != nil {
		t.Fatal(err)
	}
	// The commit wrote some 130 pages to the log, under the backstop: the
	// file grows only when the background checkpoint copies them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > before.Size()+400_000 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes: the log was not checkpointed", fi.Size())
		}
		time.Sleep(20 * time.Millisecond) // polling a file's size: nothing to wait on
	}
}

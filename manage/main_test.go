package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
)

// result is what one run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// manage runs the command in-process with DATABASE_URL set to dbURL.
func manage(t *testing.T, dbURL string, args ...string) result {
	t.Helper()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, getenv, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// tempDB returns the URL of a new SQLite file in a temporary directory.
func tempDB(t *testing.T) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "db.sqlite3")
}

// wantFailure checks a failure: status 1 and exactly one line on stderr
// containing every one of want.
func wantFailure(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit status %d, want 1 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not contain %q", r.stderr, w)
		}
	}
	noStack(t, r)
}

// wantUsage checks a usage error: status 2, a first line containing every
// one of want, then the usage text.
func wantUsage(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("exit status %d, want 2 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
	}
	first, rest, _ := strings.Cut(r.stderr, "\n")
	for _, w := range want {
		if !strings.Contains(first, w) {
			t.Errorf("first line %q does not contain %q", first, w)
		}
	}
	if !strings.Contains(rest, "Usage: manage") {
		t.Errorf("no usage after the error: %q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	noStack(t, r)
}

func noStack(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic", ".go:"} {
		if strings.Contains(r.stderr, s) {
			t.Errorf("stderr looks like a stack trace (%q): %q", s, r.stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	db := tempDB(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no command", nil, []string{"no command"}},
		{"unknown command", []string{"runserver"}, []string{`unknown command "runserver"`}},
		{"flag before command", []string{"--list", "migrate"}, []string{`"--list"`}},
		{"unknown migrate flag", []string{"migrate", "--fake"}, []string{"manage migrate:", "-fake"}},
		{"non-numeric target", []string{"migrate", "latest"}, []string{"manage migrate:", `"latest"`}},
		{"two targets", []string{"migrate", "1", "0"}, []string{"too many arguments"}},
		{"list with target", []string{"migrate", "1", "--list"}, []string{"--list takes no target"}},
		{"bool flag with bad value", []string{"migrate", "--list=maybe"}, []string{"-list"}},
		{"batch size zero", []string{"clearsessions", "--batch-size", "0"}, []string{"manage clearsessions:", "--batch-size 0"}},
		{"batch size not a number", []string{"clearsessions", "--batch-size=many"}, []string{"manage clearsessions:", `"many"`}},
		{"batch size missing", []string{"clearsessions", "--batch-size"}, []string{"batch-size"}},
		{"clearsessions argument", []string{"clearsessions", "now"}, []string{`unexpected argument "now"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantUsage(t, manage(t, db, tt.args...), tt.want...)
		})
	}
	// None of them touched the database.
	if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:")); err == nil {
		t.Error("a usage error created the database file")
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := manage(t, tempDB(t), args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: manage <command>") || r.stderr != "" {
			t.Errorf("manage %q = %d, stdout %q, stderr %q; want 0 and the usage on stdout", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, cmd := range []string{"migrate", "clearsessions"} {
		r := manage(t, tempDB(t), cmd, "-h")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: manage "+cmd) {
			t.Errorf("manage %s -h = %d, stdout %q; want 0 and its usage", cmd, r.code, r.stdout)
		}
	}
}

// migrationNames are the embedded migrations, oldest first, as manage
// prints them.
var migrationNames = []string{"0001_create_django_session", "0002_create_auth_user", "0003_notify_session_changes", "0004_notify_session_expiry"}

// listing is what migrate --list prints with every migration applied or
// none.
func listing(applied bool) string {
	mark := "[ ] "
	if applied {
		mark = "[X] "
	}
	var b strings.Builder
	for _, n := range migrationNames {
		b.WriteString(mark + n + "\n")
	}
	return b.String()
}

// running is what migrate prints when it applies (or, with verb
// "Unapplying", reverts) names, in that order.
func running(verb string, names ...string) string {
	out := "Running migrations:\n"
	for _, n := range names {
		out += "  " + verb + " " + n + "... OK\n"
	}
	return out
}

// reversed returns names last first.
func reversed(names []string) []string {
	out := slices.Clone(names)
	slices.Reverse(out)
	return out
}

func TestMigrate(t *testing.T) {
	db := tempDB(t)

	r := manage(t, db, "migrate", "--list")
	if r.code != 0 || r.stdout != listing(false) {
		t.Errorf("list before migrate = %d, %q (stderr %q)", r.code, r.stdout, r.stderr)
	}

	r = manage(t, db, "migrate")
	want := running("Applying", migrationNames...)
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("migrate = %d, stdout %q, stderr %q; want 0, %q", r.code, r.stdout, r.stderr, want)
	}

	r = manage(t, db, "migrate")
	want = "Running migrations:\n  No migrations to apply.\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("second migrate = %d, %q; want %q", r.code, r.stdout, want)
	}

	r = manage(t, db, "migrate", "-list")
	if r.code != 0 || r.stdout != listing(true) {
		t.Errorf("list after migrate = %d, %q", r.code, r.stdout)
	}
}

func TestMigrateDownAndUp(t *testing.T) {
	db := tempDB(t)
	if r := manage(t, db, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	for _, target := range []string{"0", "zero"} {
		r := manage(t, db, "migrate", target)
		want := running("Unapplying", reversed(migrationNames)...)
		if r.code != 0 || r.stdout != want {
			t.Errorf("migrate %s = %d, %q (stderr %q); want %q", target, r.code, r.stdout, r.stderr, want)
		}
		if r := manage(t, db, "migrate", "--list"); r.stdout != listing(false) {
			t.Errorf("list after migrate %s = %q", target, r.stdout)
		}
		if r := manage(t, db, "clearsessions"); r.code != 1 {
			t.Errorf("clearsessions after migrate %s: status %d, want 1", target, r.code)
		}
		// Back up, by number or by name.
		up := map[string]string{"0": "2", "zero": "0002_create_auth_user"}[target]
		r = manage(t, db, "migrate", up)
		want = running("Applying", migrationNames[:2]...)
		if r.code != 0 || r.stdout != want {
			t.Errorf("migrate %s = %d, %q (stderr %q); want %q", up, r.code, r.stdout, r.stderr, want)
		}
		if r := manage(t, db, "migrate"); r.code != 0 || r.stdout != running("Applying", migrationNames[2:]...) {
			t.Errorf("migrate the rest = %+v", r)
		}
	}
	if r := manage(t, db, "clearsessions"); r.code != 0 {
		t.Errorf("clearsessions after migrating back up: %+v", r)
	}
}

func TestMigrateFailures(t *testing.T) {
	db := tempDB(t)
	r := manage(t, db, "migrate", "99")
	wantFailure(t, r, "manage migrate:", "99")
	if r.stdout != "" {
		t.Errorf("migrate 99 printed %q, want nothing", r.stdout)
	}
	wantFailure(t, manage(t, db, "migrate", "0001_initial"), "manage migrate:", `"0001_initial"`)

	missingDir := "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "db.sqlite3")
	wantFailure(t, manage(t, missingDir, "migrate"), "manage migrate:")
	wantFailure(t, manage(t, missingDir, "clearsessions"), "manage clearsessions:")

	dirAsDB := t.TempDir() // a directory is not a database file
	wantFailure(t, manage(t, dirAsDB, "migrate"), "manage migrate:")

	wantFailure(t, manage(t, "mysql://localhost/site", "migrate"), "manage migrate:")
	wantFailure(t, manage(t, "postgres://user:pw@localhost/site", "clearsessions"), "manage clearsessions:")
}

func TestBadSettingIsAFailure(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": tempDB(t), "SESSION_COOKIE_AGE": "forever"}[k]
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"migrate"}, getenv, &out, &errOut)
	wantFailure(t, result{code, out.String(), errOut.String()}, "SESSION_COOKIE_AGE", `"forever"`)
}

func TestDatabaseURLFlag(t *testing.T) {
	envDB, flagDB := tempDB(t), tempDB(t)
	if r := manage(t, envDB, "migrate", "--database-url", flagDB); r.code != 0 {
		t.Fatalf("migrate --database-url: %+v", r)
	}
	if r := manage(t, flagDB, "migrate", "--list"); r.stdout != listing(true) {
		t.Errorf("the flag's database is not migrated: %q", r.stdout)
	}
	if r := manage(t, envDB, "migrate", "--list"); r.stdout != listing(false) {
		t.Errorf("DATABASE_URL's database was migrated instead: %q", r.stdout)
	}
	wantUsage(t, manage(t, envDB, "clearsessions", "--database-url"), "database-url")
}

func TestClearSessionsUnmigrated(t *testing.T) {
	r := manage(t, tempDB(t), "clearsessions")
	wantFailure(t, r, "not migrated", "0001_create_django_session", "run `manage migrate` first")
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
}

// seed migrates dbURL and stores sessions with the given expiry offsets
// from now; it returns their keys in order.
func seed(t *testing.T, dbURL string, offsets ...time.Duration) []string {
	t.Helper()
	if r := manage(t, dbURL, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	db, err := either.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var keys []string
	for _, off := range offsets {
		key := session.NewKey()
		rec := session.Record{Key: key, Data: "e30:signed", Expires: time.Now().Add(off)}
		if err := store.Create(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

// storedKeys lists the session keys in the table.
func storedKeys(t *testing.T, dbURL string) []string {
	t.Helper()
	db, err := either.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys []string
	if err := db.Gorm.Raw("SELECT session_key FROM django_session").Scan(&keys).Error; err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func TestClearSessionsDeletesOnlyExpired(t *testing.T) {
	db := tempDB(t)
	keys := seed(t, db, -time.Hour, time.Hour, -48*time.Hour, 14*24*time.Hour, -time.Second)
	live := []string{keys[1], keys[3]}
	slices.Sort(live)

	r := manage(t, db, "clearsessions", "--batch-size", "2") // 3 expired: two batches
	if r.code != 0 || r.stdout != "Deleted 3 expired sessions.\n" || r.stderr != "" {
		t.Errorf("clearsessions = %d, stdout %q, stderr %q; want 0, \"Deleted 3 expired sessions.\\n\"", r.code, r.stdout, r.stderr)
	}
	if got := storedKeys(t, db); !slices.Equal(got, live) {
		t.Errorf("left %q, want the live sessions %q", got, live)
	}

	r = manage(t, db, "clearsessions")
	if r.code != 0 || r.stdout != "Deleted 0 expired sessions.\n" {
		t.Errorf("second clearsessions = %d, %q", r.code, r.stdout)
	}
	if got := storedKeys(t, db); !slices.Equal(got, live) {
		t.Errorf("second run left %q, want %q", got, live)
	}
}

// --verbose also says how long the batches held the write lock, the
// longest above all (what the site's writes waited for at most).
func TestClearSessionsVerbose(t *testing.T) {
	db := tempDB(t)
	seed(t, db, -time.Hour, time.Hour, -time.Minute)
	r := manage(t, db, "clearsessions", "--verbose")
	held := regexp.MustCompile(`^1 batches held the write lock for [0-9.]+[µm]?s in all, the longest for [0-9.]+[µm]?s\.\nDeleted 2 expired sessions\.\n$`)
	if r.code != 0 || !held.MatchString(r.stdout) {
		t.Errorf("clearsessions --verbose = %d, stdout %q", r.code, r.stdout)
	}
}

func TestClearSessionsOne(t *testing.T) {
	db := tempDB(t)
	seed(t, db, -time.Minute)
	if r := manage(t, db, "clearsessions"); r.stdout != "Deleted 1 expired session.\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

// On a terminal the count is shown live, then replaced by the result; in
// a pipe (the other tests) there is no progress at all.
func TestClearSessionsProgressOnTerminal(t *testing.T) {
	db := tempDB(t)
	seed(t, db, -time.Hour, -2*time.Hour, -3*time.Hour)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db
		}
		return ""
	}
	var out bytes.Buffer
	if err := runClearSessions(t.Context(), []string{"--batch-size=1"}, getenv, &out, true); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"\rDeleting expired sessions... 1", "\rDeleting expired sessions... 3", "\r\x1b[K"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output %q lacks %q", got, want)
		}
	}
	if !strings.HasSuffix(got, "Deleted 3 expired sessions.\n") {
		t.Errorf("terminal output %q does not end with the result", got)
	}
}

func TestClearSessionsCancelled(t *testing.T) {
	db := tempDB(t)
	seed(t, db, -time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"clearsessions"}, getenv, &out, &errOut)
	wantFailure(t, result{code, out.String(), errOut.String()}, "manage clearsessions:")
}

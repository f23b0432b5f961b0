package main

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// TestPostgresMigrateAndClearSessions runs the commands on a PostgreSQL
// URL, as on SQLite: migrate lists, applies, reverts; clearsessions
// deletes the expired rows, Django's included, and only those.
func TestPostgresMigrateAndClearSessions(t *testing.T) {
	db := pgtest.NewDatabase(t)

	if r := manage(t, db, "migrate", "--list"); r.code != 0 || r.stdout != listing(false) {
		t.Errorf("list before migrate = %+v", r)
	}
	wantFailure(t, manage(t, db, "clearsessions"), "not migrated", "run `manage migrate` first")
	r := manage(t, db, "migrate")
	if want := running("Applying", migrationNames...); r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("migrate = %+v, want %q", r, want)
	}
	if r := manage(t, db, "migrate", "--list"); r.stdout != listing(true) {
		t.Errorf("list after migrate = %q", r.stdout)
	}

	keys := seed(t, db, -time.Hour, time.Hour, -48*time.Hour, 14*24*time.Hour, -time.Second)
	live := []string{keys[1], keys[3]}
	// Rows as Django writes them: one expired, one live.
	conn, err := either.OpenURL(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Gorm.Exec(`INSERT INTO django_session VALUES ('djangoexpired', 'd', now() - interval '1 minute'), ('djangolive', 'd', now() + interval '1 day')`).Error
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	live = append(live, "djangolive")
	slices.Sort(live)

	r = manage(t, db, "clearsessions", "--batch-size", "2")
	if r.code != 0 || r.stdout != "Deleted 4 expired sessions.\n" || r.stderr != "" {
		t.Errorf("clearsessions = %+v, want \"Deleted 4 expired sessions.\\n\"", r)
	}
	if got := storedKeys(t, db); !slices.Equal(got, live) {
		t.Errorf("left %q, want the live sessions %q", got, live)
	}
	if r := manage(t, db, "clearsessions"); r.code != 0 || r.stdout != "Deleted 0 expired sessions.\n" {
		t.Errorf("second clearsessions = %+v", r)
	}

	r = manage(t, db, "migrate", "0")
	if want := running("Unapplying", reversed(migrationNames)...); r.code != 0 || r.stdout != want {
		t.Errorf("migrate 0 = %+v, want %q", r, want)
	}
	if r := manage(t, db, "migrate", "--list"); r.stdout != listing(false) {
		t.Errorf("list after migrate 0 = %q", r.stdout)
	}
}

// TestPostgresFailures: an unreachable server and a bad URL fail with one
// line that does not show the password.
func TestPostgresFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, cmd := range []string{"migrate", "clearsessions"} {
		r := manage(t, "postgres://site:s3cret@"+addr+"/site", cmd)
		wantFailure(t, r, "manage "+cmd+":", "connection refused")
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("stderr shows the password: %q", r.stderr)
		}
		r = manage(t, "postgresql://site:s3cret@"+addr+":99/site", cmd)
		wantFailure(t, r, "manage "+cmd+":", "bad PostgreSQL URL")
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("stderr shows the password: %q", r.stderr)
		}
	}
}

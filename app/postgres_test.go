package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// TestRunPostgres is `go run .` with DATABASE_URL naming a PostgreSQL
// database: the site migrates it at start, serves /visits with sessions
// kept there, counts concurrent visits exactly, and stops cleanly.
func TestRunPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := startSite(t, map[string]string{"DATABASE_URL": url, "SECRET_KEY": "postgres-run-test"})
	s.waitLog(t, "applied migration", "0001_create_django_session")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	visit := func() (int, string) {
		resp, err := client.Get(s.url + "/visits")
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for i := 1; i <= 3; i++ {
		code, body := visit()
		if want := fmt.Sprintf("visited this page %d times", i); code != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("visit %d = %d, want 200 and %q: %.300s", i, code, want, body)
		}
	}
	// Concurrent visits of one session all count.
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if code, _ := visit(); code != http.StatusOK {
				t.Errorf("concurrent visit = %d", code)
			}
		})
	}
	wg.Wait()
	if code, body := visit(); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("visited this page %d times", 3+n+1)) {
		t.Errorf("after %d concurrent visits: %d %.300s", n, code, body)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	// The session is a row of the PostgreSQL database, expiring in two
	// weeks (SESSION_COOKIE_AGE's default).
	db, err := postgres.OpenURL(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	var expires time.Time
	if err := db.Gorm.Raw(`SELECT count(*), max(expire_date) FROM django_session`).Row().Scan(&rows, &expires); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); rows != 1 || d < 13*24*time.Hour || d > 14*24*time.Hour+time.Minute {
		t.Errorf("%d rows, expiring in %v; want one, in two weeks", rows, d)
	}

	// A second start finds nothing to migrate.
	s = startSite(t, map[string]string{"DATABASE_URL": url, "SECRET_KEY": "postgres-run-test"})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.logs.String(), "applied migration") {
		t.Errorf("second start applied migrations again:\n%s", s.logs)
	}
}

// TestRunPostgresUnreachable: a PostgreSQL server that is not there stops
// the start with one line that says so, without the password.
func TestRunPostgresUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := map[string]string{"DATABASE_URL": "postgres://site:s3cret@" + addr + "/site", "SECRET_KEY": "k"}
	var stdout, stderr syncBuffer
	err = RunWith(t.Context(), Options{}, nil, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Errorf("Run = %v, want an error naming the address and the refusal", err)
	}
	if err != nil && (strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3cret")) {
		t.Errorf("error is not one line, or shows the password: %q", err)
	}
	if strings.Contains(stdout.String()+stderr.String(), "s3cret") {
		t.Errorf("output shows the password:\n%s%s", stdout.String(), stderr.String())
	}
}

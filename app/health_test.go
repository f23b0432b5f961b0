package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/internal/pgtest"
	"github.com/djangosessions/gosessions/migrations"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
)

func TestHealthEndpoints(t *testing.T) {
	db := dbtest.SQLite(t)
	clock := &fakeClock{t: time.Now()}
	e, closeSite, _, err := newSite(testConfig(), db, slog.New(slog.DiscardHandler), &lifecycle{now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	probe := func(method, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: "abcdefghijklmnopqrstuvwxyz012345"})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if ck := rec.Header().Values("Set-Cookie"); len(ck) != 0 {
			t.Errorf("%s %s set a cookie: %q", method, path, ck)
		}
		if v := rec.Header().Get("Vary"); v != "" {
			t.Errorf("%s %s: Vary %q: a probe must not touch the session", method, path, v)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, path, cc)
		}
		return rec
	}
	for _, tc := range []struct{ path, body string }{{"/healthz", "ok\n"}, {"/readyz", "ready\n"}} {
		if rec := probe(http.MethodGet, tc.path); rec.Code != 200 || rec.Body.String() != tc.body {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, rec.Code, rec.Body, tc.body)
		}
		if rec := probe(http.MethodHead, tc.path); rec.Code != 200 {
			t.Errorf("HEAD %s = %d", tc.path, rec.Code)
		}
	}

	sqlDB := db.SQL()
	if _, err := sqlDB.Exec("UPDATE " + migrations.VersionTable + " SET version = 4"); err != nil {
		t.Fatal(err)
	}
	// The answer is kept for readyTTL.
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 200 {
		t.Errorf("readyz within readyTTL of the last check: %d %q, want the kept 200", rec.Code, rec.Body)
	}
	clock.add(readyTTL)
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || rec.Body.String() != "schema not migrated: 1 pending migrations\n" {
		t.Errorf("readyz, schema behind: %d %q", rec.Code, rec.Body)
	}
	if _, err := sqlDB.Exec("UPDATE " + migrations.VersionTable + " SET version = 1, dirty = 1"); err != nil {
		t.Fatal(err)
	}
	clock.add(readyTTL)
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), "schema dirty") {
		t.Errorf("readyz, dirty schema: %d %q", rec.Code, rec.Body)
	}
	sqlDB.Close()
	clock.add(readyTTL)
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || rec.Body.String() != "database unavailable\n" {
		t.Errorf("readyz, database closed: %d %q", rec.Code, rec.Body)
	}
	if rec := probe(http.MethodGet, "/healthz"); rec.Code != 200 {
		t.Errorf("healthz with the database closed: %d: the process still serves", rec.Code)
	}
}

// While a shutdown drains the site, /readyz answers 503 "draining" (to the
// probes already on a connection: the listener is closed by then).
func TestReadyzDraining(t *testing.T) {
	lc := &lifecycle{}
	e, closeSite, _, err := newSite(testConfig(), dbtest.SQLite(t), slog.New(slog.DiscardHandler), lc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	lc.draining.Store(true)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "draining\n" {
		t.Errorf("readyz while draining = %d %q, want 503 draining", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("healthz while draining = %d, want 200: the process still serves", rec.Code)
	}
}

// postgresSite builds the site on a new, migrated PostgreSQL database and
// returns it with the database's URL.
func postgresSite(t *testing.T, lc *lifecycle) (*echo.Echo, *database.DB, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	db, err := postgres.OpenURL(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := pgmigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	e, closeSite, _, err := newSite(testConfig(), db, slog.New(slog.DiscardHandler), lc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	return e, db, url
}

// readyz asks e's /readyz and returns the status and the reason.
func readyz(e http.Handler) (int, string) {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code, strings.TrimSuffix(rec.Body.String(), "\n")
}

// flood sends n concurrent probes to /readyz and returns how many
// answered 200 "ready".
func flood(e http.Handler, n int) int {
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if code, body := readyz(e); code == http.StatusOK && body == "ready" {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return int(ok.Load())
}

// settleGoroutines waits (5 s at most) until no more than want goroutines
// run, and returns how many run then.
func settleGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// A flood of readiness probes on PostgreSQL opens no connection beyond the
// site's own pool and leaves no goroutine behind: every probe is answered
// from one shared check on the pool.
func TestReadyzFloodPostgres(t *testing.T) {
	e, db, url := postgresSite(t, &lifecycle{})
	monitor, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer monitor.Close(context.Background())
	// The site's connections: every backend of the database but the
	// monitor's own and the session cache's listener.
	backends := func() int {
		var n int
		err := monitor.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> $1`,
			database.ListenerName).Scan(&n)
		if err != nil {
			t.Error(err)
		}
		return n
	}
	if code, body := readyz(e); code != http.StatusOK {
		t.Fatalf("readyz = %d %q before the flood", code, body)
	}
	baseline := runtime.NumGoroutine()

	const probes = 200
	done := make(chan struct{})
	peak := make(chan int)
	go func() {
		most := 0
		for {
			most = max(most, backends())
			select {
			case <-done:
				peak <- most
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	ready := flood(e, probes)
	close(done)
	most := <-peak
	after := settleGoroutines(baseline + 2)
	t.Logf("%d probes: %d ready; backends at most %d (pool %d); goroutines %d before, %d after", probes, ready, most, db.URL().MaxConns, baseline, after)
	if ready != probes {
		t.Errorf("%d of %d probes answered ready", ready, probes)
	}
	if most > db.URL().MaxConns {
		t.Errorf("the flood raised the site's backends to %d, above its pool of %d", most, db.URL().MaxConns)
	}
	if after > baseline+2 {
		t.Errorf("goroutines: %d before the flood, %d after: probes left work behind", baseline, after)
	}
}

// A probe while another process's migration is in flight (it holds the
// migration lock, the version is marked dirty, and it waits for a table
// lock) answers at once "migrating", not "dirty" and not a timeout; once
// the migration ends the site is ready.
func TestReadyzDuringMigrationPostgres(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e, db, url := postgresSite(t, &lifecycle{now: clock.now})
	if err := pgmigrations.To(db, 2, nil); err != nil {
		t.Fatal(err)
	}
	// A transaction of someone else's holds django_session, so that the
	// next migration (a trigger on it) waits inside its lock.
	blocker, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE django_session IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	other, err := postgres.OpenURL(t.Context(), url+"&timeout=60")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	migrated := make(chan error, 1)
	go func() { migrated <- pgmigrations.Up(other, nil) }()
	// Wait until the migration waits for the table.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting bool
		if err := blocker.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE NOT granted AND relation = 'django_session'::regclass)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the migration never waited for django_session")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	code, body := readyz(e)
	t.Logf("readyz during the migration: %d %q in %v", code, body, time.Since(start))
	if code != http.StatusServiceUnavailable || body != "migrating" {
		t.Errorf("readyz during a migration = %d %q, want 503 \"migrating\"", code, body)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-migrated; err != nil {
		t.Fatalf("the migration failed: %v", err)
	}
	clock.add(readyTTL)
	if code, body = readyz(e); code != http.StatusOK {
		t.Errorf("readyz after the migration = %d %q, want 200", code, body)
	}
}

// On SQLite, a migration in flight in another process (the version marked
// dirty, the write lock held) is "migrating" too, answered at once.
func TestReadyzDuringMigrationSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	db, err := sqlite.OpenURL(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	e, closeSite, _, err := newSite(testConfig(), db, slog.New(slog.DiscardHandler), &lifecycle{now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	// The other process: what golang-migrate does, marking the version
	// dirty and then running the migration in a transaction.
	other, err := sqlite.OpenURL(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.SQL().Exec("UPDATE " + migrations.VersionTable + " SET dirty = 1"); err != nil {
		t.Fatal(err)
	}
	tx, err := other.SQL().Begin() // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("CREATE TABLE being_migrated (id integer)"); err != nil {
		t.Fatal(err)
	}
	code, body := readyz(e)
	if code != http.StatusServiceUnavailable || body != "migrating" {
		t.Errorf("readyz during a migration = %d %q, want 503 \"migrating\"", code, body)
	}
	tx.Rollback()
	// The migration's process died: the version stays dirty, and no one
	// holds the lock. That is "schema dirty".
	clock.add(readyTTL)
	if code, body = readyz(e); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "schema dirty") {
		t.Errorf("readyz on a dirty database = %d %q, want 503 schema dirty", code, body)
	}
}

// A flood of probes on SQLite is answered without leaving goroutines
// behind.
func TestReadyzFloodSQLite(t *testing.T) {
	e, closeSite, err := New(testConfig(), dbtest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	if code, body := readyz(e); code != http.StatusOK {
		t.Fatalf("readyz = %d %q before the flood", code, body)
	}
	baseline := runtime.NumGoroutine()
	const probes = 200
	if ready := flood(e, probes); ready != probes {
		t.Errorf("%d of %d probes answered ready", ready, probes)
	}
	if after := settleGoroutines(baseline + 2); after > baseline+2 {
		t.Errorf("goroutines: %d before the flood, %d after: probes left work behind", baseline, after)
	}
}

// Concurrent callers of a readiness check share one run of it, the answer
// is kept for its ttl and then asked again, and a caller that gives up
// gets errUnavailable without stopping the run the others wait for.
func TestReadinessSharesOneCheck(t *testing.T) {
	var runs atomic.Int64
	release := make(chan struct{})
	clock := &fakeClock{t: time.Now()}
	r := &readiness{
		check: func(ctx context.Context) error {
			runs.Add(1)
			<-release
			return nil
		},
		ttl: time.Second, timeout: time.Minute, now: clock.now, log: slog.New(slog.DiscardHandler),
	}
	gaveUp, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.get(gaveUp); err != errUnavailable {
		t.Errorf("a caller that gave up got %v, want errUnavailable", err)
	}
	const callers = 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() { errs <- r.get(t.Context()) })
	}
	time.Sleep(10 * time.Millisecond) // let them queue behind the run
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("get = %v, want nil", err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("%d callers ran the check %d times, want once", callers+1, n)
	}
	r.get(t.Context())
	if n := runs.Load(); n != 1 {
		t.Errorf("a call within the ttl ran the check again (%d runs)", n)
	}
	clock.add(time.Second)
	r.get(t.Context())
	if n := runs.Load(); n != 2 {
		t.Errorf("a call after the ttl: %d runs, want 2", n)
	}
}

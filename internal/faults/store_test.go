package faults

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// visitor is one browser: a cookie jar and the visits the site
// acknowledged to it with a 200.
type visitor struct {
	client *http.Client
	acked  atomic.Int64
	failed atomic.Int64 // answers other than 200, and transport errors
}

func newVisitor(t *testing.T) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// visit GETs /visits and reports the status (0 for a transport error) and
// how long it took.
func (v *visitor) visit(base string) (int, time.Duration) {
	start := time.Now()
	resp, err := v.client.Get(base + "/visits")
	if err != nil {
		v.failed.Add(1)
		return 0, time.Since(start)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		v.acked.Add(1)
	} else {
		v.failed.Add(1)
	}
	return resp.StatusCode, time.Since(start)
}

// stored returns the visits the site holds for v's session, read through
// /api/session (which never touches the session).
func (v *visitor) stored(t *testing.T, base string) int64 {
	t.Helper()
	resp, err := v.client.Get(base + "/api/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data map[string]json.Number `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/api/session: %v", err)
	}
	n, _ := body.Data["visits"].Int64()
	return n
}

// load runs visitors against base until stop is closed, each sending one
// request at a time.
func load(base string, visitors []*visitor, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, v := range visitors {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v.visit(base)
			}
		})
	}
	return &wg
}

// TestLockHeldBoundsEveryWait: another process holds SQLite's write lock
// (a long transaction, a stuck manage command). With DATABASE_URL's
// timeout=0.5 every request that needs to write gets a 503 within its
// budget (timeout + 1 s), concurrent requests of one session included,
// instead of queueing for as long as the lock is held; reads keep working;
// when the lock goes, writes work again and nothing acknowledged is lost.
// Before: the requests of one session waited 18.9-20 s each behind a
// 20 s lock, one 503 coming out every 5 s.
func TestLockHeldBoundsEveryWait(t *testing.T) {
	s := startSiteOn(t, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite3")+"?timeout=0.5")
	one := newVisitor(t)
	if code, _ := one.visit(s.url); code != http.StatusOK {
		t.Fatalf("first visit: %d", code)
	}

	lock, err := sql.Open("sqlite3", s.dbPath+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	tx, err := lock.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE django_session SET expire_date = expire_date WHERE 0`); err != nil {
		t.Fatal(err)
	}

	const budget = 1500 * time.Millisecond
	const n = 12
	var wg sync.WaitGroup
	type result struct {
		code int
		took time.Duration
	}
	results := make([]result, n)
	others := make([]*visitor, n)
	for i := range n {
		v := one // half of them on the one session
		if i%2 == 1 {
			others[i] = newVisitor(t)
			v = others[i]
		}
		wg.Go(func() {
			code, took := v.visit(s.url)
			results[i] = result{code, took}
		})
	}
	wg.Wait()
	for i, r := range results {
		// Generous room over the budget for a loaded machine; the failure
		// this guards against is seconds per request queued ahead.
		if r.code != http.StatusServiceUnavailable || r.took > budget+1500*time.Millisecond {
			t.Errorf("request %d under the held lock: %d after %v; want 503 within about %v", i, r.code, r.took, budget)
		}
	}
	// Reading needs no write lock.
	resp, err := one.client.Get(s.url + "/get")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /get under the held lock: %d, want 200", resp.StatusCode)
	}

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if code, _ := one.visit(s.url); code != http.StatusOK {
		t.Fatalf("a visit after the lock went: %d", code)
	}
	if got, want := one.stored(t, s.url), one.acked.Load(); got != want {
		t.Errorf("stored %d visits, %d acknowledged", got, want)
	}
}

// loadUntil starts n visitors loading s with visits and returns once they
// have had acked visits acknowledged in all; stop stops them and waits.
func loadUntil(t *testing.T, s *site, n int, acked int64) ([]*visitor, func()) {
	t.Helper()
	visitors := make([]*visitor, n)
	for i := range visitors {
		visitors[i] = newVisitor(t)
	}
	done := make(chan struct{})
	wg := load(s.url, visitors, done)
	s.waitFor(fmt.Sprintf("%d visits acknowledged", acked), func() bool { return ackedBy(visitors) >= acked })
	return visitors, func() { close(done); wg.Wait() }
}

// ackedBy returns the visits acknowledged to visitors in all.
func ackedBy(visitors []*visitor) int64 {
	var n int64
	for _, v := range visitors {
		n += v.acked.Load()
	}
	return n
}

// startSiteOn is startSite on an existing database: a restart.
func startSiteOn(t *testing.T, databaseURL string, env ...string) *site {
	t.Helper()
	s := startSite(t, append([]string{"DATABASE_URL=" + databaseURL}, env...)...)
	s.dbPath = ""
	if p, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		s.dbPath, _, _ = strings.Cut(p, "?")
	}
	return s
}

// TestKillUnderLoad: kill -9 in the middle of a load of writes. The file
// passes SQLite's integrity check at the next start, and every visit
// acknowledged before the kill is stored (a visit stored but killed before
// its 200 went out is at most one more per visitor).
func TestKillUnderLoad(t *testing.T) {
	s := startSite(t)
	visitors, stop := loadUntil(t, s, 8, 200)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	stop()

	db, err := sql.Open("sqlite3", s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check after kill -9 = %q, %v", check, err)
	}
	db.Close()

	again := startSiteOn(t, "sqlite:"+s.dbPath)
	for i, v := range visitors {
		stored, acked := v.stored(t, again.url), v.acked.Load()
		if stored != acked && stored != acked+1 {
			t.Errorf("visitor %d: %d visits acknowledged before the kill, %d stored", i, acked, stored)
		}
	}
}

// TestSIGTERMUnderLoad: SIGTERM in the middle of a load of writes. The
// process exits 0 after finishing the requests in flight, and what is
// stored is exactly what was acknowledged.
func TestSIGTERMUnderLoad(t *testing.T) {
	s := startSite(t)
	visitors, stop := loadUntil(t, s, 8, 200)
	took, code := s.sigterm()
	stop()
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM under load, want 0", code)
	}
	t.Logf("exited %v after SIGTERM", took)
	again := startSiteOn(t, "sqlite:"+s.dbPath)
	for i, v := range visitors {
		if stored, acked := v.stored(t, again.url), v.acked.Load(); stored != acked {
			t.Errorf("visitor %d: %d visits acknowledged, %d stored", i, acked, stored)
		}
	}
}

// TestDatabaseFileDeleted: the database file deleted under the running
// site (a mistaken cleanup). Within a couple of seconds /readyz says so,
// the log says why at ERROR, and writes answer 503, so that no visit is
// acknowledged into a file nobody will open again. Before: writes kept
// being acknowledged, nothing was logged, and all of it was gone at the
// next start.
func TestDatabaseFileDeleted(t *testing.T) {
	s := startSite(t)
	v := newVisitor(t)
	if code, _ := v.visit(s.url); code != http.StatusOK {
		t.Fatalf("first visit: %d", code)
	}
	for _, f := range []string{s.dbPath, s.dbPath + "-wal", s.dbPath + "-shm"} {
		os.Remove(f)
	}
	// The very next write is refused: every transaction looks at the file
	// first.
	if code, _ := v.visit(s.url); code != http.StatusServiceUnavailable {
		t.Errorf("the first visit after the file was deleted: %d, want 503", code)
	}
	s.waitFor("/readyz to say the file is lost", func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), "database file lost")
	})
	acked := v.acked.Load()
	if code, _ := v.visit(s.url); code != http.StatusServiceUnavailable {
		t.Errorf("a visit after the file was deleted: %d, want 503", code)
	}
	if v.acked.Load() != acked {
		t.Error("a write was acknowledged after the file was deleted")
	}
	// One line from the database saying why (the failed request's own
	// line also carries the cause).
	if lines := s.logLines("level=ERROR", "deleted or replaced while the site had it open"); len(lines) != 1 {
		t.Errorf("%d ERROR lines from the database saying the file was lost, want 1:\n%s", len(lines), s.logs)
	}
}

// TestDiskFull: the disk under the database fills up (a small tmpfs).
// Writes answer 503, never 500 or a half-written page, reads keep
// working, and once space is freed writes work again without a restart;
// every acknowledged visit is stored.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a small tmpfs: %v (the fault suite runs as root in CI)", err)
		}
		t.Skipf("cannot mount a tmpfs here (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	db := filepath.Join(dir, "db.sqlite3")
	s := startSiteOn(t, "sqlite:"+db)
	v := newVisitor(t)
	if code, _ := v.visit(s.url); code != http.StatusOK {
		t.Fatalf("first visit: %d", code)
	}

	// Fill the rest of the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	// New sessions need new pages: they fail, with 503.
	var codes []int
	for range 200 {
		code, _ := newVisitor(t).visit(s.url)
		codes = append(codes, code)
		if code != http.StatusOK {
			break
		}
	}
	if last := codes[len(codes)-1]; last != http.StatusServiceUnavailable {
		t.Fatalf("writes on a full disk answered %v; want 503 once the disk is full", codes)
	}
	resp, err := v.client.Get(s.url + "/get")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a read on a full disk: %d, want 200", resp.StatusCode)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, _ := v.visit(s.url); code != http.StatusOK {
		t.Fatalf("a visit after space was freed: %d", code)
	}
	if got, want := v.stored(t, s.url), v.acked.Load(); got != want {
		t.Errorf("stored %d visits, %d acknowledged", got, want)
	}
}

// postgresCluster is a PostgreSQL server of the test's own, so that
// restarting it disturbs no other test.
type postgresCluster struct {
	bin, dir, url, opts string
	as                  []string // run as the postgres user when root
}

// startCluster makes and starts a private cluster on a free port, or
// skips (fails in CI) when PostgreSQL is not installed.
func startCluster(t *testing.T) *postgresCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL is not installed: CI must test a PostgreSQL restart")
		}
		t.Skip("PostgreSQL is not installed")
	}
	// A directory of its own under the system's temporary directory: the
	// postgres user must be able to reach it, which a test's TempDir (mode
	// 0700, owned by root) does not allow.
	dir, err := os.MkdirTemp("", "faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &postgresCluster{bin: bins[len(bins)-1], dir: dir}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		c.as = []string{"runuser", "-u", "postgres", "--"}
		if out, err := exec.Command("chown", "postgres:", c.dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	c.run(t, "initdb", "-D", c.dir+"/data", "-U", "postgres", "-A", "trust", "--no-sync")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	c.opts = fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", port, c.dir)
	c.start(t)
	t.Cleanup(func() { c.ctl(t, "stop", "-m", "immediate") })
	return c
}

func (c *postgresCluster) start(t *testing.T) {
	t.Helper()
	c.ctl(t, "start", "-w", "-t", "60", "-l", c.dir+"/server.log", "-o", c.opts)
}

func (c *postgresCluster) ctl(t *testing.T, args ...string) {
	t.Helper()
	c.run(t, "pg_ctl", append([]string{"-D", c.dir + "/data"}, args...)...)
}

func (c *postgresCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	argv := append(append(append([]string{}, c.as...), filepath.Join(c.bin, name)), args...)
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// TestPostgresRestart: PostgreSQL restarts in the middle of a load of
// writes. While it is down, requests answer 503 within their budget;
// once it is back, the same site process serves again, its session cache
// listening again; no acknowledged visit is lost (a visit committed just
// before the server went down may have lost its answer: stored is at
// most one more per failure).
func TestPostgresRestart(t *testing.T) {
	c := startCluster(t)
	s := startSiteOn(t, c.url+"&timeout=1")
	visitors, stop := loadUntil(t, s, 6, 100)
	acked := func() int64 { return ackedBy(visitors) }
	failed := func() int64 {
		var n int64
		for _, v := range visitors {
			n += v.failed.Load()
		}
		return n
	}
	c.ctl(t, "stop", "-m", "fast", "-w")
	before := failed()
	s.waitFor("503s while PostgreSQL is down", func() bool { return failed() > before+10 })
	// A request now fails within its budget (timeout 1 s + 1 s).
	start := time.Now()
	if code, took := newVisitor(t).visit(s.url); code != http.StatusServiceUnavailable || took > 4*time.Second {
		t.Errorf("a visit while PostgreSQL is down: %d after %v, want 503 within the budget", code, took)
	}
	t.Logf("503 in %v", time.Since(start))

	c.start(t)
	down := acked()
	s.waitFor("visits acknowledged again after the restart", func() bool { return acked() > down+100 })
	stop()
	s.waitFor("/readyz after the restart", func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for i, v := range visitors {
		stored, acked, failed := v.stored(t, s.url), v.acked.Load(), v.failed.Load()
		if stored < acked || stored > acked+failed {
			t.Errorf("visitor %d: %d acknowledged, %d failed, %d stored", i, acked, failed, stored)
		}
	}
	// Through it all, one process: it was never restarted.
	select {
	case <-s.exited:
		t.Fatal("the site exited")
	default:
	}
}

package dbstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
)

func TestConformanceCached(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		_, db := migrated(t)
		s := newStore(t, db, dbstore.WithCache(100))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestCacheAnswersWithoutQuery: once seen, a session loads with the
// database closed, which proves the load made no query; one never seen
// fails.
func TestCacheAnswersWithoutQuery(t *testing.T) {
	_, db := migrated(t)
	s := newStore(t, db, dbstore.WithCache(100))
	defer s.Close()
	m := manager(t, s)
	seen := sessiontest.NewSession(t, m, map[string]any{"user": "ann"})
	other := sessiontest.NewSession(t, m, map[string]any{"user": "bob"})
	if got := m.Open(t.Context(), seen).GetString("user", ""); got != "ann" {
		t.Fatalf("user = %q", got)
	}
	st := s.Stats()
	if st.CacheLen != 2 || st.Commits == 0 {
		t.Fatalf("stats after two creates: %+v", st)
	}
	sqlDB := db.SQL()
	sqlDB.Close()
	rec, err := s.Load(t.Context(), seen)
	if err != nil || rec.Key != seen {
		t.Fatalf("cached Load with the database closed: %v", err)
	}
	if _, err := s.Load(t.Context(), session.NewKey()); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("uncached Load with the database closed = %v, want a fault", err)
	}
	_ = other
}

// TestCacheSeesOtherProcesses: every change made through another
// connection pool (another process) or with raw SQL (Django) is seen at
// once by a store that had the session cached.
func TestCacheSeesOtherProcesses(t *testing.T) {
	path, db := migrated(t)
	cached := newStore(t, db, dbstore.WithCache(100))
	defer cached.Close()
	a := manager(t, cached)
	b := manager(t, newStore(t, open(t, path)))
	key := sessiontest.NewSession(t, a, map[string]any{"user": "ann", "n": 1})
	load := func() *session.Session { return a.Open(t.Context(), key) }
	if load().GetString("user", "") != "ann" {
		t.Fatal("not loaded")
	}

	// An update by the other process.
	sb := b.Open(t.Context(), key)
	sb.Set("user", "bob")
	if err := sb.Save(); err != nil {
		t.Fatal(err)
	}
	if got := load().GetString("user", ""); got != "bob" {
		t.Fatalf("after another process's update: user = %q, want bob", got)
	}

	// A raw UPDATE, as Django would do it.
	raw := open(t, path)
	enc, err := b.Encode(map[string]any{"user": "django"})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Gorm.Exec(`UPDATE django_session SET session_data = ? WHERE session_key = ?`, enc, key).Error; err != nil {
		t.Fatal(err)
	}
	if got := load().GetString("user", ""); got != "django" {
		t.Fatalf("after a raw SQL update: user = %q, want django", got)
	}

	// cycle_key elsewhere: the old key is gone here too.
	sb = b.Open(t.Context(), key)
	sb.CycleKey()
	if err := sb.Save(); err != nil {
		t.Fatal(err)
	}
	if s := load(); s.Len() != 0 {
		t.Fatalf("old key after a cycle elsewhere still loads %v", s.Items())
	}
	if got := a.Open(t.Context(), sb.Key()).GetString("user", ""); got != "django" {
		t.Fatalf("new key: user = %q", got)
	}

	// flush elsewhere.
	key = sb.Key()
	a.Open(t.Context(), key).Len() // cache it
	sb = b.Open(t.Context(), key)
	sb.Flush()
	if err := sb.Save(); err != nil {
		t.Fatal(err)
	}
	if s := a.Open(t.Context(), key); s.Len() != 0 {
		t.Fatalf("after a flush elsewhere still loads %v", s.Items())
	}
}

// TestCacheOwnWritesKeepEntries: this store's own commits update the
// cache instead of emptying it, so a busy single process keeps its hits.
func TestCacheOwnWritesKeepEntries(t *testing.T) {
	_, db := migrated(t)
	s := newStore(t, db, dbstore.WithCache(100))
	defer s.Close()
	m := manager(t, s)
	keys := []string{
		sessiontest.NewSession(t, m, map[string]any{"n": 0}),
		sessiontest.NewSession(t, m, map[string]any{"n": 0}),
	}
	for i := range 20 {
		sess := m.Open(t.Context(), keys[i%2])
		sess.Incr("n", 1)
		if err := sess.Save(); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.CacheLen != 2 || st.CacheMisses != 0 || st.CacheHits < 20 {
		t.Fatalf("after own writes: %+v, want both sessions cached and every load a hit", st)
	}
	for _, k := range keys {
		if got := m.Open(t.Context(), k).GetInt("n", -1); got != 10 {
			t.Fatalf("n = %d, want 10", got)
		}
	}
}

func TestCacheHonoursExpiry(t *testing.T) {
	_, db := migrated(t)
	c := &clock{t: time.Now()}
	s := newStore(t, db, dbstore.WithCache(100), dbstore.WithClock(c.Now))
	defer s.Close()
	rec := session.Record{Key: session.NewKey(), Data: "x", Expires: c.Now().Add(time.Minute)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), rec.Key); err != nil {
		t.Fatal(err)
	}
	c.Set(rec.Expires)
	if _, err := s.Load(t.Context(), rec.Key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("expired cached record: %v", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	_, db := migrated(t)
	s := newStore(t, db, dbstore.WithCache(10))
	defer s.Close()
	for range 50 {
		rec := session.Record{Key: session.NewKey(), Data: "x", Expires: time.Now().Add(time.Hour)}
		if err := s.Create(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(t.Context(), rec.Key); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Stats().CacheLen; n != 10 {
		t.Fatalf("cache holds %d sessions, want the bound 10", n)
	}
}

// TestGroupCommit holds SQLite's write lock from another connection while
// writers queue up; when it is released, the queued writes commit
// together, each with its own result. The batch observer sees each
// transaction's size.
func TestGroupCommit(t *testing.T) {
	path, db := migrated(t)
	var (
		mu    sync.Mutex
		sizes []int
	)
	observe := func(n int) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}
	s := newStore(t, db, dbstore.WithCache(100), dbstore.WithBatchObserver(observe))
	defer s.Close()
	taken := session.Record{Key: session.NewKey(), Data: "x", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(t.Context(), taken); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()

	blocker := open(t, path).SQL()
	conn, err := blocker.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			rec := session.Record{Key: session.NewKey(), Data: strconv.Itoa(i), Expires: time.Now().Add(time.Hour)}
			if i == 7 {
				rec.Key = taken.Key // this one must fail alone
			}
			errs[i] = s.Create(context.Background(), rec)
		})
	}
	// The first writer leads and waits for the lock; the rest queue.
	deadline := time.Now().Add(10 * time.Second)
	for dbstore.QueueLen(s) < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writers queued", dbstore.QueueLen(s))
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := conn.ExecContext(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			if !errors.Is(err, session.ErrExists) {
				t.Errorf("duplicate create: %v, want ErrExists", err)
			}
		} else if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	st := s.Stats()
	if commits, writes := st.Commits-before.Commits, st.Writes-before.Writes; writes != n || commits != 2 {
		t.Fatalf("%d writes in %d transactions, want %d in 2", writes, commits, n)
	}
	if got := count(t, db); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	// The first create alone; the leader of the queue alone (it took the
	// lock's wait); the rest in one group.
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sizes, []int{1, 1, n - 1}) {
		t.Errorf("observed transaction sizes %v, want [1 1 %d]", sizes, n-1)
	}
}

// TestRealProcesses runs writers in two real OS processes (this test
// binary, re-executed) against one database file, both with caches; no
// increment is lost and each process's cache sees the other's writes.
func TestRealProcesses(t *testing.T) {
	if os.Getenv("DBSTORE_CHILD_DB") != "" {
		t.Skip("running as the child")
	}
	const perProcess = 100
	path, db := migrated(t)
	s := newStore(t, db, dbstore.WithCache(100))
	defer s.Close()
	m := manager(t, s)
	key := sessiontest.NewSession(t, m, map[string]any{"n": 0})
	m.Open(t.Context(), key).Len() // cached here

	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DBSTORE_CHILD_DB="+path, "DBSTORE_CHILD_KEY="+key, "DBSTORE_CHILD_N="+strconv.Itoa(perProcess))
	sessiontest.IncrementInTwoProcesses(t, m, key, perProcess, cmd)
}

// TestChildProcess is the other process of TestRealProcesses.
func TestChildProcess(t *testing.T) {
	path := os.Getenv("DBSTORE_CHILD_DB")
	if path == "" {
		t.Skip("only run by TestRealProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("DBSTORE_CHILD_N"))
	s := newStore(t, open(t, path), dbstore.WithCache(100))
	defer s.Close()
	m := manager(t, s)
	sessiontest.IncrementAsChild(t, m, os.Getenv("DBSTORE_CHILD_KEY"), n)
}

// TestCacheSeesExpiryChange: on SQLite too, an expire_date moved into the
// past behind the site's back (the sqlite3 shell, Django) ends the
// session at the next load from a store that had it cached: any commit
// by another connection empties the cache (the WAL index changed).
func TestCacheSeesExpiryChange(t *testing.T) {
	path, db := migrated(t)
	s := newStore(t, db, dbstore.WithCache(100))
	m := manager(t, s)
	raw := open(t, path)
	key := sessiontest.NewSession(t, m, map[string]any{"username": "harun_dev"})
	for range 3 {
		if got := m.Open(t.Context(), key).GetString("username", "Guest"); got != "harun_dev" {
			t.Fatalf("before: username = %q", got)
		}
	}
	if s.Stats().CacheHits == 0 {
		t.Fatalf("the session was never answered from the cache: %+v", s.Stats())
	}
	past := time.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02 15:04:05.000000")
	if err := raw.Gorm.Exec(`UPDATE django_session SET expire_date = ? WHERE session_key = ?`, past, key).Error; err != nil {
		t.Fatal(err)
	}
	if got := m.Open(t.Context(), key).GetString("username", "Guest"); got != "Guest" {
		t.Errorf("after expire_date moved into the past: the next load greets %q, want Guest", got)
	}
}

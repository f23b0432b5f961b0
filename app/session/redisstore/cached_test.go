package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/internal/pgtest"
	"github.com/djangosessions/gosessions/internal/redistest"
)

// openDB opens the database at url as the site does, closed when the
// test ends.
func openDB(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := either.OpenURL(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migratedSQLite returns the path of a new migrated SQLite file.
func migratedSQLite(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	migrate(t, openDB(t, path))
	return path
}

func migrate(t testing.TB, db *database.DB) {
	t.Helper()
	e, err := either.Migrations(db)
	if err == nil {
		err = e.Up(db, nil)
	}
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// dbStore returns a database store on a connection of its own to url (as
// a separate process has), closed when the test ends.
func dbStore(t testing.TB, url string) *dbstore.Store {
	t.Helper()
	s, err := dbstore.New(openDB(t, url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// instance is one simulated process of a cached_db site: its own Redis
// client and its own database connection.
type instance struct {
	*redisstore.CachedStore
	db     *dbstore.Store
	client *redis.Client
}

func newInstance(t testing.TB, redisURL, dbURL, prefix string, opts ...redisstore.Option) instance {
	t.Helper()
	client := redistest.ClientFor(t, redisURL)
	db := dbStore(t, dbURL)
	c := redisstore.NewCache(client, db, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...)
	t.Cleanup(func() { c.Close() })
	return instance{c, db, client}
}

func TestCachedConformance(t *testing.T) {
	redisURL, dbURL := redistest.URL(t), migratedSQLite(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newInstance(t, redisURL, dbURL, redistest.Prefix(t))
	})
}

func TestCachedConformancePostgres(t *testing.T) {
	redisURL, dbURL := redistest.URL(t), pgtest.NewDatabase(t)
	migrate(t, openDB(t, dbURL))
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newInstance(t, redisURL, dbURL, redistest.Prefix(t))
	})
}

// TestCachedIncrementsManyInstances: three instances (their own Redis
// client and database connection each) increment one counter
// concurrently; none is lost.
func TestCachedIncrementsManyInstances(t *testing.T) {
	redisURL, dbURL, prefix := redistest.URL(t), migratedSQLite(t), redistest.Prefix(t)
	var managers []*session.Manager
	for range 3 {
		managers = append(managers, manager(t, newInstance(t, redisURL, dbURL, prefix)))
	}
	key := sessiontest.NewSession(t, managers[0], map[string]any{"seed": "x"})
	sessiontest.Increment(t, managers, key, 150)
}

// TestCachedFreshness is the floor: a write acknowledged by one instance
// is what every later load on another instance returns, from the cache
// (hits), and a deleted session never loads again.
func TestCachedFreshness(t *testing.T) {
	redisURL, dbURL, prefix := redistest.URL(t), migratedSQLite(t), redistest.Prefix(t)
	a, b := newInstance(t, redisURL, dbURL, prefix), newInstance(t, redisURL, dbURL, prefix)
	ctx := t.Context()
	rec := session.Record{Key: session.NewKey(), Data: "v0", Expires: time.Now().Add(time.Hour).Truncate(time.Second)}
	if err := a.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	writers := []instance{a, b}
	for i := range 40 {
		w, r := writers[i%2], writers[(i+1)%2]
		next := rec
		next.Data = "v" + string(rune('a'+i%26)) + time.Now().String()
		if err := w.Update(ctx, next, rec.Data); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		rec = next
		hits := r.Stats().Hits
		got, err := r.Load(ctx, rec.Key)
		if err != nil || got.Data != rec.Data || !got.Expires.Equal(rec.Expires) {
			t.Fatalf("load %d on the other instance = %+v, %v; want %+v", i, got, err, rec)
		}
		if r.Stats().Hits != hits+1 {
			t.Errorf("load %d after a write was not a cache hit: the write did not go through the cache", i)
		}
	}
	if err := a.Delete(ctx, rec.Key, ""); err != nil {
		t.Fatal(err)
	}
	for _, r := range writers {
		if got, err := r.Load(ctx, rec.Key); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("load after delete = %+v, %v; want ErrNotFound", got, err)
		}
	}
	// The tombstone is not filled over: a miss again, still not found.
	misses := b.Stats().Misses
	if _, err := b.Load(ctx, rec.Key); !errors.Is(err, session.ErrNotFound) || b.Stats().Misses != misses+1 {
		t.Errorf("second load after delete = %v (misses %d → %d); want ErrNotFound, a miss", err, misses, b.Stats().Misses)
	}
}

// gated is a database store whose loads stop after reading, until the
// test lets them return: a reader slowed down between its database read
// and its cache fill.
type gated struct {
	session.Store
	read    chan struct{}
	release chan struct{}
}

func (g *gated) Load(ctx context.Context, key string) (session.Record, error) {
	rec, err := g.Store.Load(ctx, key)
	g.read <- struct{}{}
	<-g.release
	return rec, err
}

// TestCachedFillRace: a reader misses, reads the database, and is slow
// to fill the cache; meanwhile another instance writes (update, then
// delete). The slow fill must not land: later loads see the write.
func TestCachedFillRace(t *testing.T) {
	redisURL, dbURL, prefix := redistest.URL(t), migratedSQLite(t), redistest.Prefix(t)
	ctx := t.Context()
	w := newInstance(t, redisURL, dbURL, prefix)
	slowDB := &gated{Store: dbStore(t, dbURL), read: make(chan struct{}), release: make(chan struct{})}
	slow := redisstore.NewCache(redistest.Client(t), slowDB, redisstore.WithPrefix(prefix))
	defer slow.Close()

	for _, write := range []string{"update", "delete"} {
		rec := session.Record{Key: session.NewKey(), Data: "old", Expires: time.Now().Add(time.Hour)}
		if err := w.db.Create(ctx, rec); err != nil { // in the database only: a miss
			t.Fatal(err)
		}
		loaded := make(chan error, 1)
		go func() {
			got, err := slow.Load(ctx, rec.Key)
			if err == nil && got.Data != "old" {
				err = errors.New("read " + got.Data)
			}
			loaded <- err
		}()
		<-slowDB.read // the reader has read "old" from the database
		next := rec
		next.Data = "new"
		switch write {
		case "update":
			if err := w.Update(ctx, next, "old"); err != nil {
				t.Fatal(err)
			}
		case "delete":
			if err := w.Delete(ctx, rec.Key, ""); err != nil {
				t.Fatal(err)
			}
		}
		slowDB.release <- struct{}{}
		if err := <-loaded; err != nil {
			t.Fatalf("the slow load: %v", err)
		}
		if n := slow.Stats().Fills; n != 0 {
			t.Errorf("%s: the slow reader filled the cache (%d fills)", write, n)
		}
		got, err := w.Load(ctx, rec.Key)
		switch {
		case write == "update" && (err != nil || got.Data != "new"):
			t.Errorf("load after the slow fill = %+v, %v; want the update", got, err)
		case write == "delete" && !errors.Is(err, session.ErrNotFound):
			t.Errorf("load after the slow fill = %+v, %v; want ErrNotFound", got, err)
		}
	}
}

// TestCachedFillAfterBump: a miss that began before a generation bump
// does not fill the new generation (where no tombstone of a write made
// meanwhile exists).
func TestCachedFillAfterBump(t *testing.T) {
	dbURL, prefix := migratedSQLite(t), redistest.Prefix(t)
	ctx := t.Context()
	client := redistest.Client(t)
	slowDB := &gated{Store: dbStore(t, dbURL), read: make(chan struct{}), release: make(chan struct{})}
	slow := redisstore.NewCache(client, slowDB, redisstore.WithPrefix(prefix))
	defer slow.Close()
	rec := session.Record{Key: session.NewKey(), Data: "old", Expires: time.Now().Add(time.Hour)}
	if err := slowDB.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	loaded := make(chan error, 1)
	go func() { _, err := slow.Load(ctx, rec.Key); loaded <- err }()
	<-slowDB.read
	// Another instance comes back from an outage and bumps.
	if err := client.Incr(ctx, prefix+"gen").Err(); err != nil {
		t.Fatal(err)
	}
	slowDB.release <- struct{}{}
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if n := slow.Stats().Fills; n != 0 {
		t.Fatalf("a miss from before the bump filled the new generation (%d fills)", n)
	}
	// A miss now fills.
	go func() { _, err := slow.Load(ctx, rec.Key); loaded <- err }()
	<-slowDB.read
	slowDB.release <- struct{}{}
	if err := <-loaded; err != nil || slow.Stats().Fills != 1 {
		t.Errorf("a fresh miss: %v, %d fills; want 1", err, slow.Stats().Fills)
	}
}

// TestCachedWriteBehindItsBack: a write that bypasses the cache (raw SQL,
// as Django on the same database) is served stale by the cache for at
// most WithMaxAge, which the entry's TTL shows; a write through the store
// that conflicts with it reloads from the database (no retry loop on the
// stale entry) and keeps both changes.
func TestCachedWriteBehindItsBack(t *testing.T) {
	redisURL, dbURL, prefix := redistest.URL(t), migratedSQLite(t), redistest.Prefix(t)
	const maxAge = 2 * time.Minute
	c := newInstance(t, redisURL, dbURL, prefix, redisstore.WithMaxAge(maxAge))
	m := manager(t, c)
	key := sessiontest.NewSession(t, m, map[string]any{"a": 1})
	if got := m.Open(t.Context(), key).GetInt("a", 0); got != 1 {
		t.Fatalf("a = %d", got)
	}
	// Each entry lives at most maxAge.
	ttl, err := c.client.PTTL(t.Context(), prefix+"0:"+key).Result()
	if err != nil || ttl <= 0 || ttl > maxAge {
		t.Errorf("entry TTL = %v, %v; want at most %v", ttl, err, maxAge)
	}

	// Another program rewrites the row behind the cache.
	other := manager(t, dbStore(t, dbURL))
	sess := other.Open(t.Context(), key)
	sess.Set("b", 2)
	if err := sess.Save(); err != nil {
		t.Fatal(err)
	}
	if got := m.Open(t.Context(), key).GetInt("b", 0); got != 0 {
		t.Logf("the cache saw the write behind its back (b=%d)", got)
	} else if c.Stats().Hits == 0 {
		t.Error("the stale read did not come from the cache")
	}

	// A write through the cache conflicts in the database, reloads from
	// it and merges.
	sess = m.Open(t.Context(), key)
	sess.Set("c", 3)
	if err := sess.Save(); err != nil {
		t.Fatal(err)
	}
	got := m.Open(t.Context(), key)
	if got.GetInt("a", 0) != 1 || got.GetInt("b", 0) != 2 || got.GetInt("c", 0) != 3 {
		t.Errorf("after the merge: %v, want a, b and c", got.Items())
	}
}

// TestCachedRedisFrozen: with Redis frozen, requests keep working from
// the database (the first one waits for the client's timeout, the rest
// bypass Redis), and once it answers again the store uses it, after
// emptying the cache (a write was made without it).
func TestCachedRedisFrozen(t *testing.T) {
	srv := redistest.Start(t)
	dbURL := migratedSQLite(t)
	opt := redistest.Options(t, srv.URL())
	opt.ReadTimeout, opt.WriteTimeout, opt.DialTimeout, opt.MaxRetries = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, -1
	client := redis.NewClient(opt)
	defer client.Close()
	var logs logRecorder
	c := redisstore.NewCache(client, dbStore(t, dbURL), redisstore.WithLogger(slog.New(&logs)))
	defer c.Close()
	m := manager(t, c)
	ctx := t.Context()
	key := sessiontest.NewSession(t, m, map[string]any{"n": 0})
	m.Open(ctx, key).Len() // cached

	srv.Pause(t)
	for i := 1; i <= 20; i++ {
		sess := m.Open(ctx, key)
		sess.Incr("n", 1)
		if err := sess.Save(); err != nil {
			t.Fatalf("save %d with Redis frozen: %v", i, err)
		}
	}
	if got := m.Open(ctx, key).GetInt("n", -1); got != 20 {
		t.Errorf("n = %d with Redis frozen, want 20", got)
	}
	st := c.Stats()
	if !st.Bypassing || st.Fallbacks < 40 || st.Errors == 0 {
		t.Errorf("stats with Redis frozen = %+v; want bypassing, ≥ 40 fallbacks, errors", st)
	}
	if n := logs.count("redisstore: Redis unavailable"); n != 1 {
		t.Errorf("%d log lines about Redis failing in a burst, want 1", n)
	}

	srv.Resume(t)
	waitFor(t, "the store to use Redis again", func() bool { return !c.Stats().Bypassing })
	if st := c.Stats(); st.Bumps != 1 {
		t.Errorf("bumps = %d after writes made without Redis, want 1", st.Bumps)
	}
	if got := m.Open(ctx, key).GetInt("n", -1); got != 20 {
		t.Errorf("n = %d after Redis came back, want 20", got)
	}
	hits := c.Stats().Hits
	if got := m.Open(ctx, key).GetInt("n", -1); got != 20 || c.Stats().Hits != hits+1 {
		t.Errorf("n = %d, hits %d → %d: want 20 from the cache", got, hits, c.Stats().Hits)
	}
	if n := logs.count("redisstore: Redis answers again"); n != 1 {
		t.Errorf("%d log lines about Redis coming back, want 1", n)
	}
}

// TestCachedOutage reproduces "Redis comes back with old data": an
// instance caches a session, Redis saves its data and dies, another
// instance writes the session (to the database only: Redis is down),
// Redis restarts from its dump, stale entry included. Once the writer's
// prober has bumped the generation, no instance reads the stale entry.
func TestCachedOutage(t *testing.T) {
	srv := redistest.Start(t)
	dbURL, prefix := migratedSQLite(t), redistest.Prefix(t)
	fast := []redisstore.Option{}
	newFast := func() instance {
		opt := redistest.Options(t, srv.URL())
		opt.ReadTimeout, opt.WriteTimeout, opt.DialTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
		client := redis.NewClient(opt)
		t.Cleanup(func() { client.Close() })
		db := dbStore(t, dbURL)
		c := redisstore.NewCache(client, db, append(fast, redisstore.WithPrefix(prefix))...)
		t.Cleanup(func() { c.Close() })
		return instance{c, db, client}
	}
	writer, reader := newFast(), newFast()
	ctx := t.Context()
	rec := session.Record{Key: session.NewKey(), Data: "v1", Expires: time.Now().Add(time.Hour)}
	if err := writer.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, err := reader.Load(ctx, rec.Key); err != nil || got.Data != "v1" || reader.Stats().Hits != 1 {
		t.Fatalf("reader before the outage: %+v, %v, %+v", got, err, reader.Stats())
	}
	if err := writer.client.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)

	next := rec
	next.Data = "v2"
	if err := writer.Update(ctx, next, "v1"); err != nil {
		t.Fatalf("update with Redis down: %v", err)
	}
	if !writer.Stats().Bypassing {
		t.Fatal("the writer does not know Redis failed")
	}
	srv.Restart(t)
	// Redis is back with the old entry: the test reproduces the hazard.
	admin := redistest.ClientFor(t, srv.URL())
	if v, err := admin.Get(ctx, prefix+"0:"+rec.Key).Result(); err != nil || !strings.HasSuffix(v, ":v1") {
		t.Fatalf("Redis came back without the stale entry (%q, %v): the test proves nothing", v, err)
	}

	waitFor(t, "the writer's prober to bump the generation", func() bool { return !writer.Stats().Bypassing })
	if writer.Stats().Bumps != 1 {
		t.Errorf("writer bumps = %d, want 1", writer.Stats().Bumps)
	}
	for _, inst := range []instance{reader, writer} {
		got, err := inst.Load(ctx, rec.Key)
		if err != nil || got.Data != "v2" {
			t.Errorf("load after the bump = %+v, %v; want v2", got, err)
		}
	}
	// The cache works again: the next load is a hit.
	hits := reader.Stats().Hits
	if got, err := reader.Load(ctx, rec.Key); err != nil || got.Data != "v2" || reader.Stats().Hits != hits+1 {
		t.Errorf("second load after the bump = %+v, %v (hits %d → %d); want v2 from the cache", got, err, hits, reader.Stats().Hits)
	}
}

// TestCachedCloseStopsGoroutine: the prober runs while the store is open
// and not after Close.
func TestCachedCloseStopsGoroutine(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer client.Close()
	c := redisstore.NewCache(client, dbStore(t, migratedSQLite(t)))
	if n := probers(); n != 1 {
		t.Fatalf("%d probers with the store open, want 1", n)
	}
	// A failure sets the prober probing; Close stops it all the same.
	if _, err := c.Load(t.Context(), session.NewKey()); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("load with Redis unreachable = %v, want ErrNotFound from the database", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := probers(); n != 0 {
		t.Errorf("%d probers after Close, want 0", n)
	}
	c.Close() // twice is fine
}

// probers counts the goroutines that NewCache started (running or not
// yet scheduled).
func probers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "created by github.com/djangosessions/gosessions/app/session/redisstore.NewCache")
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logRecorder is a slog handler that keeps the messages.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// slowUpdates is a database store whose updates take delay: a database
// under a lock or a long checkpoint.
type slowUpdates struct {
	session.Store
	delay time.Duration
}

func (s slowUpdates) Update(ctx context.Context, rec session.Record, old string) error {
	time.Sleep(s.delay)
	return s.Store.Update(ctx, rec, old)
}

// TestCachedSlowWriteBumps: a database write slower than the tombstone
// TTL minus the fill window may land after its tombstone expired (and a
// reader cached the old record meanwhile): the store empties the cache
// (bumps) before using it again, and the next load reads the write.
func TestCachedSlowWriteBumps(t *testing.T) {
	redisURL, dbURL, prefix := redistest.URL(t), migratedSQLite(t), redistest.Prefix(t)
	ctx := t.Context()
	const ttl = 300 * time.Millisecond // fill window 100 ms: writes over 200 ms are slow
	db := slowUpdates{Store: dbStore(t, dbURL), delay: 250 * time.Millisecond}
	c := redisstore.NewCache(redistest.ClientFor(t, redisURL), db, redisstore.WithPrefix(prefix), redisstore.WithTombstoneTTL(ttl))
	defer c.Close()
	other := newInstance(t, redisURL, dbURL, prefix, redisstore.WithTombstoneTTL(ttl))
	rec := session.Record{Key: session.NewKey(), Data: "old", Expires: time.Now().Add(time.Hour)}
	if err := c.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	next := rec
	next.Data = "new"
	if err := c.Update(ctx, next, "old"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bump after a slow write", func() bool { return c.Stats().Bumps == 1 && !c.Stats().Bypassing })
	for _, s := range []session.Store{c, other} {
		if got, err := s.Load(ctx, rec.Key); err != nil || got.Data != "new" {
			t.Errorf("load after a slow write = %+v, %v; want new", got, err)
		}
	}
}

package dbstore_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

const secret = "dbstore test secret key"

// open opens the database at path (a SQLite file or a PostgreSQL URL) as the site does and closes it
// when the test ends.
func open(t testing.TB, path string) *database.DB {
	t.Helper()
	db, err := either.OpenURL(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", path, err)
		}
	})
	return db
}

// newStore returns a store on db, closed when the test ends.
func newStore(t testing.TB, db *database.DB, opts ...dbstore.Option) *dbstore.Store {
	t.Helper()
	s, err := dbstore.New(db, opts...)
	if err != nil {
		t.Fatalf("dbstore.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// migrated returns a new migrated database file and a connection to it.
func migrated(t testing.TB) (string, *database.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	db := open(t, path)
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatalf("migrate %s: %v", path, err)
	}
	return path, db
}

func manager(t testing.TB, s session.Store) *session.Manager {
	t.Helper()
	m, err := session.New(session.Config{
		Store:     s,
		SecretKey: secret,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		_, db := migrated(t)
		return newStore(t, db)
	})
}

// TestConformanceInMemory runs the suite on "sqlite::memory:", where one
// connection serves reads and writes.
func TestConformanceInMemory(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		db := open(t, "sqlite::memory:")
		if err := sqlitemigrations.Up(db, nil); err != nil {
			t.Fatal(err)
		}
		return newStore(t, db)
	})
}

// TestTwoProcessesNoLostUpdate is the multi-process case: two
// independent connections to one file (as two server processes would
// have), each with its own store and manager, increment one counter
// concurrently. Every increment must survive.
func TestTwoProcessesNoLostUpdate(t *testing.T) {
	const n = 200
	path, db1 := migrated(t)
	db2 := open(t, path)
	managers := []*session.Manager{manager(t, newStore(t, db1)), manager(t, newStore(t, db2))}
	key := sessiontest.NewSession(t, managers[0], map[string]any{"seed": "x"})

	sessiontest.Increment(t, managers, key, n)
}

// TestConcurrentRequestsKeepBothChanges: two requests load the same
// session, each changes a different key, both save; both changes stay.
func TestConcurrentRequestsKeepBothChanges(t *testing.T) {
	path, db1 := migrated(t)
	m1 := manager(t, newStore(t, db1))
	m2 := manager(t, newStore(t, open(t, path)))
	key := sessiontest.NewSession(t, m1, map[string]any{"seed": "x"})

	r1, r2 := m1.Open(t.Context(), key), m2.Open(t.Context(), key)
	r1.Len() // both load before either saves
	r2.Len()
	r1.Set("a", "from request 1")
	r2.Set("b", "from request 2")
	r2.Delete("seed")
	if err := r1.Save(); err != nil {
		t.Fatal(err)
	}
	if err := r2.Save(); err != nil {
		t.Fatal(err)
	}
	got := m1.Open(t.Context(), key).Items()
	want := map[string]any{"a": "from request 1", "b": "from request 2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session after both saves = %v, want %v", got, want)
	}
}

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// expireDate returns the stored text of a row's expire_date.
func expireDate(t *testing.T, db *database.DB, key string) string {
	t.Helper()
	var s string
	if err := db.Gorm.Raw(`SELECT CAST(expire_date AS TEXT) FROM django_session WHERE session_key = ?`, key).Row().Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestExpiry checks the expiry boundary with an injected clock, on rows
// written by the store and rows written the way Django writes them.
func TestExpiry(t *testing.T) {
	_, db := migrated(t)
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: base}
	s := newStore(t, db, dbstore.WithClock(c.Now))
	ctx := t.Context()

	whole := session.Record{Key: session.NewKey(), Data: "whole", Expires: base.Add(time.Second)}
	frac := session.Record{Key: session.NewKey(), Data: "frac", Expires: base.Add(500 * time.Millisecond).In(time.FixedZone("UTC-3", -3*3600))}
	for _, rec := range []session.Record{whole, frac} {
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	// Stored in Django's form: UTC text, six fraction digits or none.
	if got, want := expireDate(t, db, whole.Key), "2030-01-01 12:00:01"; got != want {
		t.Errorf("stored expire_date = %q, want %q", got, want)
	}
	if got, want := expireDate(t, db, frac.Key), "2030-01-01 12:00:00.500000"; got != want {
		t.Errorf("stored expire_date = %q, want %q", got, want)
	}

	// Rows as Django writes them.
	djangoWhole, djangoFrac := session.NewKey(), session.NewKey()
	if err := db.Gorm.Exec(`INSERT INTO django_session VALUES (?, 'dw', '2030-01-01 12:00:01'), (?, 'df', '2030-01-01 12:00:00.500000')`, djangoWhole, djangoFrac).Error; err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		now        time.Time
		live, dead []string
	}{
		{base, []string{whole.Key, frac.Key, djangoWhole, djangoFrac}, nil},
		{base.Add(499_999 * time.Microsecond), []string{whole.Key, frac.Key, djangoWhole, djangoFrac}, nil},
		// Expired at its expiry date exactly, like Django's expire_date > now.
		{base.Add(500 * time.Millisecond), []string{whole.Key, djangoWhole}, []string{frac.Key, djangoFrac}},
		{base.Add(999_999 * time.Microsecond), []string{whole.Key, djangoWhole}, []string{frac.Key, djangoFrac}},
		{base.Add(time.Second), nil, []string{whole.Key, frac.Key, djangoWhole, djangoFrac}},
		{base.Add(time.Hour), nil, []string{whole.Key, frac.Key, djangoWhole, djangoFrac}},
	}
	for _, tt := range tests {
		c.Set(tt.now)
		checkLiveDead(t, s, tt.now, tt.live, tt.dead)
	}

	// The Django rows read back at the right instant.
	c.Set(base)
	for key, want := range map[string]time.Time{djangoWhole: base.Add(time.Second), djangoFrac: base.Add(500 * time.Millisecond)} {
		rec, err := s.Load(ctx, key)
		if err != nil || !rec.Expires.Equal(want) {
			t.Errorf("Load(%s) = %v, %v; want expiry %v", key, rec.Expires, err, want)
		}
	}
}

func count(t *testing.T, db *database.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Raw(`SELECT count(*) FROM django_session`).Row().Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// clearExpired is ClearExpired with a batch size (0: sized by time) and a
// progress function, returning the count.
func clearExpired(ctx context.Context, s *dbstore.Store, batchSize int, progress func(deleted int64)) (int64, error) {
	r, err := s.ClearExpired(ctx, dbstore.ClearOptions{BatchSize: batchSize, Progress: progress})
	return r.Deleted, err
}

func TestClearExpiredCountsAndProgress(t *testing.T) {
	_, db := migrated(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, db, dbstore.WithClock(func() time.Time { return now }))
	ctx := t.Context()

	var live []string
	for i := range 25 {
		rec := session.Record{Key: session.NewKey(), Data: "expired", Expires: now.Add(-time.Duration(i+1) * time.Minute)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		rec := session.Record{Key: session.NewKey(), Data: "live", Expires: now.Add(time.Duration(i+1) * time.Minute)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		live = append(live, rec.Key)
	}
	// Expiring right now: dead for Load, but Django's clearsessions keeps
	// it until it is strictly in the past, and so does ClearExpired.
	edge := session.Record{Key: session.NewKey(), Data: "edge", Expires: now}
	if err := s.Create(ctx, edge); err != nil {
		t.Fatal(err)
	}

	// A cancelled run deletes nothing and says why.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := clearExpired(cancelled, s, 10, nil); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("ClearExpired(cancelled) = %d, %v; want 0, context.Canceled", n, err)
	}
	if got := count(t, db); got != 31 {
		t.Fatalf("%d rows after a cancelled ClearExpired, want 31", got)
	}

	var progress []int64
	n, err := clearExpired(ctx, s, 10, func(deleted int64) { progress = append(progress, deleted) })
	if err != nil || n != 25 {
		t.Fatalf("ClearExpired = %d, %v; want 25, nil", n, err)
	}
	if want := []int64{10, 20, 25}; !reflect.DeepEqual(progress, want) {
		t.Errorf("progress = %v, want %v (one call per batch of 10, running total)", progress, want)
	}
	if got := count(t, db); got != 6 {
		t.Errorf("%d rows left, want the 5 live ones and the one expiring now", got)
	}
	for _, key := range live {
		if _, err := s.Load(ctx, key); err != nil {
			t.Errorf("live session %s after ClearExpired: %v", key, err)
		}
	}

	// Nothing left to delete: 0, no progress; a batch size of 0 is the
	// default.
	progress = nil
	n, err = clearExpired(ctx, s, 0, func(deleted int64) { progress = append(progress, deleted) })
	if err != nil || n != 0 || progress != nil {
		t.Errorf("second ClearExpired = %d, %v, progress %v; want 0, nil, none", n, err, progress)
	}

	// Exactly one full batch: the run stops after the empty batch.
	now = now.Add(time.Hour)
	progress = nil
	n, err = clearExpired(ctx, s, 3, func(deleted int64) { progress = append(progress, deleted) })
	if err != nil || n != 6 || !reflect.DeepEqual(progress, []int64{3, 6}) {
		t.Errorf("ClearExpired an hour later = %d, %v, progress %v; want 6, nil, [3 6]", n, err, progress)
	}
}

// TestTamperedDataLoadsEmpty: a row whose data was altered (or written
// with another SECRET_KEY) opens as an empty session, without an error.
func TestTamperedDataLoadsEmpty(t *testing.T) {
	_, db := migrated(t)
	m := manager(t, newStore(t, db))
	for _, tamper := range []string{
		`UPDATE django_session SET session_data = 'not signed at all' WHERE session_key = ?`,
		`UPDATE django_session SET session_data = replace(session_data, ':', 'x:') WHERE session_key = ?`,
		`UPDATE django_session SET session_data = '' WHERE session_key = ?`,
	} {
		key := sessiontest.NewSession(t, m, map[string]any{"user": "harun_dev"})
		if err := db.Gorm.Exec(tamper, key).Error; err != nil {
			t.Fatal(err)
		}
		sess := m.Open(t.Context(), key)
		if got := sess.Items(); len(got) != 0 {
			t.Errorf("after %s: session = %v, want empty", tamper, got)
		}
		if err := sess.Err(); err != nil {
			t.Errorf("after %s: Err() = %v, want nil", tamper, err)
		}
	}
}

// TestUnmigratedDatabase: a store on a database without django_session
// is refused at once, with a message saying what to do; after the
// migrations it works.
func TestUnmigratedDatabase(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "db.sqlite3"))
	status, err := sqlitemigrations.Status(db)
	if err != nil || len(status) == 0 || status[0].Applied {
		t.Errorf("Status of a new database = %+v, %v; want migrations not applied", status, err)
	}
	_, err = dbstore.New(db)
	if !errors.Is(err, dbstore.ErrNotMigrated) || !strings.Contains(err.Error(), "manage migrate") || strings.Contains(err.Error(), "\n") {
		t.Errorf("New on an unmigrated database = %v, want one line wrapping ErrNotMigrated that says to migrate", err)
	}

	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check after migrating: %v", err)
	}
	rec := session.Record{Key: session.NewKey(), Data: "x", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create after migrating: %v", err)
	}
	if _, err := s.Load(t.Context(), rec.Key); err != nil {
		t.Errorf("Load after migrating: %v", err)
	}

	// The table dropped under a running store: Check says so.
	if err := sqlitemigrations.To(db, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(t.Context()); !errors.Is(err, dbstore.ErrNotMigrated) {
		t.Errorf("Check after the table was dropped = %v, want ErrNotMigrated", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	_, db := migrated(b)
	s := newStore(b, db)
	rec := session.Record{Key: session.NewKey(), Data: strings.Repeat("x", 200), Expires: time.Now().Add(time.Hour)}
	if err := s.Create(context.Background(), rec); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(ctx, rec.Key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, db := migrated(b)
	s := newStore(b, db)
	rec := session.Record{Key: session.NewKey(), Data: "v0", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(context.Background(), rec); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	data := [2]string{"v0", "v1"}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		rec.Data = data[(i+1)%2]
		if err := s.Update(ctx, rec, data[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCreate(b *testing.B) {
	_, db := migrated(b)
	s := newStore(b, db)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Create(ctx, session.Record{Key: session.NewKey(), Data: "data", Expires: exp}); err != nil {
			b.Fatal(err)
		}
	}
}

// checkLiveDead asserts that, with the store's clock at now, every key of
// live loads (expiring after now) and every key of dead is not found.
func checkLiveDead(t *testing.T, s *dbstore.Store, now time.Time, live, dead []string) {
	t.Helper()
	for _, key := range live {
		rec, err := s.Load(t.Context(), key)
		if err != nil {
			t.Errorf("at %v: Load(%s) = %v, want the record", now, key, err)
		} else if !rec.Expires.After(now) {
			t.Errorf("at %v: Load(%s) expires %v", now, key, rec.Expires)
		}
	}
	for _, key := range dead {
		if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("at %v: Load(%s) = %v, want ErrNotFound", now, key, err)
		}
	}
}

// TestClearExpiredPaced deletes in batches sized by time: every expired
// row goes, every live one stays, the batches and the longest write-lock
// hold are reported, and the writer connection gets its own settings back.
func TestClearExpiredPaced(t *testing.T) {
	_, db := migrated(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, db, dbstore.WithClock(func() time.Time { return now }))
	ctx := t.Context()
	pragma := func(name string) string {
		t.Helper()
		var v string
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := []string{pragma("cache_size"), pragma("mmap_size"), pragma("wal_autocheckpoint")}
	for i := range 600 {
		expires := now.Add(-time.Duration(i+1) * time.Second)
		if i%10 == 0 {
			expires = now.Add(time.Hour)
		}
		if err := s.Create(ctx, session.Record{Key: session.NewKey(), Data: "d", Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	var last int64
	r, err := s.ClearExpired(ctx, dbstore.ClearOptions{HoldTarget: time.Millisecond, Progress: func(n int64) { last = n }})
	if err != nil || r.Deleted != 540 || last != 540 {
		t.Fatalf("ClearExpired = %+v, %v (progress %d); want 540 deleted", r, err, last)
	}
	if r.Batches < 2 || r.LongestHold <= 0 || r.Held < r.LongestHold {
		t.Errorf("ClearExpired reported %+v: want several batches (the first is 256 rows), a longest hold within the total", r)
	}
	if got := count(t, db); got != 60 {
		t.Errorf("%d rows left, want the 60 live ones", got)
	}
	after := []string{pragma("cache_size"), pragma("mmap_size"), pragma("wal_autocheckpoint")}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("writer settings after ClearExpired %v, want them back to %v", after, before)
	}
}

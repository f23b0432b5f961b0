package dbstore_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// migratedPostgres returns the URL of a new migrated PostgreSQL database
// and a connection to it.
func migratedPostgres(t testing.TB) (string, *database.DB) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	db := open(t, url)
	if err := pgmigrations.Up(db, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return url, db
}

// TestPostgresConformance runs the suite on one database (every subtest
// uses keys of its own), each subtest with a store of its own.
func TestPostgresConformance(t *testing.T) {
	_, db := migratedPostgres(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		s := newStore(t, db)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPostgresTwoProcessesNoLostUpdate: two independent pools on one
// database, as two server processes have, each with its store and
// manager, increment one counter concurrently. Every increment must
// survive.
func TestPostgresTwoProcessesNoLostUpdate(t *testing.T) {
	const n = 200
	url, db1 := migratedPostgres(t)
	db2 := open(t, url)
	managers := []*session.Manager{manager(t, newStore(t, db1)), manager(t, newStore(t, db2))}
	key := sessiontest.NewSession(t, managers[0], map[string]any{"seed": "x"})

	sessiontest.Increment(t, managers, key, n)
}

// TestPostgresCrossedBatches: two processes update the same sessions at
// once, in opposite orders, so that their group commits hold several rows
// each. Every write must land, none may fail (a deadlock would fail a
// whole batch, then retry each write alone, a second later).
func TestPostgresCrossedBatches(t *testing.T) {
	const sessions, rounds = 20, 10
	url, db1 := migratedPostgres(t)
	stores := []*dbstore.Store{newStore(t, db1), newStore(t, open(t, url))}
	ctx := t.Context()
	keys := make([]string, sessions)
	for i := range keys {
		keys[i] = fmt.Sprintf("crossed%02d", i)
		if err := stores[0].Create(ctx, session.Record{Key: keys[i], Data: "0", Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// Each writer adds one to its session's counter with compare-and-swap,
	// retrying on conflict, rounds times.
	var wg sync.WaitGroup
	errs := make(chan error, 2*sessions)
	for p, s := range stores {
		for i := range sessions {
			key := keys[i]
			if p == 1 {
				key = keys[sessions-1-i]
			}
			wg.Go(func() {
				for range rounds {
					for {
						rec, err := s.Load(ctx, key)
						if err != nil {
							errs <- err
							return
						}
						var v int
						fmt.Sscan(rec.Data, &v)
						old := rec.Data
						rec.Data = fmt.Sprint(v + 1)
						err = s.Update(ctx, rec, old)
						if errors.Is(err, session.ErrConflict) {
							continue
						}
						if err != nil {
							errs <- err
							return
						}
						break
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("update: %v", err)
	}
	for _, key := range keys {
		rec, err := stores[1].Load(ctx, key)
		if err != nil || rec.Data != fmt.Sprint(2*rounds) {
			t.Errorf("%s = %q, %v; want %d", key, rec.Data, err, 2*rounds)
		}
	}
	for i, s := range stores {
		st := s.Stats()
		t.Logf("store %d: %d writes in %d transactions", i+1, st.Writes, st.Commits)
		if st.Rollbacks != 0 {
			t.Errorf("store %d rolled back %d groups (deadlocks?), want none", i+1, st.Rollbacks)
		}
	}
}

// TestPostgresUpdateBatch: on PostgreSQL a run of updates in one group
// commit is one statement. Each update still gets its own result, as one
// at a time would give it: written, a conflict, a missing record, two
// updates of one session of which exactly one wins, an expiry the column
// cannot hold failing alone, and a create between them in key order.
func TestPostgresUpdateBatch(t *testing.T) {
	url, db := migratedPostgres(t)
	var (
		mu    sync.Mutex
		sizes []int
	)
	s := newStore(t, db, dbstore.WithBatchObserver(func(n int) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}))
	ctx := t.Context()
	hour := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	for _, key := range []string{"batch-0-blocker", "batch-a", "batch-b", "batch-c", "batch-d"} {
		if err := s.Create(ctx, session.Record{Key: key, Data: "0", Expires: hour}); err != nil {
			t.Fatal(err)
		}
	}

	// Another connection locks the first session's row: the first update
	// leads and waits for it, the others queue into the next group.
	conn, err := open(t, url).SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT 1 FROM django_session WHERE session_key = 'batch-0-blocker' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var blockerErr error
	wg.Go(func() {
		blockerErr = s.Update(ctx, session.Record{Key: "batch-0-blocker", Data: "1", Expires: hour}, "0")
	})
	for dbstore.QueueLen(s) > 0 || !isWaiting(t, db) {
		time.Sleep(time.Millisecond)
	}

	type write struct {
		name string
		do   func() error
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	writes := []write{
		{"update a", func() error { return s.Update(ctx, session.Record{Key: "batch-a", Data: "a1", Expires: hour}, "0") }},
		{"update b, stale", func() error { return s.Update(ctx, session.Record{Key: "batch-b", Data: "b1", Expires: hour}, "stale") }},
		{"update c, x", func() error { return s.Update(ctx, session.Record{Key: "batch-c", Data: "x", Expires: hour}, "0") }},
		{"update c, y", func() error { return s.Update(ctx, session.Record{Key: "batch-c", Data: "y", Expires: hour}, "0") }},
		{"create ca", func() error { return s.Create(ctx, session.Record{Key: "batch-ca", Data: "new", Expires: hour}) }},
		{"update d, year 10000", func() error { return s.Update(ctx, session.Record{Key: "batch-d", Data: "d1", Expires: far}, "0") }},
		{"update e, missing", func() error { return s.Update(ctx, session.Record{Key: "batch-e", Data: "e1", Expires: hour}, "0") }},
	}
	errs := make([]error, len(writes))
	for i, w := range writes {
		wg.Go(func() { errs[i] = w.do() })
	}
	deadline := time.Now().Add(10 * time.Second)
	for dbstore.QueueLen(s) < len(writes) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes queued", dbstore.QueueLen(s))
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if blockerErr != nil {
		t.Errorf("update of the locked row: %v", blockerErr)
	}
	want := map[string]error{"update a": nil, "update b, stale": session.ErrConflict, "create ca": nil, "update e, missing": session.ErrNotFound}
	for i, w := range writes {
		if wantErr, ok := want[w.name]; ok && !errors.Is(errs[i], wantErr) {
			t.Errorf("%s = %v, want %v", w.name, errs[i], wantErr)
		}
	}
	if errs[5] == nil || errors.Is(errs[5], session.ErrConflict) {
		t.Errorf("update d with an expiry in the year 10000 = %v, want an error of its own", errs[5])
	}
	// Of the two updates of c, exactly one wins, and the row holds its data.
	x, y := errs[2], errs[3]
	winner := ""
	switch {
	case x == nil && errors.Is(y, session.ErrConflict):
		winner = "x"
	case y == nil && errors.Is(x, session.ErrConflict):
		winner = "y"
	default:
		t.Errorf("two updates of c from the same data = %v and %v, want one nil and one ErrConflict", x, y)
	}
	stored := map[string]string{}
	rows, err := db.SQL().QueryContext(ctx, "SELECT session_key, session_data FROM django_session WHERE session_key LIKE 'batch-%'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		stored[k] = v
	}
	rows.Close()
	wantRows := map[string]string{"batch-0-blocker": "1", "batch-a": "a1", "batch-b": "0", "batch-c": winner, "batch-ca": "new", "batch-d": "0"}
	if !reflect.DeepEqual(stored, wantRows) {
		t.Errorf("rows %v, want %v", stored, wantRows)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(sizes, len(writes)) {
		t.Errorf("transaction sizes %v: the %d queued writes were not one group", sizes, len(writes))
	}
	if st := s.Stats(); st.Rollbacks != 0 {
		t.Errorf("%d groups rolled back, want none", st.Rollbacks)
	}
}

// isWaiting reports whether a connection of the database waits for a lock.
func isWaiting(t *testing.T, db *database.DB) bool {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestPostgresFailedWriteFailsAlone: on PostgreSQL a failed statement
// aborts its transaction; a write that fails must not take the others of
// its group commit down with it.
func TestPostgresFailedWriteFailsAlone(t *testing.T) {
	_, db := migratedPostgres(t)
	s := newStore(t, db)
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	recs := make([]session.Record, n)
	for i := range n {
		recs[i] = session.Record{Key: session.NewKey(), Data: fmt.Sprint(i), Expires: time.Now().Add(time.Hour)}
		if i%10 == 3 {
			recs[i].Key = strings.Repeat("k", 41) + fmt.Sprint(i) // longer than varchar(40)
		}
		wg.Go(func() { errs[i] = s.Create(t.Context(), recs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 3 {
			if err == nil || !strings.Contains(err.Error(), "too long") {
				t.Errorf("Create with a 43-character key = %v, want PostgreSQL's error", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Create %d = %v", i, err)
			continue
		}
		got, err := s.Load(t.Context(), recs[i].Key)
		if err != nil || got.Data != recs[i].Data {
			t.Errorf("Load %d = %+v, %v", i, got, err)
		}
	}
	if got := count(t, db); got != n-n/10 {
		t.Errorf("%d rows, want %d", got, n-n/10)
	}
	st := s.Stats()
	t.Logf("%d writes in %d transactions, %d groups rolled back", st.Writes, st.Commits, st.Rollbacks)
}

// TestPostgresExpireDate checks the column's representation: the store
// writes a timestamptz equal to the Go time (to the microsecond, whatever
// the zone), and rows Django wrote load with their expiry.
func TestPostgresExpireDate(t *testing.T) {
	_, db := migratedPostgres(t)
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: base}
	s := newStore(t, db, dbstore.WithClock(c.Now))
	ctx := t.Context()

	var typ string
	if err := db.Gorm.Raw(`SELECT data_type FROM information_schema.columns WHERE table_name = 'django_session' AND column_name = 'expire_date'`).Row().Scan(&typ); err != nil || typ != "timestamp with time zone" {
		t.Fatalf("expire_date is %q, %v; want timestamp with time zone", typ, err)
	}

	whole := session.Record{Key: session.NewKey(), Data: "whole", Expires: base.Add(time.Second)}
	frac := session.Record{Key: session.NewKey(), Data: "frac", Expires: base.Add(500*time.Millisecond + 1234*time.Nanosecond).In(time.FixedZone("UTC-3", -3*3600))}
	for _, rec := range []session.Record{whole, frac} {
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		key, text, elsewhere string // the text in UTC, the instant elsewhere
	}{
		{whole.Key, "2030-01-01 12:00:01+00", "2030-01-01 15:00:01+03"},
		// Microseconds, as Python keeps them.
		{frac.Key, "2030-01-01 12:00:00.500001+00", "2030-01-01 09:00:00.500001-03"},
	} {
		var got string
		var equal bool
		if err := db.Gorm.Raw(`SELECT expire_date::text, expire_date = ?::timestamptz FROM django_session WHERE session_key = ?`, tt.elsewhere, tt.key).Row().Scan(&got, &equal); err != nil {
			t.Fatal(err)
		}
		if got != tt.text || !equal {
			t.Errorf("stored expire_date = %q (equal to %s: %v), want %q", got, tt.elsewhere, equal, tt.text)
		}
	}
	// The store wrote instants: a session whose TimeZone is not UTC
	// reads the same instants.
	var epoch float64
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL TimeZone = 'Asia/Tokyo'`).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT extract(epoch FROM expire_date) FROM django_session WHERE session_key = ?`, whole.Key).Row().Scan(&epoch)
	})
	if err != nil || epoch != float64(whole.Expires.Unix()) {
		t.Errorf("epoch of the stored expiry = %v, %v; want %d", epoch, err, whole.Expires.Unix())
	}

	// Rows as Django writes them: aware datetimes, sent with their offset.
	djangoWhole, djangoFrac := session.NewKey(), session.NewKey()
	if err := db.Gorm.Exec(`INSERT INTO django_session VALUES (?, 'dw', '2030-01-01 13:00:01+01'::timestamptz), (?, 'df', '2030-01-01 12:00:00.5+00'::timestamptz)`, djangoWhole, djangoFrac).Error; err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now        time.Time
		live, dead []string
	}{
		{base, []string{whole.Key, frac.Key, djangoWhole, djangoFrac}, nil},
		{base.Add(499_999 * time.Microsecond), []string{whole.Key, frac.Key, djangoWhole, djangoFrac}, nil},
		// Expired at its expiry date exactly, like Django's expire_date > now.
		{base.Add(500 * time.Millisecond), []string{whole.Key, frac.Key, djangoWhole}, []string{djangoFrac}},
		{base.Add(500_001 * time.Microsecond), []string{whole.Key, djangoWhole}, []string{frac.Key, djangoFrac}},
		{base.Add(time.Second), nil, []string{whole.Key, frac.Key, djangoWhole, djangoFrac}},
	}
	for _, tt := range tests {
		c.Set(tt.now)
		checkLiveDead(t, s, tt.now, tt.live, tt.dead)
	}
	c.Set(base)
	for key, want := range map[string]time.Time{
		whole.Key:   base.Add(time.Second),
		frac.Key:    base.Add(500_001 * time.Microsecond),
		djangoWhole: base.Add(time.Second),
		djangoFrac:  base.Add(500 * time.Millisecond),
	} {
		rec, err := s.Load(ctx, key)
		if err != nil || !rec.Expires.Equal(want) || rec.Expires.Location() != time.UTC {
			t.Errorf("Load(%s) expires %v, %v; want %v in UTC", key, rec.Expires, err, want)
		}
	}
}

// TestPostgresRefusesDjangoUnreadableTimes: a time Django could not read
// back is an error, as on SQLite, not a row.
func TestPostgresRefusesDjangoUnreadableTimes(t *testing.T) {
	_, db := migratedPostgres(t)
	s := newStore(t, db)
	rec := session.Record{Key: session.NewKey(), Data: "far", Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Create(t.Context(), rec); err == nil {
		t.Error("Create with an expiry in the year 10000 succeeded")
	}
	if got := count(t, db); got != 0 {
		t.Errorf("%d rows, want none", got)
	}
}

func TestPostgresClearExpired(t *testing.T) {
	_, db := migratedPostgres(t)
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
	// Expiring right now: kept, as Django's clearsessions keeps it.
	if err := s.Create(ctx, session.Record{Key: session.NewKey(), Data: "edge", Expires: now}); err != nil {
		t.Fatal(err)
	}
	// And one Django wrote, expired a microsecond ago in another zone.
	if err := db.Gorm.Exec(`INSERT INTO django_session VALUES ('djangoexpired', 'd', '2030-01-01 13:59:59.999999+02'::timestamptz)`).Error; err != nil {
		t.Fatal(err)
	}

	var progress []int64
	n, err := clearExpired(ctx, s, 10, func(deleted int64) { progress = append(progress, deleted) })
	if err != nil || n != 26 {
		t.Fatalf("ClearExpired = %d, %v; want 26, nil", n, err)
	}
	if want := []int64{10, 20, 26}; !reflect.DeepEqual(progress, want) {
		t.Errorf("progress = %v, want %v", progress, want)
	}
	if got := count(t, db); got != 6 {
		t.Errorf("%d rows left, want the 5 live ones and the one expiring now", got)
	}
	for _, key := range live {
		if _, err := s.Load(ctx, key); err != nil {
			t.Errorf("live session %s after ClearExpired: %v", key, err)
		}
	}
	if n, err := clearExpired(ctx, s, 0, nil); n != 0 || err != nil {
		t.Errorf("second ClearExpired = %d, %v; want 0, nil", n, err)
	}
}

// TestPostgresConformanceCached runs the suite on stores with the
// notification-driven cache.
func TestPostgresConformanceCached(t *testing.T) {
	_, db := migratedPostgres(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newStore(t, db, dbstore.WithCache(100))
	})
}

// waitFor polls cond until it holds or five seconds pass, and returns how
// long it took. Notifications arrive asynchronously: this is the wait for
// one, not a sleep standing in for it.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: not after 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// TestPostgresCacheSeesEveryWriter: the cache answers repeat loads without
// a query, sees its own writes at once, and forgets a session once another
// process, raw SQL (as Django writes) or a TRUNCATE changed it.
func TestPostgresCacheSeesEveryWriter(t *testing.T) {
	url, db := migratedPostgres(t)
	s := newStore(t, db, dbstore.WithCache(100))
	other := newStore(t, open(t, url)) // another process
	raw := open(t, url)                // Django, psql
	ctx := t.Context()
	load := func(key string) string {
		t.Helper()
		rec, err := s.Load(ctx, key)
		if errors.Is(err, session.ErrNotFound) {
			return "<none>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return rec.Data
	}

	rec := session.Record{Key: session.NewKey(), Data: "v1", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// The first load may read the database: when the create's own
	// notification arrives before the committer is done with it, the
	// committer cannot tell it from a newer write's and leaves the key
	// out. From then on, the cache answers.
	if load(rec.Key) != "v1" {
		t.Fatal("own create not loaded")
	}
	before := s.Stats()
	if load(rec.Key) != "v1" || load(rec.Key) != "v1" {
		t.Fatal("own create not loaded")
	}
	if st := s.Stats(); st.CacheHits-before.CacheHits != 2 || !st.CacheOn {
		t.Errorf("stats %+v after two more loads of an own write, want two hits", st)
	}

	// Own update: seen at once, still from the cache.
	next := rec
	next.Data = "v2"
	if err := s.Update(ctx, next, "v1"); err != nil {
		t.Fatal(err)
	}
	if got := load(rec.Key); got != "v2" {
		t.Fatalf("own update read as %q at once, want v2", got)
	}

	// Another process's update, raw SQL, a delete: each seen once its
	// notification arrives.
	next.Data = "v3"
	if err := other.Update(ctx, next, "v2"); err != nil {
		t.Fatal(err)
	}
	d1 := waitFor(t, "another process's update", func() bool { return load(rec.Key) == "v3" })
	if err := raw.Gorm.Exec(`UPDATE django_session SET session_data = 'v4' WHERE session_key = ?`, rec.Key).Error; err != nil {
		t.Fatal(err)
	}
	d2 := waitFor(t, "a raw SQL update", func() bool { return load(rec.Key) == "v4" })
	if err := other.Delete(ctx, rec.Key, ""); err != nil {
		t.Fatal(err)
	}
	d3 := waitFor(t, "another process's delete", func() bool { return load(rec.Key) == "<none>" })
	t.Logf("changes seen after %v, %v, %v", d1, d2, d3)

	// TRUNCATE forgets everything.
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	load(rec.Key)
	if err := raw.Gorm.Exec(`TRUNCATE django_session`).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a TRUNCATE", func() bool { return load(rec.Key) == "<none>" })
}

// TestPostgresNeverStaleAcrossProcesses: another process's write or
// delete is seen by the very next load here, however soon: a cached entry
// is served only after a fence on the listening connection has delivered
// every notification committed before the load began.
func TestPostgresNeverStaleAcrossProcesses(t *testing.T) {
	url, db := migratedPostgres(t)
	a := newStore(t, db, dbstore.WithCache(1000))
	b := newStore(t, open(t, url), dbstore.WithCache(1000))
	ctx := t.Context()
	for i := range 200 {
		rec := session.Record{Key: session.NewKey(), Data: "v0", Expires: time.Now().Add(time.Hour)}
		if err := a.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second from b's cache, after a fence
			if got, err := b.Load(ctx, rec.Key); err != nil || got.Data != "v0" {
				t.Fatalf("round %d: b loads %q, %v after a's create", i, got.Data, err)
			}
		}
		next := rec
		next.Data = "v1"
		if err := a.Update(ctx, next, "v0"); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Load(ctx, rec.Key); err != nil || got.Data != "v1" {
			t.Fatalf("round %d: b loads %q, %v right after a's update, want v1", i, got.Data, err)
		}
		if err := a.Delete(ctx, rec.Key, "v1"); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Load(ctx, rec.Key); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("round %d: b loads %q, %v right after a's delete, want ErrNotFound", i, got.Data, err)
		}
	}
	st := b.Stats()
	if st.CacheHits == 0 || st.FenceFailures != 0 {
		t.Errorf("b's stats %+v: want cache hits and no failed fence", st)
	}
}

// TestPostgresCacheOffWithoutListener: when the listening connection is
// lost, the cache turns off at once (every load reads the database, so a
// change made meanwhile is seen) and comes back by itself.
func TestPostgresCacheOffWithoutListener(t *testing.T) {
	url, db := migratedPostgres(t)
	s := newStore(t, db, dbstore.WithCache(100))
	other := newStore(t, open(t, url))
	ctx := t.Context()
	rec := session.Record{Key: session.NewKey(), Data: "v1", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, rec.Key); err != nil {
		t.Fatal(err)
	}
	// Kill the listener's backend, as a restart or a network cut would.
	if err := db.Gorm.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?`, database.ListenerName).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache turning off", func() bool { return !s.Stats().CacheOn })
	next := rec
	next.Data = "v2"
	if err := other.Update(ctx, next, "v1"); err != nil {
		t.Fatal(err)
	}
	if !s.Stats().CacheOn {
		if got, err := s.Load(ctx, rec.Key); err != nil || got.Data != "v2" {
			t.Errorf("while off: Load = %q, %v; want v2 from the database", got.Data, err)
		}
	}
	waitFor(t, "the cache coming back", func() bool { return s.Stats().CacheOn })
	if got, err := s.Load(ctx, rec.Key); err != nil || got.Data != "v2" {
		t.Errorf("after: Load = %q, %v; want v2", got.Data, err)
	}
	hits := s.Stats().CacheHits
	if _, err := s.Load(ctx, rec.Key); err != nil || s.Stats().CacheHits != hits+1 {
		t.Errorf("the cache does not serve again after its listener came back: %+v", s.Stats())
	}
}

// TestPostgresCacheNeedsTheTrigger: without migration 3 there are no
// notifications, so WithCache is refused instead of serving stale data.
func TestPostgresCacheNeedsTheTrigger(t *testing.T) {
	_, db := migratedPostgres(t)
	if err := pgmigrations.To(db, 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := dbstore.New(db, dbstore.WithCache(100)); !errors.Is(err, dbstore.ErrNotMigrated) {
		t.Errorf("New(WithCache) without the trigger = %v, want ErrNotMigrated", err)
	}
	if _, err := dbstore.New(db); err != nil {
		t.Errorf("New without a cache on the same database: %v", err)
	}
}

// TestPostgresUnmigrated: a store on a database without the table is
// refused, and works once the database is migrated.
func TestPostgresUnmigrated(t *testing.T) {
	db := open(t, pgtest.NewDatabase(t))
	if _, err := dbstore.New(db); !errors.Is(err, dbstore.ErrNotMigrated) {
		t.Errorf("New on an unmigrated database = %v, want ErrNotMigrated", err)
	}
	if err := pgmigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	rec := session.Record{Key: session.NewKey(), Data: "x", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create after migrating: %v", err)
	}
	if _, err := s.Load(t.Context(), rec.Key); err != nil {
		t.Errorf("Load after migrating: %v", err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestPostgresAnyTimeZone: the store writes and compares instants, so it
// is right on a connection whose TimeZone is not UTC (one not opened by
// package database/postgres), where Django's text form would be read as local time.
func TestPostgresAnyTimeZone(t *testing.T) {
	url, _ := migratedPostgres(t)
	g, err := gorm.Open(postgres.Open(url+"&timezone=Asia/Tokyo"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.FromGORM(t.Context(), g, database.PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := db.SQL()
	t.Cleanup(func() { sqlDB.Close() })
	var tz string
	if err := sqlDB.QueryRow(`SELECT current_setting('TimeZone')`).Scan(&tz); err != nil || tz != "Asia/Tokyo" {
		t.Fatalf("TimeZone = %q, %v", tz, err)
	}

	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, db, dbstore.WithClock(func() time.Time { return now }))
	rec := session.Record{Key: session.NewKey(), Data: "tokyo", Expires: now.Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	var epoch float64
	if err := sqlDB.QueryRow(`SELECT extract(epoch FROM expire_date) FROM django_session WHERE session_key = $1`, rec.Key).Scan(&epoch); err != nil || epoch != float64(rec.Expires.Unix()) {
		t.Errorf("stored expiry at epoch %v, %v; want %d", epoch, err, rec.Expires.Unix())
	}
	got, err := s.Load(t.Context(), rec.Key)
	if err != nil || !got.Expires.Equal(rec.Expires) {
		t.Errorf("Load = %v, %v; want expiry %v", got.Expires, err, rec.Expires)
	}
	// Eight hours before it expires in UTC, it is live; an hour and a
	// second later, gone (were "now" read as Tokyo time, both would be
	// wrong by nine hours).
	now = now.Add(-8 * time.Hour)
	if _, err := s.Load(t.Context(), rec.Key); err != nil {
		t.Errorf("Load 8 hours earlier = %v", err)
	}
	now = rec.Expires.Add(time.Second)
	if _, err := s.Load(t.Context(), rec.Key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load after expiry = %v, want ErrNotFound", err)
	}
	if n, err := clearExpired(t.Context(), s, 0, nil); n != 1 || err != nil {
		t.Errorf("ClearExpired after expiry = %d, %v; want 1", n, err)
	}
}

// TestPostgresCacheSeesExpiryChange: an operator ends a session by
// moving its expire_date into the past behind the site's back (psql, as
// Django's admin would); the very next load, from a store that had it
// cached, finds nothing. Every column that decides what a load returns
// (session_data and expire_date) invalidates the cache, and the cache of
// a process that wrote the row itself too.
func TestPostgresCacheSeesExpiryChange(t *testing.T) {
	url, db := migratedPostgres(t)
	s := newStore(t, db, dbstore.WithCache(100))
	m := manager(t, s)
	raw := open(t, url)
	for _, stmt := range []string{
		`UPDATE django_session SET expire_date = now() - interval '1 day' WHERE session_key = ?`,
		// The data written again unchanged with the expiry: the data's
		// hash alone would match the cached entry.
		`UPDATE django_session SET session_data = session_data, expire_date = now() - interval '1 second' WHERE session_key = ?`,
	} {
		key := sessiontest.NewSession(t, m, map[string]any{"username": "harun_dev"})
		for range 3 { // cached, then answered from the cache
			if got := m.Open(t.Context(), key).GetString("username", "Guest"); got != "harun_dev" {
				t.Fatalf("before: username = %q", got)
			}
		}
		hits := s.Stats().CacheHits
		if hits == 0 {
			t.Fatalf("the session was never answered from the cache: %+v", s.Stats())
		}
		if err := raw.Gorm.Exec(stmt, key).Error; err != nil {
			t.Fatal(err)
		}
		if got := m.Open(t.Context(), key).GetString("username", "Guest"); got != "Guest" {
			t.Errorf("after %q: the next load greets %q, want Guest (a cached entry outlived its expiry's change)", stmt, got)
		}
		if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("after %q: store Load = %v, want ErrNotFound", stmt, err)
		}
	}

	// A later expiry, extended behind the site's back, is served as
	// extended (the entry is dropped and read again), not as the old one.
	key := sessiontest.NewSession(t, m, map[string]any{"username": "harun_dev"})
	m.Open(t.Context(), key).Len()
	m.Open(t.Context(), key).Len()
	later := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := raw.Gorm.Exec(`UPDATE django_session SET expire_date = ? WHERE session_key = ?`, later, key).Error; err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load(t.Context(), key); err != nil || !rec.Expires.Equal(later) {
		t.Errorf("after the expiry was extended: Load = %v, %v; want expiry %v", rec.Expires, err, later)
	}
}

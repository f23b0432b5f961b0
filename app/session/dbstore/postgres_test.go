package dbstore_test

import (
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/dbstore/pgtest"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/migrations"
)

// migratedPostgres returns the URL of a new migrated PostgreSQL database
// and a connection to it.
func migratedPostgres(t testing.TB) (string, *gorm.DB) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	db := open(t, url)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(sqlDB, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return url, db
}

// TestPostgresConformance runs the suite on one database (every subtest
// uses keys of its own), each subtest with a store of its own.
func TestPostgresConformance(t *testing.T) {
	_, db := migratedPostgres(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		s := dbstore.New(db)
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
	managers := []*session.Manager{manager(t, dbstore.New(db1)), manager(t, dbstore.New(db2))}
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
	stores := []*dbstore.Store{dbstore.New(db1), dbstore.New(open(t, url))}
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

// TestPostgresFailedWriteFailsAlone: on PostgreSQL a failed statement
// aborts its transaction; a write that fails must not take the others of
// its group commit down with it.
func TestPostgresFailedWriteFailsAlone(t *testing.T) {
	_, db := migratedPostgres(t)
	s := dbstore.New(db)
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
	s := dbstore.New(db, dbstore.WithClock(c.Now))
	ctx := t.Context()

	var typ string
	if err := db.Raw(`SELECT data_type FROM information_schema.columns WHERE table_name = 'django_session' AND column_name = 'expire_date'`).Row().Scan(&typ); err != nil || typ != "timestamp with time zone" {
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
		if err := db.Raw(`SELECT expire_date::text, expire_date = ?::timestamptz FROM django_session WHERE session_key = ?`, tt.elsewhere, tt.key).Row().Scan(&got, &equal); err != nil {
			t.Fatal(err)
		}
		if got != tt.text || !equal {
			t.Errorf("stored expire_date = %q (equal to %s: %v), want %q", got, tt.elsewhere, equal, tt.text)
		}
	}
	// The store wrote instants: a session whose TimeZone is not UTC
	// reads the same instants.
	var epoch float64
	err := db.Transaction(func(tx *gorm.DB) error {
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
	if err := db.Exec(`INSERT INTO django_session VALUES (?, 'dw', '2030-01-01 13:00:01+01'::timestamptz), (?, 'df', '2030-01-01 12:00:00.5+00'::timestamptz)`, djangoWhole, djangoFrac).Error; err != nil {
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
	s := dbstore.New(db)
	rec := session.Record{Key: session.NewKey(), Data: "far", Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Create(t.Context(), rec); err == nil {
		t.Error("Create with an expiry in the year 10000 succeeded")
	}
	if got := count(t, db); got != 0 {
		t.Errorf("%d rows, want none", got)
	}
}

func TestPostgresDeleteExpired(t *testing.T) {
	_, db := migratedPostgres(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := dbstore.New(db, dbstore.WithClock(func() time.Time { return now }))
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
	if err := db.Exec(`INSERT INTO django_session VALUES ('djangoexpired', 'd', '2030-01-01 13:59:59.999999+02'::timestamptz)`).Error; err != nil {
		t.Fatal(err)
	}

	var progress []int64
	n, err := s.DeleteExpired(ctx, 10, func(deleted int64) { progress = append(progress, deleted) })
	if err != nil || n != 26 {
		t.Fatalf("DeleteExpired = %d, %v; want 26, nil", n, err)
	}
	if want := []int64{10, 20, 26}; !reflect.DeepEqual(progress, want) {
		t.Errorf("progress = %v, want %v", progress, want)
	}
	if got := count(t, db); got != 6 {
		t.Errorf("%d rows left, want the 5 live ones and the one expiring now", got)
	}
	for _, key := range live {
		if _, err := s.Load(ctx, key); err != nil {
			t.Errorf("live session %s after DeleteExpired: %v", key, err)
		}
	}
	if n, err := s.DeleteExpired(ctx, 0, nil); n != 0 || err != nil {
		t.Errorf("second DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

// TestPostgresNoCache: the WAL cache needs SQLite; on PostgreSQL WithCache
// leaves it off and every load reads the database, so a write by another
// process is seen at once.
func TestPostgresNoCache(t *testing.T) {
	url, db := migratedPostgres(t)
	s := dbstore.New(db, dbstore.WithCache(100))
	other := dbstore.New(open(t, url))
	ctx := t.Context()
	rec := session.Record{Key: session.NewKey(), Data: "v1", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, rec.Key); err != nil {
		t.Fatal(err)
	}
	next := rec
	next.Data = "v2"
	if err := other.Update(ctx, next, "v1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, rec.Key); err != nil || got.Data != "v2" {
		t.Errorf("Load after another process's update = %+v, %v; want v2", got, err)
	}
	if st := s.Stats(); st.CacheHits != 0 || st.CacheMisses != 0 || st.CacheLen != 0 {
		t.Errorf("stats %+v: a cache is on", st)
	}
}

// TestPostgresUnmigrated: a store on a database without the table fails
// loudly, and works once the database is migrated.
func TestPostgresUnmigrated(t *testing.T) {
	db := open(t, pgtest.NewDatabase(t))
	s := dbstore.New(db)
	key := session.NewKey()
	if _, err := s.Load(t.Context(), key); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load on an unmigrated database = %v, want a fault", err)
	}
	rec := session.Record{Key: key, Data: "x", Expires: time.Now().Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err == nil || errors.Is(err, session.ErrExists) {
		t.Errorf("Create on an unmigrated database = %v, want a fault", err)
	}
	sqlDB, _ := db.DB()
	if err := migrations.Up(sqlDB, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create after migrating: %v", err)
	}
	if _, err := s.Load(t.Context(), key); err != nil {
		t.Errorf("Load after migrating: %v", err)
	}
}

// TestOpenDBPostgresSettings checks what OpenDB documents for PostgreSQL.
func TestOpenDBPostgresSettings(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := open(t, url+"&pool_max_conns=7&timezone=Europe/Paris&application_name=gosessions-test")
	if got := db.Dialector.Name(); got != "postgres" {
		t.Errorf("dialect %q", got)
	}
	sqlDB, _ := db.DB()
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
	sqlDB, _ = db.DB()
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
		{"postgres://user:hunter2@" + closed + "/db", []string{"open database postgres://user@" + closed + "/db", "connection refused"}},
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
		db, err := app.OpenDB(t.Context(), tt.url)
		if err == nil {
			sqlDB, _ := db.DB()
			sqlDB.Close()
			t.Errorf("OpenDB(%q) succeeded, want an error", tt.url)
			continue
		}
		msg := err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("OpenDB(%q) = %q, want it to say %q", tt.url, msg, w)
			}
		}
		if strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("OpenDB(%q) = %q: not one line, or shows the password", tt.url, msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("OpenDB(%q) took %v to fail", tt.url, d)
		}
	}

	// A server that is there, without the database.
	u, err := neturl.Parse(pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = neturl.UserPassword(u.User.Username(), "hunter2")
	u.Path = "/no_such_database"
	_, err = app.OpenDB(t.Context(), u.String())
	if err == nil || !strings.Contains(err.Error(), `database "no_such_database" does not exist`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("OpenDB of a missing database = %v, want an error naming it, without the password", err)
	}
}

// TestPostgresAnyTimeZone: the store writes and compares instants, so it
// is right on a connection whose TimeZone is not UTC (one not opened by
// app.OpenDB), where Django's text form would be read as local time.
func TestPostgresAnyTimeZone(t *testing.T) {
	url, _ := migratedPostgres(t)
	db, err := gorm.Open(postgres.Open(url+"&timezone=Asia/Tokyo"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	var tz string
	if err := sqlDB.QueryRow(`SELECT current_setting('TimeZone')`).Scan(&tz); err != nil || tz != "Asia/Tokyo" {
		t.Fatalf("TimeZone = %q, %v", tz, err)
	}

	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := dbstore.New(db, dbstore.WithClock(func() time.Time { return now }))
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
	if n, err := s.DeleteExpired(t.Context(), 0, nil); n != 1 || err != nil {
		t.Errorf("DeleteExpired after expiry = %d, %v; want 1", n, err)
	}
}

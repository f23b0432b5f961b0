package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/internal/pgtest"
	"github.com/djangosessions/gosessions/internal/redistest"
)

// BenchmarkLoad compares one load on the database store (SQLite, no
// in-process cache), the Redis store, and the cached store when the entry
// is cached (hit) and when it is not (miss: Redis, then the database,
// then the fill). Compare the figures of one run as ratios.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	dbURL, prefix := migratedSQLite(b), redistest.Prefix(b)
	db := dbStore(b, dbURL)
	red := redisstore.New(redistest.Client(b), redisstore.WithPrefix(prefix))
	client := redistest.Client(b)
	cached := redisstore.NewCache(client, db, redisstore.WithPrefix(prefix+"c:"))
	b.Cleanup(func() { cached.Close() })
	rec := session.Record{Key: session.NewKey(), Data: strings.Repeat("x", 200), Expires: time.Now().Add(time.Hour)}
	for _, s := range []session.Store{red, cached} {
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	load := func(b *testing.B, s session.Store) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Load(ctx, rec.Key); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("dbstore", func(b *testing.B) { load(b, db) })
	b.Run("redis", func(b *testing.B) { load(b, red) })
	b.Run("cached_hit", func(b *testing.B) { load(b, cached) })
	b.Run("cached_miss", func(b *testing.B) {
		// Sessions in the database; a new generation empties the cache
		// after each pass over them.
		keys := make([]string, 1000)
		for i := range keys {
			r := rec
			r.Key = session.NewKey()
			if err := db.Create(ctx, r); err != nil {
				b.Fatal(err)
			}
			keys[i] = r.Key
		}
		misses := cached.Stats().Misses
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%len(keys) == 0 {
				if err := client.Incr(ctx, prefix+"c:gen").Err(); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := cached.Load(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if got := cached.Stats().Misses - misses; got != int64(i) {
			b.Fatalf("%d misses in %d loads", got, i)
		}
	})
}

// BenchmarkUpdate compares one compare-and-swap update on the database
// store, the Redis store and the cached store (database write between
// its two cache steps).
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	dbURL, prefix := migratedSQLite(b), redistest.Prefix(b)
	db := dbStore(b, dbURL)
	red := redisstore.New(redistest.Client(b), redisstore.WithPrefix(prefix))
	cached := redisstore.NewCache(redistest.Client(b), dbStore(b, dbURL), redisstore.WithPrefix(prefix+"c:"))
	b.Cleanup(func() { cached.Close() })
	update := func(b *testing.B, s session.Store) {
		rec := session.Record{Key: session.NewKey(), Data: "v0", Expires: time.Now().Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
		data := [2]string{strings.Repeat("a", 200), strings.Repeat("b", 200)}
		old := "v0"
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rec.Data = data[i%2]
			if err := s.Update(ctx, rec, old); err != nil {
				b.Fatal(err)
			}
			old = rec.Data
			i++
		}
	}
	b.Run("dbstore", func(b *testing.B) { update(b, db) })
	b.Run("redis", func(b *testing.B) { update(b, red) })
	b.Run("cached", func(b *testing.B) { update(b, cached) })
}

// BenchmarkInterleaved runs one of each operation per iteration (loads
// and updates on the database store, the Redis store and the cached
// store, the cached miss included) and reports each one's mean time and
// its ratio to the database store's: interleaving makes the ratios
// robust to the load of a shared machine, which BenchmarkLoad and
// BenchmarkUpdate's separate runs are not. The database is SQLite, and
// PostgreSQL when TEST_POSTGRES_URL is set.
func BenchmarkInterleaved(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { interleaved(b, migratedSQLite(b)) })
	b.Run("postgres", func(b *testing.B) {
		url := pgtest.NewDatabase(b)
		migrate(b, openDB(b, url))
		interleaved(b, url)
	})
}

func interleaved(b *testing.B, dbURL string) {
	ctx := context.Background()
	prefix := redistest.Prefix(b)
	db := dbStore(b, dbURL)
	red := redisstore.New(redistest.Client(b), redisstore.WithPrefix(prefix))
	client := redistest.Client(b)
	cached := redisstore.NewCache(client, dbStore(b, dbURL), redisstore.WithPrefix(prefix+"c:"))
	b.Cleanup(func() { cached.Close() })
	stores := []struct {
		name string
		s    session.Store
	}{{"dbstore", db}, {"redis", red}, {"cached", cached}}

	data := [2]string{strings.Repeat("a", 200), strings.Repeat("b", 200)}
	recs := make([]session.Record, len(stores))
	for i, st := range stores {
		recs[i] = session.Record{Key: session.NewKey(), Data: data[0], Expires: time.Now().Add(time.Hour)}
		if err := st.s.Create(ctx, recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	missKeys := make([]string, 1000)
	for i := range missKeys {
		missKeys[i] = session.NewKey()
		if err := db.Create(ctx, session.Record{Key: missKeys[i], Data: data[0], Expires: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}

	var load, update [3]time.Duration
	var miss time.Duration
	n := 0
	timed := func(d *time.Duration, f func() error) {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
	}
	for b.Loop() {
		for j := range stores {
			// A different store first each time: none always pays for
			// waking the others' processes.
			i := (j + n) % len(stores)
			st := stores[i]
			timed(&load[i], func() error { _, err := st.s.Load(ctx, recs[i].Key); return err })
			next := recs[i]
			next.Data = data[(n+1)%2]
			timed(&update[i], func() error { return st.s.Update(ctx, next, recs[i].Data) })
			recs[i] = next
		}
		if n%len(missKeys) == 0 {
			if err := client.Incr(ctx, prefix+"c:gen").Err(); err != nil {
				b.Fatal(err)
			}
		}
		timed(&miss, func() error { _, err := cached.Load(ctx, missKeys[n%len(missKeys)]); return err })
		n++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	for i, st := range stores {
		b.ReportMetric(per(load[i]), "ns/load-"+st.name)
		b.ReportMetric(per(update[i]), "ns/update-"+st.name)
		if i > 0 {
			b.ReportMetric(float64(load[i])/float64(load[0]), "x-load-"+st.name)
			b.ReportMetric(float64(update[i])/float64(update[0]), "x-update-"+st.name)
		}
	}
	b.ReportMetric(per(miss), "ns/load-cached_miss")
	b.ReportMetric(float64(miss)/float64(load[0]), "x-load-cached_miss")
}

package engine_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want engine.Name
		err  []string // substrings of the error; nil: no error
	}{
		{"db", engine.DB, nil},
		{" django.contrib.sessions.backends.cached_db ", engine.CachedDB, nil},
		{"cache", engine.Cache, nil},
		{"django.contrib.sessions.backends.signed_cookies", engine.SignedCookies, nil},
		{"file", "", []string{"file engine is not offered", "no lost updates", "supported: db cached_db cache signed_cookies"}},
		{"django.contrib.sessions.backends.file", "", []string{"file engine is not offered"}},
		{"redis", "", []string{"unknown engine", "supported: db"}},
		{"DB", "", []string{"unknown engine"}}, // Django's names are case-sensitive
		{"", "", []string{"unknown engine"}},
		{"django.contrib.sessions.backends.", "", []string{"unknown engine"}},
	} {
		got, err := engine.Parse(tt.in)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) = %q, want an error", tt.in, got)
			continue
		}
		for _, want := range tt.err {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Parse(%q): %v; want it to say %q", tt.in, err, want)
			}
		}
	}
}

// TestRegistry: every engine Django ships has a row, described; the
// offered ones say how they open and where to see them; the empty name
// is db.
func TestRegistry(t *testing.T) {
	var names []engine.Name
	for _, e := range engine.All() {
		names = append(names, e.Name)
		if e.Note == "" {
			t.Errorf("%s: no note", e.Name)
		}
		if e.Offered() && (e.GoCode == "" || e.Demo == "") {
			t.Errorf("%s: offered without Go code or a demo page", e.Name)
		}
		if !e.Offered() && !strings.HasPrefix(e.Note, "Not offered") {
			t.Errorf("%s: refused, but its note does not say so: %q", e.Name, e.Note)
		}
		if got := e.Name.Django(); got != "django.contrib.sessions.backends."+string(e.Name) {
			t.Errorf("Django() = %q", got)
		}
	}
	if want := []engine.Name{engine.DB, engine.CachedDB, engine.Cache, engine.SignedCookies, engine.File}; !slices.Equal(names, want) {
		t.Errorf("All() = %q, want %q", names, want)
	}
	if got := engine.Supported(); got != "db cached_db cache signed_cookies" {
		t.Errorf("Supported() = %q", got)
	}
	if e, ok := engine.Lookup(""); !ok || e.Name != engine.DB {
		t.Errorf("Lookup(\"\") = %v, %v; want db", e.Name, ok)
	}
	if _, ok := engine.Lookup("redis"); ok {
		t.Error("Lookup(redis) found an engine")
	}
}

func TestNeeds(t *testing.T) {
	for _, tt := range []struct {
		name  engine.Name
		redis bool
		want  engine.Needs
	}{
		{engine.DB, false, engine.Needs{Record: engine.InDatabase, ProcessCache: true, DecodedCache: true}},
		{engine.DB, true, engine.Needs{Record: engine.InDatabase, ProcessCache: true, DecodedCache: true}},
		{"", false, engine.Needs{Record: engine.InDatabase, ProcessCache: true, DecodedCache: true}},
		{engine.CachedDB, false, engine.Needs{Record: engine.InDatabase, ProcessCache: true, DecodedCache: true}},
		{engine.CachedDB, true, engine.Needs{Record: engine.InDatabase, Redis: true, DecodedCache: true}},
		{engine.Cache, false, engine.Needs{Record: engine.InMemory, MaxEntries: true}},
		{engine.Cache, true, engine.Needs{Record: engine.InRedis, Redis: true}},
		{engine.SignedCookies, true, engine.Needs{Record: engine.InCookie}},
		{engine.File, false, engine.Needs{}},
		{"redis", true, engine.Needs{}},
	} {
		if got := tt.name.Needs(tt.redis); got != tt.want {
			t.Errorf("%q.Needs(%v) = %+v, want %+v", tt.name, tt.redis, got, tt.want)
		}
	}
}

// TestOpen opens every offered engine, serves a session through it,
// and reads what it reports: its layers, the store's figures, the live
// sessions, its readiness.
func TestOpen(t *testing.T) {
	redisURL := redistest.URL(t)
	for _, tt := range []struct {
		name     engine.Name
		redis    bool
		layers   []string
		caches   []string // the cache layers Stats reports, top first
		writes   bool
		live     bool
		signed   bool
		decoded  int
		wantWarn string
	}{
		{name: engine.DB, layers: []string{"database"}, caches: []string{"process"}, writes: true, live: true, decoded: 100},
		{name: engine.CachedDB, layers: []string{"database"}, caches: []string{"process"}, writes: true, live: true, decoded: 100},
		{name: engine.CachedDB, redis: true, layers: []string{"database", "redis cache"}, caches: []string{"redis"}, writes: true, live: true, decoded: 100},
		{name: engine.Cache, layers: []string{"process memory"}, caches: []string{"memory"}, writes: true, live: true, wantWarn: "CACHE_MAX_ENTRIES=7"},
		{name: engine.Cache, redis: true, layers: []string{"redis"}},
		{name: engine.SignedCookies, signed: true},
	} {
		t.Run(string(tt.name)+map[bool]string{true: "+redis"}[tt.redis], func(t *testing.T) {
			var logs bytes.Buffer
			s := engine.Setup{
				DB: dbtest.SQLite(t), CacheSize: 100, MaxEntries: 7,
				Log: slog.New(slog.NewTextHandler(&logs, nil)),
			}
			if tt.redis {
				s.Redis = redistest.Options(t, redisURL)
			}
			st, err := tt.name.Open(s)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			if got := st.Layers(); !slices.Equal(got, tt.layers) {
				t.Errorf("layers %q, want %q", got, tt.layers)
			}
			if tt.wantWarn != "" && !strings.Contains(logs.String(), tt.wantWarn) {
				t.Errorf("no warning naming %s:\n%s", tt.wantWarn, logs.String())
			}
			if tt.wantWarn == "" && logs.Len() > 0 {
				t.Errorf("warnings at start:\n%s", logs.String())
			}

			sc := session.Config{SecretKey: "engine-test"}
			st.Configure(&sc)
			if sc.SignedCookies != tt.signed || (sc.Store == nil) != tt.signed || sc.DecodedCacheSize != tt.decoded {
				t.Fatalf("Configure: signed %v, store %T, decoded cache %d", sc.SignedCookies, sc.Store, sc.DecodedCacheSize)
			}
			if err := st.Check(t.Context()); err != nil {
				t.Errorf("Check: %v", err)
			}
			if tt.signed {
				if n, ok, _ := st.LiveSessions(t.Context(), time.Now()); ok {
					t.Errorf("signed cookies count %d live sessions", n)
				}
				return
			}

			m, err := session.New(sc)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			sess := m.Open(ctx, "")
			sess.Set("user", "alice")
			if err := sess.Save(); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if got := m.Open(ctx, sess.Key()).GetString("user", ""); got != "alice" {
					t.Fatalf("the session reads user %q", got)
				}
			}

			stats := st.Stats()
			var caches []string
			for _, c := range stats.Caches {
				caches = append(caches, c.Layer)
				if c.Hits+c.Misses != 2 {
					t.Errorf("%s cache: %d hits + %d misses, want the 2 loads", c.Layer, c.Hits, c.Misses)
				}
			}
			if !slices.Equal(caches, tt.caches) {
				t.Errorf("cache layers %q, want %q", caches, tt.caches)
			}
			if w := stats.Writes; (w != nil) != tt.writes || w != nil && (w.Writes != 1 || w.Commits != 1) {
				t.Errorf("writes %+v, want 1 write in 1 commit: %v", w, tt.writes)
			}
			n, ok, err := st.LiveSessions(ctx, time.Now())
			if ok != tt.live || err != nil || ok && n != 1 {
				t.Errorf("LiveSessions = %d, %v, %v; want 1 when counted (%v)", n, ok, err, tt.live)
			}
		})
	}
}

// TestOpenRefuses: an engine the site does not offer, or no database, is
// an error that says why.
func TestOpenRefuses(t *testing.T) {
	db := dbtest.SQLite(t)
	for name, want := range map[engine.Name]string{
		engine.File: `engine "file": the file engine is not offered`,
		"redis":     `engine "redis": unknown engine`,
	} {
		if _, err := name.Open(engine.Setup{DB: db}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want %q", name, err, want)
		}
	}
	if _, err := engine.DB.Open(engine.Setup{}); err == nil {
		t.Error("Open without a database: no error")
	}
	st, err := engine.Name("").Open(engine.Setup{DB: db})
	if err != nil || st.Name() != engine.DB {
		t.Fatalf("the empty name opens %v, %v; want db", st, err)
	}
	st.Close()
}

// countingStore is a layer of a test's own: it counts loads on the way
// down.
type countingStore struct {
	session.Store
	mu    sync.Mutex
	loads int64
}

func (c *countingStore) Load(ctx context.Context, key string) (session.Record, error) {
	c.mu.Lock()
	c.loads++
	c.mu.Unlock()
	return c.Store.Load(ctx, key)
}

// TestWithLayer: a layer registered with WithLayer wraps the engine's
// store, reports through Stats, checks through Check, and is closed
// first; a layer that fails to open closes what was opened.
func TestWithLayer(t *testing.T) {
	ctx := t.Context()
	var closed []string
	var below session.Store
	counter := &countingStore{}
	wrap := engine.WithLayer(func(b session.Store) (engine.Layer, error) {
		below = b
		counter.Store = b
		return engine.Layer{
			Name:  "counter",
			Store: counter,
			Close: func() error { closed = append(closed, "counter"); return nil },
			Check: func(context.Context) error { return errors.New("counter not ready") },
			Report: func(s *engine.Stats) {
				counter.mu.Lock()
				defer counter.mu.Unlock()
				s.Caches = append(s.Caches, engine.CacheStats{Layer: "counter", Misses: counter.loads})
			},
		}, nil
	})
	st, err := engine.Cache.Open(engine.Setup{DB: dbtest.SQLite(t)}, wrap)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Layers(); !slices.Equal(got, []string{"process memory", "counter"}) {
		t.Errorf("layers %q", got)
	}
	if st.Store() != counter || below == nil {
		t.Fatalf("Store() = %T, the wrap got %T", st.Store(), below)
	}
	if _, err := st.Store().Load(ctx, "nothing"); !errors.Is(err, session.ErrNotFound) {
		t.Fatal(err)
	}
	if got := st.Stats().Caches; len(got) != 2 || got[0].Layer != "counter" || got[0].Misses != 1 || got[1].Layer != "memory" || got[1].Misses != 1 {
		t.Errorf("Stats().Caches = %+v, want the counter's figures above memory's", got)
	}
	if err := st.Check(ctx); err == nil || err.Error() != "counter not ready" {
		t.Errorf("Check = %v, want the layer's", err)
	}
	if err := st.Close(); err != nil || !slices.Equal(closed, []string{"counter"}) {
		t.Errorf("Close = %v, closed %q", err, closed)
	}

	failing := engine.WithLayer(func(session.Store) (engine.Layer, error) { return engine.Layer{}, errors.New("no index") })
	if _, err := engine.DB.Open(engine.Setup{DB: dbtest.SQLite(t)}, wrap, failing); err == nil || !strings.Contains(err.Error(), "no index") {
		t.Errorf("Open with a failing layer = %v", err)
	}
	if !slices.Equal(closed, []string{"counter", "counter"}) {
		t.Errorf("the layers opened before the failure were not closed: %q", closed)
	}
}

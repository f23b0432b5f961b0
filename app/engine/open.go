package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/models"
)

// Setup is what an engine opens on: the site's settings and resources.
type Setup struct {
	// DB is the site's database (DATABASE_URL). Required: the database
	// engines keep their sessions there, and the others are ready when it
	// answers (the users live there).
	DB *database.DB
	// Redis is CACHE_URL, parsed; nil when it is unset.
	Redis *redis.Options
	// CacheSize is SESSION_CACHE_SIZE: the sessions the database store
	// keeps in its in-process cache, and the session manager in its
	// decoded-data cache. 0 turns both off.
	CacheSize int
	// MaxEntries is CACHE_MAX_ENTRIES: the sessions kept in process memory
	// by the cache engine without CACHE_URL. 0 means
	// memstore.DefaultMaxEntries.
	MaxEntries int
	// Wait bounds how long opening waits for Redis to answer (2 s at
	// most, and when 0): a start should not hang on it.
	Wait time.Duration
	// Log receives the engine's warnings at start. Nil discards them.
	Log *slog.Logger
}

// Layer is one layer of an opened engine: a session.Store wrapping the
// layers below it, with what it holds and what it reports. The fields
// other than Name and Store may be nil.
type Layer struct {
	// Name says what the layer is ("database", "redis cache", ...).
	Name string
	// Store is the engine's store from this layer down. Nil only with
	// signed cookies, which have no store.
	Store session.Store
	// Close releases what the layer holds (not the layers below).
	Close func() error
	// Check reports whether the layer can serve, for a readiness probe.
	// A layer that serves from the one below when it fails (a cache)
	// has none.
	Check func(ctx context.Context) error
	// Report adds the layer's figures to st.
	Report func(st *Stats)
	// Live counts the sessions the layer holds that have not expired at
	// now. Only the layer that keeps the records counts them.
	Live func(ctx context.Context, now time.Time) (int64, error)
}

// Wrap makes a layer on top of an engine's store, below: the per-user
// index of sessions, for example. With signed cookies below is nil, and
// the layer's Store must stay nil (the cookie is the session).
type Wrap func(below session.Store) (Layer, error)

// Option adds to what an engine opens.
type Option func(*options)

type options struct {
	db    []dbstore.Option
	wraps []Wrap
}

// WithDatabaseOptions passes opts to the database store, where the
// engine has one (such as dbstore.WithBatchObserver for metrics).
func WithDatabaseOptions(opts ...dbstore.Option) Option {
	return func(o *options) { o.db = append(o.db, opts...) }
}

// WithLayer puts the layer w makes on top of the engine's layers; each
// WithLayer goes on top of the ones before.
func WithLayer(w Wrap) Option {
	return func(o *options) { o.wraps = append(o.wraps, w) }
}

// Stack is an opened engine: its layers, bottom (the record) first.
type Stack struct {
	name    Name
	needs   Needs
	layers  []Layer
	db      *database.DB
	decoded int
}

// Open opens engine n on s: its layers, each wrapping the one below, then
// the layers of opts' WithLayer. An engine the site does not offer is an
// error saying why. Close the stack when done; it closes neither s.DB nor
// anything else of s.
func (n Name) Open(s Setup, opts ...Option) (*Stack, error) {
	if err := n.check(); err != nil {
		return nil, fmt.Errorf("engine %q: %w", string(n), err)
	}
	if s.DB == nil {
		return nil, errors.New("engine: Open needs a database")
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e, _ := Lookup(n)
	st := &Stack{name: e.Name, needs: e.needs(s.Redis != nil), db: s.DB}
	if st.needs.DecodedCache {
		st.decoded = s.CacheSize
	}
	layers, err := e.open(s, o)
	if err != nil {
		return nil, err
	}
	st.layers = layers
	for _, w := range o.wraps {
		l, err := w(st.Store())
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("engine %s: %w", st.name, err)
		}
		st.layers = append(st.layers, l)
	}
	return st, nil
}

// Name returns the engine's name.
func (st *Stack) Name() Name { return st.name }

// Needs returns what the engine uses, as opened.
func (st *Stack) Needs() Needs { return st.needs }

// Layers returns the names of the layers, bottom first.
func (st *Stack) Layers() []string {
	var names []string
	for _, l := range st.layers {
		names = append(names, l.Name)
	}
	return names
}

// Store returns the engine's store: its top layer's. It is nil with
// signed cookies.
func (st *Stack) Store() session.Store {
	for _, l := range slices.Backward(st.layers) {
		if l.Store != nil {
			return l.Store
		}
	}
	return nil
}

// Configure sets what the engine decides in the session settings: the
// store, signed cookies, the decoded-data cache.
func (st *Stack) Configure(sc *session.Config) {
	sc.Store = st.Store()
	sc.SignedCookies = st.needs.Record == InCookie
	sc.DecodedCacheSize = st.decoded
}

// Check reports whether the engine can serve: every layer's check, bottom
// first; an engine whose layers have none (process memory, signed
// cookies) is ready when the database answers.
func (st *Stack) Check(ctx context.Context) error {
	checked := false
	for _, l := range st.layers {
		if l.Check == nil {
			continue
		}
		checked = true
		if err := l.Check(ctx); err != nil {
			return err
		}
	}
	if !checked {
		return st.db.Check(ctx)
	}
	return nil
}

// Stats returns the figures of every layer.
func (st *Stack) Stats() Stats {
	var s Stats
	for _, l := range slices.Backward(st.layers) {
		if l.Report != nil {
			l.Report(&s)
		}
	}
	return s
}

// LiveSessions counts the sessions that have not expired at now, where
// the layer that keeps them can (the database, process memory); ok is
// false where it cannot (Redis, the cookie).
func (st *Stack) LiveSessions(ctx context.Context, now time.Time) (n int64, ok bool, err error) {
	for _, l := range st.layers {
		if l.Live != nil {
			n, err := l.Live(ctx, now)
			return n, true, err
		}
	}
	return 0, false, nil
}

// Close closes the layers, top first.
func (st *Stack) Close() error {
	var errs []error
	for _, l := range slices.Backward(st.layers) {
		if l.Close != nil {
			errs = append(errs, l.Close())
		}
	}
	return errors.Join(errs...)
}

// openDB is db: the database with the in-process cache in front.
func openDB(s Setup, o options) ([]Layer, error) {
	l, err := databaseLayer(s, o, true)
	if err != nil {
		return nil, err
	}
	return []Layer{l}, nil
}

// openCachedDB is Django's cached_db: the database (without the
// in-process cache, which Redis replaces) and Redis in front of it. Redis
// not answering at start is a warning, not an error: requests are served
// from the database until it answers. Without CACHE_URL it is db.
func openCachedDB(s Setup, o options) ([]Layer, error) {
	if s.Redis == nil {
		return openDB(s, o)
	}
	db, err := databaseLayer(s, o, false)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(s.Redis)
	if err := ping(client, s.Wait); err != nil {
		s.Log.Warn("SESSION_ENGINE=cached_db: Redis does not answer; serving sessions from the database until it does", "redis", s.Redis.Addr, "error", err)
	}
	cached := redisstore.NewCache(client, db.Store, redisstore.WithLogger(s.Log))
	return []Layer{db, {
		Name:  "redis cache",
		Store: cached,
		Close: func() error { return errors.Join(cached.Close(), client.Close()) },
		Report: func(st *Stats) {
			c := cached.Stats()
			st.Caches = append(st.Caches, CacheStats{
				Layer: "redis", Hits: c.Hits, Misses: c.Misses,
				Len: -1, Evicted: -1, Expired: -1, Fallbacks: c.Fallbacks,
			})
		},
	}}, nil
}

// openCache is Django's cache engine: Redis, or without CACHE_URL the
// process's memory, bounded by CACHE_MAX_ENTRIES.
func openCache(s Setup, _ options) ([]Layer, error) {
	if s.Redis == nil {
		return []Layer{memoryLayer(s)}, nil
	}
	client := redis.NewClient(s.Redis)
	if err := ping(client, s.Wait); err != nil {
		client.Close()
		return nil, fmt.Errorf("SESSION_ENGINE=cache: Redis at %s does not answer: %w", s.Redis.Addr, err)
	}
	st := redisstore.New(client)
	return []Layer{{Name: "redis", Store: st, Close: client.Close, Check: st.Check}}, nil
}

// openSignedCookies opens nothing: the cookie is the session
// (session.Config.SignedCookies, which Stack.Configure sets).
func openSignedCookies(Setup, options) ([]Layer, error) { return nil, nil }

// databaseLayer returns the database store, with the in-process cache
// when cache is set and SESSION_CACHE_SIZE is not 0. The cache learns other
// processes' writes from SQLite's WAL index or from PostgreSQL's
// notifications (a private in-memory database has no other process, and
// needs none).
func databaseLayer(s Setup, o options, cache bool) (Layer, error) {
	opts := slices.Clone(o.db)
	cached := cache && s.CacheSize > 0 && (s.DB.WAL() || s.DB.Engine == database.PostgreSQL)
	if cached {
		opts = append(opts, dbstore.WithCache(s.CacheSize))
	}
	st, err := dbstore.New(s.DB, opts...)
	if err != nil {
		return Layer{}, fmt.Errorf("engine: %w", err)
	}
	db := s.DB
	return Layer{
		Name:  "database",
		Store: st,
		Close: st.Close,
		Check: st.Check,
		Report: func(x *Stats) {
			d := st.Stats()
			if cached {
				x.Caches = append(x.Caches, CacheStats{
					Layer: "process", Hits: d.CacheHits, Misses: d.CacheMisses,
					Len: int64(d.CacheLen), Evicted: -1, Expired: -1, Fallbacks: -1,
				})
			}
			x.Writes = &WriteStats{Commits: d.Commits, Writes: d.Writes, Rollbacks: d.Rollbacks}
		},
		Live: func(ctx context.Context, now time.Time) (int64, error) {
			ctx, cancel := context.WithTimeout(ctx, db.Timeout+5*time.Second)
			defer cancel()
			// Session.objects.filter(expire_date__gt=now).count()
			var n int64
			err := db.Gorm.WithContext(ctx).Model(&models.Session{}).
				Where("expire_date > ?", models.DateTime{Time: now}).Count(&n).Error
			if err != nil {
				return 0, fmt.Errorf("engine: count live sessions: %w", err)
			}
			return n, nil
		},
	}, nil
}

// memoryLayer returns the process-memory store of the cache engine
// without CACHE_URL, with its warning.
func memoryLayer(s Setup) Layer {
	limit := s.MaxEntries
	if limit <= 0 {
		limit = memstore.DefaultMaxEntries
	}
	s.Log.Warn("SESSION_ENGINE=cache without CACHE_URL keeps sessions in this process's memory: they are lost at restart and not shared with other processes; at most CACHE_MAX_ENTRIES of them, the least recently used evicted beyond it", "CACHE_MAX_ENTRIES", limit)
	st := memstore.New(nil, memstore.WithMaxEntries(limit))
	return Layer{
		Name:  "process memory",
		Store: st,
		Report: func(x *Stats) {
			m := st.Stats()
			x.Caches = append(x.Caches, CacheStats{
				Layer: "memory", Hits: m.Hits, Misses: m.Misses, Len: int64(m.Len),
				Evicted: m.Evicted, Expired: m.Expired, Fallbacks: -1,
			})
			// In memory each write stands alone: a commit of its own.
			x.Writes = &WriteStats{Commits: m.Writes, Writes: m.Writes}
		},
		Live: func(context.Context, time.Time) (int64, error) { return int64(st.Live()), nil },
	}
}

// ping checks that Redis answers within wait, or two seconds at most.
func ping(client *redis.Client, wait time.Duration) error {
	if wait <= 0 || wait > 2*time.Second {
		wait = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return client.Ping(ctx).Err()
}

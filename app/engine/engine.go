// Package engine is the one registry of the session engines: Django's
// SESSION_ENGINE values, what each needs (a database, Redis through
// CACHE_URL, signed cookies, the in-process caches), how it opens (a stack
// of layers, each a session.Store wrapping the one below), what it reports
// (figures for metrics, a readiness check) and how it is described (the
// rows of /learn, the warnings at start).
//
// The site, manage, the load generator, /learn and the metrics ask it;
// nothing else interprets an engine's name. A new engine is a row of
// [All]; a new layer on every engine (such as a per-user index) is an
// [Option] of [Name.Open].
package engine

import (
	"fmt"
	"strings"
)

// Name names a session engine: the last dotted component of Django's
// SESSION_ENGINE ("django.contrib.sessions.backends.db" is [DB]). The
// empty Name means [DB], the default, as an unset SESSION_ENGINE does.
type Name string

// The engines Django ships.
const (
	DB            Name = "db"
	CachedDB      Name = "cached_db"
	Cache         Name = "cache"
	SignedCookies Name = "signed_cookies"
	File          Name = "file"
)

// djangoPrefix is the dotted path of Django's engines.
const djangoPrefix = "django.contrib.sessions.backends."

// Django returns the engine's name as a Django settings file writes it.
func (n Name) Django() string { return djangoPrefix + string(n.orDefault()) }

func (n Name) orDefault() Name {
	if n == "" {
		return DB
	}
	return n
}

// Engine is one engine of the registry: its name, whether the site
// offers it, and how it is described.
type Engine struct {
	Name Name
	// Refused says why the site does not offer the engine; "" when it
	// does.
	Refused string
	// Note says what the engine does here, for /learn.
	Note string
	// GoCode is how the site builds the engine's store, in Go, for
	// /learn.
	GoCode string
	// Demo is the page that shows the engine at work; "" for none.
	Demo string

	needs func(redis bool) Needs
	open  func(s Setup, o options) ([]Layer, error)
}

// fileRefused is why the file engine is not offered (Django's ticket
// #8616: one file per session, no locking).
const fileRefused = "a file per session on one machine's disk cannot be shared by several server processes or machines, and cannot merge concurrent changes as every store here must (no lost updates); db on SQLite keeps sessions in one file, with transactions and without those limits"

// Offered reports whether the site starts with the engine.
func (e Engine) Offered() bool { return e.Refused == "" }

// All returns every engine Django ships, in the order /learn shows them:
// the offered ones, then the refused one.
func All() []Engine {
	return []Engine{
		{
			Name: DB, Demo: "/visits",
			GoCode: `dbstore.New(db, dbstore.WithCache(cfg.SessionCacheSize))`,
			Note:   "The default. Sessions live in the django_session table (SQLite, or PostgreSQL with a postgres:// DATABASE_URL), with an in-process cache of SESSION_CACHE_SIZE sessions in front (10000; 0 turns it off). It learns every other writer's change, and is never stale: on SQLite from the WAL index before each read, on PostgreSQL from a trigger's notifications, with a round trip on the listening connection before an entry is served. Django's db engine has no cache.",
			needs: func(bool) Needs {
				return Needs{Record: InDatabase, ProcessCache: true, DecodedCache: true}
			},
			open: openDB,
		},
		{
			Name: CachedDB, Demo: "/get",
			GoCode: `redisstore.NewCache(redis.NewClient(cfg.Cache), store)  // store, err := dbstore.New(db)`,
			Note:   "The database is the record and Redis (CACHE_URL) a write-through cache in front of it, shared by every process: the database decides every write, and Redis never serves what an acknowledged write replaced; Django's own writes are seen within five minutes. When Redis fails, sessions are served from the database until it answers. Without CACHE_URL it is the same as db.",
			needs: func(redis bool) Needs {
				return Needs{Record: InDatabase, Redis: redis, ProcessCache: !redis, DecodedCache: true}
			},
			open: openCachedDB,
		},
		{
			Name: Cache, Demo: "/visits",
			GoCode: `redisstore.New(redis.NewClient(cfg.Cache))  // or memstore.New(nil, memstore.WithMaxEntries(cfg.CacheMaxEntries))`,
			Note:   "Redis (CACHE_URL) is the record, with the store contract Django's cache engine lacks: no lost updates, a deleted session never comes back. Without CACHE_URL, sessions live in the site process's memory, at most CACHE_MAX_ENTRIES of them (10000, the least recently used evicted beyond it, expired ones swept): one process only, lost when it restarts.",
			needs: func(redis bool) Needs {
				if redis {
					return Needs{Record: InRedis, Redis: true}
				}
				return Needs{Record: InMemory, MaxEntries: true}
			},
			open: openCache,
		},
		{
			Name: SignedCookies, Demo: "/set",
			GoCode: `session.Config{SignedCookies: true}  // no Store: the cookie is the session`,
			Note:   "The data travels in the cookie, signed in Django's format, so a Django site with the same SECRET_KEY reads it. Nothing is stored on the server: concurrent requests each send a whole cookie and the last one wins, a stolen cookie works until it expires (logout cannot revoke it), and a session over 4096 bytes of cookie is an error, never a cookie the browser drops. Unlike Django, a session's own expiry is enforced too.",
			needs:  func(bool) Needs { return Needs{Record: InCookie} },
			open:   openSignedCookies,
		},
		{
			Name: File, Refused: fileRefused,
			Note:  "Not offered: " + fileRefused + ".",
			needs: func(bool) Needs { return Needs{} },
		},
	}
}

// Lookup returns the registry's engine n (the empty Name is DB), or false
// for a name Django does not ship.
func Lookup(n Name) (Engine, bool) {
	n = n.orDefault()
	for _, e := range All() {
		if e.Name == n {
			return e, true
		}
	}
	return Engine{}, false
}

// Supported lists the names of the offered engines, space-separated, for
// usage texts and errors.
func Supported() string {
	var names []string
	for _, e := range All() {
		if e.Offered() {
			names = append(names, string(e.Name))
		}
	}
	return strings.Join(names, " ")
}

// Parse reads a SESSION_ENGINE value: an engine's name or Django's
// dotted name for it, surrounding spaces ignored. A name Django ships
// that the site does not offer is an error saying why; so is a name
// nobody ships. The error does not repeat s.
func Parse(s string) (Name, error) {
	n := Name(strings.TrimPrefix(strings.TrimSpace(s), djangoPrefix))
	if n == "" {
		return "", fmt.Errorf("unknown engine (supported: %s)", Supported())
	}
	if err := n.check(); err != nil {
		return "", err
	}
	return n, nil
}

// check returns nil for an offered engine (the empty Name is DB), else an
// error saying why it is not one.
func (n Name) check() error {
	e, ok := Lookup(n)
	switch {
	case !ok:
		return fmt.Errorf("unknown engine (supported: %s)", Supported())
	case !e.Offered():
		return fmt.Errorf("the %s engine is not offered: %s (supported: %s)", n, e.Refused, Supported())
	}
	return nil
}

// Record says where an engine keeps its sessions.
type Record int

const (
	// InDatabase: the django_session table of DATABASE_URL.
	InDatabase Record = iota + 1
	// InRedis: Redis, at CACHE_URL.
	InRedis
	// InMemory: the site process's memory (CACHE_MAX_ENTRIES sessions).
	InMemory
	// InCookie: the session cookie itself; nothing on the server.
	InCookie
)

func (r Record) String() string {
	switch r {
	case InDatabase:
		return "the database"
	case InRedis:
		return "Redis"
	case InMemory:
		return "process memory"
	case InCookie:
		return "the cookie"
	}
	return "nowhere"
}

// Needs is what an engine uses, given whether CACHE_URL is set.
type Needs struct {
	// Record is where the sessions live.
	Record Record
	// Redis: the engine opens a Redis client on CACHE_URL, as the record
	// (cache) or as a shared cache in front of the database (cached_db).
	Redis bool
	// ProcessCache: the database store keeps SESSION_CACHE_SIZE sessions
	// in an in-process cache that is never stale.
	ProcessCache bool
	// DecodedCache: the session manager keeps the decoded data of
	// SESSION_CACHE_SIZE sessions (session.Config.DecodedCacheSize).
	DecodedCache bool
	// MaxEntries: CACHE_MAX_ENTRIES bounds the sessions kept in process
	// memory.
	MaxEntries bool
}

// Needs returns what engine n uses when CACHE_URL is set (redis) or not.
// An engine the site does not offer needs nothing.
func (n Name) Needs(redis bool) Needs {
	e, ok := Lookup(n)
	if !ok {
		return Needs{}
	}
	return e.needs(redis)
}

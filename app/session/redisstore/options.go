package redisstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// The key prefixes used when no [WithPrefix] is given.
const (
	// DefaultPrefix namespaces the keys of a [Store].
	DefaultPrefix = "gosessions:session:"
	// DefaultCachePrefix namespaces the keys of a [CachedStore].
	DefaultCachePrefix = "gosessions:cached_db:"
)

// Defaults of the other options.
const (
	// defaultGrace is how long a [Store] keeps a record past its expiry:
	// longer than any clock skew between the hosts that share the store.
	defaultGrace = time.Hour
	// defaultMaxAge caps how long a [CachedStore] entry lives, and so how
	// long a write that bypassed the cache can be served stale.
	defaultMaxAge = 5 * time.Minute
	// defaultTombstoneTTL is how long a [CachedStore] keeps the marks that
	// stop a slow reader from caching what it read before a write.
	defaultTombstoneTTL = 30 * time.Second
)

// options are the settings of both stores; each store reads the ones it
// documents.
type options struct {
	prefix    string
	now       func() time.Time
	grace     time.Duration
	maxAge    time.Duration
	tombstone time.Duration
	log       *slog.Logger
}

func newOptions(prefix string, opts []Option) options {
	o := options{prefix: prefix, now: time.Now, grace: defaultGrace, maxAge: defaultMaxAge, tombstone: defaultTombstoneTTL}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Option configures a [Store] or a [CachedStore].
type Option func(*options)

// WithPrefix sets the prefix of every key the store writes, so that
// several sites (or a site and its tests) can share one Redis database.
// The defaults are [DefaultPrefix] and [DefaultCachePrefix].
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithClock sets the clock that decides which records have expired
// (time.Now by default). It must agree with session.Config.Now; tests
// inject a fixed clock instead of sleeping. Redis's own clock is never
// used for expiry, so hosts and tests agree with the session manager.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithGrace sets how long a [Store] keeps a record in Redis after it
// expired (default 1 h). An expired record never loads whatever the
// grace; the grace only delays the moment Redis frees its memory, so
// that a host whose clock lags still finds the records it considers live.
func WithGrace(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.grace = d
		}
	}
}

// WithMaxAge caps the life of a [CachedStore] entry (default 5 min):
// a write to the database that bypassed the cache (Django on the same
// database, raw SQL) is served stale for at most this long.
func WithMaxAge(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.maxAge = d
		}
	}
}

// WithTombstoneTTL sets how long a [CachedStore] keeps a tombstone
// (default 30 s). It must exceed the time a database write takes
// and the time a cache miss may take to fill (a third of it, enforced)
// plus Redis's latency: see the package doc.
func WithTombstoneTTL(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.tombstone = d
		}
	}
}

// WithLogger sets where a [CachedStore] reports that Redis failed and
// that it came back (at most one line per 10 s). The default discards.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// Recommended client settings (see ParseURL): a Redis that does not answer
// costs a request at most about a second, not go-redis's defaults of 5 s
// to dial and 3 s to read.
const (
	RecommendedDialTimeout  = time.Second
	RecommendedReadTimeout  = 500 * time.Millisecond
	RecommendedWriteTimeout = 500 * time.Millisecond
	RecommendedPoolTimeout  = time.Second
)

// ParseURL parses a redis:// or rediss:// URL (CACHE_URL) into client
// options with the recommended timeouts where the URL sets none
// (dial_timeout, read_timeout, write_timeout, pool_timeout query
// parameters), and with context deadlines honoured
// (ContextTimeoutEnabled), so that a request's deadline bounds its Redis
// calls. The error is one line without the password.
func ParseURL(rawURL string) (*redis.Options, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// net/url's errors quote the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redisstore: bad Redis URL %s: %w", redact(rawURL), err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = RecommendedDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = RecommendedReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = RecommendedWriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = RecommendedPoolTimeout
	}
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// redact returns rawURL without its password, for error messages.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

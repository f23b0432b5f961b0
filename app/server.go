package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/static"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// New builds the site: an Echo instance with panic recovery, one log line
// per request, the security headers, the request body limit, the session
// manager of cfg on db, the site's error pages, the static files, the
// health endpoints and the routes of package views. cfg.SecretKey must be
// set (Run provides a development key when the environment has none).
// Call closeSite when the site is done, before closing db.
func New(cfg Config, db *database.DB, log *slog.Logger) (e *echo.Echo, closeSite func() error, err error) {
	e, closeSite, _, err = newSite(cfg, db, log, &lifecycle{})
	return e, closeSite, err
}

// newSite is [New] sharing lc with Run, which drains and closes it; it
// also returns the metrics handler to serve on a listener of its own
// (METRICS_ADDR), or nil.
func newSite(cfg Config, db *database.DB, log *slog.Logger, lc *lifecycle) (e *echo.Echo, closeSite func() error, metricsHandler http.Handler, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if db == nil {
		return nil, nil, nil, errors.New("app: New needs a database")
	}
	if cfg.SecretKey == "" {
		return nil, nil, nil, errors.New("app: SECRET_KEY is not set")
	}
	sc := cfg.Session
	var closeStore func() error
	var mx *metrics
	var storeOpts []dbstore.Option
	if cfg.Metrics || cfg.MetricsAddr != "" {
		mx = newMetrics()
		storeOpts = append(storeOpts, dbstore.WithBatchObserver(mx.observeBatch))
	}
	sc.Store, closeStore, err = NewStore(cfg, db, log, storeOpts...)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.SessionEngine == "db" || cfg.SessionEngine == "cached_db" {
		sc.DecodedCacheSize = cfg.SessionCacheSize
	}
	// Each request waits for the database at most its lock timeout, plus
	// a second (cfg.check fits WRITE_TIMEOUT to it).
	sc.StoreTimeout = cfg.storeWaitBound()
	sc.SignedCookies = cfg.SessionEngine == "signed_cookies"
	sc.SecretKey = cfg.SecretKey
	sc.SecretKeyFallbacks = cfg.SecretKeyFallbacks
	if sc.Logger == nil {
		sc.Logger = log
	}
	defer func() {
		if err != nil {
			closeStore()
		}
	}()
	h := &views.Handlers{Log: log}
	sc.ErrorHandler = h.SessionError // the request log line tells the cause, once
	sessions, err := session.New(sc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: session settings: %w", err)
	}
	h.Sessions = sessions
	// Django's users and logins, on the same database and SECRET_KEY.
	h.Auth, err = auth.New(auth.Config{
		DB:                 db.Gorm,
		SecretKey:          cfg.SecretKey,
		SecretKeyFallbacks: cfg.SecretKeyFallbacks,
		Iterations:         cfg.PasswordIterations,
		IsSecure:           cfg.Security.IsSecure, // SECURE_PROXY_SSL_HEADER
		Logger:             log,
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", err)
	}

	e = echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Debug = cfg.Debug
	// Echo's own logger (used by few code paths) goes to the same place.
	e.Logger.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer())

	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	if cfg.Metrics && cfg.MetricsAddr == "" {
		h.MetricsPath = "/metrics"
	}
	e.HTTPErrorHandler = recordFailure(h.ErrorHandler)
	lc.failures = newLogDedup(log, failureWindow, time.Now)
	logRequests, err := requestLogger(log, lc.failures)
	if err != nil {
		return nil, nil, nil, err
	}
	limit := cfg.DataUploadMaxMemorySize
	if limit <= 0 {
		limit = DefaultDataUploadMaxMemorySize
	}
	e.Use(logRequests, recoverer(), securityHeaders(cfg.Security), limitBody(limit))
	if mx != nil {
		metricsHandler = mx.attach(e, cfg, sessions, sc.Store, db, log)
	}
	static.Register(e)
	views.Health{Ready: lc.ready(db, sc.Store, log)}.Register(e)
	if err := h.Register(e); err != nil {
		return nil, nil, nil, fmt.Errorf("app: register views: %w", err)
	}
	if cfg.BenchRoutes {
		if err := h.RegisterBaseline(e); err != nil {
			return nil, nil, nil, fmt.Errorf("app: register baseline routes: %w", err)
		}
	}
	return e, closeStore, metricsHandler, nil
}

// NewStore returns the session store of cfg's engine on db, and what
// closes it. The engine is chosen here, once, with its layers (see the
// the engine table of docs/engines.md):
//
//   - db: the database, with the in-process cache in front;
//   - cached_db: the database with Redis in front (CACHE_URL), or without
//     CACHE_URL the same as db;
//   - cache: Redis (CACHE_URL), or without it process memory;
//   - signed_cookies: no store, the cookie holds the session.
//
// opts go to the database store, where there is one.
//
// manage uses it too, so that its deletes go through every layer the site
// has (a session deleted by manage is forgotten by Redis as well).
func NewStore(cfg Config, db *database.DB, log *slog.Logger, opts ...dbstore.Option) (session.Store, func() error, error) {
	noop := func() error { return nil }
	switch cfg.SessionEngine {
	case "", "db", "cached_db":
		if cfg.SessionEngine == "cached_db" && cfg.Cache != nil {
			return newCachedDB(cfg, db, log, opts...)
		}
		st, err := newDBStore(cfg, db, opts...)
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	case "cache":
		if cfg.Cache == nil {
			log.Warn("SESSION_ENGINE=cache without CACHE_URL keeps sessions in this process's memory: they are lost at restart and not shared with other processes")
			return memstore.New(nil), noop, nil
		}
		client := redis.NewClient(cfg.Cache)
		if err := pingRedis(client, cfg.storeWaitBound()); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("app: SESSION_ENGINE=cache: Redis at %s does not answer: %w", cfg.Cache.Addr, err)
		}
		return redisstore.New(client), client.Close, nil
	case "signed_cookies":
		// The cookie is the store (session.Config.SignedCookies).
		return nil, noop, nil
	}
	return nil, nil, fmt.Errorf("app: session engine %q is not supported (supported: %s)", cfg.SessionEngine, supportedEngines)
}

// newDBStore returns the database store with the in-process cache, which
// learns other processes' writes from SQLite's WAL index or from
// PostgreSQL's notifications (a private in-memory database has no other
// process, and needs none).
func newDBStore(cfg Config, db *database.DB, opts ...dbstore.Option) (*dbstore.Store, error) {
	if cfg.SessionCacheSize > 0 && (db.WAL() || db.Engine == database.PostgreSQL) {
		opts = append(opts, dbstore.WithCache(cfg.SessionCacheSize))
	}
	st, err := dbstore.New(db, opts...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return st, nil
}

// newCachedDB returns Django's cached_db: the database (without the
// in-process cache, which Redis replaces) and Redis in front of it. Redis
// not answering at start is a warning, not an error: requests are served
// from the database until it answers.
func newCachedDB(cfg Config, db *database.DB, log *slog.Logger, opts ...dbstore.Option) (session.Store, func() error, error) {
	st, err := dbstore.New(db, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w", err)
	}
	client := redis.NewClient(cfg.Cache)
	if err := pingRedis(client, cfg.storeWaitBound()); err != nil {
		log.Warn("SESSION_ENGINE=cached_db: Redis does not answer; serving sessions from the database until it does", "redis", cfg.Cache.Addr, "error", err)
	}
	cached := redisstore.NewCache(client, st, redisstore.WithLogger(log))
	return cached, func() error { return errors.Join(cached.Close(), client.Close(), st.Close()) }, nil
}

// pingRedis checks that Redis answers within timeout, or two seconds at
// most: a start should not hang on it.
func pingRedis(client *redis.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), min(timeout, 2*time.Second))
	defer cancel()
	return client.Ping(ctx).Err()
}

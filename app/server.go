package app

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/static"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
)

// New builds the site: an Echo instance with panic recovery, one log line
// per request, the security headers, the request body limit, the session
// manager of cfg on db, the site's error pages, the static files, the
// health endpoints and the routes of package views. cfg.SecretKey must be
// set (Run provides a development key when the environment has none).
func New(cfg Config, db *gorm.DB, log *slog.Logger) (*echo.Echo, error) {
	return newSite(cfg, db, log, &lifecycle{})
}

// newSite is [New] sharing lc with Run, which drains and closes it.
func newSite(cfg Config, db *gorm.DB, log *slog.Logger, lc *lifecycle) (*echo.Echo, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if db == nil {
		return nil, errors.New("app: New needs a database")
	}
	sc := cfg.Session
	switch cfg.SessionEngine {
	case "", "db", "cached_db":
		var opts []dbstore.Option
		if cfg.SessionCacheSize > 0 {
			opts = append(opts, dbstore.WithCache(cfg.SessionCacheSize))
			sc.DecodedCacheSize = cfg.SessionCacheSize
		}
		sc.Store = dbstore.New(db, opts...)
	case "cache":
		sc.Store = memstore.New(nil)
	default:
		return nil, fmt.Errorf("app: session engine %q is not supported (supported: %s)", cfg.SessionEngine, supportedEngines)
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("app: SECRET_KEY is not set")
	}
	sc.SecretKey = cfg.SecretKey
	sc.SecretKeyFallbacks = cfg.SecretKeyFallbacks
	if sc.Logger == nil {
		sc.Logger = log
	}
	h := &views.Handlers{Log: log}
	sc.ErrorHandler = h.SessionError // the request log line tells the cause, once
	sessions, err := session.New(sc)
	if err != nil {
		return nil, fmt.Errorf("app: session settings: %w", err)
	}
	h.Sessions = sessions

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Debug = cfg.Debug
	// Echo's own logger (used by few code paths) goes to the same place.
	e.Logger.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer())

	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.HTTPErrorHandler = recordFailure(h.ErrorHandler)
	lc.failures = newLogDedup(log, failureWindow, time.Now)
	logRequests, err := requestLogger(log, lc.failures)
	if err != nil {
		return nil, err
	}
	limit := cfg.DataUploadMaxMemorySize
	if limit <= 0 {
		limit = DefaultDataUploadMaxMemorySize
	}
	e.Use(logRequests, recoverer(), securityHeaders(cfg.Security), limitBody(limit))
	static.Register(e)
	views.Health{Ready: lc.ready(db, log)}.Register(e)
	if err := h.Register(e); err != nil {
		return nil, fmt.Errorf("app: register views: %w", err)
	}
	if cfg.BenchRoutes {
		if err := h.RegisterBaseline(e); err != nil {
			return nil, fmt.Errorf("app: register baseline routes: %w", err)
		}
	}
	return e, nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/static"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// New builds the site: an Echo instance with panic recovery, one log line
// per request, the session manager of cfg on db, the site's error pages,
// the static files and the routes of package views. cfg.SecretKey must be
// set (Run provides a development key when the environment has none).
// Call closeSite when the site is done, before closing db.
func New(cfg Config, db *database.DB, log *slog.Logger) (e *echo.Echo, closeSite func() error, err error) {
	e, closeSite, _, err = newSite(cfg, db, log)
	return e, closeSite, err
}

// newSite is New, also returning the metrics handler to serve on a
// listener of its own (METRICS_ADDR), or nil.
func newSite(cfg Config, db *database.DB, log *slog.Logger) (e *echo.Echo, closeSite func() error, metricsHandler http.Handler, err error) {
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
	sc.Store, closeStore, err = newStore(cfg, db, log, storeOpts...)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.SessionEngine == "db" || cfg.SessionEngine == "cached_db" {
		sc.DecodedCacheSize = cfg.SessionCacheSize
	}
	// Each request waits for the database at most its lock timeout, plus
	// a second to answer.
	sc.StoreTimeout = db.Timeout + time.Second
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
	sessions, err := session.New(sc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: session settings: %w", err)
	}

	e = echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Debug = cfg.Debug
	// Echo's own logger (used by few code paths) goes to the same place.
	e.Logger.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer())

	h := &views.Handlers{Sessions: sessions, Log: log}
	if cfg.Metrics && cfg.MetricsAddr == "" {
		h.MetricsPath = "/metrics"
	}
	e.HTTPErrorHandler = h.ErrorHandler
	logRequests, err := requestLogger(log)
	if err != nil {
		return nil, nil, nil, err
	}
	e.Use(logRequests, recoverer(log))
	if mx != nil {
		metricsHandler = mx.attach(e, cfg, sessions, sc.Store, db, log)
	}
	static.Register(e)
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

// newStore returns the session store of cfg's engine on db, and what
// closes it. The engine is chosen here, once.
func newStore(cfg Config, db *database.DB, log *slog.Logger, opts ...dbstore.Option) (session.Store, func() error, error) {
	switch cfg.SessionEngine {
	case "", "db", "cached_db":
		// The never-stale cache watches SQLite's WAL index; an in-memory
		// database and PostgreSQL go without it.
		if cfg.SessionCacheSize > 0 && db.WAL() {
			opts = append(opts, dbstore.WithCache(cfg.SessionCacheSize))
		}
		st, err := dbstore.New(db, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("app: %w", err)
		}
		return st, st.Close, nil
	case "cache":
		log.Warn("SESSION_ENGINE=cache keeps sessions in this process's memory: they are lost at restart and not shared with other processes")
		return memstore.New(nil), func() error { return nil }, nil
	case "signed_cookies":
		// The cookie is the store (session.Config.SignedCookies).
		return nil, func() error { return nil }, nil
	}
	return nil, nil, fmt.Errorf("app: session engine %q is not supported (supported: %s)", cfg.SessionEngine, supportedEngines)
}

// requestLogger logs one line per request: method, path, status, latency,
// sizes and client address. Not the query string, cookies or headers: the
// session key (a bearer credential) must never reach a log.
func requestLogger(log *slog.Logger) (echo.MiddlewareFunc, error) {
	mw, err := middleware.RequestLoggerConfig{
		HandleError:     true, // render errors first, so the status logged is the one sent
		LogMethod:       true,
		LogURIPath:      true,
		LogStatus:       true,
		LogLatency:      true,
		LogRemoteIP:     true,
		LogResponseSize: true,
		LogError:        true,
		BeforeNextFunc: func(c echo.Context) {
			// In debug mode, also a line when a request starts, to see the
			// requests in flight (a slow one, or one a shutdown waits for).
			r := c.Request()
			log.LogAttrs(r.Context(), slog.LevelDebug, "request started", slog.String("method", r.Method), slog.String("path", r.URL.Path))
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			switch {
			case v.Status >= 500:
				level = slog.LevelError
			case v.Status >= 400:
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency.Round(time.Microsecond)),
				slog.Int64("bytes_out", v.ResponseSize),
				slog.String("remote_ip", v.RemoteIP),
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			}
			log.LogAttrs(context.WithoutCancel(c.Request().Context()), level, "request", attrs...)
			return nil
		},
	}.ToMiddleware()
	if err != nil {
		return nil, fmt.Errorf("app: request logger: %w", err)
	}
	return mw, nil
}

// recoverer turns a handler's panic into a 500 rendered by the error
// handler; the panic value and stack go to the log only, never to the
// client.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic in handler", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err, "stack", string(stack))
			return echo.NewHTTPError(500).SetInternal(err)
		},
	})
}
